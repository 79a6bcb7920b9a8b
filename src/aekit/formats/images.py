"""Image and array files for restoration: PNG (8- and 16-bit, grey or colour), JPEG, and ``.npy`` arrays.

A file is read into a :class:`RasterImage` that keeps the raw values exactly as stored, so a pixel
nobody changed is written back bit for bit, and converts to and from the unit range [0, 1] the models
work in: integer images by their bit depth (``v / 255`` or ``v / 65535``), float arrays by their finite
range (``(v − min) / (max − min)``). NaN in a float array marks a missing value (see
:attr:`RasterImage.missing`).

Pillow reads every format except 16-bit colour PNG, which it silently reduces to 8 bits; those files
(and every PNG written here) go through the small PNG codec in this module instead, so 16-bit colour
round-trips exactly. Writes are atomic: a temporary file beside the target, then ``os.replace``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import struct
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from aekit.errors import AekitError, DataError, ShapeError
from aekit.formats.arrays import read_npy_header
from aekit.formats.files import atomic_path, atomic_write_bytes
from aekit.formats.limits import check_allocation, check_pixels
from aekit.formats.suffixes import format_of, suffixes

__all__ = [
    "READABLE_SUFFIXES",
    "WRITABLE_SUFFIXES",
    "RasterImage",
    "encode_png",
    "open_with_pillow",
    "read_image",
    "read_mask",
    "write_image",
]

READABLE_SUFFIXES = suffixes("image", "npy")
"""What :func:`read_image` reads: the image formats of :mod:`~aekit.formats.suffixes` and ``.npy``."""
WRITABLE_SUFFIXES = suffixes("png", "npy")
"""What :func:`write_image` writes."""
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type → samples per pixel
_PNG_COLOUR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # samples per pixel → PNG colour type


@dataclasses.dataclass(frozen=True)
class RasterImage:
    """An image or 2-D array with its raw values and the scale that maps them to [0, 1].

    Attributes:
        raw: Values as stored, ``(C, H, W)``: ``uint8``/``uint16`` for images, floating point for
            arrays (NaN = missing). Grey images and 2-D arrays have ``C = 1``; colour ``C = 3``.
        value_range: Raw values mapped to 0 and 1: ``(0, 255)``, ``(0, 65535)``, or an array's finite
            ``(min, max)``.
        bit_depth: 8 or 16 for integer images; None for float arrays.
        alpha: The alpha channel ``(H, W)`` of an image that has one, kept unchanged; else None.
        path: The file it was read from, if any.
    """

    raw: np.ndarray
    value_range: tuple[float, float]
    bit_depth: int | None = None
    alpha: np.ndarray | None = None
    path: Path | None = None

    def __post_init__(self) -> None:
        if self.raw.ndim != 3:
            raise ShapeError(f"raw must have shape (C, H, W); got {self.raw.shape}")
        if self.alpha is not None and self.alpha.shape != self.raw.shape[1:]:
            raise ShapeError(f"alpha must have shape {self.raw.shape[1:]}; got {self.alpha.shape}")

    @classmethod
    def from_array(cls, array: np.ndarray) -> RasterImage:
        """Wrap an in-memory array: ``(H, W)`` or ``(C, H, W)``, ``uint8``/``uint16`` or floating point.

        Raises:
            ShapeError: Not 2-D or 3-D.
            DataError: Another dtype, or a float array without any finite value.
        """
        values = np.asarray(array)
        if values.ndim == 2:
            values = values[None]
        if values.ndim != 3:
            raise ShapeError(f"an image array must have shape (H, W) or (C, H, W); got {values.shape}")
        if values.dtype == np.uint8:
            return cls(values, (0.0, 255.0), 8)
        if values.dtype == np.uint16:
            return cls(values, (0.0, 65535.0), 16)
        if not np.issubdtype(values.dtype, np.floating):
            raise DataError(
                f"an image array must be uint8, uint16 or floating point; got dtype {values.dtype}"
            )
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            raise DataError("the array has no finite values (all NaN or infinite)")
        return cls(values, (float(finite.min()), float(finite.max())))

    @property
    def channels(self) -> int:
        """Colour channels ``C`` (alpha not counted)."""
        return int(self.raw.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)``."""
        return int(self.raw.shape[1]), int(self.raw.shape[2])

    @property
    def missing(self) -> np.ndarray:
        """Boolean ``(H, W)``: True where any channel is NaN or infinite (always False for integer images)."""
        if not np.issubdtype(self.raw.dtype, np.floating):
            return np.zeros(self.size, dtype=bool)
        return ~np.isfinite(self.raw).all(axis=0)

    def to_unit(self) -> np.ndarray:
        """float32 ``(C, H, W)`` in [0, 1] (``(v − low) / (high − low)``); missing values become 0."""
        low, high = self.value_range
        span = high - low if high > low else 1.0
        unit = (self.raw.astype(np.float64) - low) / span
        return np.where(np.isfinite(unit), unit, 0.0).astype(np.float32)

    def from_unit(self, values: np.ndarray) -> tuple[np.ndarray, int]:
        """Raw values of the unit-range ``values`` ``(C, H, W)``, in this image's dtype.

        Integer images are rounded and clipped to their bit depth; float arrays are scaled back to
        their range without clipping.

        Returns:
            The raw array and the number of values that had to be clipped.
        """
        low, high = self.value_range
        span = high - low if high > low else 1.0
        scaled = np.asarray(values, dtype=np.float64) * span + low
        if self.bit_depth is None:
            return scaled.astype(self.raw.dtype), 0
        top = (1 << self.bit_depth) - 1
        clipped = int(np.count_nonzero((scaled < -0.5) | (scaled > top + 0.5)))
        return np.clip(np.rint(scaled), 0, top).astype(self.raw.dtype), clipped

    def with_raw(self, raw: np.ndarray) -> RasterImage:
        """The same image (range, bit depth, alpha) holding other raw values of the same shape."""
        if raw.shape != self.raw.shape:
            raise ShapeError(f"raw must have shape {self.raw.shape}; got {raw.shape}")
        return dataclasses.replace(self, raw=raw.astype(self.raw.dtype, copy=False))


