"""Contracts served by the airports service."""

SERVICE_NAME = "airports"
