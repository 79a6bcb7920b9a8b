"""Denoising: a model trained with an input corruption cleans images with that kind of damage.

Any aekit image model works (typically ``create("conv", corruption="gaussian", ...)``, trained on
clean patches). Images of any size are cleaned tile by tile with smooth blending
(:mod:`aekit.apps.tiling`), so a model trained on 28×28 patches cleans a large photo without seams.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from aekit.apps.restoration import FileResult, RestorationResult, as_image, model_image_shape, tile_function
from aekit.apps.tiling import Window, tile_apply
from aekit.imageio import read_image, write_image
from aekit.io import ModelBundle

__all__ = ["denoise", "denoise_file"]


def denoise(
    bundle: ModelBundle,
    image: Tensor | np.ndarray,
    *,
    overlap: int | tuple[int, int] | None = None,
    window: Window = "hann",
    batch_size: int = 64,
) -> RestorationResult:
    """Clean ``image`` with the model of ``bundle``.

    Args:
        bundle: A loaded model folder (:func:`aekit.io.load`) of an image model.
        image: ``(C, H, W)`` or ``(H, W)`` in the unit range [0, 1], any size; ``C`` must be the model's.
        overlap: Pixels shared by neighbouring tiles (default: half a tile).
        window: Blending ramp of the tiles (``hann``, ``triangular``, ``flat``).
        batch_size: Tiles per model call.

    Returns:
        The cleaned image ``(C, H, W)`` and the number of tiles used.

    Raises:
        ShapeError: Not an image model, or the image's channel count differs from the model's.
        DataError: The image has NaN or infinite values.
    """
    channels, tile_h, tile_w = model_image_shape(bundle)
    x = as_image(image, channels)
    tiled = tile_apply(
        x, tile_function(bundle), (tile_h, tile_w), overlap=overlap, window=window, batch_size=batch_size
    )
    return RestorationResult(tiled.image, None, tiled.n_tiles, "denoise")


def denoise_file(
    bundle: ModelBundle,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    overlap: int | tuple[int, int] | None = None,
    window: Window = "hann",
    batch_size: int = 64,
) -> FileResult:
    """Denoise an image or ``.npy`` array file and write the result atomically.

    PNG keeps its bit depth (8 or 16), ``.npy`` its dtype and value range. Missing values (NaN) of an
    array stay missing: the model sees them as the array's mean, and they are NaN again in the output
    (fill them with :func:`aekit.apps.inpaint.inpaint_file`).

    Raises:
        DataError: The file cannot be read, or the output cannot be written in its format.
        ShapeError: The image's channel count differs from the model's.
    """
    source = read_image(input_path)
    unit = torch.from_numpy(source.to_unit())
    missing = torch.from_numpy(source.missing)
    if missing.any():
        unit = torch.where(missing, unit[:, ~missing].mean(dim=1, keepdim=True).unsqueeze(-1), unit)
    result = denoise(bundle, unit, overlap=overlap, window=window, batch_size=batch_size)
    raw, n_clipped = source.from_unit(result.image.numpy())
    if missing.any():
        raw = np.where(source.missing[None], source.raw, raw)
    output = write_image(output_path, source.with_raw(raw))
    return FileResult(
        Path(input_path), output, source.size, source.channels, result.n_tiles, 0, n_clipped, "denoise"
    )
