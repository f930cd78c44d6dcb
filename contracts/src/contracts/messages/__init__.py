"""Contracts served by the messages service (the messenger's expiring messages)."""

SERVICE_NAME = "messages"
