"""``aekit export``: a saved model to ONNX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aekit.cli._console import data_out, guarded

__all__ = ["register"]


def export(
    model_dir: Annotated[
        Path, typer.Option("--model", help="Model folder (config.json + model.safetensors).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the exported files.")],
    export_format: Annotated[str, typer.Option("--format", help="Export format (onnx).")] = "onnx",
) -> None:
    """Export the encoder, decoder and whole autoencoder (batch dimension dynamic).

    Example:

      aekit export --model runs/demo/model --format onnx -o runs/demo/onnx
    """
    from aekit.apps.export import export_onnx
    from aekit.errors import ConfigError
    from aekit.io import load_model

    if export_format != "onnx":
        raise ConfigError(f"--format must be onnx; got {export_format!r}")
    files = export_onnx(load_model(model_dir), output)
    data_out(
        {part: str(path) for part, path in files.items()}, "\n".join(f"{p:12s} {f}" for p, f in files.items())
    )


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(export))
