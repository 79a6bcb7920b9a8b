"""Denoising: a model trained with an input corruption cleans images with that kind of damage.

Two kinds of model:

* The shipped photo denoiser (and any :class:`~aekit.models.photo_denoiser.AnySizeDenoiser`): a blind,
  fully convolutional network for photographs, used when no model is given. It runs on whole images (in
  large overlapping tiles for very large ones). A grey model cleans colour images in a decorrelated
  luminance/chrominance space (as colour BM3D does). Noise above the model's
  training range is brought into it by reducing the contrast first and restoring it after.
* Any aekit image model trained on fixed-size patches (typically ``create("conv", corruption=
  "gaussian", ...)``): images of any size are cleaned tile by tile with smooth blending
  (:mod:`aekit.apps.tiling`), and images unlike the model's training data get a warning
  (:func:`aekit.apps.restoration.familiarity_warnings`).

Colour photographs with the shipped denoiser: the grey model cleans the luminance plane, and a second,
luminance-guided model (``guide_channels=1``) cleans each colour-difference plane with the noisy
luminance beside it, which says where edges are (colour BM3D groups its chrominance by the luminance for
the same reason). A grey model given alone cleans the three planes independently.

The noise level is estimated from the image when not given (:func:`estimate_noise_sigma`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from aekit.apps.inference import model_device
from aekit.apps.restoration import (
    FileResult,
    RestorationResult,
    as_image,
    familiarity_warnings,
    model_image_shape,
    read_input,
    tile_function,
)
from aekit.apps.tiling import Window, tile_apply
from aekit.errors import ConfigError, DataError, ModelFileError, ShapeError
from aekit.formats.images import write_image
from aekit.models.files import ModelBundle, load
from aekit.models.photo_denoiser import AnySizeDenoiser

__all__ = [
    "SHIPPED_CHROMA_DENOISER",
    "SHIPPED_DENOISER",
    "chroma_guide",
    "default_chroma_denoiser",
    "default_denoiser",
    "denoise",
    "denoise_file",
    "estimate_noise_sigma",
    "opponent_planes",
    "rgb_from_opponent",
]

SHIPPED_DENOISER = Path(__file__).resolve().parents[1] / "assets" / "photo_denoiser"
"""The model folder of the shipped blind grey photo denoiser (σ from 0 to 55 on the 0..255 scale)."""
SHIPPED_CHROMA_DENOISER = Path(__file__).resolve().parents[1] / "assets" / "photo_chroma_denoiser"
"""The model folder of the shipped luminance-guided chrominance denoiser (colour photographs)."""

LARGE_TILE = 1024
"""Side of the tiles an any-size denoiser sees (bounds memory on very large images)."""
LARGE_TILE_OVERLAP = 64

# Decorrelated colour planes, each scaled into [0, 1]: mean of R, G, B; (R − B)/2 + ½; (R − 2G + B)/4 + ½.
# The rows are orthogonal, so i.i.d. noise of level σ in R, G, B gives independent noise in the planes,
# of levels σ·‖row‖.
_OPPONENT = torch.tensor([[1 / 3, 1 / 3, 1 / 3], [0.5, 0.0, -0.5], [0.25, -0.5, 0.25]])
_OPPONENT_OFFSET = torch.tensor([0.0, 0.5, 0.5])
_NOISE_SCALES = _OPPONENT.norm(dim=1)  # noise level of each plane per unit of i.i.d. RGB noise


def opponent_planes(rgb: Tensor) -> Tensor:
    """Luminance and two colour-difference planes ``(3, H, W)``, each in [0, 1], of an RGB image
    ``(3, H, W)``: mean of R, G, B; (R − B)/2 + ½; (R − 2G + B)/4 + ½."""
    return torch.einsum("pc,chw->phw", _OPPONENT.to(rgb.dtype), rgb) + _OPPONENT_OFFSET.to(rgb).view(3, 1, 1)


def rgb_from_opponent(planes: Tensor) -> Tensor:
    """The RGB image ``(3, H, W)`` of :func:`opponent_planes`."""
    inverse = torch.linalg.inv(_OPPONENT.double()).to(planes.dtype)
    return torch.einsum("cp,phw->chw", inverse, planes - _OPPONENT_OFFSET.to(planes).view(3, 1, 1))


def chroma_guide(luminance: Tensor, plane: int) -> Tensor:
    """The luminance plane as a guide for colour-difference plane ``plane`` (1 or 2): scaled so that
    its noise has that plane's level (the level a guided denoiser's training gives its guide)."""
    return luminance * float(_NOISE_SCALES[plane] / _NOISE_SCALES[0])


def _shipped(folder: Path, what: str) -> ModelBundle:
    if not (folder / "config.json").is_file():
        raise ModelFileError(f"the shipped {what} is missing from {folder}; reinstall aekit or pass --model")
    return load(folder)


def default_denoiser() -> ModelBundle:
    """The shipped photo denoiser, loaded from the package.

    Raises:
        ModelFileError: The package was installed without its model files.
    """
    return _shipped(SHIPPED_DENOISER, "photo denoiser")


def default_chroma_denoiser() -> ModelBundle:
    """The shipped luminance-guided chrominance denoiser, loaded from the package.

    Raises:
        ModelFileError: The package was installed without its model files.
    """
    return _shipped(SHIPPED_CHROMA_DENOISER, "chrominance denoiser")


def estimate_noise_sigma(image: Tensor | np.ndarray) -> float:
    """Standard deviation of additive white Gaussian noise in ``image`` (``(C, H, W)`` or ``(H, W)``).

    Donoho's robust estimator: the median absolute value of the finest diagonal Haar wavelet coefficients
    divided by 0.6745, per channel, averaged over channels. Image edges and texture raise it a little
    (about 1/255 on clean photographs).

    Raises:
        ShapeError: Not an image, or smaller than 2×2.
    """
    x = torch.as_tensor(image, dtype=torch.float64)
    if x.dim() == 2:
        x = x[None]
    if x.dim() != 3 or min(x.shape[1:]) < 2:
        raise ShapeError(f"image must be (C, H, W) or (H, W) and at least 2×2; got {tuple(x.shape)}")
    height, width = (x.shape[1] // 2) * 2, (x.shape[2] // 2) * 2
    x = x[:, :height, :width]
    diagonal = (x[:, 0::2, 0::2] - x[:, 0::2, 1::2] - x[:, 1::2, 0::2] + x[:, 1::2, 1::2]) / 2
    per_channel = diagonal.abs().flatten(1).median(dim=1).values / 0.6745
    return float(per_channel.mean())


def _check_sigma(sigma: float | None) -> None:
    if sigma is not None and (
        isinstance(sigma, bool) or not isinstance(sigma, int | float) or not math.isfinite(sigma) or sigma < 0
    ):
        raise ConfigError(f"sigma must be a finite number ≥ 0 (unit pixel scale); got {sigma!r}")
    if sigma is not None and sigma > 1:
        raise ConfigError(
            f"sigma is on the unit pixel scale, at most 1; got {sigma!r} (for σ = {sigma:g} on 8-bit pixels, "
            f"pass {sigma:g}/255)"
        )


def denoise(
    bundle: ModelBundle | None,
    image: Tensor | np.ndarray,
    *,
    sigma: float | None = None,
    overlap: int | tuple[int, int] | None = None,
    window: Window = "hann",
    batch_size: int = 64,
    chroma: ModelBundle | None = None,
) -> RestorationResult:
    """Clean ``image`` with the model of ``bundle`` (None: the shipped photo denoiser).

    Args:
        bundle: A loaded model folder (:func:`aekit.models.files.load`) of an image model, or None.
        image: ``(C, H, W)`` or ``(H, W)`` in the unit range [0, 1], any size. ``C`` must be the model's,
            except that a grey any-size denoiser also cleans colour images.
        sigma: Noise standard deviation on the unit scale (25/255 for "σ = 25"); estimated from the
            image when None. Any-size denoisers use it to bring noise above their range into it.
        overlap: Pixels shared by neighbouring tiles (default: half a tile; 64 for any-size denoisers).
        window: Blending ramp of the tiles (``hann``, ``triangular``, ``flat``).
        batch_size: Tiles per model call.
        chroma: A luminance-guided chrominance denoiser (an any-size denoiser of 2 planes, 1 of them a
            guide) for colour images when ``bundle`` is a grey any-size denoiser; with ``bundle`` None, the
            shipped one. Without it a grey model cleans the three colour planes alike.

    Returns:
        The cleaned image ``(C, H, W)``, the number of tiles used, the noise level (given or estimated)
        and warnings about images unlike the model's training data.

    Raises:
        ShapeError: Not an image model, or the image's channel count differs from the model's.
        DataError: The image has NaN or infinite values.
        ConfigError: A negative or non-finite ``sigma``, or a ``chroma`` model that is not a guided
            any-size denoiser of one plane and one guide.
    """
    _check_sigma(sigma)
    if bundle is None:
        bundle = default_denoiser()
        chroma = chroma if chroma is not None else default_chroma_denoiser()
    model = bundle.model
    if isinstance(model, AnySizeDenoiser):
        return _denoise_any_size(bundle, model, image, sigma, overlap, window, batch_size, chroma)
    channels, tile_h, tile_w = model_image_shape(bundle)
    x = as_image(image, channels)
    estimate = sigma if sigma is not None else estimate_noise_sigma(x)
    run = tile_function(bundle)
    tiled = tile_apply(x, run, (tile_h, tile_w), overlap=overlap, window=window, batch_size=batch_size)
    warnings = familiarity_warnings(bundle, x, tiled.image)
    return RestorationResult(tiled.image, None, tiled.n_tiles, "denoise", estimate, warnings)


def _guided_chroma_model(chroma: ModelBundle | None) -> AnySizeDenoiser | None:
    if chroma is None:
        return None
    model = chroma.model
    if (
        not isinstance(model, AnySizeDenoiser)
        or model.guide_channels != 1
        or model_image_shape(chroma)[0] != 2
    ):
        raise ConfigError(
            f"the chrominance model {chroma.path} must be an any-size denoiser of one plane guided by one "
            "(guide_channels=1, 2 input planes)"
        )
    return model


def _denoise_any_size(
    bundle: ModelBundle,
    model: AnySizeDenoiser,
    image: Tensor | np.ndarray,
    sigma: float | None,
    overlap: int | tuple[int, int] | None,
    window: Window,
    batch_size: int,
    chroma: ModelBundle | None,
) -> RestorationResult:
    model_channels = model_image_shape(bundle)[0]
    tensor = torch.as_tensor(image)
    colour_by_planes = model_channels == 1 and tensor.dim() == 3 and tensor.shape[0] == 3
    x = as_image(image, 3 if colour_by_planes else model_channels)
    estimate = sigma if sigma is not None else estimate_noise_sigma(x)
    guided = _guided_chroma_model(chroma)  # checked even where unused (a grey image)
    guided = guided if colour_by_planes else None
    device = model_device(bundle.model)
    for bundle_in_use in (bundle, chroma):
        if bundle_in_use is not None:
            bundle_in_use.model.eval()

    def clean(denoiser: AnySizeDenoiser, tiles: Tensor, planes_per_call: int) -> Tensor:
        """Tiles ``(B, P, h, w)`` through ``denoiser``, ``planes_per_call`` planes a call; same shape."""
        b, p, h, w = tiles.shape
        flat = tiles.reshape(b * p // planes_per_call, planes_per_call, h, w).to(device)
        return denoiser.denoise(flat).reshape(b, p, h, w).to(tiles.device)

    if guided is not None:  # luminance; colour difference 1 and its guide; colour difference 2 and its guide
        opponent = opponent_planes(x)
        planes = torch.stack(
            [
                opponent[0],
                opponent[1],
                chroma_guide(opponent[0], 1),
                opponent[2],
                chroma_guide(opponent[0], 2),
            ]
        )
        scales = _NOISE_SCALES[[0, 1, 1, 2, 2]]
        limits = [model.noise_limit] + [guided.noise_limit] * 4
        kept = [0, 1, 3]

        def run(tiles: Tensor) -> Tensor:
            return torch.cat([clean(model, tiles[:, :1], 1), clean(guided, tiles[:, 1:], 2)], dim=1)[:, kept]

    else:
        planes = opponent_planes(x) if colour_by_planes else x
        scales = _NOISE_SCALES if colour_by_planes else torch.ones(x.shape[0])
        limits = [model.noise_limit] * len(planes)
        kept = list(range(len(planes)))

        def run(tiles: Tensor) -> Tensor:
            return clean(model, tiles, model_channels)

    # Noise above a model's trained range: shrink each plane's contrast by k so that k·σ is inside it.
    gains = torch.tensor(
        [
            min(1.0, 0.9 * limit / (estimate * float(scale))) if estimate > 0 else 1.0
            for scale, limit in zip(scales, limits, strict=True)
        ]
    ).view(-1, 1, 1)
    means = planes.mean(dim=(1, 2), keepdim=True)
    planes = means + gains * (planes - means)
    height, width = planes.shape[1:]
    tile = (min(height, LARGE_TILE), min(width, LARGE_TILE))
    default_overlap = (min(LARGE_TILE_OVERLAP, tile[0] // 2), min(LARGE_TILE_OVERLAP, tile[1] // 2))
    tiled = tile_apply(
        planes,
        run,
        tile,
        overlap=overlap if overlap is not None else default_overlap,
        window=window,
        batch_size=min(batch_size, 4),
    )
    cleaned = means[kept] + (tiled.image - means[kept]) / gains[kept]
    if colour_by_planes:
        cleaned = rgb_from_opponent(cleaned)
    warnings: tuple[str, ...] = ()
    if estimate > model.noise_limit:
        warnings = (
            f"the noise level {estimate * 255:.1f}/255 is above the {model.noise_limit * 255:.0f}/255 the "
            "model was trained for; it was cleaned at reduced contrast and may keep some noise",
        )
    return RestorationResult(cleaned, None, tiled.n_tiles, "denoise", estimate, warnings)


def denoise_file(
    bundle: ModelBundle | None,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    sigma: float | None = None,
    overlap: int | tuple[int, int] | None = None,
    window: Window = "hann",
    batch_size: int = 64,
    chroma: ModelBundle | None = None,
) -> FileResult:
    """Denoise an image or ``.npy`` array file and write the result atomically.

    PNG keeps its bit depth (8 or 16), ``.npy`` its dtype and value range. Missing values (NaN) of an
    array stay missing: the model sees them as the array's mean, and they are NaN again in the output
    (fill them with :func:`aekit.apps.inpaint.inpaint_file`). ``sigma`` is on the unit scale; ``chroma``
    as for :func:`denoise`.

    Raises:
        DataError: The file cannot be read or is above the pixel limit (:func:`~aekit.apps.restoration.
            read_input`), or the output cannot be written in its format.
        ShapeError: An array not ``(H, W)`` or ``(C, H, W)`` with at most 4 channels, or the image's channel
            count differs from the model's.
    """
    source = read_input(input_path)
    unit = torch.from_numpy(source.to_unit())
    missing = torch.from_numpy(source.missing)
    if missing.any():
        if missing.all():
            raise DataError(f"{input_path} has no finite values to denoise")
        unit = torch.where(missing, unit[:, ~missing].mean(dim=1, keepdim=True).unsqueeze(-1), unit)
    result = denoise(
        bundle, unit, sigma=sigma, overlap=overlap, window=window, batch_size=batch_size, chroma=chroma
    )
    raw, n_clipped = source.from_unit(result.image.numpy())
    if missing.any():
        raw = np.where(source.missing[None], source.raw, raw)
    output = write_image(output_path, source.with_raw(raw))
    return FileResult(
        Path(input_path),
        output,
        source.size,
        source.channels,
        result.n_tiles,
        0,
        n_clipped,
        "denoise",
        result.sigma,
        result.warnings,
    )
