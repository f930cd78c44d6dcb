"""``python -m service_runtime.serve run --config config.yaml module:Class``: ``nameko run``
(README, "Run one service") plus name lookups off the hub, every setting checked first, and
no ``pkg_resources``, which nameko's CLI imports only to print its version (a stand-in
answers that, and loads the real module on any other use). A/B, 2 runs of ``nox -s bench
--only POST --against-ours``:

| override | deviation | without it, idle RSS |
|---|---|---|
| `_stand_in` | fakes `pkg_resources` for nameko's CLI | +2.9 MB (RPC), +3.1 (gateway), 61.2 |
"""

from __future__ import annotations

import contextlib
import importlib
import logging.config
import sys
import types
import warnings
from importlib.metadata import version
from typing import Any

from service_runtime.settings import SettingError, check_all


def _stand_in() -> types.ModuleType:
    module = types.ModuleType("pkg_resources", "stand-in: see service_runtime.serve")

    def get_distribution(name: str) -> types.SimpleNamespace:
        return types.SimpleNamespace(version=version(name))

    def load_the_real_one(attribute: str) -> Any:
        if attribute.startswith("__"):  # module introspection (eventlet's patcher does it)
            raise AttributeError(attribute)
        del sys.modules["pkg_resources"]
        return getattr(importlib.import_module("pkg_resources"), attribute)

    module.get_distribution = get_distribution  # type: ignore[attr-defined]
    module.__getattr__ = load_the_real_one  # type: ignore[method-assign]
    return module


def prepare(argv: list[str]) -> None:
    """Apply the project's logging for the config ``argv`` names unless it brings its own,
    then check every setting the service declares."""
    import yaml
    from nameko.cli.main import setup_parser, setup_yaml_parser
    from nameko.cli.run import import_service
    from nameko.exceptions import CommandError

    from service_runtime.logformat import logging_config, serving

    args, _ = setup_parser().parse_known_args(argv)
    if getattr(args, "config", None) is None:
        return
    setup_yaml_parser()  # ${VAR:default}, as nameko reads the file
    with open(args.config) as config_file:
        config = yaml.safe_load(config_file) or {}
    if "LOGGING" not in config:
        # As under `nameko run`, existing loggers (nameko's: a traceback per 404) go quiet.
        logging.config.dictConfig(logging_config(config))
    with contextlib.suppress(CommandError):  # nameko reports it
        # Imported for their names, and so that every setting they read is declared.
        serving(", ".join(cls.name for path in args.services for cls in import_service(path)))
    check_all(config)


def main() -> None:
    sys.modules.setdefault("pkg_resources", _stand_in())
    # Nameko 2 runs on eventlet only: its deprecation notice is nine lines of noise.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    # nameko's `run` patches first thing too; the handlers' locks must be green ones.
    eventlet.monkey_patch()
    from service_runtime.name_lookup import resolve_names_off_the_hub

    resolve_names_off_the_hub()
    from nameko.cli.main import main as nameko_main

    try:
        prepare(sys.argv[1:])
    except SettingError as refused:
        # One line, before nameko's green threads could print a traceback each.
        sys.exit(f"configuration error: {refused}")
    nameko_main()


if __name__ == "__main__":
    main()
