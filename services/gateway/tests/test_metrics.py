"""GET /metrics: Prometheus text with requests by route and status, RPC latency, errors by
code and live-feed subscribers, all moved by real requests."""

from contextlib import closing

from prometheus_client.parser import text_string_to_metric_families

from gateway.service import GatewayService
from service_testing.ports import free_port
from service_testing.waiting import wait_until


def scrape(api):
    response = api.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name, **labels):
    # Counters start at 0 when first used: a missing series counts as 0.
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def assert_grows_by(api, before, expected, name, **labels):
    """The series ``name{labels}`` reaches ``before`` + ``expected``. Polled: a worker
    records its metrics just after its reply has gone out, so a scrape right after the
    response may come first."""
    start = value(before, name, **labels)
    wait_until(
        lambda: value(scrape(api), name, **labels) - start == expected,
        10,
        f"{name}{labels} to grow by {expected}",
    )


def test_requests_are_counted_by_route_template_and_status(api):
    before = scrape(api)
    for name in ("Lisbon", "Porto"):
        assert api.post("/airport", json={"airport": name}).status_code == 201
    assert api.get("/airport/nope").status_code == 404

    created = {"method": "POST", "route": "/airport", "status": "201"}
    missing = {"method": "GET", "route": "/airport/<string:airport_id>", "status": "404"}
    count = "gateway_http_request_duration_seconds_count"
    assert_grows_by(api, before, 2, count, **created)
    assert_grows_by(api, before, 1, count, **missing)
    total = "gateway_http_request_duration_seconds_sum"
    assert value(scrape(api), total, **created) > value(before, total, **created)


def test_errors_are_counted_by_code(api):
    before = scrape(api)
    api.get("/trip/nope")
    api.post("/airport", data=b"{not json", headers={"Content-Type": "application/json"})

    assert_grows_by(api, before, 1, "gateway_http_errors_total", code="NOT_FOUND")
    assert_grows_by(api, before, 1, "gateway_http_errors_total", code="MALFORMED_JSON")


def test_requests_refused_before_a_route_runs_are_counted_too(api):
    before = scrape(api)
    api.get("/nowhere")
    api.delete("/airport/some-id")
    api.post("/messages", json={"message": "hi"}, headers={"Origin": "http://evil.example"})

    assert_grows_by(api, before, 1, "gateway_http_errors_total", code="ROUTE_NOT_FOUND")
    assert_grows_by(api, before, 1, "gateway_http_errors_total", code="METHOD_NOT_ALLOWED")
    assert_grows_by(api, before, 1, "gateway_http_errors_total", code="ORIGIN_NOT_ALLOWED")


def test_rpc_latency_is_recorded_per_service_method_and_outcome(api):
    before = scrape(api)
    api.get("/messages")
    api.get("/messages/nope")

    count = "nameko_rpc_client_duration_seconds_count"
    ok = {"service": "messages", "method": "get_all_messages", "outcome": "ok"}
    missing = {"service": "messages", "method": "get_message", "outcome": "NOT_FOUND"}
    assert_grows_by(api, before, 1, count, **ok)
    assert_grows_by(api, before, 1, count, **missing)


def test_the_services_entrypoints_are_timed_and_their_errors_counted(api):
    # The test runs every service in this process, so their worker metrics show here too;
    # deployed, each service serves its own on METRICS_PORT (tests-airports proves it).
    before = scrape(api)
    api.get("/airport/nope")

    get = {"service": "airports", "method": "get"}
    assert_grows_by(api, before, 1, "nameko_entrypoint_duration_seconds_count", **get)
    assert_grows_by(api, before, 1, "nameko_entrypoint_errors_total", **get, error="NOT_FOUND")


def test_live_feed_subscribers_are_a_gauge(start, http_session):
    # A short heartbeat: the server notices a closed stream at its next write.
    start(GatewayService, STREAM_HEARTBEAT_SECONDS=0.2)
    assert value(scrape(http_session), "gateway_live_feed_subscribers") == 0

    with closing(http_session.get("/messages/stream", stream=True)) as stream:
        assert stream.status_code == 200
        assert value(scrape(http_session), "gateway_live_feed_subscribers") == 1

    wait_until(
        lambda: value(scrape(http_session), "gateway_live_feed_subscribers") == 0,
        10,
        "the closed stream's slot to be freed",
    )


def test_whether_the_gateways_redis_answers_is_checked_at_each_scrape(start, http_session):
    start(GatewayService)
    assert value(scrape(http_session), "gateway_redis_up") == 1


def test_a_gateway_whose_redis_does_not_answer_says_so(start, http_session):
    start(GatewayService, REDIS_URIS={"gateway": f"redis://127.0.0.1:{free_port()}/0"})
    assert scrape(http_session)[("gateway_redis_up", ())] == 0
