"""Photographs for codec training and evaluation: any folder of photographs (:func:`load_photo_folder`,
:func:`split_photos`, :func:`photo_patches`), and the natural photographs bundled with scikit-image and
scikit-learn.

No downloads: every image ships inside the installed packages. The evaluation set is the five
photographs the earlier JPEG/JPEG 2000 reference figures are averaged over; the rest (photos, textures
and greyscale scenes, grey ones replicated to RGB) are cut into random training crops. ``cat`` is left out
because it is the same picture as ``chelsea``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from aekit.data.patches import RandomPatches
from aekit.errors import ConfigError, DataError
from aekit.formats.suffixes import kind_of, suffixes

__all__ = [
    "HOLDOUT_IMAGES",
    "TRAIN_IMAGES",
    "load_photo_folder",
    "natural_images",
    "photo_patches",
    "random_crops",
    "split_photos",
]

HOLDOUT_IMAGES = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left")
TRAIN_IMAGES = (
    "motorcycle_right",
    "china",
    "flower",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "camera",
    "moon",
    "grass",
    "gravel",
    "brick",
    "coins",
    "clock",
)


def _load(name: str) -> np.ndarray:
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    try:
        import skimage.data
    except ImportError:  # pragma: no cover - depends on the environment
        raise DataError("the codec's natural images need scikit-image: pip install 'aekit[image]'") from None
    if name in ("motorcycle_left", "motorcycle_right"):
        left, right, _ = skimage.data.stereo_motorcycle()
        return left if name == "motorcycle_left" else right
    return getattr(skimage.data, name)()


def natural_images(split: Literal["train", "holdout"] = "holdout") -> dict[str, np.ndarray]:
    """Return ``{name: (H, W, 3) uint8}`` photographs of the ``train`` or ``holdout`` split.

    Raises:
        ConfigError: ``split`` is neither ``train`` nor ``holdout``.
    """
    if split not in ("train", "holdout"):
        raise ConfigError(f"split must be 'train' or 'holdout'; got {split!r}")
    names = TRAIN_IMAGES if split == "train" else HOLDOUT_IMAGES
    images = {}
    for name in names:
        image = np.asarray(_load(name))
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        images[name] = np.ascontiguousarray(image[..., :3].astype(np.uint8))
    return images


def photo_patches(
    images: dict[str, np.ndarray] | list[np.ndarray], size: int, patches_per_pass: int
) -> RandomPatches:
    """Random ``size × size`` crops of ``(H, W, 3)`` uint8 photographs with random horizontal flips, a
    :class:`~aekit.data.patches.RandomPatches` over the photographs as they are (uint8, no copy).

    Raises:
        DataError: No image, or one that is not ``(H, W, 3)``.
        ShapeError: An image smaller than ``size`` on a side.
    """
    pool = list(images.values()) if isinstance(images, dict) else list(images)
    for image in pool:
        if image.ndim != 3 or image.shape[2] != 3:
            raise DataError(f"every image must be (H, W, 3); got {image.shape}")
    tensors = [torch.from_numpy(image).permute(2, 0, 1) for image in pool]
    return RandomPatches(tensors, size, patches_per_pass, flips="horizontal")


def random_crops(
    images: dict[str, np.ndarray] | list[np.ndarray], n_crops: int, size: int, *, generator: torch.Generator
) -> torch.Tensor:
    """``n_crops`` random ``size × size`` crops with random horizontal flips, float32 in [0, 1], shape
    ``(n_crops, 3, size, size)``: one pass of :func:`photo_patches` drawn from ``generator``."""
    x, _ = next(photo_patches(images, size, n_crops).batches(n_crops, generator=generator))
    return x


def load_photo_folder(folder: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every image file in ``folder`` (the image suffixes of :mod:`aekit.formats.suffixes`), sorted by name,
    as ``(H, W, 3)`` uint8, read upright and size-checked as every aekit reader does.

    Grey images are replicated to RGB and alpha is dropped; other files (a licence, a readme) are skipped.

    Raises:
        DataError: ``folder`` is not a folder, holds no image, or holds an unreadable one (named).
    """
    from aekit.formats.images import open_with_pillow

    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"{path} is not a folder of photographs")
    images: dict[str, np.ndarray] = {}
    for file in sorted(path.iterdir()):
        if file.is_file() and not file.name.startswith(".") and kind_of(file) == "image":
            with open_with_pillow(file) as opened:
                images[file.name] = np.array(opened.convert("RGB"), dtype=np.uint8)
    if not images:
        raise DataError(f"{path} holds no image ({', '.join(suffixes('image'))})")
    return images


def split_photos(
    images: dict[str, np.ndarray], every: int = 10
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(train, validation)``: every ``every``-th image by sorted name (starting with the first) is held
    out for validation, the rest train. Deterministic, so a resumed run sees the same split."""
    names = sorted(images)
    validation = {name: images[name] for i, name in enumerate(names) if i % every == 0}
    train = {name: images[name] for name in names if name not in validation}
    return train, validation
