"""Segmentation masks from a folder of PNG images: one integer class per pixel."""

from __future__ import annotations

import os

import torch

from aekit.data.images import load_image_folder
from aekit.errors import DataError

__all__ = ["load_mask_folder", "masks_from_values"]


def masks_from_values(values: torch.Tensor) -> tuple[torch.Tensor, tuple[float, ...]]:
    """Map every distinct pixel value to its rank: ``(N, H, W)`` int64 class indices and the values.

    So a black/white mask (0 and 255) becomes background 0 and foreground 1, and a palette of ``K``
    grey levels becomes classes ``0 … K−1`` in increasing order.
    """
    levels = torch.unique(values)
    return torch.searchsorted(levels, values.contiguous()).long(), tuple(float(v) for v in levels)


def load_mask_folder(
    path: str | os.PathLike[str], n_images: int, image_size: tuple[int, int] | None = None
) -> torch.Tensor:
    """Load one greyscale mask image per training image, in file-name order, as ``(N, H, W)`` int64.

    Args:
        path: Folder of mask PNGs, sorted by name in the same order as the images.
        n_images: Number of images the masks belong to (the counts must match).
        image_size: Resize masks to ``(H, W)`` by nearest neighbour (the images' ``image_size``).

    Raises:
        DataError: The folder is missing or empty, or it holds a different number of masks than images.
    """
    loaded = load_image_folder(path, mode="L")
    masks = loaded.data.x[:, 0]
    if len(masks) != n_images:
        raise DataError(
            f"{path} holds {len(masks)} masks but the dataset has {n_images} images; one mask each"
        )
    if image_size is not None and tuple(masks.shape[-2:]) != tuple(image_size):
        masks = torch.nn.functional.interpolate(masks[:, None], size=image_size, mode="nearest")[:, 0]
    return masks_from_values(masks)[0]
