"""AirportStore: ``RecordStore``'s hash ``airport:<id>`` of ``{name}``."""

from __future__ import annotations

from contracts.airports import SERVICE_NAME
from contracts.airports.v1 import Airport
from service_runtime.store import RecordStore


class AirportStore(RecordStore[Airport]):
    service, kind, model = SERVICE_NAME, "airport", Airport
