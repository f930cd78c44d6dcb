"""Service images built with today's recipe (services/base.Dockerfile, then
services/<name>/Dockerfile) from a source tree: this checkout, or a released version's
code rebuilt from its git commit.

Images are kept (tags overwritten on each run): Docker's layer cache is what keeps a
warm run fast. Containers started from them are removed by the tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from testcontainers.core.image import DockerImage

from contract_testing.releases import extract_source, release
from service_testing.processes import runner_module
from service_testing.services import REPO_ROOT, SERVICES

BASE_RECIPE = Path("services/base.Dockerfile")
RECIPE_FILES = (
    BASE_RECIPE,
    *(Path("services") / service / "Dockerfile" for service in SERVICES),
    Path("services/healthcheck.py"),
    Path("services/container_env.py"),
    Path(".dockerignore"),
)


def release_tree(version: str, directory: Path) -> Path:
    """A released version's code under ``directory``, with today's image recipe.

    A release older than the recipe is packaged the way it would be today, so the
    test compares code versions, not two ways of building images.
    """
    tree = directory / f"release-{version}"
    extract_source(release(version), tree)
    for name in RECIPE_FILES:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)  # a service it did not have
        shutil.copyfile(REPO_ROOT / name, tree / name)
    return tree


def service_image(tree: Path, service: str, tag: str) -> str:
    """Build ``service`` from ``tree`` as ``tag``, on a base built from the same tree
    (tagged after ``tag``); layers are cached between runs."""
    repository, version = tag.rsplit(":", 1)
    base = f"{repository}-base:{version}"
    build(tree, base, BASE_RECIPE, {"RUNNER": runner_module(tree)})
    build(tree / "services" / service, tag, Path("Dockerfile"), {"BASE_IMAGE": base})
    return tag


def build(context: Path, tag: str, dockerfile: Path, buildargs: dict[str, str]) -> None:
    DockerImage(
        path=context,
        tag=tag,
        clean_up=False,
        dockerfile_path=str(dockerfile),
        buildargs=buildargs,
        rm=True,
    ).build()
