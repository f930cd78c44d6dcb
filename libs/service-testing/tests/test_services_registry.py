"""The service registry against what repeats it: compose.yaml, config.yaml, the classes."""

import importlib
import re

import pytest
import yaml

from service_runtime.rpc import TimedRpcProxy
from service_testing.services import REPO_ROOT, SERVICES

COMPOSE = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())["services"]
REDIS_DATABASE = re.compile(r"redis://[^/\s\"}]+/(\d+)")


def service_class(target):
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def test_compose_builds_the_registered_services_from_their_own_dockerfiles():
    built = {name: service["build"] for name, service in COMPOSE.items() if "build" in service}

    assert built.pop("service-base")["dockerfile"] == "services/base.Dockerfile"
    assert built == {name: f"services/{name}" for name in SERVICES}


@pytest.mark.parametrize("name", SERVICES)
def test_each_image_runs_its_registered_class(name):
    dockerfile = (REPO_ROOT / "services" / name / "Dockerfile").read_text()

    assert f"ENV SERVICE={name} SERVICE_CLASS={SERVICES[name].target}\n" in dockerfile


@pytest.mark.parametrize("name", SERVICES)
def test_compose_starts_each_service_after_its_broker_and_its_redis_only(name):
    """Not after what it calls (compose.yaml's header: a call to a service still starting
    waits or times out, as after any restart); so every service starts at once."""
    spec = SERVICES[name]
    wanted = {"rabbitmq"} | ({f"redis-{name}"} if spec.redis_db is not None else set())

    assert set(COMPOSE[name]["depends_on"]) - {"service-base"} == wanted
    assert set(spec.calls) <= set(COMPOSE)


@pytest.mark.parametrize("name", SERVICES)
def test_config_yaml_defaults_to_the_registered_redis_database(name):
    spec = SERVICES[name]
    databases = {int(db) for db in REDIS_DATABASE.findall((REPO_ROOT / spec.config).read_text())}

    assert databases == ({spec.redis_db} if spec.redis_db is not None else set())


@pytest.mark.parametrize("name", SERVICES)
def test_each_class_is_the_registered_service_and_calls_the_registered_services(name):
    cls = service_class(SERVICES[name].target)
    proxies = [
        value for c in cls.__mro__ for value in vars(c).values() if isinstance(value, TimedRpcProxy)
    ]

    assert cls.name == name
    assert sorted(proxy.target_service for proxy in proxies) == sorted(SERVICES[name].calls)
