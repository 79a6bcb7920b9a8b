"""Load folders of PNG/JPEG/TIFF/BMP/WebP images, labelled by class sub-folder (Pillow is imported on use)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch
from torch import Tensor

from aekit.data.loaded import LoadedDataset, check_size
from aekit.data.tensors import TensorData
from aekit.errors import ConfigError, DataError
from aekit.formats.folders import labelled_files
from aekit.formats.limits import check_allocation
from aekit.formats.suffixes import suffixes

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = ["ImageMode", "load_image_file", "load_image_folder", "match_channels"]

ImageMode = Literal["auto", "L", "RGB"]


def _open_image(path: Path) -> PILImage.Image:
    from aekit.formats.images import open_with_pillow

    with open_with_pillow(path) as image:
        image.load()
        return image.copy() if image.mode != "P" else image.convert("RGBA")


_GREY_8 = {"1", "L", "LA"}
_GREY_16 = {"I;16", "I;16B", "I;16L", "I;16N", "I"}


def _image_array(image: PILImage.Image, path: Path, mode: Literal["L", "RGB"]) -> np.ndarray:
    """Return ``(H, W, C)`` uint8 or uint16 values for one image in the requested ``mode``."""
    if image.mode in _GREY_16:
        grey = np.asarray(image)
        if grey.min() < 0 or grey.max() > 65535:
            raise DataError(f"image {path} has values outside 0..65535 (mode {image.mode})")
        grey = grey.astype(np.uint16)[..., None]
        return grey if mode == "L" else np.repeat(grey, 3, axis=-1)
    if image.mode == "F":
        raise DataError(f"image {path} has floating-point pixels (mode F); expected 8- or 16-bit images")
    if mode == "L" and image.mode not in _GREY_8:
        raise DataError(f"image {path} is in colour (mode {image.mode}); load with mode='RGB' or 'auto'")
    return np.asarray(image.convert(mode)).reshape(image.height, image.width, -1)


def _resize(image: PILImage.Image, size: tuple[int, int]) -> PILImage.Image:
    from PIL import Image

    height, width = size
    if image.size == (width, height):
        return image
    if image.mode in _GREY_16:  # Pillow resamples 32-bit integer images, not all 16-bit layouts
        image = image.convert("I")
    return image.resize((width, height), Image.Resampling.BILINEAR)


def load_image_folder(
    path: str | os.PathLike[str],
    size: tuple[int, int] | None = None,
    mode: ImageMode = "auto",
) -> LoadedDataset:
    """Load a folder of PNG/JPEG/TIFF/BMP/WebP images, labelled by sub-folder if it has class sub-folders.

    With sub-folders (``cats/``, ``dogs/``...) each image's label is the index of its sub-folder in
    sorted order and ``class_names`` lists them; otherwise the images are the folder's own files,
    sorted by name, and have no labels. Alpha channels are dropped.

    Args:
        path: The folder.
        size: Resize every image to ``(H, W)`` (Pillow, bilinear); needed when sizes differ.
        mode: ``"L"`` greyscale, ``"RGB"`` colour, or ``"auto"``: greyscale if every image is.

    Returns:
        Images ``(N, C, H, W)`` float32 in raw scale, ``value_range`` ``(0, 255)`` for 8-bit images or
        ``(0, 65535)`` for 16-bit greyscale.

    Raises:
        DataError: Missing or empty folder, an unreadable or truncated image (naming it), differing sizes
            without ``size`` (naming an image of each size), colour images with ``mode="L"``, or a mix of
            8- and 16-bit images.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"image folder {folder} does not exist or is not a folder")
    files, labels, class_names = labelled_files(folder, "image", what="images")
    if not files:
        raise DataError(f"image folder {folder} is empty (no {'/'.join(suffixes('image'))} files)")
    return _load_images(files, labels, class_names, folder, size, mode)


def load_image_file(
    path: str | os.PathLike[str], size: tuple[int, int] | None = None, mode: ImageMode = "auto"
) -> LoadedDataset:
    """Load one PNG/JPEG/TIFF/BMP/WebP image as a data set of one unlabelled sample ``(1, C, H, W)``, with
    the conventions of :func:`load_image_folder` (raw scale, alpha dropped, ``size`` resizes).

    Raises:
        DataError: A missing or unreadable image (naming it), or a colour image with ``mode="L"``.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"image {file} does not exist or is not a file")
    return _load_images([file], None, None, file.parent, size, mode)


def _load_images(
    files: list[Path],
    labels: list[int] | None,
    class_names: tuple[str, ...] | None,
    folder: Path,
    size: tuple[int, int] | None,
    mode: ImageMode,
) -> LoadedDataset:
    """Images ``files`` (under ``folder``, named in messages) as one data set (:func:`load_image_folder`)."""
    if mode not in ("auto", "L", "RGB"):
        raise ConfigError(f"mode must be 'auto', 'L' or 'RGB'; got {mode!r}")
    if size is not None:
        size = check_size(size, "size")
        check_allocation(
            4 * 3 * len(files) * size[0] * size[1], f"{len(files)} images of {size[1]}×{size[0]}"
        )
    images = [_open_image(p) for p in files]
    check_allocation(
        4 * 3 * sum(image.height * image.width for image in images) if size is None else 0,
        f"the {len(files)} images of {folder}",
    )
    if size is None:
        sizes: dict[tuple[int, int], Path] = {}
        for image, file in zip(images, files, strict=True):
            sizes.setdefault((image.height, image.width), file)
        if len(sizes) > 1:
            listed = ", ".join(f"{h}x{w} ({f.relative_to(folder)})" for (h, w), f in list(sizes.items())[:5])
            raise DataError(
                f"images in {folder} have {len(sizes)} different sizes (HxW): {listed}; "
                "resize them with --image-size H or HxW (size=(H, W) in Python)"
            )
    deep = {file: image.mode in _GREY_16 for image, file in zip(images, files, strict=True)}
    if len(set(deep.values())) > 1:
        example_16 = next(f for f, d in deep.items() if d)
        example_8 = next(f for f, d in deep.items() if not d)
        raise DataError(
            f"{folder} mixes 16-bit ({example_16.name}) and 8-bit ({example_8.name}) images; "
            "convert them to one bit depth"
        )
    resolved: Literal["L", "RGB"] = (
        mode if mode != "auto" else ("L" if all(im.mode in _GREY_8 | _GREY_16 for im in images) else "RGB")
    )
    arrays = [
        _image_array(_resize(image, size) if size else image, file, resolved)
        for image, file in zip(images, files, strict=True)
    ]
    stacked = np.stack(arrays).transpose(0, 3, 1, 2)
    value_range = (0.0, 65535.0) if stacked.dtype == np.uint16 else (0.0, 255.0)
    x = torch.from_numpy(stacked.astype(np.float32))
    y = None if labels is None else torch.tensor(labels, dtype=torch.int64)
    return LoadedDataset(TensorData(x, y), "image", value_range, None, class_names)


def match_channels(x: Tensor, channels: int) -> Tensor:
    """Images ``(N, C, H, W)`` given ``channels`` (a model's): colour to grey by luminance (ITU-R 601,
    ``0.299 R + 0.587 G + 0.114 B``, as Pillow's ``L``), grey to colour by repeating the plane. Other
    counts are returned unchanged, for the model to name the mismatch."""
    if x.dim() != 4 or x.shape[1] == channels:
        return x
    if x.shape[1] == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype).reshape(1, 3, 1, 1)
        return (x * weights).sum(dim=1, keepdim=True)
    if x.shape[1] == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1).clone()
    return x
