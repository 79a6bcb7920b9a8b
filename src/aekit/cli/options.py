"""Parsing helpers shared by commands: ``--set key=value`` options and size strings."""

from __future__ import annotations

import json
from typing import Any

from aekit.errors import ConfigError

__all__ = ["parse_assignments", "parse_size"]


def parse_assignments(assignments: list[str] | None) -> dict[str, Any]:
    """``["hidden_dims=[256,64]", "batch_norm=true"]`` → ``{"hidden_dims": [256, 64], "batch_norm": True}``.

    Values are read as JSON when they parse, else kept as strings (``activation=gelu``).
    """
    values: dict[str, Any] = {}
    for item in assignments or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE; got {item!r}")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw
    return values


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"28"`` → ``(28, 28)``, ``"32x48"`` → ``(32, 48)``; None stays None."""
    if text is None:
        return None
    parts = text.lower().split("x")
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise ConfigError(f"image size must look like 28 or 32x48; got {text!r}") from None
    if len(sizes) == 1:
        sizes *= 2
    if len(sizes) != 2 or min(sizes) < 1:
        raise ConfigError(f"image size must look like 28 or 32x48; got {text!r}")
    return sizes[0], sizes[1]
