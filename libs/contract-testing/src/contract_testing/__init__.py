"""Test tooling for the contracts: never installed in an image.

``catalog``: every contract, listed; ``pact``: nameko RPC calls and events as pact
interactions, consumer stubs and provider relays; ``schema``: the contracts exported as
JSON Schema; ``releases``: a released version's code and venv rebuilt from its git
commit. The runtime half (errors, models, validation) is the ``contracts`` package.
"""
