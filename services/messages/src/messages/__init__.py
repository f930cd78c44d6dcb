"""The messages service: the messenger's expiring messages."""
