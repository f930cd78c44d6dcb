"""deploy/swarm/stack.yaml in step with compose.yaml, and what the issue asks of it.

The stack file cannot reuse compose.yaml (see its header), so this test keeps the two
in step: the same services, infrastructure images and per-service settings.
"""

from __future__ import annotations

import importlib.util
import re
import sys

import yaml

from service_testing.services import REPO_ROOT, SERVICES

# What compose runs (not the image base it only builds).
COMPOSE = {
    name: service
    for name, service in yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())[
        "services"
    ].items()
    if service.get("scale") != 0
}
COMPOSE_FILE = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
STACK = yaml.safe_load((REPO_ROOT / "deploy" / "swarm" / "stack.yaml").read_text())
SLOTS = (1, 2, 3)  # the storage machines: one RabbitMQ node, Redis and Sentinel on each
SENTINELS = {f"redis-sentinel-{slot}" for slot in SLOTS}


def swarm_names(compose_name: str) -> list[str]:
    """The stack's services for one of compose.yaml's: its storage as one per slot."""
    if compose_name == "rabbitmq":
        return [f"rabbitmq{slot}" for slot in SLOTS]
    if compose_name.startswith("redis-"):
        return [f"{compose_name}-{slot}" for slot in SLOTS]
    return [compose_name]


def test_same_services_and_infrastructure_images_as_compose():
    services = STACK["services"]
    assert set(services) == {n for name in COMPOSE for n in swarm_names(name)} | SENTINELS
    for name, service in COMPOSE.items():
        if name in SERVICES:
            assert re.fullmatch(
                rf"\$\{{IMAGE_PREFIX:-travel\}}/{name}:\$\{{\w+_VERSION:-latest\}}",
                services[name]["image"],
            )
        else:
            for swarm_name in swarm_names(name):
                assert services[swarm_name]["image"] == service["image"], swarm_name
    assert {services[name]["image"] for name in SENTINELS} == {COMPOSE["redis-airports"]["image"]}


# What the swarm's replicated storage adds to compose.yaml's settings (docs/scaling.md).
REPLICATED_STORAGE = {
    "AMQP_URI": ";".join(f"pyamqp://rabbitmq{slot}:5672/" for slot in SLOTS),
    "RPC_QUEUE_TYPE": "quorum",
    "REDIS_SENTINELS": ",".join(f"redis-sentinel-{slot}:26379" for slot in SLOTS),
    "REDIS_MIN_REPLICAS_ACK": "1",
    "AMQP_HEARTBEAT_SECONDS": "10",
    "RPC_PUBLISH_TIMEOUT_SECONDS": "5",
}


def test_same_settings_and_secrets_as_compose_on_replicated_storage():
    for name in SERVICES:
        expected = {**COMPOSE[name]["environment"], **REPLICATED_STORAGE}
        assert STACK["services"][name]["environment"] == expected, name
        compose_secrets = {s["target"]: s["source"] for s in COMPOSE[name]["secrets"]}
        stack_secrets = {s["target"]: s["source"] for s in STACK["services"][name]["secrets"]}
        assert stack_secrets == {t: f"travel-{s}" for t, s in compose_secrets.items()}, name


def test_every_service_is_spread_updated_one_at_a_time_and_limited():
    for name in SERVICES:
        deploy = STACK["services"][name]["deploy"]
        assert deploy["endpoint_mode"] == "dnsrr"  # no IPVS needed
        assert deploy["update_config"]["parallelism"] == 1
        assert deploy["update_config"]["failure_action"] == "rollback"
        assert deploy["resources"]["limits"]
        if name != "gateway":
            assert deploy["replicas"] >= 2
            assert deploy["update_config"]["order"] == "start-first"
            assert deploy["placement"]["max_replicas_per_node"] >= 1


def test_each_storage_slot_keeps_its_volume_on_its_own_machine():
    for slot in SLOTS:
        pinned = [f"node.labels.travel.storage == {slot}"]
        for name in (f"rabbitmq{slot}", *(f"redis-{s}-{slot}" for s in SERVICES)):
            service = STACK["services"][name]
            assert service["volumes"][0].split(":")[0] == f"{name}-data", name
            assert f"{name}-data" in STACK["volumes"], name
            assert service["deploy"]["placement"]["constraints"] == pinned, name
        sentinel = STACK["services"][f"redis-sentinel-{slot}"]
        assert sentinel["deploy"]["placement"]["constraints"] == pinned
    assert STACK["services"]["prometheus"]["volumes"] == ["prometheus-data:/prometheus"]


