"""deploy/swarm/stack.yaml in step with compose.yaml, and what the issue asks of it.

The stack file cannot reuse compose.yaml (see its header), so this test keeps the two
in step: the same services, infrastructure images and per-service settings.
"""

from __future__ import annotations

import re

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
STACK = yaml.safe_load((REPO_ROOT / "deploy" / "swarm" / "stack.yaml").read_text())
# Credentials come from secrets in the stack, from the URI itself in compose.
SECRET_FILES = {"AMQP_USER_FILE", "AMQP_PASSWORD_FILE"}


def test_same_services_and_infrastructure_images_as_compose():
    services = STACK["services"]
    assert set(services) == set(COMPOSE)
    for name, service in COMPOSE.items():
        if name in SERVICES:
            assert re.fullmatch(
                rf"\$\{{IMAGE_PREFIX:-travel\}}/{name}:\$\{{\w+_VERSION:-latest\}}",
                services[name]["image"],
            )
        else:
            assert services[name]["image"] == service["image"], name


def test_same_settings_as_compose_except_how_credentials_arrive():
    for name in SERVICES:
        compose_env = COMPOSE[name]["environment"]
        stack_env = STACK["services"][name]["environment"]
        assert set(stack_env) - SECRET_FILES == set(compose_env), name
        for variable, value in compose_env.items():
            if variable == "AMQP_URI":
                assert re.sub(r"//[^@/]*@", "//", value) == stack_env[variable]
            else:
                assert stack_env[variable] == value, (name, variable)


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


def test_stateful_services_keep_a_volume_on_the_storage_node():
    for name, service in STACK["services"].items():
        if name in SERVICES or name == "edge":  # the edge keeps nothing
            continue
        assert service["volumes"][0].split(":")[0] in STACK["volumes"], name
        assert service["deploy"]["placement"]["constraints"] == [
            "node.labels.travel.storage == true"
        ]


def test_credentials_only_from_secrets():
    text = (REPO_ROOT / "deploy" / "swarm" / "stack.yaml").read_text()
    assert "guest" not in text
    assert all(secret.get("external") for secret in STACK["secrets"].values())


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
