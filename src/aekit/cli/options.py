"""Parsing helpers shared by commands: ``--set key=value`` options, size strings, TOML run settings and
checks of common option values (batch sizes, thresholds, devices)."""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path
from typing import Any

from aekit.errors import ConfigError

__all__ = [
    "MAX_IMAGE_SIDE",
    "check_finite_option",
    "check_positive_option",
    "check_run_settings",
    "parse_assignments",
    "parse_size",
]

MAX_IMAGE_SIDE = 16384
"""Largest side ``--image-size`` accepts (memory is checked as well, from the number of images)."""

_RUN_SETTINGS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "dataset": (str, "a dataset name or path"),
    "model": (str, "a registered model name"),
    "run_dir": (str, "a folder path"),
    "data_dir": (str, "a folder path"),
    "image_size": ((int, list), "a size such as 28 or [32, 48]"),
    "max_samples": (int, "a positive integer"),
    "model_options": (dict, "a table of model config fields"),
    "train": (dict, "a table of training config fields"),
    "augmentation": (dict, "a table of augmentation fields"),
    "tensorboard_dir": (str, "a folder path"),
    "label_column": (str, "a column name"),
    "masks": (str, "a folder or file path"),
}
"""Keys a ``--config`` TOML file may hold at its top level, their types and what they mean."""


def check_run_settings(settings: dict[str, Any], path: Path) -> dict[str, Any]:
    """Check a ``--config`` TOML file's top level: known keys (unknown ones get a suggestion) of the
    right types; the tables' fields are checked by their configs.

    Raises:
        ConfigError: Naming the file, the key, what was expected and what it holds.
    """
    for key, value in settings.items():
        if key not in _RUN_SETTINGS:
            close = difflib.get_close_matches(key, list(_RUN_SETTINGS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{path}: unknown setting {key!r}{hint} (known: {', '.join(_RUN_SETTINGS)})")
        kind, description = _RUN_SETTINGS[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ConfigError(f"{path}: {key} must be {description}; got {value!r}")
    if "image_size" in settings:
        size = settings["image_size"]
        sizes = [size] if isinstance(size, int) else size
        if len(sizes) not in (1, 2) or any(isinstance(v, bool) or not isinstance(v, int) for v in sizes):
            raise ConfigError(f"{path}: image_size must be a size such as 28 or [32, 48]; got {size!r}")
        settings = {**settings, "image_size": parse_size("x".join(str(v) for v in sizes))}
    if "max_samples" in settings:
        check_positive_option("max_samples", settings["max_samples"])
    return settings


def check_positive_option(name: str, value: float | None, *, allow_zero: bool = False) -> None:
    """Refuse a count or size option below 1 (or below 0), NaN or infinite: ``--batch-size 0``.

    Raises:
        ConfigError: ``"--batch-size must be ≥ 1; got 0"``.
    """
    if value is None:
        return
    flag = "--" + name.replace("_", "-")
    low = 0 if allow_zero else 1
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{flag} must be a finite number; got {value}")
    if value < low:
        raise ConfigError(f"{flag} must be ≥ {low}; got {value}")


def check_finite_option(name: str, value: float | None) -> None:
    """Refuse NaN or infinite option values (``--threshold nan`` would silently switch detection off).

    Raises:
        ConfigError: ``"--threshold must be a finite number; got nan"``.
    """
    if value is not None and not math.isfinite(value):
        raise ConfigError(f"--{name.replace('_', '-')} must be a finite number; got {value}")


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
        except RecursionError:
            raise ConfigError(f"--set {key.strip()}: the value is nested too deeply") from None
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
    if max(sizes) > MAX_IMAGE_SIDE:
        raise ConfigError(f"image size {text!r} is too large: each side must be at most {MAX_IMAGE_SIDE}")
    return sizes[0], sizes[1]
