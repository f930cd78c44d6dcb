"""Typed settings: each configuration key declared once, with its type, default and bounds
(README, "Configuration"); ``ALL_SETTINGS`` holds every one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

ALL_SETTINGS: dict[str, Setting[Any]] = {}


class SettingError(ValueError):
    """A configured value that cannot be used; the message names the key."""


def boolean(raw: Any) -> bool:
    """``true/false``, ``yes/no``, ``on/off``, ``1/0`` (YAML already types most of them)."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


def one_of(*choices: str) -> Callable[[Any], str]:
    """A parser of one of ``choices`` (letter case and surrounding blanks ignored)."""

    def parse(raw: Any) -> str:
        text = str(raw).strip().lower()
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text

    return parse


def string_list(raw: Any) -> tuple[str, ...]:
    """A YAML list, or a comma-separated string (how an environment variable gives one)."""
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One configuration key: how to parse it, what it is when unset, what it may be."""

    key: str
    parse: Callable[[Any], T]
    default: T
    doc: str
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        # Declared once: a second declaration of the same key would be a second owner.
        if self.key in ALL_SETTINGS and ALL_SETTINGS[self.key] != self:
            raise SettingError(f"setting {self.key} is declared twice with different values")
        ALL_SETTINGS[self.key] = self

    def read(self, config: Mapping[str, Any]) -> T:
        raw = config.get(self.key)
        if raw is None or raw == "":
            return self.default
        try:
            value = self.parse(raw)
        except (TypeError, ValueError) as exc:
            raise SettingError(f"{self.key}={raw!r}: {exc}") from None
        if self.minimum is not None and value < self.minimum:  # type: ignore[operator]
            raise SettingError(f"{self.key}={raw!r}: must be at least {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:  # type: ignore[operator]
            raise SettingError(f"{self.key}={raw!r}: must be at most {self.maximum:g}")
        return value


def check_all(config: Mapping[str, Any]) -> None:
    """Read every declared setting from ``config``: a bad value raises ``SettingError`` now,
    not when a request first reads it."""
    for setting in ALL_SETTINGS.values():
        setting.read(config)