def read_image(path: str | os.PathLike[str], max_pixels: int | None = None) -> RasterImage:
    """Read a PNG/JPEG/TIFF/BMP/WebP image or a ``.npy`` array (2-D, or ``(C, H, W)``).

    Colour images become ``C = 3`` (palette images included), grey ones ``C = 1``; an alpha channel is
    kept aside in :attr:`RasterImage.alpha`. Images above ``max_pixels`` (default ``AEKIT_MAX_PIXELS``)
    are refused from their header, before any pixel is decoded.

    Raises:
        DataError: The file is missing, of an unknown type, unreadable, truncated or corrupt (the
            message names the file), or holds an unsupported pixel format.
        ShapeError: A ``.npy`` array that is not 2-D or ``(C, H, W)``.
    """
    file = Path(path)
    fmt = format_of(file)
    if fmt is None or not file.name.lower().endswith(READABLE_SUFFIXES):
        raise DataError(
            f"cannot read {file}: unknown file type {file.suffix.lower()!r} "
            f"(known: {', '.join(READABLE_SUFFIXES)})"
        )
    if not file.is_file():
        raise DataError(f"image file {file} does not exist")
    if fmt == "npy":
        image = _read_npy(file, max_pixels)
    elif fmt == "png" and _is_deep_colour_png(file):
        image = _read_png_codec(file, max_pixels)
    else:
        image = _read_with_pillow(file, max_pixels)
    return dataclasses.replace(image, path=file)


def write_image(path: str | os.PathLike[str], image: RasterImage) -> Path:
    """Write ``image`` atomically as ``.png`` (its bit depth) or ``.npy`` (its raw values).

    A float array written as PNG is scaled by its value range to 16 bits.

    Raises:
        DataError: An unknown suffix, or missing (NaN) values that a PNG cannot hold.
    """
    file = Path(path)
    fmt = format_of(file)
    if fmt not in ("png", "npy"):
        raise DataError(f"cannot write {file}: use one of {', '.join(WRITABLE_SUFFIXES)}")
    if fmt == "npy":
        with atomic_path(file) as temp, open(temp, "wb") as handle:
            np.save(handle, image.raw[0] if image.channels == 1 and image.alpha is None else image.raw)
        return file
    raw = image.raw
    if image.bit_depth is None:
        missing = int(np.count_nonzero(image.missing))
        if missing:
            raise DataError(
                f"cannot write {file}: {missing} values are missing (NaN) and PNG cannot hold NaN"
            )
        deep = RasterImage(np.zeros(raw.shape, np.uint16), (0.0, 65535.0), 16)
        raw, _ = deep.from_unit(image.to_unit())
    layers = [raw] if image.alpha is None else [raw, image.alpha.astype(raw.dtype)[None]]
    atomic_write_bytes(file, encode_png(np.concatenate(layers).transpose(1, 2, 0)))
    return file


