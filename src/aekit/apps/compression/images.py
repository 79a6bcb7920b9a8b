"""Natural photographs bundled with scikit-image and scikit-learn, split for codec training/evaluation.

No downloads: every image ships inside the installed packages. The evaluation set is the five
photographs the issue's reference JPEG/JPEG 2000 figures are averaged over; the rest (photos, textures
and greyscale scenes, grey ones replicated to RGB) are cut into random training crops. ``cat`` is left out
because it is the same picture as ``chelsea``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from aekit.errors import ConfigError, DataError

__all__ = ["HOLDOUT_IMAGES", "TRAIN_IMAGES", "natural_images", "random_crops"]

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


def random_crops(
    images: dict[str, np.ndarray] | list[np.ndarray], n_crops: int, size: int, *, generator: torch.Generator
) -> torch.Tensor:
    """Cut ``n_crops`` random ``size × size`` crops, with random horizontal flips, as float in [0, 1].

    Each crop first picks an image uniformly (so one very large image does not dominate), then a
    position uniformly inside it.

    Args:
        images: ``(H, W, 3)`` uint8 images, each at least ``size`` pixels per side.
        n_crops: Number of crops.
        size: Side of the square crops.
        generator: Source of all random choices.

    Returns:
        ``(n_crops, 3, size, size)`` float32 tensor.
    """
    pool = list(images.values()) if isinstance(images, dict) else list(images)
    if not pool:
        raise DataError("random_crops needs at least one image; got none")
    for image in pool:
        if image.ndim != 3 or min(image.shape[:2]) < size:
            raise DataError(f"every image must be (H, W, 3) with sides ≥ size={size}; got {image.shape}")
    crops = torch.empty(n_crops, 3, size, size)
    picks = torch.randint(len(pool), (n_crops,), generator=generator).tolist()
    flips = torch.rand(n_crops, generator=generator) < 0.5
    for i, pick in enumerate(picks):
        image = pool[pick]
        top = int(torch.randint(image.shape[0] - size + 1, (1,), generator=generator))
        left = int(torch.randint(image.shape[1] - size + 1, (1,), generator=generator))
        crop = torch.from_numpy(image[top : top + size, left : left + size]).permute(2, 0, 1).float() / 255
        crops[i] = crop.flip(-1) if flips[i] else crop
    return crops
