"""Run a fixed-size image model over an image of any size: overlapping tiles, blended by smooth weights.

A model trained on ``h × w`` patches sees the image tile by tile; tiles overlap by ``overlap`` pixels
and each tile's output is weighted by a window that rises from near 0 at its inner edges to 1, so
neighbouring tiles fade into each other instead of meeting at a visible seam::

    out(p) = Σ_t w_t(p) · f(tile_t)(p) / Σ_t w_t(p)

The ``hann`` ramp over the overlap is ``sin²(π (i + ½) / (2·overlap))``, so two ramps that cross over
exactly ``overlap`` pixels sum to 1; ``triangular`` is a linear ramp; ``flat`` averages the overlapping
tiles without tapering. Edges of a tile that touch the image border are not tapered, so every pixel
has a positive weight. Sums are taken in float64, so an identity model returns its input exactly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from aekit.config import check_choice
from aekit.errors import ConfigError, ShapeError

__all__ = ["WINDOWS", "TilingResult", "Window", "random_patches", "tile_apply", "tile_starts", "tile_weights"]

Window = Literal["hann", "triangular", "flat"]
WINDOWS: tuple[str, ...] = ("hann", "triangular", "flat")


@dataclasses.dataclass(frozen=True)
class TilingResult:
    """Output of :func:`tile_apply`.

    Attributes:
        image: The blended output ``(C_out, H, W)``, float32.
        n_tiles: Tiles passed through the model.
        covered: Boolean ``(H, W)``: pixels that some processed tile covered (all of them unless ``only``
            skipped tiles).
    """

    image: Tensor
    n_tiles: int
    covered: Tensor


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """First index of each tile along an axis of ``length``: a stride of ``tile − overlap``, the last
    tile flush with the end (so it may overlap its neighbour by more)."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return starts


def _ramp(overlap: int, window: Window) -> Tensor:
    steps = (torch.arange(overlap, dtype=torch.float64) + 0.5) / overlap
    if window == "hann":
        return torch.sin(steps * (math.pi / 2)).square()
    if window == "triangular":
        return steps
    return torch.ones(overlap, dtype=torch.float64)


def tile_weights(tile: int, overlap: int, window: Window, *, taper_start: bool, taper_end: bool) -> Tensor:
    """1-D weights ``(tile,)`` of one tile: ramps over ``overlap`` pixels at the tapered ends, else 1."""
    weights = torch.ones(tile, dtype=torch.float64)
    if overlap == 0:
        return weights
    ramp = _ramp(min(overlap, tile), window)
    if taper_start:
        weights[: len(ramp)] *= ramp
    if taper_end:
        weights[tile - len(ramp) :] *= ramp.flip(0)
    return weights


def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise ConfigError(f"{name} must be an int or a pair of ints; got {value!r}")
    return pair


def _pad_to(image: Tensor, height: int, width: int) -> Tensor:
    """Pad ``(C, H, W)`` at the bottom/right to at least ``height × width`` (mirror, else edge copies)."""
    pad_h, pad_w = max(0, height - image.shape[1]), max(0, width - image.shape[2])
    if not pad_h and not pad_w:
        return image
    mode = "reflect" if pad_h < image.shape[1] and pad_w < image.shape[2] else "replicate"
    return F.pad(image[None], (0, pad_w, 0, pad_h), mode=mode)[0]


