"""deploy/kubernetes/ checked offline: no cluster runs here.

1. Every resource is valid against the Kubernetes API schemas of KUBERNETES_VERSION
   (kubernetes-validate, strict: unknown fields are errors).
2. What the manifests name exists in the project: images (the service registry, or an
   infrastructure image compose.yaml runs), container ports (what the process listens
   on), probe commands (the image's HEALTHCHECK, or compose.yaml's probe of that
   infrastructure image), environment variables (read by the service's config.yaml, the
   image's entrypoint or the edge's configuration), the non-root user (the image's),
   Secret and ConfigMap names (created by deploy/kubernetes/README.md's commands) and
   volume sources.
3. The edge is the only way in: the one Service reachable from outside the cluster, the
   edge's configuration file itself mounted, the gateway trusting the edge's pods alone.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from service_testing.services import REPO_ROOT, SERVICES

# A current Kubernetes release; kubernetes-validate carries its schemas.
KUBERNETES_VERSION = "1.37.0"
MANIFESTS = sorted((REPO_ROOT / "deploy" / "kubernetes").glob("*.yaml"))
DOCKERFILE = (REPO_ROOT / "services" / "base.Dockerfile").read_text()
COMPOSE = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
README = (REPO_ROOT / "deploy" / "kubernetes" / "README.md").read_text()
CONTAINER_ENV = (REPO_ROOT / "services" / "container_env.py").read_text()
RABBITMQ_ENV = (REPO_ROOT / "deploy" / "swarm" / "rabbitmq-env.conf").read_text()
# The Kubernetes cluster's rabbitmq.conf, which names the environment its nodes read.
RABBITMQ_CLUSTER_CONF = (REPO_ROOT / "deploy" / "rabbitmq" / "kubernetes.conf").read_text()
EDGE_CONFIG = (REPO_ROOT / "deploy" / "edge" / "haproxy.cfg").read_text()
OUR_IMAGE = re.compile(r"^travel/(?P<service>[a-z]+):")
# The ports the project's processes listen on, each from where it is set.
GATEWAY_PORT = int(
    re.search(r"GATEWAY_PORT:(\d+)", (REPO_ROOT / SERVICES["gateway"].config).read_text())[1]
)
METRICS_PORT = int(COMPOSE["x-metrics-env"]["METRICS_PORT"])  # each RPC service's listener
AMQP_PORT = 5672
REDIS_PORT = 6379
SENTINEL_PORT = 26379
# Kubernetes only (compose runs no Sentinel): its probe, as the Redis one asks for PONG.
SENTINEL_PROBE = ["sh", "-c", f"redis-cli -p {SENTINEL_PORT} ping | grep -qx PONG"]
# The edge's listeners, from the defaults its configuration binds.
EDGE_PORTS = {
    int(re.search(rf'"\${{{name}-:(\d+)}}"', EDGE_CONFIG)[1])
    for name in ("EDGE_BIND", "EDGE_METRICS_BIND")
}
RABBITMQ_PROMETHEUS_PORT = 15692  # the rabbitmq_prometheus plugin's


def resources() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in MANIFESTS:
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append(
                    (f"{path.name}:{document['kind']}/{document['metadata']['name']}", document)
                )
    return found


RESOURCES = resources()


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, resource["spec"]["template"]["spec"])
        for name, resource in RESOURCES
        if resource["kind"] in ("Deployment", "StatefulSet")
    ]


def containers() -> list[tuple[str, dict[str, Any]]]:
    return [(name, container) for name, spec in pod_specs() for container in spec["containers"]]


def compose_service_of(image: str) -> dict[str, Any]:
    for service in COMPOSE["services"].values():
        if service.get("image") == image:
            return service
    raise AssertionError(f"{image} is not an image compose.yaml runs")


def image_healthcheck(service: str) -> list[str]:
    """The images' HEALTHCHECK command (their shared base's) as argv, for one service."""
    command = re.search(r"HEALTHCHECK [^\n]*\\\n\s*CMD (?P<cmd>[^\n]+)", DOCKERFILE)["cmd"]
    return [service if word == "$SERVICE" else word for word in shlex.split(command)]


def test_the_manifests_exist():
    assert MANIFESTS, "no manifests under deploy/kubernetes"
    kinds = {resource["kind"] for _, resource in RESOURCES}
    assert kinds >= {
        "Deployment",
        "StatefulSet",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }


@pytest.mark.parametrize(("name", "resource"), RESOURCES, ids=[name for name, _ in RESOURCES])
def test_resource_is_valid_against_the_kubernetes_api_schema(name, resource):
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_a_deployment_for_every_service_and_a_stateful_set_for_every_store():
    deployments = {r["metadata"]["name"] for _, r in RESOURCES if r["kind"] == "Deployment"}
    stateful = {r["metadata"]["name"] for _, r in RESOURCES if r["kind"] == "StatefulSet"}
    redis_per_service = {name for name in COMPOSE["services"] if name.startswith("redis-")}
    assert deployments == {*SERVICES, "edge"}
    assert stateful == {"rabbitmq", "redis-sentinel", *redis_per_service}
    for _, resource in RESOURCES:
        if resource["kind"] == "StatefulSet":
            assert resource["spec"]["volumeClaimTemplates"], resource["metadata"]["name"]


def test_every_rpc_service_autoscales_and_every_service_has_a_disruption_budget():
    targets = {
        resource["kind"]: set()
        for _, resource in RESOURCES
        if resource["kind"] in ("HorizontalPodAutoscaler", "PodDisruptionBudget")
    }
    for _, resource in RESOURCES:
        if resource["kind"] == "HorizontalPodAutoscaler":
            targets["HorizontalPodAutoscaler"].add(resource["spec"]["scaleTargetRef"]["name"])
        if resource["kind"] == "PodDisruptionBudget":
            targets["PodDisruptionBudget"].add(
                resource["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
            )
    assert targets["HorizontalPodAutoscaler"] == set(SERVICES) - {"gateway"}
    assert targets["PodDisruptionBudget"] == {*SERVICES, "edge", "rabbitmq"}


@pytest.mark.parametrize(("name", "container"), containers(), ids=[n for n, _ in containers()])
def test_image_ports_and_probes_exist_in_the_project(name, container):
    image = container["image"]
    ours = OUR_IMAGE.match(image)
    if ours:
        service = ours["service"]
        assert service in SERVICES, f"{name}: no service {service!r} in the registry"
        expected_probe = image_healthcheck(service)
        expected_ports = {GATEWAY_PORT} if service == "gateway" else {METRICS_PORT}
    elif container["name"] == "sentinel":
        expected_probe, expected_ports = SENTINEL_PROBE, {SENTINEL_PORT}
    else:
        compose_service = compose_service_of(image)
        kind, *command = compose_service["healthcheck"]["test"]
        # CMD runs the command itself, CMD-SHELL one string through sh (as Docker does).
        expected_probe = command if kind == "CMD" else ["sh", "-c", *command]
        expected_ports = {
            # Not the management API: it listens on the pod's loopback only.
            "rabbitmq:3-management": {AMQP_PORT, RABBITMQ_PROMETHEUS_PORT},
            "redis:7": {REDIS_PORT},
            "haproxy:2.6": EDGE_PORTS,
        }[image]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"] == expected_probe, (name, probe)
    assert {port["containerPort"] for port in container.get("ports", [])} == expected_ports
    assert set(container["resources"]) == {"limits", "requests"}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize(("name", "container"), containers(), ids=[n for n, _ in containers()])
def test_every_environment_variable_is_read_by_what_runs(name, container):
    ours = OUR_IMAGE.match(container["image"])
    if ours:
        config = (REPO_ROOT / SERVICES[ours["service"]].config).read_text()
        readers = config + CONTAINER_ENV
    elif container["image"].startswith("haproxy:"):
        readers = EDGE_CONFIG
    else:
        readers = RABBITMQ_ENV + RABBITMQ_CLUSTER_CONF  # as the swarm's, and the cluster's
    # A variable may also be read by another one's value (Kubernetes' $(NAME)).
    readers += " ".join(variable.get("value", "") for variable in container.get("env", []))
    for variable in container.get("env", []):
        assert re.search(rf"\b{variable['name']}\b", readers), (name, variable["name"])


def test_pods_run_as_the_images_non_root_user():
    image_uid = int(re.search(r"useradd [^\n]*--uid (\d+)", DOCKERFILE)[1])
    assert re.search(r"^ONBUILD USER app$", DOCKERFILE, re.MULTILINE)  # every service image
    for name, spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        image = spec["containers"][0]["image"]
        if OUR_IMAGE.match(image):
            assert spec["securityContext"]["runAsUser"] == image_uid, name


def test_every_container_is_hardened():
    # README: Security; as compose.yaml's x-hardened.
    for name, container in containers():
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }, name


def test_secrets_and_config_maps_are_created_by_the_documented_commands():
    referenced = set()
    for _, spec in pod_specs():
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                referenced.add(("secret generic", volume["secret"]["secretName"]))
            if "configMap" in volume:
                referenced.add(("configmap", volume["configMap"]["name"]))
        for container in spec["containers"]:
            for variable in container.get("env", []):
                if "secretKeyRef" in variable.get("valueFrom", {}):
                    referenced.add(
                        ("secret generic", variable["valueFrom"]["secretKeyRef"]["name"])
                    )
    assert referenced
    for kind, name in referenced:
        assert f"kubectl create {kind} {name} " in README, (kind, name)
    assert "--from-file=redis.conf=deploy/redis/redis.conf" in README
    assert Path(REPO_ROOT / "deploy" / "redis" / "redis.conf").is_file()


def test_the_edge_is_the_only_way_in():
    services = {r["metadata"]["name"]: r["spec"] for _, r in RESOURCES if r["kind"] == "Service"}
    reachable = {name for name, spec in services.items() if spec.get("type") == "LoadBalancer"}
    assert reachable == {"edge"}
    assert services["gateway"]["clusterIP"] == "None"  # its pods, for the edge's DNS
    assert services["edge-pods"]["clusterIP"] == "None"
    assert services["edge-pods"]["selector"] == services["edge"]["selector"]


def test_the_edge_runs_the_project_file_and_the_gateway_trusts_its_pods_alone():
    [edge] = [c for name, c in containers() if c["image"].startswith("haproxy:")]
    [edge_spec] = [spec for name, spec in pod_specs() if name.endswith("Deployment/edge")]
    [config_volume] = [v for v in edge_spec["volumes"] if "configMap" in v]
    assert config_volume["configMap"]["name"] == "travel-edge-conf"
    assert "--from-file=haproxy.cfg=deploy/edge/haproxy.cfg" in README
    mounts = {m["name"]: m["mountPath"] for m in edge["volumeMounts"]}
    assert mounts[config_volume["name"]] == "/usr/local/etc/haproxy"  # the image's path
    env = {variable["name"]: variable.get("value") for variable in edge["env"]}
    assert env["EDGE_GATEWAY"].startswith("gateway.")

    [gateway] = [c for name, c in containers() if c["image"].startswith("travel/gateway:")]
    gateway_env = {variable["name"]: variable.get("value") for variable in gateway["env"]}
    assert gateway_env["TRUSTED_PROXIES"] == "edge-pods"


# --- NetworkPolicies, evaluated here as a cluster would (network-policies.yaml) ------
@dataclass(frozen=True)
class Pod:
    labels: dict
    namespace: str = "travel"


def ours(name: str) -> Pod:
    return Pod({"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "travel"})


PROMETHEUS = Pod({"app.kubernetes.io/name": "prometheus"}, "monitoring")
OUTSIDE = None  # a client outside the cluster (no pod)
POLICIES = [r["spec"] for _, r in RESOURCES if r["kind"] == "NetworkPolicy"]


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def peer_is(peer: dict, pod: Pod | None, namespace: str) -> bool:
    if pod is None:
        return False  # no ipBlock here: only a rule without peers admits the outside
    if "namespaceSelector" in peer:
        namespace_labels = {"kubernetes.io/metadata.name": pod.namespace}
        in_namespace = selects(peer["namespaceSelector"], namespace_labels)
    else:
        in_namespace = pod.namespace == namespace
    return in_namespace and selects(peer.get("podSelector", {}), pod.labels)


def admitted(policy_type: str, pod: Pod, peer: Pod | None, port: int) -> bool:
    """Whether ``pod``'s policies of ``policy_type`` let ``peer`` in (or out) on ``port``."""
    direction, peers = ("ingress", "from") if policy_type == "Ingress" else ("egress", "to")
    policies = [
        p
        for p in POLICIES
        if policy_type in p["policyTypes"] and selects(p["podSelector"], pod.labels)
    ]
    if not policies:
        return True
    return any(
        ("ports" not in rule or any(p["port"] == port for p in rule["ports"]))
        and (peers not in rule or any(peer_is(x, peer, pod.namespace) for x in rule[peers]))
        for policy in policies
        for rule in policy.get(direction, [])
    )


