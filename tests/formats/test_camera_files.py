"""Photographs as cameras and the web write them: every reader turns EXIF-rotated files upright, refuses
files of several frames with one line, and reads WebP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aekit.apps.compression import compress_file, decompress_file
from aekit.apps.compression.images import load_photo_folder
from aekit.data.images import load_image_folder
from aekit.errors import DataError
from aekit.formats.images import read_image
from aekit.models.compression import Codec

ROTATE_90_CLOCKWISE = 6  # EXIF orientation: the stored picture is shown turned a quarter clockwise


def _picture(height: int = 20, width: int = 30) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _save_rotated(path: Path, pixels: np.ndarray) -> None:
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = ROTATE_90_CLOCKWISE
    image.save(path, exif=exif)


def _as_shown(pixels: np.ndarray) -> np.ndarray:
    return np.rot90(pixels, k=-1)


def _read_image_hwc(path: Path) -> np.ndarray:
    return read_image(path).raw.transpose(1, 2, 0)


def _read_training_folder(path: Path) -> np.ndarray:
    data = load_image_folder(path.parent, mode="RGB")
    return data.data.x[0].numpy().transpose(1, 2, 0).astype(np.uint8)


def _read_photo_folder(path: Path) -> np.ndarray:
    return load_photo_folder(path.parent)[path.name]


READERS: dict[str, Callable[[Path], np.ndarray]] = {
    "read_image": _read_image_hwc,
    "load_image_folder": _read_training_folder,
    "load_photo_folder": _read_photo_folder,
}


@pytest.mark.parametrize("reader", READERS)
def test_exif_rotated_photographs_are_read_as_shown(tmp_path: Path, reader: str) -> None:
    pixels = _picture()
    (tmp_path / "photos").mkdir()
    path = tmp_path / "photos" / "portrait.png"
    _save_rotated(path, pixels)
    np.testing.assert_array_equal(READERS[reader](path), _as_shown(pixels))


def test_a_rotated_jpeg_is_shown_upright_after_a_round_trip_through_the_codec(
    tmp_path: Path, tiny_codec: Codec
) -> None:
    _save_rotated(tmp_path / "phone.jpg", _picture(16, 40))
    compress_file(tiny_codec, tmp_path / "phone.jpg", tmp_path / "phone.aek")
    decompress_file(tiny_codec, tmp_path / "phone.aek", tmp_path / "phone.png")
    with Image.open(tmp_path / "phone.png") as decoded:
        assert decoded.size == (16, 40)  # (width, height): upright, as viewers show the JPEG


@pytest.mark.parametrize("suffix", [".tif", ".webp"])
@pytest.mark.parametrize("reader", READERS)
def test_files_of_several_frames_are_refused_naming_the_file(
    tmp_path: Path, suffix: str, reader: str
) -> None:
    frames = [Image.fromarray(_picture()), Image.fromarray(255 - _picture())]
    (tmp_path / "photos").mkdir()
    path = tmp_path / "photos" / f"stack{suffix}"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.raises(DataError, match=rf"stack\{suffix} holds 2 frames"):
        READERS[reader](path)


def test_a_multi_picture_jpeg_is_read_as_its_primary_picture(tmp_path: Path) -> None:
    primary, second = _picture(), 255 - _picture()
    path = tmp_path / "camera.mpo"
    Image.fromarray(primary).save(path, format="MPO", save_all=True, append_images=[Image.fromarray(second)])
    jpeg = tmp_path / "camera.jpg"
    path.rename(jpeg)
    with Image.open(jpeg) as opened:
        assert opened.format == "MPO" and opened.n_frames == 2
        first = np.asarray(opened.convert("RGB"))
    np.testing.assert_array_equal(_read_image_hwc(jpeg), first)


@pytest.mark.parametrize("reader", READERS)
def test_webp_is_an_image_format_of_every_reader(tmp_path: Path, reader: str) -> None:
    pixels = _picture()
    (tmp_path / "photos").mkdir()
    path = tmp_path / "photos" / "web.webp"
    Image.fromarray(pixels).save(path, lossless=True)
    np.testing.assert_array_equal(READERS[reader](path), pixels)


def test_the_photo_folder_skips_other_files_and_names_a_broken_photo(tmp_path: Path) -> None:
    Image.fromarray(_picture()).save(tmp_path / "a.png")
    (tmp_path / "LICENSE.txt").write_text("photographs under CC BY")
    assert list(load_photo_folder(tmp_path)) == ["a.png"]
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(DataError, match=r"b\.jpg"):
        load_photo_folder(tmp_path)
