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

REQUEST_ID = "req-observed-1"


@pytest.fixture
def deployed_airports(service_config, tmp_path):
    """airports as a process with JSON logs and a metrics port; yields (process, port)."""
    port = free_port()
    env = {
        "AMQP_URI": service_config["AMQP_URI"],
        "REDIS_URL": service_config["REDIS_URL"],
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

    found = samples(port)
    create = (("method", "create"), ("service", "airports"))
    assert found[("nameko_entrypoint_duration_seconds_count", create)] == 1
    assert found[("nameko_entrypoint_duration_seconds_sum", create)] > 0
    not_found = (("error", "NOT_FOUND"), ("method", "get"), ("service", "airports"))
    assert found[("nameko_entrypoint_errors_total", not_found)] == 1


def test_every_log_line_is_json_and_call_lines_carry_the_call_fields(
    deployed_airports, service_config
):
    process, _ = deployed_airports

    call_create_and_a_missing_get(service_config)

    # Python's warnings (eventlet's deprecation notice at import) are printed before
    # logging is configured; from the first log line on, every line is one JSON object.
    output = process.output()
    lines = [json.loads(line) for line in output[output.index('{"level"') :].splitlines()]
    for line in lines:
        assert {"time", "level", "service", "logger", "message"} <= line.keys()
        assert line["service"] == "airports"
    calls = [line for line in lines if line.get("request_id") == REQUEST_ID]
    finished = {line["method"]: line for line in calls if line["logger"] == "calls"}
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
