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
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder for the exported files.")
    ] = None,
    export_format: Annotated[str, typer.Option("--format", help="Export format (onnx).")] = "onnx",
    part: Annotated[
        list[str] | None,
        typer.Option("--part", help="encoder, decoder or autoencoder, repeatable (default: all three)."),
    ] = None,
    check: Annotated[
        bool, typer.Option(help="Only check that the parts trace for export (fast); write nothing.")
    ] = False,
) -> None:
    """Export the encoder, decoder and whole autoencoder (batch dimension dynamic).

    Models that take labels beside their inputs (cvae, caae, multi_decoder) are refused in one line.

    Examples:

      aekit export --model runs/demo/model --format onnx -o runs/demo/onnx

      aekit export --model runs/demo/model --part decoder --check
    """
    from aekit.apps.export import EXPORT_PARTS, check_exportable, export_onnx
    from aekit.errors import ConfigError
    from aekit.models.files import load_model

    if export_format != "onnx":
        raise ConfigError(f"--format must be onnx; got {export_format!r}")
    parts = tuple(part or EXPORT_PARTS)
    model = load_model(model_dir)
    if check:
        checked = check_exportable(model, parts)  # type: ignore[arg-type]
        data_out({"exportable": checked}, f"exportable: {', '.join(checked)}")
        return
    if output is None:
        raise ConfigError("--output/-o is required unless --check is given")
    files = export_onnx(model, output, parts)  # type: ignore[arg-type]
    data_out(
        {part: str(path) for part, path in files.items()}, "\n".join(f"{p:12s} {f}" for p, f in files.items())
    )


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(export))
