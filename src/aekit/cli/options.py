"""What commands share: option types (``--model``, a data source, ``--split`` ...), parsing of
``--set key=value`` options and size strings, and checks of common option values (batch sizes,
thresholds, devices)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from aekit.errors import ConfigError
from aekit.formats.limits import MAX_IMAGE_SIDE

__all__ = [
    "DataArgument",
    "DataDirOption",
    "InputOption",
    "LabelColumnOption",
    "MaxSamplesOption",
    "ModelOption",
    "SeedOption",
    "SourceArgument",
    "SplitOption",
    "check_finite_option",
    "check_positive_option",
    "one_input",
    "one_source",
    "parse_assignments",
    "parse_size",
]

ModelOption = Annotated[Path, typer.Option("--model", help="Model folder (config.json + model.safetensors).")]
SourceArgument = Annotated[
    str,
    typer.Argument(help="Dataset name or path (.npy/.npz, .csv/.tsv/.parquet, image folder, audio folder)."),
]
SplitOption = Annotated[str, typer.Option(help="train or test (MNIST/Fashion-MNIST).")]
InputOption = Annotated[
    Path | None, typer.Option("--input", "-i", help="The input, as an option instead of the argument.")
]
"""``--input``/``-i``: what a command also takes as its argument (see :func:`one_input`)."""
DataDirOption = Annotated[Path | None, typer.Option(help="Folder of the MNIST/Fashion-MNIST files.")]
MaxSamplesOption = Annotated[
    int | None, typer.Option(help="Use at most this many samples (a seeded random subset).")
]
SeedOption = Annotated[int, typer.Option(help="Seed of every random choice.")]
LabelColumnOption = Annotated[
    str | None, typer.Option(help="Tables: the column holding labels (left out of the features).")
]


DataArgument = Annotated[
    str | None,
    typer.Argument(help="The data, as --dataset takes it (give it one way, not both).", show_default=False),
]
"""The data of ``train`` and ``evaluate`` as their argument, beside ``--dataset`` (see :func:`one_source`)."""


def one_source(argument: str | None, option: str | None) -> str | None:
    """The data named as the command's argument or with ``--dataset`` (either; None when neither).

    Raises:
        ConfigError: Both are given and differ.
    """
    if argument is not None and option is not None and argument != option:
        raise ConfigError(f"give the data once, as the argument or with --dataset: {argument} or {option}")
    return argument if argument is not None else option


def one_input(argument: Path | None, option: Path | None) -> Path:
    """The input given as the command's argument or as ``--input`` (either, not both, not neither).

    Raises:
        ConfigError: Neither or two different paths are given.
    """
    if argument is not None and option is not None and argument != option:
        raise ConfigError(f"give the input once, as an argument or with --input; got {argument} and {option}")
    path = argument if argument is not None else option
    if path is None:
        raise ConfigError("missing input: give a table or image folder as the argument (or with --input)")
    return path


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
