"""Python API: any size, grey and RGB, float input, file helpers, and input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aekit.apps.compression import (
    CodecStateError,
    bits_per_pixel,
    compress_file,
    compress_image,
    decompress_file,
    decompress_image,
    image_psnr,
    read_header,
)
from aekit.apps.compression.bitstream import unpack
from aekit.errors import DataError, ShapeError
from aekit.models.compression import Codec
from aekit.models.registry import create


@pytest.mark.parametrize("shape", [(1, 1, 3), (37, 53, 3), (16, 16, 3), (5, 70, 3)])
def test_any_size_round_trips(tiny_codec: Codec, shape: tuple[int, int, int]) -> None:
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    data = compress_image(tiny_codec, image, level=1)
    restored = decompress_image(tiny_codec, data)
    assert restored.shape == shape and restored.dtype == np.uint8
    assert bits_per_pixel(data) == 8 * len(data) / (shape[0] * shape[1])


def test_decoding_is_deterministic_and_levels_trade_rate(tiny_codec: Codec, smooth_image: np.ndarray) -> None:
    low, high = (compress_image(tiny_codec, smooth_image, level=level) for level in (0, 1))
    assert compress_image(tiny_codec, smooth_image, level=0) == low
    assert np.array_equal(decompress_image(tiny_codec, low), decompress_image(tiny_codec, low))
    assert len(low) < len(high)
    assert compress_image(tiny_codec, smooth_image) == high  # default level = the best


def test_grey_images_through_an_rgb_codec(tiny_codec: Codec, smooth_image: np.ndarray) -> None:
    grey = smooth_image[..., 0]
    data = compress_image(tiny_codec, grey)
    assert read_header(data).channels == 1
    restored = decompress_image(tiny_codec, data)
    assert restored.shape == grey.shape
    # Coded exactly as the RGB image with three equal channels; only the header differs.
    replicated = compress_image(tiny_codec, np.repeat(grey[..., None], 3, axis=2))
    assert unpack(data)[1] == unpack(replicated)[1]
    assert read_header(replicated).channels == 3
    assert decompress_image(tiny_codec, compress_image(tiny_codec, grey[..., None])).shape == grey.shape


def test_float_input_equals_uint8_input(tiny_codec: Codec, smooth_image: np.ndarray) -> None:
    as_float = smooth_image.astype(np.float32) / 255
    assert compress_image(tiny_codec, as_float) == compress_image(tiny_codec, smooth_image)


def test_file_helpers(tmp_path: Path, tiny_codec: Codec, smooth_image: np.ndarray) -> None:
    source = tmp_path / "in.png"
    Image.fromarray(smooth_image).save(source)
    report = compress_file(tiny_codec, source, tmp_path / "out.aek", level=0)
    assert report.n_bytes == (tmp_path / "out.aek").stat().st_size
    assert report.bpp == pytest.approx(8 * report.n_bytes / (37 * 53))
    back = decompress_file(tiny_codec, tmp_path / "out.aek", tmp_path / "back.png")
    assert (back.height, back.width, back.channels) == (37, 53, 3)
    restored = np.asarray(Image.open(tmp_path / "back.png"))
    assert np.array_equal(restored, decompress_image(tiny_codec, (tmp_path / "out.aek").read_bytes()))
    Image.fromarray(smooth_image[..., 0]).save(tmp_path / "grey.png")
    assert compress_file(tiny_codec, tmp_path / "grey.png", tmp_path / "grey.aek").channels == 1
    with pytest.raises(DataError, match="does not exist"):
        compress_file(tiny_codec, tmp_path / "missing.png", tmp_path / "x.aek")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match="is not a readable image"):
        compress_file(tiny_codec, tmp_path / "bad.png", tmp_path / "x.aek")
    (tmp_path / "cut.png").write_bytes((tmp_path / "grey.png").read_bytes()[:80])  # data cut short
    with pytest.raises(DataError, match=r"cannot read image .*cut\.png \(unreadable, truncated or corrupt\)"):
        compress_file(tiny_codec, tmp_path / "cut.png", tmp_path / "x.aek")
    assert not (tmp_path / "x.aek").exists()


def test_input_errors(tiny_codec: Codec, tiny_config) -> None:
    with pytest.raises(
        ShapeError, match=r"image must have shape \(H, W\), \(H, W, 1\) or \(H, W, 3\); got \(4, 4, 4\)"
    ):
        compress_image(tiny_codec, np.zeros((4, 4, 4), dtype=np.uint8))
    with pytest.raises(DataError, match=r"float images must be in \[0, 1\]"):
        compress_image(tiny_codec, np.full((4, 4), 2.0))
    with pytest.raises(DataError, match="NaN or infinite"):
        compress_image(tiny_codec, np.full((4, 4), np.nan))
    with pytest.raises(TypeError, match="uint8, or float in \\[0, 1\\]; got dtype int64"):
        compress_image(tiny_codec, np.zeros((4, 4), dtype=np.int64))
    with pytest.raises(DataError, match="image is empty"):
        compress_image(tiny_codec, np.zeros((0, 4), dtype=np.uint8))
    with pytest.raises(DataError, match=r"level must be an int in \[0, 1\]; got 2"):
        compress_image(tiny_codec, np.zeros((4, 4), dtype=np.uint8), level=2)
    stale = create("codec", seed=0, **tiny_config.to_dict())
    with pytest.raises(CodecStateError, match=r"call model\.update_tables\(\)"):
        compress_image(stale, np.zeros((4, 4), dtype=np.uint8))
    grey_codec = create("codec", seed=0, **tiny_config.replace(input_shape=(1, 16, 16)).to_dict())
    grey_codec.update_tables()
    with pytest.raises(ShapeError, match="this codec codes grey images"):
        compress_image(grey_codec, np.zeros((4, 4, 3), dtype=np.uint8))
    assert decompress_image(grey_codec, compress_image(grey_codec, np.zeros((4, 4), np.uint8))).shape == (
        4,
        4,
    )


def test_lossy_but_sane(tiny_codec: Codec, smooth_image: np.ndarray) -> None:
    restored = decompress_image(tiny_codec, compress_image(tiny_codec, smooth_image))
    assert np.isfinite(image_psnr(smooth_image, restored))


def test_sixteen_bit_grey_is_coded_as_its_eight_bit_rounding(
    tmp_path: Path, tiny_codec: Codec, smooth_image: np.ndarray
) -> None:
    grey8 = smooth_image[..., 0]
    deep = grey8.astype(np.uint16) * 257 + np.where(grey8 < 255, 100, 0).astype(np.uint16)  # rounds back down
    Image.fromarray(deep).save(tmp_path / "deep.png")  # a 16-bit grey PNG (mode I;16)
    Image.fromarray(grey8).save(tmp_path / "grey.png")
    deep_report = compress_file(tiny_codec, tmp_path / "deep.png", tmp_path / "deep.aek", level=0)
    compress_file(tiny_codec, tmp_path / "grey.png", tmp_path / "grey.aek", level=0)
    assert deep_report.channels == 1
    assert (tmp_path / "deep.aek").read_bytes() == (tmp_path / "grey.aek").read_bytes()
    Image.fromarray(np.full((8, 8), 70000, dtype=np.int32)).save(tmp_path / "wide.tif")  # 32-bit integers
    with pytest.raises(DataError, match=r"wide\.tif has values outside 0\.\.65535"):
        compress_file(tiny_codec, tmp_path / "wide.tif", tmp_path / "wide.aek")


def test_sixteen_bit_colour_and_grey_alpha_are_read_like_every_image(
    tmp_path: Path, tiny_codec: Codec, smooth_image: np.ndarray
) -> None:
    """The codec reads files with aekit's one image reader: 16-bit grey+alpha PNG is coded as grey (Pillow
    opened it as RGBA) and 16-bit colour is rounded to 8 bits (Pillow truncated 255 → 0, not 1)."""
    from aekit.formats.images import encode_png

    grey8 = smooth_image[..., 0]
    grey16 = grey8.astype(np.uint16) * 257 + np.where(grey8 < 255, 100, 0).astype(np.uint16)
    opaque = np.full_like(grey16, 65535)
    (tmp_path / "la.png").write_bytes(encode_png(np.stack([grey16, opaque], -1)))
    Image.fromarray(grey8).save(tmp_path / "grey.png")
    report = compress_file(tiny_codec, tmp_path / "la.png", tmp_path / "la.aek", level=0)
    compress_file(tiny_codec, tmp_path / "grey.png", tmp_path / "grey.aek", level=0)
    assert report.channels == 1
    assert (tmp_path / "la.aek").read_bytes() == (tmp_path / "grey.aek").read_bytes()
    colour16 = smooth_image.astype(np.uint16) * 257 + np.where(smooth_image < 255, 129, 0).astype(np.uint16)
    (tmp_path / "rgb16.png").write_bytes(encode_png(colour16))
    rounded = np.minimum(smooth_image.astype(np.uint16) + (smooth_image < 255), 255).astype(np.uint8)
    Image.fromarray(rounded).save(tmp_path / "rounded.png")
    compress_file(tiny_codec, tmp_path / "rgb16.png", tmp_path / "rgb16.aek", level=0)
    compress_file(tiny_codec, tmp_path / "rounded.png", tmp_path / "rounded.aek", level=0)
    assert (tmp_path / "rgb16.aek").read_bytes() == (tmp_path / "rounded.aek").read_bytes()
    np.save(tmp_path / "channels_last.npy", smooth_image)  # (H, W, 3): read as H channels
    with pytest.raises(ShapeError, match=r"channels_last\.npy: an array must be \(H, W\) or \(C, H, W\)"):
        compress_file(tiny_codec, tmp_path / "channels_last.npy", tmp_path / "c.aek")
