"""``aekit compress`` and ``aekit decompress``: image files to ``.aek`` files of the learned codec and back.

Without ``--model`` both use the codecs shipped with aekit, so they work right after install: ``compress``
takes the one ``--codec`` names (``mse``, the default, or ``ms_ssim``), ``decompress`` finds the one that
made the file by its weights fingerprint.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aekit.cli._console import data_out, guarded, message, naming, progress_iter

if TYPE_CHECKING:
    from aekit.apps.compression import CompressionReport
    from aekit.apps.compression.codec import AnyCodec

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


def _codec(model_dir: Path | None, shipped: str | None = None) -> AnyCodec:
    """The codec in ``model_dir``, else the shipped ``shipped`` codec (default ``mse``); a clear error for
    another model, or for both."""
    from aekit.apps.compression import load_default_codec
    from aekit.apps.compression.codec import check_codec
    from aekit.errors import ConfigError, ModelFileError
    from aekit.models.compression import Codec
    from aekit.models.files import load_model
    from aekit.models.hyperprior import HyperpriorCodec

    if model_dir is None:
        return load_default_codec(shipped or "mse")
    if shipped is not None:
        raise ConfigError(
            f"--codec {shipped} picks a shipped codec and --model {model_dir} gives another; pass only one"
        )
    model = load_model(model_dir)
    if not isinstance(model, Codec | HyperpriorCodec):
        raise ModelFileError(
            f"{model_dir} holds a {model.registry_name!r} model, not an image codec ('codec' or "
            "'codec_hyperprior'); train one with benchmarks/train_codec.py, or leave out --model for the "
            "shipped codec"
        )
    with naming(model_dir):
        return check_codec(model)


def _payload(report: CompressionReport) -> dict[str, object]:
    """What ``--json`` prints about one file."""
    return {
        "input": str(report.source),
        "output": str(report.destination),
        "height": report.height,
        "width": report.width,
        "channels": report.channels,
        "level": report.level,
        "bytes": report.n_bytes,
        "bpp": report.bpp,
    }


def _say(report: CompressionReport, verb: str) -> None:
    message(
        f"{verb} {report.source} → {report.destination}: {report.width}×{report.height}, "
        f"level {report.level}, {report.n_bytes} bytes, {report.bpp:.3f} bits per pixel"
    )


def _report_folder(reports: list[CompressionReport], summary: dict[str, object]) -> None:
    """One result for a folder run (one JSON document with ``--json``): ``summary`` and every file's."""
    data_out(
        {"n_files": len(reports), **summary, "files": [_payload(report) for report in reports]},
        "\n".join(str(report.destination) for report in reports),
    )


def _folder_pairs(source: Path, output: Path, files: list[Path], suffix: str) -> list[tuple[Path, Path]]:
    """``(input, output)`` pairs: each of ``files`` (directly in the folder ``source``) to
    ``output/<its stem><suffix>``, checked by :func:`aekit.formats.files.folder_output_pairs`."""
    from aekit.formats.files import folder_output_pairs
    from aekit.formats.suffixes import suffixes

    return folder_output_pairs(
        source, output, files, lambda file: file.stem + suffix, suffixes("aek", "image")
    )


def _folder_inputs(source: Path, kind: str, what: str) -> list[Path]:
    """The files of ``kind`` (a suffix-registry kind or format) directly in ``source``; an error when none."""
    from aekit.errors import DataError
    from aekit.formats.folders import folder_files

    files = folder_files(source, kind)
    if not files:
        raise DataError(f"folder {source} holds no {what}")
    return files


def compress(
    source: Annotated[
        Path, typer.Argument(help="Image file (PNG, JPEG ...; grey or RGB, any size), or a folder of them.")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="The .aek file to write; for a folder input, the folder for the .aek files.",
        ),
    ],
    model_dir: ModelOption = None,
    codec: Annotated[
        str | None,
        typer.Option(
            help="Shipped codec, without --model: mse (the default, best PSNR) or ms_ssim (best MS-SSIM)."
        ),
    ] = None,
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

      aekit compress photos/ -o compressed/

    A folder input compresses every image directly inside it (hidden files skipped, sorted by name) to
    OUTPUT/NAME.aek, with a progress bar; existing .aek files of the same names are replaced atomically,
    the inputs are never written.
    """
    from aekit.apps.compression import compress_file
    from aekit.apps.compression.codec import check_level
    from aekit.formats.files import check_output_path, check_output_suffix

    if source.is_dir():
        pairs = _folder_pairs(source, output, _folder_inputs(source, "image", "images"), ".aek")
        model = _codec(model_dir, codec)
        check_level(model, level)
        output.mkdir(parents=True, exist_ok=True)
        reports = []
        for file, target in progress_iter(pairs, len(pairs), "compressing", unit="files"):
            with naming(file):
                reports.append(compress_file(model, file, target, level=level, max_pixels=max_pixels))
            _say(reports[-1], "compressed")
        total_bytes = sum(report.n_bytes for report in reports)
        bpp = 8 * total_bytes / sum(report.height * report.width for report in reports)
        message(
            f"compressed {len(pairs)} images into {output}: {total_bytes} bytes, "
            f"{bpp:.3f} bits per pixel overall"
        )
        _report_folder(reports, {"bytes": total_bytes, "bpp": bpp})
        return
    check_output_suffix(output, (".aek",), "compressed images")
    check_output_path(output, [source])
    model = _codec(model_dir, codec)
    check_level(model, level)
    with naming(source):
        report = compress_file(model, source, output, level=level, max_pixels=max_pixels)
    _say(report, "compressed")
    data_out(_payload(report), str(report.destination))


def decompress(
    source: Annotated[Path, typer.Argument(help="An .aek file made by aekit compress, or a folder of them.")],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Image file to write (.png, .bmp, .tif ...); for a folder input, the folder for the PNGs.",
        ),
    ],
    model_dir: ModelOption = None,
    max_pixels: MaxPixelsOption = None,
) -> None:
    """Decode an .aek file into an image with the codec that made it (its weights fingerprint is checked).

    Examples:

      aekit decompress photo.aek -o photo.png

      aekit decompress compressed/ -o photos/

    A folder input decodes every .aek file directly inside it (hidden files skipped, sorted by name) to
    OUTPUT/NAME.png, with a progress bar; the inputs are never written.
    """
    from aekit.apps.compression import ShippedCodecs, decompress_file

    # Without --model: the shipped codec that made each file, each loaded once for a whole folder.
    model = ShippedCodecs() if model_dir is None else _codec(model_dir)
    if source.is_dir():
        pairs = _folder_pairs(source, output, _folder_inputs(source, "aek", ".aek files"), ".png")
        output.mkdir(parents=True, exist_ok=True)
        reports = []
        for file, target in progress_iter(pairs, len(pairs), "decompressing", unit="files"):
            with naming(file):
                reports.append(decompress_file(model, file, target, max_pixels=max_pixels))
            _say(reports[-1], "decompressed")
        message(f"decompressed {len(pairs)} file{'s' * (len(pairs) != 1)} into {output}")
        _report_folder(reports, {})
        return
    with naming(source):
        report = decompress_file(model, source, output, max_pixels=max_pixels)
    _say(report, "decompressed")
    data_out(_payload(report), str(report.destination))


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(compress))
    app.command()(guarded(decompress))
