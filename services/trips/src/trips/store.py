"""TripStore: ``RecordStore``'s hash ``trip:<id>`` of ``{airport_from, airport_to}``."""

from __future__ import annotations

from contracts.trips import SERVICE_NAME
from contracts.trips.v1 import Trip
from service_runtime.store import RecordStore


class TripStore(RecordStore[Trip]):
    service, kind, model = SERVICE_NAME, "trip", Trip
