"""``aekit denoise`` and ``aekit inpaint``: restore image files (PNG 8/16-bit, grey or colour) or ``.npy``
arrays with a saved model, one file or a whole folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from aekit.cli._console import data_out, guarded, message, naming, progress_iter
from aekit.cli.options import check_positive_option

__all__ = ["register"]

ModelOption = Annotated[Path, typer.Option("--model", help="Model folder (config.json + model.safetensors).")]
InputArgument = Annotated[
    Path, typer.Argument(help="Image (.png/.jpg/.tif/.bmp/.webp), .npy array, or a folder of them.")
]
OutputOption = Annotated[
    Path,
    typer.Option("--output", "-o", help="Output file (.png or .npy), or a folder when the input is one."),
]
OverlapOption = Annotated[
    int | None, typer.Option(help="Pixels shared by neighbouring tiles (default: half a tile).")
]
WindowOption = Annotated[str, typer.Option(help="Tile blending ramp: hann, triangular or flat.")]
BatchOption = Annotated[int, typer.Option(help="Tiles per model call.")]


def _parse_rectangle(text: str) -> tuple[int, int, int, int]:
    from aekit.errors import ConfigError

    parts = text.split(",")
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise ConfigError(f"--rect must be four integers x,y,width,height (e.g. 10,20,30,15); got {text!r}")
    return values


def _report(results: list[Any], verb: str) -> None:
    for result in results:
        for warning in result.warnings:
            message(f"warning: {result.input}: {warning}")
        if result.n_clipped:
            message(
                f"warning: {result.n_clipped} values of {result.output} were clipped to the output's range"
            )
    payload = {
        "n_files": len(results),
        "files": [
            {
                "input": str(r.input),
                "output": str(r.output),
                "size": list(r.size),
                "channels": r.channels,
                "n_tiles": r.n_tiles,
                "n_filled": r.n_filled,
                "n_clipped": r.n_clipped,
                "method": r.method,
                "sigma": None if r.sigma is None else r.sigma * 255,
                "warnings": list(r.warnings),
            }
            for r in results
        ],
    }
    message(f"{verb} {len(results)} file{'s' if len(results) != 1 else ''}")
    data_out(payload, "\n".join(str(r.output) for r in results))


def denoise(
    source: InputArgument,
    output: OutputOption,
    model_dir: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Model folder (config.json + model.safetensors); default: the shipped photo denoiser.",
        ),
    ] = None,
    chroma_dir: Annotated[
        Path | None,
        typer.Option(
            "--chroma-model",
            help="Luminance-guided chrominance denoiser for colour images with a grey --model (trained "
            "with benchmarks/train_photo_denoiser.py --chroma); default: the shipped one without --model, "
            "none with it (the grey model then cleans the colour planes alike).",
        ),
    ] = None,
    sigma: Annotated[
        float | None,
        typer.Option(help="Noise standard deviation on the 0..255 scale (e.g. 25); estimated when omitted."),
    ] = None,
    overlap: OverlapOption = None,
    window: WindowOption = "hann",
    batch_size: BatchOption = 64,
) -> None:
    """Clean noisy images: photographs (grey or colour, any size) with the shipped denoiser, or any
    image with a model trained with that kind of corruption (tiled).

    Examples:

      aekit denoise photo.png -o clean.png

      aekit denoise photo.png --sigma 25 -o clean.png

      aekit denoise noisy.png --model runs/denoiser/model -o clean.png

      aekit denoise scans/ --model runs/denoiser/model -o cleaned/
    """
    from aekit.apps.denoise import default_chroma_denoiser, default_denoiser, denoise_file
    from aekit.apps.restoration import restoration_pairs
    from aekit.errors import ConfigError
    from aekit.models.files import load

    if sigma is not None and not 0 <= sigma < float("inf"):
        raise ConfigError(f"--sigma must be a number ≥ 0 on the 0..255 scale; got {sigma}")
    check_positive_option("batch_size", batch_size)
    pairs = restoration_pairs(source, output)
    bundle = load(model_dir) if model_dir is not None else default_denoiser()
    chroma = load(chroma_dir) if chroma_dir is not None else None
    if chroma is None and model_dir is None:
        chroma = default_chroma_denoiser()
    results = []
    for file, target in progress_iter(pairs, len(pairs), "denoising", unit="files"):
        with naming(file):
            result = denoise_file(
                bundle,
                file,
                target,
                sigma=None if sigma is None else sigma / 255,
                overlap=overlap,
                window=window,  # type: ignore[arg-type]
                batch_size=batch_size,
                chroma=chroma,
            )
        how = "given" if sigma is not None else "estimated"
        if result.sigma is not None:
            message(f"{file}: noise σ = {result.sigma * 255:.1f}/255 ({how})")
        results.append(result)
    _report(results, "denoised")


def _mask_for(mask: Path | None, file: Path) -> Path | None:
    """The mask file of ``file``: ``mask`` itself, or ``mask/<file's stem>.png`` when ``mask`` is a folder."""
    from aekit.errors import DataError

    if mask is None or not mask.is_dir():
        return mask
    candidate = mask / f"{file.stem}.png"
    if not candidate.is_file():
        raise DataError(f"mask folder {mask} has no {candidate.name} for {file}")
    return candidate