def read_mask(path: str | os.PathLike[str], size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask image: True (missing) where its brightest channel is at least half the maximum.

    White marks the pixels to fill, black the known ones.

    Args:
        path: PNG (or other image) file.
        size: The image's ``(H, W)``; the mask must match it.

    Raises:
        DataError: The file cannot be read.
        ShapeError: The mask's size differs from ``size`` (both are named).
    """
    mask_image = read_image(path)
    if mask_image.bit_depth is None:
        raise DataError(f"mask {path} must be an image (PNG), not an array")
    if size is not None and mask_image.size != tuple(size):
        (mask_h, mask_w), (height, width) = mask_image.size, size
        raise ShapeError(
            f"mask {path} is {mask_w}x{mask_h} (WxH) but the image is {width}x{height}; "
            "they must be the same size"
        )
    half = ((1 << mask_image.bit_depth) - 1) / 2
    return mask_image.raw.max(axis=0) >= half


def _read_npy(file: Path, max_pixels: int | None = None) -> RasterImage:
    header = read_npy_header(file, check_memory=False)
    if len(header.shape) in (2, 3):
        check_pixels(header.shape[-2], header.shape[-1], f"array {file}", limit=max_pixels)
    check_allocation(header.n_bytes, f"reading {file} (shape {header.shape}, {header.dtype})")
    try:
        array = np.load(file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise DataError(f"cannot read array {file}: {error}") from None
    if not isinstance(array, np.ndarray) or array.ndim not in (2, 3):
        shape = getattr(array, "shape", None)
        raise ShapeError(f"array {file} must be 2-D (H, W) or (C, H, W); got shape {shape}")
    try:
        return RasterImage.from_array(array)
    except DataError as error:
        raise DataError(f"array {file}: {error}") from None


@contextlib.contextmanager
def open_with_pillow(file: Path, max_pixels: int | None = None) -> Iterator[Any]:
    """Open ``file`` with Pillow (lazily) after checking the size its header declares.

    Pillow's own decompression-bomb guard (a warning above 89 million pixels, an error above twice that)
    is replaced by :func:`aekit.formats.limits.check_pixels` (``AEKIT_MAX_PIXELS``), which refuses before any
    pixel is decoded and names the limit. Reading errors become one-line :class:`DataError` naming the
    file, also those raised while the caller decodes the pixels inside the ``with`` block (a truncated file).

    The image is yielded the way viewers show it: a photograph whose EXIF orientation says "rotated" (as
    phones and cameras write them) is turned upright, so what is written back displays like the input.
    Files of several frames (animations, multi-page TIFF) are refused rather than read as their first
    frame; a camera's multi-picture JPEG (MPO) is read as its primary picture.
    """
    from PIL import Image

    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                opened = Image.open(file)
            except FileNotFoundError:
                raise DataError(f"image file {file} does not exist") from None
            except (OSError, ValueError, SyntaxError, EOFError) as error:
                raise DataError(
                    f"cannot read image {file}: it is not a readable image (unreadable, truncated or "
                    f"corrupt): {error}"
                ) from None
            with opened:
                width, height = opened.size
                check_pixels(height, width, f"image {file}", limit=max_pixels)
                _check_single_frame(opened, file)
                try:
                    yield _upright(opened)
                except AekitError:
                    raise
                except (OSError, ValueError, SyntaxError, EOFError) as error:
                    raise DataError(
                        f"cannot read image {file} (unreadable, truncated or corrupt): {error}"
                    ) from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous


_EXIF_ORIENTATION = 0x0112


def _check_single_frame(opened: Any, file: Path) -> None:
    frames = getattr(opened, "n_frames", 1)
    if frames > 1 and opened.format != "MPO":
        raise DataError(
            f"image {file} holds {frames} frames (an animation or a multi-page file); aekit reads single "
            "images: save the frame you want as a file of its own"
        )


def _upright(opened: Any) -> Any:
    """``opened`` as displayed: transposed by its EXIF orientation when that is not "as stored"."""
    from PIL import ImageOps

    if opened.getexif().get(_EXIF_ORIENTATION, 1) in (0, 1):
        return opened
    return ImageOps.exif_transpose(opened)


def _read_with_pillow(file: Path, max_pixels: int | None = None) -> RasterImage:
    with open_with_pillow(file, max_pixels) as opened:
        check_allocation(
            opened.size[0] * opened.size[1] * max(len(opened.getbands()), 1) * 2, f"reading image {file}"
        )
        opened.load()
        image = opened.copy()
    alpha = None
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("LA", "RGBA", "PA"):
        alpha = np.asarray(image.getchannel("A"), dtype=np.uint8)
        image = image.convert("L" if image.mode == "LA" else "RGB")
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        values = np.asarray(image)
        if values.min() < 0 or values.max() > 65535:
            raise DataError(f"image {file} has values outside 0..65535 (mode {image.mode})")
        return RasterImage(values.astype(np.uint16)[None], (0.0, 65535.0), 16, None)
    if image.mode == "1":
        image = image.convert("L")
    elif image.mode not in ("L", "RGB"):
        if image.mode == "F":
            raise DataError(f"image {file} has floating-point pixels (mode F); save it as .npy instead")
        image = image.convert("RGB")
    values = np.asarray(image, dtype=np.uint8)
    values = values[None] if values.ndim == 2 else values.transpose(2, 0, 1)
    return RasterImage(np.ascontiguousarray(values), (0.0, 255.0), 8, alpha)


def _png_chunks(data: bytes, file: Path) -> dict[bytes, list[bytes]]:
    """Split a PNG into chunks by type, checking each CRC; raises DataError on any damage."""
    if not data.startswith(_PNG_SIGNATURE):
        raise DataError(f"cannot read image {file}: not a PNG file")
    chunks: dict[bytes, list[bytes]] = {}
    position = len(_PNG_SIGNATURE)
    while True:
        if position + 8 > len(data):
            raise DataError(f"cannot read image {file}: truncated (no IEND chunk)")
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        crc = data[position + 8 + length : position + 12 + length]
        if len(body) != length or len(crc) != 4:
            raise DataError(f"cannot read image {file}: truncated in a {kind!r} chunk")
        if struct.unpack(">I", crc)[0] != zlib.crc32(kind + body):
            raise DataError(f"cannot read image {file}: corrupt {kind!r} chunk (CRC mismatch)")
        chunks.setdefault(kind, []).append(body)
        position += 12 + length
        if kind == b"IEND":
            return chunks


def _is_deep_colour_png(file: Path) -> bool:
    """Whether ``file`` is a 16-bit PNG with colour or alpha (the layouts Pillow reduces to 8 bits)."""
    with open(file, "rb") as handle:
        head = handle.read(33)
    if len(head) < 33 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return False
    bit_depth, colour_type = head[24], head[25]
    return bit_depth == 16 and colour_type in (2, 4, 6)


def _read_png_codec(file: Path, max_pixels: int | None = None) -> RasterImage:
    chunks = _png_chunks(file.read_bytes(), file)
    header = chunks.get(b"IHDR", [b""])[0]
    if len(header) != 13:
        raise DataError(f"cannot read image {file}: missing or malformed IHDR chunk")
    width, height, bit_depth, colour_type, _compression, _filter, interlace = struct.unpack(
        ">IIBBBBB", header
    )
    if interlace:
        raise DataError(
            f"cannot read image {file}: interlaced 16-bit colour PNG is not supported; re-save it"
        )
    channels = _PNG_CHANNELS[colour_type]
    check_pixels(height, width, f"image {file}", limit=max_pixels)
    bytes_per_pixel = channels * bit_depth // 8
    stride = width * bytes_per_pixel
    check_allocation(height * (stride + 1) * 12, f"reading image {file} ({width}×{height}, 16-bit)")
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(b"".join(chunks.get(b"IDAT", [])), height * (stride + 1) + 1)
    except zlib.error as error:
        raise DataError(f"cannot read image {file}: corrupt image data ({error})") from None
    if len(data) != height * (stride + 1):
        raise DataError(f"cannot read image {file}: truncated image data")
    rows = _unfilter(np.frombuffer(data, np.uint8).reshape(height, stride + 1), bytes_per_pixel, file)
    pixels = rows.view(">u2").astype(np.uint16).reshape(height, width, channels).transpose(2, 0, 1)
    has_alpha = colour_type in (4, 6)
    colour = np.ascontiguousarray(pixels[:-1] if has_alpha else pixels)
    return RasterImage(colour, (0.0, 65535.0), 16, pixels[-1].copy() if has_alpha else None)


def _unfilter(rows: np.ndarray, bytes_per_pixel: int, file: Path) -> np.ndarray:
    """Undo PNG's per-row filters; ``rows`` is ``(H, 1 + stride)`` with the filter byte first."""
    height, stride = rows.shape[0], rows.shape[1] - 1
    out = np.zeros((height, stride), np.uint8)
    previous = np.zeros(stride, np.int64)
    for index in range(height):
        kind, line = int(rows[index, 0]), rows[index, 1:].astype(np.int64)
        if kind == 0:
            current = line
        elif kind == 1:  # Sub: a running sum along the row, per byte lane
            current = np.cumsum(line.reshape(-1, bytes_per_pixel), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            current = (line + previous) % 256
        elif kind in (3, 4):  # Average and Paeth depend on the decoded left neighbour: pixel by pixel
            current = _unfilter_sequential(kind, line, previous, bytes_per_pixel)
        else:
            raise DataError(f"cannot read image {file}: unknown PNG filter type {kind} in row {index}")
        out[index] = current
        previous = current
    return out


def _unfilter_sequential(kind: int, line: np.ndarray, previous: np.ndarray, step: int) -> np.ndarray:
    current = np.zeros_like(line)
    zero = np.zeros(step, np.int64)
    for start in range(0, len(line), step):
        up = previous[start : start + step]
        left = current[start - step : start] if start else zero
        if kind == 3:
            predicted = (left + up) // 2
        else:
            upper_left = previous[start - step : start] if start else zero
            guess = left + up - upper_left
            distance_left, distance_up = np.abs(guess - left), np.abs(guess - up)
            distance_corner = np.abs(guess - upper_left)
            predicted = np.where(
                (distance_left <= distance_up) & (distance_left <= distance_corner),
                left,
                np.where(distance_up <= distance_corner, up, upper_left),
            )
        current[start : start + step] = (line[start : start + step] + predicted) % 256
    return current


def encode_png(pixels: np.ndarray, compression_level: int = 6) -> bytes:
    """Encode ``(H, W, C)`` ``uint8`` or ``uint16`` pixels (C = 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) as PNG.

    Every row uses the "Sub" filter (difference to the left pixel), which suits natural images.
    """
    if pixels.ndim != 3 or pixels.shape[2] not in _PNG_COLOUR_TYPE:
        raise ShapeError(f"pixels must have shape (H, W, C) with C in 1..4; got {pixels.shape}")
    if pixels.dtype not in (np.uint8, np.uint16):
        raise DataError(f"pixels must be uint8 or uint16; got dtype {pixels.dtype}")
    height, width, channels = pixels.shape
    bit_depth = pixels.dtype.itemsize * 8
    step = channels * pixels.dtype.itemsize
    data = np.ascontiguousarray(pixels.astype(pixels.dtype.newbyteorder(">"))).view(np.uint8)
    data = data.reshape(height, width * step).astype(np.int16)
    filtered = data.copy()
    filtered[:, step:] = (data[:, step:] - data[:, :-step]) % 256
    scanlines = np.hstack([np.ones((height, 1), np.int16), filtered]).astype(np.uint8)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, _PNG_COLOUR_TYPE[channels], 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(scanlines.tobytes(), compression_level))
        + chunk(b"IEND", b"")
    )
