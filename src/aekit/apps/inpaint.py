"""Inpainting: fill the missing pixels of an image and keep every known pixel exactly as it was.

Two methods, so they can be compared:

* ``mask_aware``: a model trained with hole masks as an extra input channel
  (:class:`~aekit.models.inpainting.InpaintingAutoencoder`) sees the holes and fills them;
* ``reconstruct`` (the lecture material's method): holes are first set to the known pixels' mean
  (or 0), the damaged image goes through an autoencoder trained on clean images, its output replaces
  the holes, and this repeats ``iterations`` times, each pass starting from the previous fill.

Either way only the holes change: ``out = m · model output + (1 − m) · image``. Images of any size
are processed tile by tile (:mod:`aekit.apps.tiling`), and only tiles touching a hole are computed.
Fully convolutional inpainters (:class:`~aekit.models.photo_inpainter.AnySizeInpainter`, such as the
shipped photo inpainter, :func:`default_inpainter`) see the whole image, or tiles of
:data:`LARGE_TILE` pixels, so holes larger than the training patches get no tile borders inside them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from aekit.apps.inference import model_device
from aekit.apps.restoration import (
    FileResult,
    RestorationResult,
    as_image,
    model_image_shape,
    read_input,
    tile_function,
)
from aekit.apps.tiling import Window, tile_apply
from aekit.config import check_choice
from aekit.errors import ConfigError, DataError, ModelFileError, ShapeError
from aekit.formats.images import read_mask, write_image
from aekit.models.files import ModelBundle, load
from aekit.models.photo_inpainter import AnySizeInpainter

__all__ = [
    "INPAINT_METHODS",
    "SHIPPED_INPAINTER",
    "InpaintMethod",
    "default_inpainter",
    "inpaint",
    "inpaint_file",
    "rectangle_mask",
]

InpaintMethod = Literal["auto", "mask_aware", "reconstruct"]
INPAINT_METHODS: tuple[str, ...] = ("auto", "mask_aware", "reconstruct")
InitialFill = Literal["mean", "zero"]

SHIPPED_INPAINTER = Path(__file__).resolve().parents[1] / "assets" / "photo_inpainter"
"""The model folder of the shipped colour photo inpainter."""

LARGE_TILE = 1024
"""Side of the tiles an any-size inpainter sees (bounds memory on very large images)."""
LARGE_TILE_OVERLAP = 128


def default_inpainter() -> ModelBundle:
    """The shipped photo inpainter, loaded from the package.

    Raises:
        ModelFileError: The package was installed without its model files.
    """
    if not (SHIPPED_INPAINTER / "config.json").is_file():
        raise ModelFileError(
            f"the shipped photo inpainter is missing from {SHIPPED_INPAINTER}; "
            "reinstall aekit or pass --model"
        )
    return load(SHIPPED_INPAINTER)


def rectangle_mask(size: tuple[int, int], x: int, y: int, width: int, height: int) -> Tensor:
    """Boolean ``(H, W)`` mask, True inside the rectangle with top-left corner ``(x, y)`` (column, row).

    Raises:
        ShapeError: The rectangle is empty or does not lie inside the image.
    """
    image_h, image_w = size
    if width < 1 or height < 1:
        raise ShapeError(f"the rectangle must be at least 1x1; got {width}x{height}")
    if x < 0 or y < 0 or x + width > image_w or y + height > image_h:
        raise ShapeError(
            f"the rectangle x={x}, y={y}, width={width}, height={height} does not fit the "
            f"{image_w}x{image_h} (WxH) image"
        )
    mask = torch.zeros(image_h, image_w, dtype=torch.bool)
    mask[y : y + height, x : x + width] = True
    return mask


def _as_mask(mask: Tensor | np.ndarray, size: tuple[int, int]) -> Tensor:
    tensor = torch.as_tensor(mask)
    if tensor.dim() == 3 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tuple(tensor.shape) != tuple(size):
        raise ShapeError(
            f"the mask must have the image's size (H, W) = {tuple(size)}; got shape {tuple(tensor.shape)}"
        )
    if tensor.dtype == torch.bool:
        return tensor
    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
        raise DataError("the mask holds NaN or infinite values; give True/1 for the pixels to fill")
    return tensor >= 0.5  # as mask files are read: at least half the maximum marks a hole


def inpaint(
    bundle: ModelBundle | None,
    image: Tensor | np.ndarray,
    mask: Tensor | np.ndarray,
    *,
    method: InpaintMethod = "auto",
    iterations: int = 1,
    initial_fill: InitialFill = "mean",
    overlap: int | tuple[int, int] | None = None,
    window: Window = "hann",
    batch_size: int = 64,
) -> RestorationResult:
    """Fill the pixels of ``image`` where ``mask`` is True.

    Args:
        bundle: A loaded model folder (:func:`aekit.load`) of an image model; None: the shipped photo
            inpainter (:func:`default_inpainter`).
        image: ``(C, H, W)`` or ``(H, W)`` in the unit range [0, 1]; values under the mask are ignored
            but must be finite.
        mask: Boolean (or 0/1, or 0/255) ``(H, W)``: True = missing; a number marks a hole from 0.5 on,
            as :func:`~aekit.formats.images.read_mask` reads mask files.
        method: ``mask_aware`` (a model that takes the mask), ``reconstruct`` (any autoencoder), or
            ``auto``: ``mask_aware`` when the model takes a mask, else ``reconstruct``.
        iterations: Passes of the ``reconstruct`` method (``mask_aware`` makes one).
        initial_fill: What holes hold before the first ``reconstruct`` pass: the known pixels' ``mean``
            per channel, or ``zero``.
        overlap, window, batch_size: Tiling, as in :func:`aekit.apps.tiling.tile_apply`.

    Returns:
        The filled image (known pixels bit-identical to ``image``), the mask and the tile count.

    Raises:
        ShapeError: Not an image model, channel count or mask size differ from the image's.
        ConfigError: ``mask_aware`` with a model that takes no mask, or a bad option.
        DataError: Every pixel is missing, or the image has NaN/infinite values.
    """
    bundle = bundle if bundle is not None else default_inpainter()
    channels, tile_h, tile_w = model_image_shape(bundle)
    check_choice("method", method, INPAINT_METHODS)
    check_choice("initial_fill", initial_fill, ("mean", "zero"))
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ConfigError(f"iterations must be a positive int; got {iterations!r}")
    takes_mask = bundle.model.takes_mask
    resolved = ("mask_aware" if takes_mask else "reconstruct") if method == "auto" else method
    if resolved == "mask_aware" and not takes_mask:
        raise ConfigError(
            f"method='mask_aware' needs a model trained with hole masks (e.g. 'inpainting'); this "
            f"{type(bundle.model).__name__} takes no mask, so use method='reconstruct'"
        )
    model = bundle.model
    if isinstance(model, AnySizeInpainter) and resolved == "mask_aware":
        return _inpaint_any_size(bundle, model, image, mask, overlap, window)
    x = as_image(image, channels)
    holes = _as_mask(mask, tuple(x.shape[1:]))  # type: ignore[arg-type]
    if holes.all():
        raise DataError("every pixel is missing; inpainting needs some known pixels")
    if not holes.any():
        return RestorationResult(x.clone(), holes, 0, resolved)
    known = x[:, ~holes]
    fill = known.mean(dim=1) if initial_fill == "mean" else torch.zeros(channels)
    current = torch.where(holes, fill.reshape(-1, 1, 1), x)
    options = {"overlap": overlap, "window": window, "batch_size": batch_size, "only": holes}
    n_tiles = 0
    if resolved == "mask_aware":
        stacked = torch.cat([current, holes[None].float()])
        tiled = tile_apply(stacked, tile_function(bundle, channels), (tile_h, tile_w), **options)  # type: ignore[arg-type]
        current = torch.where(holes, tiled.image, x)
        n_tiles = tiled.n_tiles
    else:
        for _ in range(iterations):
            tiled = tile_apply(current, tile_function(bundle), (tile_h, tile_w), **options)  # type: ignore[arg-type]
            current = torch.where(holes, tiled.image, x)
            n_tiles += tiled.n_tiles
    return RestorationResult(current, holes, n_tiles, resolved)


def _inpaint_any_size(
    bundle: ModelBundle,
    model: AnySizeInpainter,
    image: Tensor | np.ndarray,
    mask: Tensor | np.ndarray,
    overlap: int | tuple[int, int] | None,
    window: Window,
) -> RestorationResult:
    """Fill with a fully convolutional inpainter on tiles of up to :data:`LARGE_TILE` pixels.

    A one-channel model fills colour images channel by channel; a colour model fills a grey image
    repeated in its channels, and the channels' mean is kept.
    """
    model_channels = model_image_shape(bundle)[0]
    tensor = torch.as_tensor(image)
    image_channels = 1 if tensor.dim() == 2 else int(tensor.shape[0])
    per_channel = model_channels == 1 or image_channels in (1, model_channels)
    x = as_image(image, image_channels if per_channel else model_channels)
    holes = _as_mask(mask, (int(x.shape[1]), int(x.shape[2])))
    if holes.all():
        raise DataError("every pixel is missing; inpainting needs some known pixels")
    if not holes.any():
        return RestorationResult(x.clone(), holes, 0, "mask_aware")
    planes = x.expand(model_channels, -1, -1) if x.shape[0] < model_channels else x
    bundle.model.eval()
    device = model_device(bundle.model)

    def run(tiles: Tensor) -> Tensor:  # (B, P + 1, h, w): P planes, then the mask → the same
        b, planes_and_mask, h, w = tiles.shape
        per_tile = (planes_and_mask - 1) // model_channels
        hole_tiles = tiles[:, -1:].to(device)
        images = tiles[:, :-1].to(device).reshape(b * per_tile, model_channels, h, w)
        filled = model.fill(images, hole_tiles.repeat_interleave(per_tile, dim=0))
        return torch.cat([filled.reshape(b, -1, h, w), hole_tiles], dim=1).to(tiles.device)

    height, width = planes.shape[1:]
    tile = (min(height, LARGE_TILE), min(width, LARGE_TILE))
    default_overlap = (min(LARGE_TILE_OVERLAP, tile[0] // 2), min(LARGE_TILE_OVERLAP, tile[1] // 2))
    stacked = torch.cat([planes, holes[None].float()])
    tiled = tile_apply(
        stacked,
        run,
        tile,
        overlap=overlap if overlap is not None else default_overlap,
        window=window,
        batch_size=1,
        only=holes,
    )
    filled = tiled.image[:-1]
    if filled.shape[0] != x.shape[0]:
        filled = filled.mean(dim=0, keepdim=True)
    return RestorationResult(torch.where(holes, filled, x), holes, tiled.n_tiles, "mask_aware")


def _nothing_to_fill(input_path: str | os.PathLike[str], mask: object) -> str:
    """Why ``input_path`` has no pixel to fill: no mask given, or a mask that marks none."""
    if mask is None:
        return f"nothing to fill in {input_path}: give a mask or a rectangle (or NaN values in a .npy array)"
    if isinstance(mask, str | os.PathLike):
        return (
            f"mask {mask} marks no pixel to fill in {input_path}: white pixels (at least half the maximum "
            "value) mark the missing ones, and it has none"
        )
    return (
        f"the mask marks no pixel to fill in {input_path}: True (or 1) marks a missing pixel, and it has none"
    )


def inpaint_file(
    bundle: ModelBundle | None,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    mask: str | os.PathLike[str] | Tensor | np.ndarray | None = None,
    rectangle: tuple[int, int, int, int] | None = None,
    method: InpaintMethod = "auto",
    iterations: int = 1,
    initial_fill: InitialFill = "mean",
    overlap: int | tuple[int, int] | None = None,
    window: Window = "hann",
    batch_size: int = 64,
) -> FileResult:
    """Inpaint an image or ``.npy`` array file and write the result atomically.

    The pixels to fill are the union of ``mask`` (a mask image, white = missing, or a boolean array),
    ``rectangle`` ``(x, y, width, height)`` and, for float arrays, the NaN values. Known pixels are
    written back bit for bit; PNG keeps its bit depth, ``.npy`` its dtype and value range.

    Raises:
        DataError: An unreadable file, one above the pixel limit (:func:`~aekit.apps.restoration.
            read_input`), or nothing to fill (no mask, rectangle or NaN, or a mask that marks no pixel).
        ShapeError: An array not ``(H, W)`` or ``(C, H, W)`` with at most 4 channels, the mask's size differs
            from the image's, the rectangle does not fit, or the channel count differs from the model's.
    """
    source = read_input(input_path)
    holes = torch.from_numpy(source.missing.copy())
    if mask is not None:
        if isinstance(mask, str | os.PathLike):
            given = torch.from_numpy(read_mask(mask, source.size))
        else:
            given = _as_mask(mask, source.size)
        holes |= given
    if rectangle is not None:
        holes |= rectangle_mask(source.size, *rectangle)
    if not holes.any():
        raise DataError(_nothing_to_fill(input_path, mask))
    result = inpaint(
        bundle,
        torch.from_numpy(source.to_unit()),
        holes,
        method=method,
        iterations=iterations,
        initial_fill=initial_fill,
        overlap=overlap,
        window=window,
        batch_size=batch_size,
    )
    filled, n_clipped = source.from_unit(result.image.numpy())
    raw = np.where(holes.numpy()[None], filled, source.raw)
    output = write_image(output_path, source.with_raw(raw))
    n_filled = int(holes.sum())
    return FileResult(
        Path(input_path),
        output,
        source.size,
        source.channels,
        result.n_tiles,
        n_filled,
        n_clipped,
        result.method,
    )
