"""Image files: exact 8/16-bit PNG round trips, .npy arrays with NaN as missing, clear errors."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aekit.errors import DataError, ShapeError
from aekit.formats.images import RasterImage, encode_png, read_image, read_mask, write_image


def _ramp(shape: tuple[int, ...], top: int, dtype: type) -> np.ndarray:
    values = np.linspace(0, top, int(np.prod(shape)))
    return np.random.default_rng(0).permutation(values.round()).reshape(shape).astype(dtype)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(("dtype", "top"), [(np.uint8, 255), (np.uint16, 65535)])
def test_png_round_trip_is_exact(tmp_path: Path, channels: int, dtype: type, top: int) -> None:
    raw = _ramp((channels, 5, 7), top, dtype)
    image = RasterImage.from_array(raw)
    path = write_image(tmp_path / "image.png", image)
    again = read_image(path)
    assert again.raw.dtype == dtype and again.bit_depth == image.bit_depth
    np.testing.assert_array_equal(again.raw, raw)
    assert again.raw.max() == top


def test_pillow_reads_what_we_write_and_we_read_what_pillow_writes(tmp_path: Path) -> None:
    grey16 = _ramp((6, 9), 65535, np.uint16)
    write_image(tmp_path / "ours.png", RasterImage.from_array(grey16))
    with Image.open(tmp_path / "ours.png") as opened:
        np.testing.assert_array_equal(np.asarray(opened), grey16)
    rgb = _ramp((4, 5, 3), 255, np.uint8)
    Image.fromarray(rgb).save(tmp_path / "pillow.png")
    np.testing.assert_array_equal(read_image(tmp_path / "pillow.png").raw, rgb.transpose(2, 0, 1))


def test_16_bit_colour_with_alpha_keeps_alpha(tmp_path: Path) -> None:
    colour = _ramp((3, 4, 6), 65535, np.uint16)
    alpha = _ramp((4, 6), 65535, np.uint16)
    image = RasterImage(colour, (0.0, 65535.0), 16, alpha)
    again = read_image(write_image(tmp_path / "rgba.png", image))
    np.testing.assert_array_equal(again.raw, colour)
    np.testing.assert_array_equal(again.alpha, alpha)


def _paeth(left: int, up: int, corner: int) -> int:
    guess = left + up - corner
    distances = (abs(guess - left), abs(guess - up), abs(guess - corner))
    return (left, up, corner)[distances.index(min(distances))]  # ties prefer left, then up


def _png_with_filters(pixels: np.ndarray, filters: list[int]) -> bytes:
    """A 16-bit RGB PNG whose rows use the given filter types (written by hand, for the decoder)."""
    height, width, _ = pixels.shape
    rows = pixels.astype(">u2").view(np.uint8).reshape(height, -1).astype(int)
    step = 6
    lines = []
    previous = np.zeros(rows.shape[1], int)
    for row, kind in zip(rows, filters, strict=True):
        out = []
        for i, value in enumerate(row):
            left = row[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            predicted = {0: 0, 1: left, 2: up, 3: (left + up) // 2, 4: _paeth(left, up, corner)}[kind]
            out.append((value - predicted) % 256)
        lines.append(bytes([kind, *out]))
        previous = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(lines)))
        + chunk(b"IEND", b"")
    )


def test_16_bit_colour_decoder_undoes_every_png_filter(tmp_path: Path) -> None:
    pixels = _ramp((5, 4, 3), 65535, np.uint16)
    (tmp_path / "filters.png").write_bytes(_png_with_filters(pixels, [0, 1, 2, 3, 4]))
    np.testing.assert_array_equal(read_image(tmp_path / "filters.png").raw, pixels.transpose(2, 0, 1))


@pytest.mark.parametrize("deep_colour", [False, True])
def test_truncated_png_is_a_clear_error(tmp_path: Path, deep_colour: bool) -> None:
    pixels = _ramp(
        (16, 16, 3 if deep_colour else 1),
        65535 if deep_colour else 255,
        np.uint16 if deep_colour else np.uint8,
    )
    data = encode_png(pixels)
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cannot read image .*cut\.png.*truncated"):
        read_image(tmp_path / "cut.png")


def test_unreadable_missing_and_unknown_files(tmp_path: Path) -> None:
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    with pytest.raises(DataError, match=r"cannot read image .*junk\.png"):
        read_image(tmp_path / "junk.png")
    with pytest.raises(DataError, match="does not exist"):
        read_image(tmp_path / "absent.png")
    with pytest.raises(DataError, match=r"unknown file type '\.gif'"):
        read_image(tmp_path / "x.gif")
    with pytest.raises(DataError, match=r"use one of \.png, \.npy"):
        write_image(tmp_path / "x.jpg", RasterImage.from_array(np.zeros((2, 2), np.uint8)))


def test_npy_nan_is_missing_and_the_range_is_restored(tmp_path: Path) -> None:
    elevation = np.linspace(-20.0, 380.0, 30).reshape(5, 6)
    elevation[2, 1:4] = np.nan
    np.save(tmp_path / "dem.npy", elevation)
    image = read_image(tmp_path / "dem.npy")
    assert image.value_range == (-20.0, 380.0) and image.bit_depth is None
    np.testing.assert_array_equal(image.missing, np.isnan(elevation))
    unit = image.to_unit()
    assert unit.min() == 0.0 and unit.max() == 1.0 and np.isfinite(unit).all()
    back, clipped = image.from_unit(unit)
    known = ~np.isnan(elevation)
    np.testing.assert_allclose(back[0][known], elevation[known], rtol=0, atol=1e-4)
    assert clipped == 0 and back.dtype == np.float64
    again = np.load(write_image(tmp_path / "out.npy", image))
    np.testing.assert_array_equal(again, elevation)


def test_npy_with_nan_cannot_become_a_png(tmp_path: Path) -> None:
    array = np.array([[0.0, np.nan], [1.0, 2.0]])
    with pytest.raises(DataError, match="1 values are missing"):
        write_image(tmp_path / "x.png", RasterImage.from_array(array))


def test_npy_must_be_an_image_shape(tmp_path: Path) -> None:
    np.save(tmp_path / "vector.npy", np.zeros(5))
    with pytest.raises(ShapeError, match=r"must be 2-D \(H, W\) or \(C, H, W\); got shape \(5,\)"):
        read_image(tmp_path / "vector.npy")


def test_read_mask_thresholds_and_checks_its_size(tmp_path: Path) -> None:
    mask = np.zeros((4, 6), np.uint8)
    mask[1, 2:5] = 255
    mask[3, 0] = 100  # below half: known
    Image.fromarray(mask).save(tmp_path / "mask.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "mask.png", (4, 6)), mask == 255)
    with pytest.raises(ShapeError, match=r"mask .*mask\.png is 6x4 \(WxH\) but the image is 5x4"):
        read_mask(tmp_path / "mask.png", (4, 5))