def test_credentials_only_from_secrets():
    for path in ("compose.yaml", "deploy/swarm/stack.yaml"):
        text = (REPO_ROOT / path).read_text()
        assert "guest" not in text
        assert not re.search(r"(PASS|PASSWORD|AUTH)\w*:\s*[^/\s]", text), path
    assert all(secret.get("external") for secret in STACK["secrets"].values())
    compose_secrets = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())["secrets"]
    assert all(secret["file"].startswith("./.secrets/") for secret in compose_secrets.values())
    assert ".secrets/" in (REPO_ROOT / ".gitignore").read_text().split()


def test_networks_by_need():
    # README: Security. Each Redis with its own service alone; RabbitMQ with the RPC
    # services, and with the gateway on a network of their own; the edge with the
    # gateway; only the public network leads out.
    # On the swarm each store network also holds the Redis set's other members and the
    # Sentinels, which watch every set.
    for file, storage in ((COMPOSE, lambda n: [n]), (STACK["services"], swarm_names)):
        networks = {name: set(service["networks"]) for name, service in file.items()}
        sentinels = SENTINELS if file is STACK["services"] else set()
        for name in SERVICES:
            store = f"{name}-store"
            assert {n for n, nets in networks.items() if store in nets} == {
                name,
                *storage(f"redis-{name}"),
                *sentinels,
            }
            expected = {"public", "gateway-broker"} if name == "gateway" else {"broker"}
            assert networks[name] == expected | {store}, name
        for rabbitmq in storage("rabbitmq"):
            assert networks[rabbitmq] == {"broker", "gateway-broker"}
        assert networks["edge"] == {"public"}
        assert {n for n, nets in networks.items() if "public" in nets} <= {
            "edge",
            "gateway",
            "prometheus",
        }
    for definitions in (COMPOSE_FILE["networks"], STACK["networks"]):
        assert {n for n, d in definitions.items() if not (d or {}).get("internal")} == {"public"}


def test_the_edge_is_the_only_published_port_and_runs_the_same_file_everywhere():
    stack_services = STACK["services"]
    for name, service in COMPOSE.items():
        published = [port for port in service.get("ports", [])]
        if name == "edge":
            assert published == ["127.0.0.1:${EDGE_HOST_PORT:-8000}:8000"]
        elif "profiles" in service:
            # An operator's tool started on demand (Prometheus): on loopback only.
            assert all(port.startswith("127.0.0.1:") for port in published), name
        elif name != "rabbitmq" or "ports" in service:
            assert not published, f"{name} is published"
    assert "ports" not in stack_services["gateway"]
    [stack_port] = stack_services["edge"]["ports"]
    assert (stack_port["target"], stack_port["mode"]) == (8000, "host")
    assert stack_services["edge"]["deploy"]["mode"] == "global"  # every node answers
    assert stack_services["edge"]["environment"] == COMPOSE["edge"]["environment"]
    compose_configs = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())["configs"]
    assert compose_configs["edge-conf"]["file"] == "./deploy/edge/haproxy.cfg"
    assert STACK["configs"]["edge-conf"]["file"] == "../edge/haproxy.cfg"
    for services in (COMPOSE, stack_services):
        [mount] = services["edge"]["configs"]
        assert mount == {"source": "edge-conf", "target": "/usr/local/etc/haproxy/haproxy.cfg"}


def test_the_gateway_believes_forwarded_addresses_from_the_edge_alone():
    for services in (COMPOSE, STACK["services"]):
        assert services["gateway"]["environment"]["TRUSTED_PROXIES"] == "edge"


def test_every_container_is_hardened():
    # README: Security. Swarm services take no security_opt (no-new-privileges); the
    # images hold no setuid file (integration_tests: the image scan).
    for name, service in COMPOSE.items():
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert service["security_opt"] == ["no-new-privileges:true"], name
    for name, service in STACK["services"].items():
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name


def test_the_swarm_secrets_are_the_ones_the_credentials_tool_creates():
    tool = importlib.util.spec_from_file_location(
        "credentials", REPO_ROOT / "tools" / "credentials.py"
    )
    credentials = sys.modules["credentials"] = importlib.util.module_from_spec(tool)
    tool.loader.exec_module(credentials)  # (its dataclass looks itself up in sys.modules)
    assert set(STACK["secrets"]) == set(credentials.docker_secret_files(REPO_ROOT))
    # The services' broker permissions follow who calls whom (the service registry).
    assert {name: set(access.calls) for name, access in credentials.ACCESS.items()} == {
        name: set(spec.calls) for name, spec in SERVICES.items()
    }