def inpaint(
    source: InputArgument,
    output: OutputOption,
    model_dir: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Model folder (config.json + model.safetensors); default: the shipped photo inpainter.",
        ),
    ] = None,
    mask: Annotated[
        Path | None,
        typer.Option(help="Mask image (white = missing), or a folder of masks named like the inputs."),
    ] = None,
    rect: Annotated[
        str | None, typer.Option(help="Rectangle to fill: x,y,width,height in pixels (x = column).")
    ] = None,
    method: Annotated[
        str,
        typer.Option(help="auto, mask_aware (a model trained with masks) or reconstruct (any autoencoder)."),
    ] = "auto",
    iterations: Annotated[int, typer.Option(help="Passes of the reconstruct method.")] = 1,
    initial_fill: Annotated[
        str, typer.Option(help="What holes hold before the first reconstruct pass: mean or zero.")
    ] = "mean",
    overlap: OverlapOption = None,
    window: WindowOption = "hann",
    batch_size: BatchOption = 64,
) -> None:
    """Fill missing pixels (mask, rectangle, or NaN in a .npy array); known pixels stay exactly as they were.

    Without --model the shipped colour photo inpainter fills photographs of any size in one pass.

    Examples:

      aekit inpaint photo.png --rect 300,200,80,60 -o filled.png

      aekit inpaint photo.png --model runs/inpainter/model --mask holes.png -o filled.png

      aekit inpaint photo.png --model runs/inpainter/model --rect 40,30,24,16 -o filled.png

      aekit inpaint elevation.npy --model runs/inpainter/model -o elevation_filled.npy
    """
    from aekit.apps.inpaint import default_inpainter, inpaint_file
    from aekit.apps.restoration import restoration_pairs
    from aekit.models.files import load

    rectangle = _parse_rectangle(rect) if rect is not None else None
    check_positive_option("batch_size", batch_size)
    pairs = restoration_pairs(source, output)
    bundle = load(model_dir) if model_dir is not None else default_inpainter()
    masks = [_mask_for(mask, file) for file, _ in pairs]  # every mask found before any file is written
    results = []
    for (file, target), file_mask in progress_iter(
        zip(pairs, masks, strict=True), len(pairs), "inpainting", unit="files"
    ):
        with naming(file):
            results.append(
                inpaint_file(
                    bundle,
                    file,
                    target,
                    mask=file_mask,
                    rectangle=rectangle,
                    method=method,  # type: ignore[arg-type]
                    iterations=iterations,
                    initial_fill=initial_fill,  # type: ignore[arg-type]
                    overlap=overlap,
                    window=window,  # type: ignore[arg-type]
                    batch_size=batch_size,
                )
            )
    _report(results, "inpainted")


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(denoise))
    app.command()(guarded(inpaint))
