from __future__ import annotations

import gzip

import numpy as np
import pytest

from aekit.data import read_idx, write_idx
from aekit.errors import DataError


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("suffix", ["idx", "idx.gz"])
def test_round_trip_keeps_values_shape_and_dtype(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    path = write_idx(tmp_path / f"a.{suffix}", array)
    loaded = read_idx(path)
    assert loaded.dtype == np.dtype(dtype)
    assert loaded.dtype.isnative
    assert loaded.flags.writeable
    np.testing.assert_array_equal(loaded, array)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    (tmp_path / "a.gz").rename(tmp_path / "renamed.idx")
    np.testing.assert_array_equal(read_idx(tmp_path / "renamed.idx"), array)


def test_header_layout_matches_the_format(tmp_path):
    path = write_idx(tmp_path / "labels.idx", np.array([7, 2, 1], dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1])


def test_wrong_magic_is_reported(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"<html>not an idx file</html>")
    with pytest.raises(DataError, match=r"bad\.idx has wrong magic number 0x3c68746d"):
        read_idx(path)


def test_unknown_dtype_code_is_wrong_magic(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(DataError, match="wrong magic number 0x00000701"):
        read_idx(path)


def test_truncated_payload_is_reported(tmp_path):
    path = write_idx(tmp_path / "images.idx", np.zeros((4, 5, 5), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(
        DataError, match=r"images\.idx is truncated: shape \(4, 5, 5\) needs 100 bytes.*found 93"
    ):
        read_idx(path)


def test_truncated_header_is_reported(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(bytes([0, 0, 0x08, 3, 0, 0, 0, 1]))
    with pytest.raises(DataError, match="truncated: the header needs 16 bytes for 3 dimensions"):
        read_idx(path)


def test_trailing_bytes_are_reported(tmp_path):
    path = write_idx(tmp_path / "long.idx", np.zeros(3, dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"xx")
    with pytest.raises(DataError, match="2 unexpected trailing bytes"):
        read_idx(path)


def test_corrupt_gzip_is_reported(tmp_path):
    payload = gzip.compress(bytes([0, 0, 8, 1, 0, 0, 1, 0]) + bytes(256))
    path = tmp_path / "broken.idx.gz"
    path.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(DataError, match=r"broken\.idx\.gz is not a valid gzip file"):
        read_idx(path)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(DataError, match=r"cannot read IDX file .*nope\.idx"):
        read_idx(tmp_path / "nope.idx")


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(DataError, match="cannot store dtype int64"):
        write_idx(tmp_path / "a.idx", np.zeros(3, dtype=np.int64))


def test_real_mnist_labels_parse(mnist_dir):
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,)
    assert labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
