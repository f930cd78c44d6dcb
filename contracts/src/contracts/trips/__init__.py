"""Contracts served by the trips service."""

SERVICE_NAME = "trips"
