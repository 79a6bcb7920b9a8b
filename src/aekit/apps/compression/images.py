"""Photographs for codec training and evaluation: any folder of photographs (:func:`load_photo_folder`,
:func:`split_photos`, :class:`PhotoCrops`), and the natural photographs bundled with scikit-image and
scikit-learn.

No downloads: every image ships inside the installed packages. The evaluation set is the five
photographs the earlier JPEG/JPEG 2000 reference figures are averaged over; the rest (photos, textures
and greyscale scenes, grey ones replicated to RGB) are cut into random training crops. ``cat`` is left out
because it is the same picture as ``chelsea``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from aekit.errors import ConfigError, DataError

__all__ = [
    "HOLDOUT_IMAGES",
    "TRAIN_IMAGES",
    "PhotoCrops",
    "load_photo_folder",
    "natural_images",
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


def load_photo_folder(folder: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every image in ``folder`` (PNG, JPEG … anything Pillow reads), sorted by name, as ``(H, W, 3)`` uint8.

    Grey images are replicated to RGB and alpha is dropped.

    Raises:
        DataError: ``folder`` is not a folder or holds no readable image.
    """
    from PIL import Image

    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"{path} is not a folder of photographs")
    images: dict[str, np.ndarray] = {}
    for file in sorted(path.iterdir()):
        if not file.is_file() or file.name.startswith("."):
            continue
        try:
            with Image.open(file) as opened:
                images[file.name] = np.array(opened.convert("RGB"), dtype=np.uint8)
        except (OSError, ValueError, SyntaxError):
            continue  # not an image (a licence or readme file)
    if not images:
        raise DataError(f"{path} holds no readable image")
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


class PhotoCrops:
    """Random crops of photographs drawn afresh each pass: a :class:`~aekit.data.tensors.BatchSource`.

    Each pass (epoch) yields ``crops_per_pass`` crops of ``size × size`` with random horizontal flips,
    drawn from the generator the trainer passes, so a seeded run (and a resumed one) sees the same crops;
    only the uint8 photographs stay in memory.

    Args:
        images: ``(H, W, 3)`` uint8 photographs, each at least ``size`` pixels per side.
        size: Crop side.
        crops_per_pass: Crops per pass.
    """

    def __init__(self, images: dict[str, np.ndarray] | list[np.ndarray], size: int, crops_per_pass: int):
        self.pool = list(images.values()) if isinstance(images, dict) else list(images)
        self.pool = [image for image in self.pool if min(image.shape[:2]) >= size]
        if not self.pool:
            raise DataError(f"no photograph is at least {size} pixels on each side")
        if crops_per_pass < 1:
            raise ConfigError(f"crops_per_pass must be ≥ 1; got {crops_per_pass}")
        self.size = size
        self.crops_per_pass = crops_per_pass

    def __len__(self) -> int:
        return self.crops_per_pass

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """``(3, size, size)``."""
        return (3, self.size, self.size)

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """Yield ``(crops, None)`` batches of fresh random crops (``shuffle`` is implied)."""
        n = self.n_batches(batch_size, drop_last=drop_last, world_size=world_size)
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        for index in range(n * world_size):
            count = batch_size if drop_last else min(batch_size, self.crops_per_pass - index * batch_size)
            crops = random_crops(self.pool, count, self.size, generator=generator)
            if index % world_size == rank:
                yield crops, None

    def n_batches(self, batch_size: int, *, drop_last: bool = False, world_size: int = 1) -> int:
        """Number of batches :meth:`batches` yields with the same arguments."""
        n = self.crops_per_pass // world_size if world_size > 1 else self.crops_per_pass
        return n // batch_size if drop_last else -(-n // batch_size)
