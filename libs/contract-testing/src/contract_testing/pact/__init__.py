"""Pact support for nameko RPC and events (needs the ``pact`` extra: pact-python).

An RPC call is a pact V4 *synchronous message*: the request is the body nameko's
``RpcProxy`` publishes (``{"args": [...], "kwargs": {...}}``, metadata
``routingKey: <service>.<method>``), the response is the body the service
replies with (``{"result": ..., "error": null}`` or ``{"result": null, "error":
{exc_path, exc_type, exc_args, value}}``). An event is an *asynchronous message*
whose contents are the event payload. ``wire`` writes these interactions,
``consumer`` answers a consumer's real client code from them, ``provider``
replays them against the real running service.
"""
