"""``aekit compress`` and ``aekit decompress``: image files to ``.aek`` files of the learned codec and back.

Without ``--model`` both use the codecs shipped with aekit, so they work right after install: ``compress``
takes the one ``--codec`` names (``mse``, the default, or ``ms_ssim``), ``decompress`` finds the one that
made the file by its weights fingerprint.
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

MaxPixelsOption = Annotated[
    int | None,
    typer.Option(
        "--max-pixels",
        min=1,
        help="Refuse larger images (height × width); default AEKIT_MAX_PIXELS or 134,217,728.",
    ),
]
ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model", help="Codec folder (config.json + model.safetensors); default: the shipped codec."
    ),
]


def _codec(model_dir: Path | None, shipped: str = "mse") -> Codec:
    """The codec in ``model_dir``, else the shipped ``shipped`` codec; a clear error for another model."""
    from aekit.apps.compression import load_default_codec
    from aekit.errors import ModelFileError
    from aekit.models.compression import Codec
    from aekit.models.files import load_model

    if model_dir is None:
        return load_default_codec(shipped)
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
    codec: Annotated[
        str,
        typer.Option(
            help="Shipped codec when --model is not given: mse (best PSNR) or ms_ssim (best MS-SSIM)."
        ),
    ] = "mse",
    level: Annotated[
        int | None,
        typer.Option(help="Quality level: 0 = smallest file … n_levels − 1 = best quality (the default)."),
    ] = None,
    max_pixels: MaxPixelsOption = None,
) -> None:
    """Compress an image with the learned codec into an .aek file and print its bits per pixel.

    Examples:

      aekit compress photo.png -o photo.aek

      aekit compress photo.png -o photo.aek --codec ms_ssim

      aekit compress photo.png -o photo.aek --level 0 --model runs/my-codec
    """
    from aekit.apps.compression import compress_file
    from aekit.formats.files import check_output_path, check_output_suffix

    check_output_suffix(output, (".aek",), "compressed images")
    check_output_path(output, [source])
    report = compress_file(_codec(model_dir, codec), source, output, level=level, max_pixels=max_pixels)
    _report(report, "compressed")


def decompress(
    source: Annotated[Path, typer.Argument(help="An .aek file made by aekit compress.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Image file to write (.png, .bmp, .tif ...).")
    ],
    model_dir: ModelOption = None,
    max_pixels: MaxPixelsOption = None,
) -> None:
    """Decode an .aek file into an image with the codec that made it (its weights fingerprint is checked).

    Examples:

      aekit decompress photo.aek -o photo.png
    """
    from aekit.apps.compression import decompress_file

    model = None if model_dir is None else _codec(model_dir)  # None: the shipped codec that made the file
    _report(decompress_file(model, source, output, max_pixels=max_pixels), "decompressed")


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(compress))
    app.command()(guarded(decompress))
