"""Contracts between the services: typed errors and versioned schemas.

Both sides of every RPC call import the same module, so a schema and the code
that serves or calls it cannot drift apart.
"""
