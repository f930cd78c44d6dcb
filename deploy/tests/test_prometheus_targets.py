"""Prometheus finds every part of the stack where it serves its metrics, the same way on
each platform: compose.yaml's observability profile and the swarm stack run
deploy/prometheus/prometheus.yml, the Kubernetes pods carry scrape annotations; the
ports are those the processes listen on, and the alerts name every service.
(The config and the alerts themselves: `nox -s alerts`.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from service_testing.services import REPO_ROOT, SERVICES

PROMETHEUS_DIR = REPO_ROOT / "deploy" / "prometheus"
SCRAPE = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())["scrape_configs"]
ALERTS = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
COMPOSE_FILE = REPO_ROOT / "compose.yaml"
COMPOSE = yaml.safe_load(COMPOSE_FILE.read_text())
STACK_FILE = REPO_ROOT / "deploy" / "swarm" / "stack.yaml"
STACK = yaml.safe_load(STACK_FILE.read_text())
RABBITMQ_NODES = [STACK["services"][f"rabbitmq{slot}"] for slot in (1, 2, 3)]
KUBERNETES = [
    document
    for path in sorted((REPO_ROOT / "deploy" / "kubernetes").glob("*.yaml"))
    for document in yaml.safe_load_all(path.read_text())
    if document and document["kind"] in ("Deployment", "StatefulSet")
]
PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml"
RABBITMQ_EXPORTER_PORT = 15692


def scraped_ports() -> dict[str, int]:
    """Each name prometheus.yml scrapes, and the port it scrapes it on."""
    ports = {}
    for job in SCRAPE:
        for found in job.get("dns_sd_configs", []):
            ports.update(dict.fromkeys(found["names"], found["port"]))
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, port = target.split(":")
                ports[host] = int(port)
    return ports


def listening_port(name: str) -> int:
    """The port compose.yaml's service ``name`` serves its metrics on."""
    if name in ("gateway", "edge"):
        return int(COMPOSE["services"][name]["labels"]["prometheus.io/port"])
    if name == "rabbitmq":
        return RABBITMQ_EXPORTER_PORT
    return int(COMPOSE["services"][name]["environment"]["METRICS_PORT"])


def test_every_service_and_rabbitmq_is_scraped_where_it_serves_its_metrics():
    ports = scraped_ports()
    assert set(ports) == {*SERVICES, "edge", "rabbitmq"}
    for name, port in ports.items():
        assert port == listening_port(name), name


def test_rabbitmq_runs_its_exporter():
    plugins = (REPO_ROOT / "deploy" / "rabbitmq" / "enabled_plugins").read_text()
    assert "rabbitmq_prometheus" in plugins
    for service in (COMPOSE["services"]["rabbitmq"], *RABBITMQ_NODES):
        mounted = {config["target"]: config["source"] for config in service["configs"]}
        assert "/etc/rabbitmq/enabled_plugins" in mounted
    # Each node of the swarm's cluster answers to the name Prometheus scrapes.
    for node in RABBITMQ_NODES:
        assert node["networks"]["broker"]["aliases"] == ["rabbitmq"]


def test_the_alert_on_a_service_without_instances_names_every_service():
    (rule,) = [
        rule
        for group in ALERTS["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "ServiceWithoutLiveInstance"
    ]
    down = re.search(r'up\{job=~"([^"]+)"\}', rule["expr"])[1]
    gone = re.findall(r'absent\(up\{job="(\w+)"\}\)', rule["expr"])
    assert sorted(down.split("|")) == sorted(gone) == sorted({*SERVICES, "edge"})


def mounted_files(service: dict, compose_file: Path, configs: dict) -> dict[str, Path]:
    """Where each config file of ``service`` is mounted, and which file it is."""
    return {
        config["target"]: (compose_file.parent / configs[config["source"]]["file"]).resolve()
        for config in service["configs"]
    }


def test_compose_and_the_swarm_stack_run_the_same_prometheus():
    in_compose = COMPOSE["services"]["prometheus"]
    in_stack = STACK["services"]["prometheus"]
    assert in_compose["image"] == in_stack["image"]
    assert in_compose["command"] == in_stack["command"]
    files = mounted_files(in_compose, COMPOSE_FILE, COMPOSE["configs"])
    assert files == mounted_files(in_stack, STACK_FILE, STACK["configs"])
    assert files[PROMETHEUS_CONFIG] == PROMETHEUS_DIR / "prometheus.yml"
    # The rule files, beside the config as prometheus.yml names them.
    rule_files = yaml.safe_load(files[PROMETHEUS_CONFIG].read_text())["rule_files"]
    for rule_file in rule_files:
        assert files[str(Path(PROMETHEUS_CONFIG).parent / rule_file)].is_file()


def test_compose_runs_prometheus_on_demand_on_loopback_with_a_named_volume():
    prometheus = COMPOSE["services"]["prometheus"]
    assert prometheus["profiles"] == ["observability"]
    assert [port.split(":")[0] for port in prometheus["ports"]] == ["127.0.0.1"]
    volume = prometheus["volumes"][0].split(":")[0]
    assert volume in COMPOSE["volumes"]


def test_kubernetes_pods_are_annotated_for_scraping_on_a_port_they_serve():
    annotated = set()
    for resource in KUBERNETES:
        template = resource["spec"]["template"]
        name = template["metadata"]["labels"]["app.kubernetes.io/name"]
        annotations = template["metadata"].get("annotations", {})
        if annotations.get("prometheus.io/scrape") != "true":
            continue
        annotated.add(name)
        (container,) = template["spec"]["containers"]
        port = int(annotations["prometheus.io/port"])
        assert annotations["prometheus.io/path"] == "/metrics", name
        assert port in {declared["containerPort"] for declared in container["ports"]}, name
        assert port == listening_port(name), name
        if name in SERVICES and name != "gateway":
            env = {variable["name"]: variable.get("value") for variable in container["env"]}
            assert env["METRICS_PORT"] == str(port), name
            assert env["METRICS_HOST"] == "0.0.0.0", name
    assert annotated == {*SERVICES, "edge", "rabbitmq"}
