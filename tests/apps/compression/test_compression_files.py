"""``compress_file`` / ``decompress_file``: paths they cannot use are refused in one teaching line, before
any coding, and nothing is left behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aekit.apps.compression import compress_file, compress_image, decompress_file
from aekit.errors import DataError
from aekit.models.compression import Codec


def test_an_output_that_is_a_folder_or_below_a_file_is_refused_before_coding(
    tmp_path: Path, tiny_codec: Codec, smooth_image: np.ndarray
) -> None:
    source = tmp_path / "photo.png"
    Image.fromarray(smooth_image).save(source)
    (tmp_path / "x.aek").mkdir()
    with pytest.raises(DataError, match=r"x\.aek: it is an existing folder; give the name of a file"):
        compress_file(tiny_codec, source, tmp_path / "x.aek")
    with pytest.raises(DataError, match=r"photo\.png is a file, not a folder"):
        compress_file(tiny_codec, source, source / "x.aek")

    packed = tmp_path / "photo.aek"
    packed.write_bytes(compress_image(tiny_codec, smooth_image))
    (tmp_path / "x.png").mkdir()
    with pytest.raises(DataError, match=r"x\.png: it is an existing folder"):
        decompress_file(tiny_codec, packed, tmp_path / "x.png")
    with pytest.raises(DataError, match=r"photo\.aek is a file, not a folder"):
        decompress_file(tiny_codec, packed, packed / "x.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.aek", "photo.png", "x.aek", "x.png"]
    assert not any((tmp_path / "x.aek").iterdir()) and not any((tmp_path / "x.png").iterdir())


def test_a_folder_named_like_an_aek_file_is_not_said_to_be_missing(tmp_path: Path, tiny_codec: Codec) -> None:
    (tmp_path / "x.aek").mkdir()
    with pytest.raises(DataError, match=r"x\.aek is a folder, not an \.aek file"):
        decompress_file(tiny_codec, tmp_path / "x.aek", tmp_path / "x.png")


def test_an_image_format_that_cannot_hold_the_image_is_one_error_and_no_file(
    tmp_path: Path, tiny_codec: Codec, smooth_image: np.ndarray
) -> None:
    packed = tmp_path / "photo.aek"
    packed.write_bytes(compress_image(tiny_codec, smooth_image))
    with pytest.raises(DataError, match=r"cannot write .*x\.xbm as XBM: .*; use e\.g\. \.png"):
        decompress_file(tiny_codec, packed, tmp_path / "x.xbm")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.aek"]