def reaches(source: Pod | None, target: Pod, port: int) -> bool:
    egress = (
        source is None or source.namespace != "travel" or admitted("Egress", source, target, port)
    )
    return egress and admitted("Ingress", target, source, port)


def test_network_policies_let_through_only_what_each_part_needs():
    services = [name for name in SERVICES if name != "gateway"]
    allowed = {(None, "edge", 8000), ("edge", "gateway", 8000)}
    for name in SERVICES:
        allowed |= {(name, "rabbitmq", 5672), (name, f"redis-{name}", 6379)}
    metrics = {"edge": 8404, "gateway": 8000, "rabbitmq": 15692, **dict.fromkeys(services, 9100)}
    parts = ["edge", "rabbitmq", *SERVICES, *(f"redis-{name}" for name in SERVICES)]
    ports = {8000, 8404, 9100, 5672, 15672, 15692, 6379}
    for source in [None, *parts]:
        for target in parts:
            for port in ports:
                pod = None if source is None else ours(source)
                if (source, target, port) in allowed:
                    assert reaches(pod, ours(target), port), (source, target, port)
                    continue
                # Refused on both sides: the target's ingress (but the public listener's),
                # and the source's egress.
                public = (target, port) == ("edge", 8000)
                assert public or not admitted("Ingress", ours(target), pod, port), (
                    source,
                    target,
                    port,
                )
                if pod is not None:
                    assert not admitted("Egress", pod, ours(target), port), (source, target, port)
    for target, port in metrics.items():
        assert reaches(PROMETHEUS, ours(target), port), target
    assert not reaches(PROMETHEUS, ours("redis-gateway"), 6379)
