"""The airports service as deployed (``nameko run`` with its config.yaml): its own
metrics listener (METRICS_PORT) and its log lines as JSON (LOG_FORMAT=json)."""

import json
import logging

import pytest
import requests
from nameko.standalone.rpc import ServiceRpcProxy
from prometheus_client.parser import text_string_to_metric_families

from contracts.errors import NotFound
from service_runtime.logformat import formatter
from service_testing.launcher import running
from service_testing.ports import free_port
from service_testing.processes import ServiceCommand
from service_testing.waiting import wait_until

REQUEST_ID = "req-observed-1"
SERVICE = ("service", "airports")


@pytest.fixture
def deployed_airports(service_config, tmp_path):
    """airports as a process with JSON logs and a metrics port; yields (process, port)."""
    port = free_port()
    env = {
        "AMQP_URI": service_config["AMQP_URI"],
        "REDIS_URL": service_config["REDIS_URIS"]["airports"],
        "REDIS_KEY_PREFIX": service_config["REDIS_KEY_PREFIX"],
        "METRICS_PORT": str(port),
        "LOG_FORMAT": "json",
    }
    with running([ServiceCommand.of("airports")], env, tmp_path) as (process,):
        yield process, port


def call_create_and_a_missing_get(service_config):
    with ServiceRpcProxy(
        "airports", service_config, context_data={"request_id": REQUEST_ID}, timeout=10
    ) as airports:
        airports.create("Lisbon")
        with pytest.raises(NotFound):
            airports.get("nope")


def samples(port):
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_port_serves_entrypoint_latency_and_errors(deployed_airports, service_config):
    _, port = deployed_airports

    call_create_and_a_missing_get(service_config)

    create = ("nameko_entrypoint_duration_seconds_count", (("method", "create"), SERVICE))
    not_found = (
        "nameko_entrypoint_errors_total",
        (("error", "NOT_FOUND"), ("method", "get"), SERVICE),
    )
    # A worker's metrics are recorded just after its reply has gone out.
    wait_until(
        lambda: samples(port).get(create) == 1 and samples(port).get(not_found) == 1,
        10,
        "airports.create timed and airports.get's NOT_FOUND counted",
    )
    total = ("nameko_entrypoint_duration_seconds_sum", (("method", "create"), SERVICE))
    assert samples(port)[total] > 0


def test_every_log_line_is_json_and_call_lines_carry_the_call_fields(
    deployed_airports, service_config
):
    process, _ = deployed_airports

    call_create_and_a_missing_get(service_config)

    def log_lines() -> list[dict]:
        # Python's warnings (eventlet's deprecation notice at import) are printed before
        # logging is configured; from the first log line on, every line is one JSON object.
        output = process.output()
        written = output[output.index('{"level"') : output.rindex("\n")]  # whole lines only
        return [json.loads(line) for line in written.splitlines()]

    def finished_calls() -> dict[str, dict]:
        return {
            line["method"]: line
            for line in log_lines()
            if line.get("request_id") == REQUEST_ID and line["logger"] == "calls"
        }

    # A call's line is written just after its reply has gone out.
    wait_until(lambda: len(finished_calls()) == 2, 10, "both calls' log lines")
    for line in log_lines():
        assert {"time", "level", "service", "logger", "message"} <= line.keys()
        assert line["service"] == "airports"
    finished = finished_calls()
    assert finished["create"]["outcome"] == "ok"
    assert finished["get"]["outcome"] == "NOT_FOUND"
    for line in finished.values():
        assert line["level"] == "INFO"
        assert isinstance(line["duration_ms"], float)
        assert line["time"].endswith("+00:00")


def test_text_is_the_default_format():
    record = logging.LogRecord("calls", logging.INFO, __file__, 1, "airports.get %s", ("ok",), None)

    assert formatter(None).format(record) == "airports.get ok"
    assert formatter("").format(record) == "airports.get ok"
    assert json.loads(formatter("json").format(record))["message"] == "airports.get ok"
