"""Shared set-up for benchmarks: MNIST in [0, 1], thread settings, a results printer."""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import torch

from aekit.data import load_mnist

DEFAULT_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data-dir``, ``--threads`` and ``--seed``."""
    parser.add_argument("--data-dir", default=os.environ.get("AEKIT_DATA", str(DEFAULT_MNIST)))
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seed", type=int, default=0)


def apply_settings(args: argparse.Namespace) -> str:
    """Apply thread settings and return a one-line description of the settings for the report."""
    torch.set_num_threads(args.threads)
    return (
        f"torch {torch.__version__}, {args.threads} thread(s), flush_denormal on both sides, "
        f"{platform.processor() or platform.machine()}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}"
    )


def mnist(split: str, data_dir: str, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images in [0, 1] ``(N, 1, 28, 28)`` and labels."""
    loaded = load_mnist(split, data_dir=data_dir, download=False)  # type: ignore[arg-type]
    x, y = loaded.data.x / 255.0, loaded.data.y
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return x, y  # type: ignore[return-value]


def table(rows: list[dict[str, object]]) -> str:
    """A Markdown table of ``rows`` (same keys)."""
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[c]) for c in columns) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
