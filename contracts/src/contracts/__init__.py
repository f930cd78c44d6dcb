"""Contracts between the services: typed errors and versioned schemas (contracts/README.md)."""
