"""Each service image holds runtime code only: every module of every package this repo
installs in it imports there, with nothing but the image's own dependencies (test
tooling such as pact, absent from images, would fail to import)."""

from __future__ import annotations

import json
from contextlib import closing

import docker
import pytest

from integration_tests.brokers import DOCKER_MODE
from integration_tests.images import service_image
from service_testing.services import REPO_ROOT, SERVICES

RUN_SECONDS = 120
# Run inside the image: import every module of every package whose distribution is
# ours (the "travel-" prefix); print what was found and what failed, as JSON.
IMPORT_EVERYTHING = """
import importlib, json, pkgutil
from importlib.metadata import packages_distributions

ours = {top: dists for top, dists in packages_distributions().items()
        if any(d.startswith("travel-") for d in dists)}
modules, failed = [], {}
for top in sorted(ours):
    names = [top]
    package = importlib.import_module(top)
    names += [m.name for m in pkgutil.walk_packages(package.__path__, prefix=f"{top}.")]
    for name in names:
        try:
            importlib.import_module(name)
            modules.append(name)
        except Exception as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"
dists = sorted({d for ds in ours.values() for d in ds})
print(json.dumps({"distributions": dists, "modules": modules, "failed": failed}))
"""


def imports_in(image: str) -> dict:
    """What ``IMPORT_EVERYTHING`` reports inside a container of ``image``."""
    with closing(docker.from_env(timeout=RUN_SECONDS)) as client:
        container = client.containers.run(image, ["python", "-c", IMPORT_EVERYTHING], detach=True)
        try:
            status = container.wait(timeout=RUN_SECONDS)
            output = container.logs(stdout=True, stderr=True).decode()
        finally:
            container.remove(force=True)
    assert status["StatusCode"] == 0, output
    return json.loads(output.strip().splitlines()[-1])


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_imports_every_module_of_every_package_it_holds(
    service, integration_mode, report
):
    if integration_mode != DOCKER_MODE:
        pytest.skip("images need a Docker engine")
    image = service_image(REPO_ROOT, service, f"travel-it/{service}:image-contents")

    found = imports_in(image)

    assert found["failed"] == {}
    assert found["distributions"] == sorted(
        ["travel-contracts", "travel-service-runtime", f"travel-{service}"]
    )
    assert {"contracts.errors", "service_runtime.rpc", f"{service}.service"} <= set(
        found["modules"]
    )
    report(f"image {service}: {len(found['modules'])} modules of {found['distributions']} import")
