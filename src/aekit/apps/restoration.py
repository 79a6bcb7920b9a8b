"""Shared pieces of the restoration apps (:mod:`~aekit.apps.denoise`, :mod:`~aekit.apps.inpaint`).

Restoration works on images in the unit range [0, 1] (see :mod:`aekit.formats.images`), which is what an
image model trained by aekit sees: its normaliser maps the training images' fixed range (0..255,
0..65535) onto [0, 1]. Models normalised per feature (standardised tables) are refused.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from aekit.apps.inference import error_map, model_device
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.formats.arrays import read_npy_header
from aekit.formats.files import folder_output_pairs
from aekit.formats.folders import folder_files
from aekit.formats.images import READABLE_SUFFIXES, WRITABLE_SUFFIXES, RasterImage, read_image
from aekit.formats.suffixes import format_of
from aekit.models.base import AbstractAutoencoder
from aekit.models.files import ModelBundle

__all__ = [
    "FileResult",
    "RestorationResult",
    "as_image",
    "familiarity_reference",
    "familiarity_warnings",
    "model_image_shape",
    "read_input",
    "restoration_pairs",
    "tile_function",
]


@dataclasses.dataclass(frozen=True)
class RestorationResult:
    """A restored image.

    Attributes:
        image: ``(C, H, W)`` float32 in the unit range (values may stray slightly outside [0, 1]).
        mask: Boolean ``(H, W)`` of the pixels that were filled (inpainting); None for denoising.
        n_tiles: Model calls' worth of tiles (summed over iterations).
        method: ``"denoise"``, ``"mask_aware"`` or ``"reconstruct"``.
        sigma: Noise level (unit scale) given or estimated for denoising; None for inpainting.
        warnings: One line per reason to distrust the result (an image unlike the training data).
    """

    image: Tensor
    mask: Tensor | None
    n_tiles: int
    method: str
    sigma: float | None = None
    warnings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class FileResult:
    """What restoring one file did.

    Attributes:
        input, output: The files read and written.
        size: ``(H, W)``.
        channels: Colour channels (1 grey, 3 colour).
        n_tiles: Tiles passed through the model.
        n_filled: Pixels filled (inpainting; 0 for denoising).
        n_clipped: Values clipped to the output's bit depth.
        method, sigma, warnings: As in :class:`RestorationResult`.
    """

    input: Path
    output: Path
    size: tuple[int, int]
    channels: int
    n_tiles: int
    n_filled: int
    n_clipped: int
    method: str
    sigma: float | None = None
    warnings: tuple[str, ...] = ()


def model_image_shape(bundle: ModelBundle) -> tuple[int, int, int]:
    """The ``(C, h, w)`` tiles the model takes.

    Raises:
        ShapeError: The model does not take images ``(C, H, W)``.
        ConfigError: Its inputs are normalised per feature, not from a fixed range onto [0, 1].
    """
    shape = tuple(bundle.model.input_shape)
    if len(shape) != 3:
        raise ShapeError(
            f"restoration needs an image model with input_shape (C, H, W); this model takes {shape}"
        )
    if bundle.normalizer.kind not in ("identity", "scale"):
        raise ConfigError(
            "restoration needs a model trained on images scaled from a fixed range to [0, 1] "
            f"(normalisation 'scale' or 'identity'); this model uses {bundle.normalizer.kind!r}"
        )
    return shape


def _describe_channels(channels: int) -> str:
    return {1: "grey", 3: "colour"}.get(channels, f"{channels}-channel")


UNIT_RANGE_SLACK = 3.0
"""How far beyond [0, 1] an image to restore may reach (strong noise spills over; 8-bit pixels do not fit)."""


def as_image(image: Tensor | np.ndarray, channels: int, name: str = "image") -> Tensor:
    """``image`` as float32 ``(C, H, W)``; ``(H, W)`` is taken as one channel.

    Raises:
        ShapeError: Not 2-D/3-D, or a channel count other than the model's ``channels`` (an
            ``(H, W, C)`` array is named as such).
        DataError: Integer pixels, values far outside the unit range (0..255 pixels), NaN or infinity.
    """
    tensor = torch.as_tensor(image)
    if not tensor.is_floating_point():
        raise DataError(
            f"{name} has integer values ({tensor.dtype}); give floats in the unit range [0, 1] "
            "(8-bit pixels / 255)"
        )
    tensor = tensor.float()
    if tensor.dim() == 2:
        tensor = tensor[None]
    if tensor.dim() != 3:
        raise ShapeError(f"{name} must have shape (C, H, W) or (H, W); got {tuple(tensor.shape)}")
    if tensor.shape[0] != channels:
        hint = (
            "; it looks like (H, W, C): pass it channels first, e.g. image.transpose(2, 0, 1)"
            if tensor.shape[-1] == channels
            else ""
        )
        raise ShapeError(
            f"the model was trained on {channels}-channel ({_describe_channels(channels)}) images; "
            f"{name} has {tensor.shape[0]} channels ({_describe_channels(tensor.shape[0])}){hint}"
        )
    if not torch.isfinite(tensor).all():
        raise DataError(f"{name} contains NaN or infinite values; inpaint them (NaN marks missing pixels)")
    low, high = float(tensor.min()), float(tensor.max())
    if low < -UNIT_RANGE_SLACK or high > 1 + UNIT_RANGE_SLACK:
        raise DataError(
            f"{name} has values from {low:.4g} to {high:.4g}; restoration takes the unit range [0, 1] "
            "(8-bit pixels / 255)"
        )
    return tensor


MAX_ARRAY_CHANNELS = 4
"""Most channels of a ``(C, H, W)`` array to restore: grey, colour, and two- or four-channel data."""


def read_input(path: str | os.PathLike[str]) -> RasterImage:
    """Read the image or ``.npy`` array to restore (:func:`aekit.formats.images.read_image`).

    An array is checked from its header before its data is read, as image files are: it must be ``(H, W)``
    or ``(C, H, W)`` with at most :data:`MAX_ARRAY_CHANNELS` channels (an ``(H, W, 3)`` array is refused,
    not read as H channels; the model checks its own channel count later), within the pixel limit
    (:func:`aekit.formats.limits.check_pixels`, ``AEKIT_MAX_PIXELS``).

    Raises:
        ShapeError: An array of another shape, such as ``(H, W, 3)``.
        DataError: The file cannot be read, or is larger than the pixel limit.
    """
    file = Path(path)
    if format_of(file) == "npy":
        shape = read_npy_header(file, check_memory=False).shape
        if len(shape) not in (2, 3) or (len(shape) == 3 and shape[0] > MAX_ARRAY_CHANNELS):
            raise ShapeError(
                f"array {file} must have shape (H, W) or (C, H, W), channels first (1 grey, 3 colour, at "
                f"most {MAX_ARRAY_CHANNELS}); got shape {shape}"
            )
    return read_image(file)  # the pixel limit checked from the header, as for image files


def tile_function(bundle: ModelBundle, image_channels: int | None = None) -> Callable[[Tensor], Tensor]:
    """Tiles ``(B, C, h, w)`` → the model's reconstruction, on the model's device.

    With ``image_channels`` the tiles carry the mask after the image channels, and it is passed to the
    model as ``condition`` (mask-aware inpainting).
    """
    model = bundle.model
    model.eval()
    device = model_device(model)

    def run(tiles: Tensor) -> Tensor:
        tiles = tiles.to(device)
        if image_channels is None:
            return model.reconstruct(tiles)
        return model.reconstruct(tiles[:, :image_channels], tiles[:, image_channels:])

    return run


REFERENCE_KEY = "familiarity"
"""Metadata key of the statistics :func:`familiarity_reference` stores with a trained image model."""
_ERROR_FACTOR = 3.0


@torch.no_grad()
def familiarity_reference(
    model: AbstractAutoencoder, x: Tensor, y: Tensor | None = None, *, seed: int = 0, batch_size: int = 256
) -> dict[str, float]:
    """What the model's own data looks like, for :func:`familiarity_warnings` (stored in its metadata).

    On held-out samples ``x`` with their labels ``y`` if any (normalised as the model sees them), both
    as they are and corrupted as in training: the 1st and 99th percentiles of the per-sample mean and
    standard deviation, and the 95th percentile of the per-sample mean squared difference between the
    model's output and its input.
    """
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    means, stds, errors = [], [], []
    for start in range(0, len(x), batch_size):
        labels = None if y is None else y[start : start + batch_size]
        clean = x[start : start + batch_size]
        corrupted, _, condition = model.prepare_batch((clean, labels), generator)
        for inputs in (clean, corrupted):
            output = model.reconstruct(inputs, condition)
            means.append(inputs.flatten(1).mean(1))
            stds.append(inputs.flatten(1).std(1))
            errors.append(error_map(output, inputs, "mse").flatten(1).mean(1))
    mean, std, error = torch.cat(means), torch.cat(stds), torch.cat(errors)
    return {
        "mean_low": float(mean.quantile(0.01)),
        "mean_high": float(mean.quantile(0.99)),
        "std_low": float(std.quantile(0.01)),
        "std_high": float(std.quantile(0.99)),
        "error_p95": float(error.quantile(0.95)),
    }


def familiarity_warnings(bundle: ModelBundle, image: Tensor, output: Tensor) -> tuple[str, ...]:
    """Reasons to distrust ``output = model(image)``: the image's statistics outside the range of the
    model's training data, or a difference between output and input far above the model's usual one.

    Uses the statistics stored at training time (:func:`familiarity_reference`); models saved without
    them get no warnings. ``image`` and ``output`` are ``(C, H, W)`` in the unit range.
    """
    reference = bundle.metadata.get(REFERENCE_KEY)
    if not isinstance(reference, dict):
        return ()
    x, y = image.flatten().float(), output.flatten().float()
    reasons = []
    mean, std = float(x.mean()), float(x.std())
    if not reference["mean_low"] <= mean <= reference["mean_high"]:
        reasons.append(
            f"its mean {mean:.3f} is outside the range of the training samples' means "
            f"[{reference['mean_low']:.3f}, {reference['mean_high']:.3f}]"
        )
    if not reference["std_low"] <= std <= reference["std_high"]:
        reasons.append(
            f"its contrast (std {std:.3f}) is outside the training samples' [{reference['std_low']:.3f}, "
            f"{reference['std_high']:.3f}]"
        )
    error = float((y - x).square().mean())
    if error > _ERROR_FACTOR * reference["error_p95"]:
        reasons.append(
            f"the model changes it {error / reference['error_p95']:.1f}× more than 95 % of its own test "
            f"images (mean squared change {error:.4f} vs {reference['error_p95']:.4f})"
        )
    if not reasons:
        return ()
    return (
        "this image is unlike the data the model was trained on ("
        + "; ".join(reasons)
        + "); the result is likely wrong. Use a model trained on similar images (the shipped photo "
        "denoiser for photographs: omit --model)",
    )


def _output_name(file: Path) -> str:
    return file.name if file.name.lower().endswith(WRITABLE_SUFFIXES) else file.stem + ".png"


def restoration_pairs(source: str | Path, target: str | Path) -> list[tuple[Path, Path]]:
    """``(input, output)`` files: one pair for a file, or every readable image of a folder mapped to the
    same name in the ``target`` folder (JPEG/TIFF/BMP inputs are written as PNG).

    Raises:
        DataError: ``source`` does not exist or holds no images; or it is a folder while ``target`` is a
            file, a file name (``out.png``) or ``source`` itself, or two of its files would be written to
            one output (``s.bmp`` and ``s.png`` → ``s.png``); nothing has been written then.
    """
    source, target = Path(source), Path(target)
    if source.is_file():
        return [(source, target)]
    if not source.is_dir():
        raise DataError(f"input {source} does not exist")
    files = folder_files(source, "image", "npy")
    if not files:
        raise DataError(f"folder {source} holds no images ({', '.join(READABLE_SUFFIXES)})")
    return folder_output_pairs(source, target, files, _output_name, READABLE_SUFFIXES)