def tile_apply(
    image: Tensor,
    function: Callable[[Tensor], Tensor],
    tile_size: int | tuple[int, int],
    *,
    overlap: int | tuple[int, int] | None = None,
    window: Window = "hann",
    batch_size: int = 64,
    only: Tensor | None = None,
) -> TilingResult:
    """Apply ``function`` to overlapping tiles of ``image`` and blend the outputs (see the module docstring).

    Args:
        image: ``(C, H, W)``. Images smaller than a tile are padded (mirrored) and the output cropped.
        function: Maps a batch of tiles ``(B, C, h, w)`` to ``(B, C_out, h, w)``; called without
            gradients.
        tile_size: ``h`` or ``(h, w)``, the size the model takes.
        overlap: Pixels shared by neighbouring tiles, per axis; default half a tile. ``0`` butts tiles
            together (seams show).
        window: Blending ramp: ``hann``, ``triangular`` or ``flat``.
        batch_size: Tiles per call of ``function``.
        only: Optional boolean ``(H, W)``: process only tiles that contain a True pixel (inpainting
            needs only tiles touching the holes). Pixels no processed tile covers are 0 in the output.

    Returns:
        The blended image, the number of tiles processed and the covered pixels.

    Raises:
        ShapeError: ``image`` is not ``(C, H, W)``, ``only`` does not match it, or ``function``
            returns another tile size.
        ConfigError: A bad tile size, overlap, window or batch size.
    """
    if not isinstance(image, Tensor) or image.dim() != 3:
        described = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise ShapeError(f"image must have shape (C, H, W); got {described}")
    check_choice("window", window, WINDOWS)
    tile_h, tile_w = _pair(tile_size, "tile_size")
    if tile_h < 1 or tile_w < 1:
        raise ConfigError(f"tile_size must be positive; got {tile_size!r}")
    overlap_h, overlap_w = _pair(overlap, "overlap") if overlap is not None else (tile_h // 2, tile_w // 2)
    if not (0 <= overlap_h < tile_h and 0 <= overlap_w < tile_w):
        raise ConfigError(
            f"overlap must be in [0, tile size) per axis; got {overlap!r} for tiles {tile_h}x{tile_w}"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive int; got {batch_size!r}")
    height, width = image.shape[1:]
    if only is not None and tuple(only.shape) != (height, width):
        raise ShapeError(f"only must have shape ({height}, {width}); got {tuple(only.shape)}")

    padded = _pad_to(image, tile_h, tile_w)
    full_h, full_w = padded.shape[1:]
    rows, cols = tile_starts(full_h, tile_h, overlap_h), tile_starts(full_w, tile_w, overlap_w)
    positions = [(top, left) for top in rows for left in cols]
    if only is not None:
        region = torch.zeros(full_h, full_w, dtype=torch.bool, device=only.device)
        region[:height, :width] = only.bool()
        positions = [(t, left) for t, left in positions if region[t : t + tile_h, left : left + tile_w].any()]
    row_weights = {
        t: tile_weights(tile_h, overlap_h, window, taper_start=t > 0, taper_end=t + tile_h < full_h)
        for t in rows
    }
    col_weights = {
        c: tile_weights(tile_w, overlap_w, window, taper_start=c > 0, taper_end=c + tile_w < full_w)
        for c in cols
    }
    total: Tensor | None = None
    weight_sum = torch.zeros(full_h, full_w, dtype=torch.float64, device=image.device)
    with torch.inference_mode():
        for first in range(0, len(positions), batch_size):
            chunk = positions[first : first + batch_size]
            tiles = torch.stack([padded[:, t : t + tile_h, c : c + tile_w] for t, c in chunk])
            outputs = function(tiles)
            if (
                outputs.dim() != 4
                or tuple(outputs.shape[2:]) != (tile_h, tile_w)
                or len(outputs) != len(chunk)
            ):
                raise ShapeError(
                    f"the model must return tiles ({len(chunk)}, C, {tile_h}, {tile_w}); "
                    f"got {tuple(outputs.shape)}"
                )
            if total is None:
                total = torch.zeros(
                    outputs.shape[1], full_h, full_w, dtype=torch.float64, device=image.device
                )
            outputs = outputs.to(device=image.device, dtype=torch.float64)
            for (t, c), output in zip(chunk, outputs, strict=True):
                weight = torch.outer(row_weights[t], col_weights[c]).to(image.device)
                total[:, t : t + tile_h, c : c + tile_w] += output * weight
                weight_sum[t : t + tile_h, c : c + tile_w] += weight
    covered = weight_sum[:height, :width] > 0
    if total is None:
        return TilingResult(torch.zeros_like(image, dtype=torch.float32), 0, covered)
    blended = torch.where(weight_sum > 0, total / weight_sum.clamp(min=1e-300), torch.zeros_like(total))
    return TilingResult(blended[:, :height, :width].float(), len(positions), covered)


def random_patches(
    images: Tensor | Sequence[Tensor],
    patch_size: int | tuple[int, int],
    n_patches: int,
    generator: torch.Generator,
) -> Tensor:
    """Crop ``n_patches`` patches at uniform random images and positions: training data for a model that
    will be tiled over large images (a model trained on centred objects sees them off-centre in tiles).

    Args:
        images: ``(N, C, H, W)``, or a sequence of ``(C, H, W)`` images of different sizes (photographs),
            every image at least the patch size.
        patch_size: ``h`` or ``(h, w)``.
        n_patches: How many patches.
        generator: Source of the images and positions.

    Returns:
        ``(n_patches, C, h, w)``.

    Raises:
        ShapeError: ``images`` is not ``(N, C, H, W)`` (or ``(C, H, W)`` images with one channel count)
            or smaller than a patch.
        ConfigError: A bad patch size or count.
    """
    if isinstance(images, list | tuple):
        return _patches_of_images_of_any_size(list(images), patch_size, n_patches, generator)
    if not isinstance(images, Tensor) or images.dim() != 4 or len(images) == 0:
        described = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ShapeError(f"images must have shape (N, C, H, W) with N ≥ 1; got {described}")
    patch_h, patch_w = _pair(patch_size, "patch_size")
    height, width = images.shape[2:]
    if not (1 <= patch_h <= height and 1 <= patch_w <= width):
        raise ShapeError(f"patches of {patch_h}x{patch_w} do not fit images of {height}x{width}")
    if isinstance(n_patches, bool) or not isinstance(n_patches, int) or n_patches < 1:
        raise ConfigError(f"n_patches must be a positive int; got {n_patches!r}")
    device = generator.device
    which = torch.randint(len(images), (n_patches,), generator=generator, device=device).cpu()
    tops = torch.randint(height - patch_h + 1, (n_patches,), generator=generator, device=device).cpu()
    lefts = torch.randint(width - patch_w + 1, (n_patches,), generator=generator, device=device).cpu()
    rows = tops[:, None] + torch.arange(patch_h)  # (n, h)
    cols = lefts[:, None] + torch.arange(patch_w)  # (n, w)
    picked = images[which.to(images.device)]  # (n, C, H, W)
    index_rows = rows.to(images.device)[:, None, :, None].expand(-1, images.shape[1], -1, width)
    picked = picked.gather(2, index_rows)
    index_cols = cols.to(images.device)[:, None, None, :].expand(-1, images.shape[1], patch_h, -1)
    return picked.gather(3, index_cols)


def _patches_of_images_of_any_size(
    images: list[Tensor], patch_size: int | tuple[int, int], n_patches: int, generator: torch.Generator
) -> Tensor:
    """:func:`random_patches` for ``(C, H, W)`` images of different sizes: a uniform image, then a uniform
    position inside it."""
    if not images or any(not isinstance(image, Tensor) or image.dim() != 3 for image in images):
        raise ShapeError("images must be a non-empty sequence of (C, H, W) tensors")
    channels = images[0].shape[0]
    if any(image.shape[0] != channels for image in images):
        raise ShapeError(
            f"images must all have {channels} channels; got {sorted({i.shape[0] for i in images})}"
        )
    patch_h, patch_w = _pair(patch_size, "patch_size")
    for index, image in enumerate(images):
        if not (1 <= patch_h <= image.shape[1] and 1 <= patch_w <= image.shape[2]):
            raise ShapeError(
                f"patches of {patch_h}x{patch_w} do not fit image {index} of "
                f"{image.shape[1]}x{image.shape[2]}"
            )
    if isinstance(n_patches, bool) or not isinstance(n_patches, int) or n_patches < 1:
        raise ConfigError(f"n_patches must be a positive int; got {n_patches!r}")
    which = torch.randint(len(images), (n_patches,), generator=generator, device=generator.device).cpu()
    draws = torch.rand((n_patches, 2), generator=generator, device=generator.device).cpu()
    patches = []
    for index, (top_draw, left_draw) in zip(which.tolist(), draws.tolist(), strict=True):
        image = images[index]
        top = min(int(top_draw * (image.shape[1] - patch_h + 1)), image.shape[1] - patch_h)
        left = min(int(left_draw * (image.shape[2] - patch_w + 1)), image.shape[2] - patch_w)
        patches.append(image[:, top : top + patch_h, left : left + patch_w])
    return torch.stack(patches)
