"""``aekit compress`` and ``aekit decompress``: image files to ``.aek`` files of the learned codec and back.

Without ``--model`` both use the codec shipped with aekit, so they work right after install.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aekit.cli._console import data_out, guarded, message

if TYPE_CHECKING:
    from aekit.apps.compression import CompressionReport
    from aekit.models.compression import Codec

__all__ = ["register"]

ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model", help="Codec folder (config.json + model.safetensors); default: the shipped codec."
    ),
]


def _codec(model_dir: Path | None) -> Codec:
    """The codec in ``model_dir``, or the shipped default; a clear error for a folder of another model."""
    from aekit.apps.compression import load_default_codec
    from aekit.errors import ModelFileError
    from aekit.io import load_model
    from aekit.models.compression import Codec

    if model_dir is None:
        return load_default_codec()
    model = load_model(model_dir)
    if not isinstance(model, Codec):
        raise ModelFileError(
            f"{model_dir} holds a {model.registry_name!r} model, not an image codec ('codec'); "
            "train one with benchmarks/compression_rd.py train, or leave out --model for the shipped codec"
        )
    return model


def _report(report: CompressionReport, verb: str) -> None:
    payload = {
        "input": str(report.source),
        "output": str(report.destination),
        "height": report.height,
        "width": report.width,
        "channels": report.channels,
        "level": report.level,
        "bytes": report.n_bytes,
        "bpp": report.bpp,
    }
    message(
        f"{verb} {report.source} → {report.destination}: {report.width}×{report.height}, "
        f"level {report.level}, {report.n_bytes} bytes, {report.bpp:.3f} bits per pixel"
    )
    data_out(payload, str(report.destination))


def compress(
    source: Annotated[Path, typer.Argument(help="Image file (PNG, JPEG ...; grey or RGB, any size).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .aek file to write.")],
    model_dir: ModelOption = None,
    level: Annotated[
        int | None,
        typer.Option(help="Quality level: 0 = smallest file … n_levels − 1 = best quality (the default)."),
    ] = None,
) -> None:
    """Compress an image with the learned codec into an .aek file and print its bits per pixel.

    Examples:

      aekit compress photo.png -o photo.aek

      aekit compress photo.png -o photo.aek --level 0 --model runs/my-codec
    """
    from aekit.apps.compression import compress_file

    _report(compress_file(_codec(model_dir), source, output, level=level), "compressed")


def decompress(
    source: Annotated[Path, typer.Argument(help="An .aek file made by aekit compress.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Image file to write (.png, .bmp, .tif ...).")
    ],
    model_dir: ModelOption = None,
) -> None:
    """Decode an .aek file into an image; it must be the codec that made the file (its weights are checked).

    Examples:

      aekit decompress photo.aek -o photo.png
    """
    from aekit.apps.compression import decompress_file

    _report(decompress_file(_codec(model_dir), source, output), "decompressed")


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(compress))
    app.command()(guarded(decompress))
