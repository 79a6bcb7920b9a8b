"""The .aek format: header round trip, every clear error, and a decoder fuzz test."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aekit.apps.compression import (
    CodecFileError,
    CodecHeader,
    compress_image,
    decompress_image,
    model_fingerprint,
    read_header,
)
from aekit.apps.compression.bitstream import FORMAT_VERSION, MAGIC, pack, unpack
from aekit.errors import DataError
from aekit.models.compression import Codec
from aekit.models.registry import create


@pytest.fixture(scope="module")
def valid_file(tiny_codec: Codec, smooth_image: np.ndarray) -> bytes:
    return compress_image(tiny_codec, smooth_image, level=0)


def _recrc(data: bytes) -> bytes:
    body = data[:-4]
    return body + struct.pack("<I", zlib.crc32(body))


def test_header_round_trip() -> None:
    header = CodecHeader(
        height=5, width=700, channels=1, level=3, model_name="codec", fingerprint=bytes(range(32))
    )
    parsed, payload = unpack(pack(header, b"\x01\x02\x03\x04"))
    assert parsed == header and payload == b"\x01\x02\x03\x04"
    with pytest.raises(DataError, match="channels must be 1 or 3; got 2"):
        CodecHeader(height=5, width=5, channels=2, level=0, model_name="codec", fingerprint=bytes(32))


def test_file_records_image_and_model(valid_file: bytes, tiny_codec: Codec, smooth_image: np.ndarray) -> None:
    header = read_header(valid_file)
    assert valid_file.startswith(MAGIC) and valid_file[4] == 1  # one tile: the single-stream format 1
    assert (header.height, header.width, header.channels, header.level) == (37, 53, 3, 0)
    assert header.model_name == "codec" and header.fingerprint == model_fingerprint(tiny_codec)


def test_clear_errors(valid_file: bytes, tiny_codec: Codec, tiny_config) -> None:
    with pytest.raises(CodecFileError, match="not an aekit compressed file"):
        decompress_image(tiny_codec, b"\x89PNG\r\n\x1a\n" + valid_file)
    newer = valid_file[:4] + bytes([FORMAT_VERSION + 1]) + valid_file[5:]
    newer_message = f"format version {FORMAT_VERSION + 1}, newer than this aekit supports"
    with pytest.raises(CodecFileError, match=newer_message):
        decompress_image(tiny_codec, newer)
    with pytest.raises(CodecFileError, match="truncated"):
        decompress_image(tiny_codec, valid_file[:-7])
    with pytest.raises(CodecFileError, match="truncated"):
        decompress_image(tiny_codec, valid_file[:9])
    with pytest.raises(CodecFileError, match="trailing bytes"):
        decompress_image(tiny_codec, valid_file + b"\x00")
    altered = bytearray(valid_file)
    altered[len(altered) // 2] ^= 0x10
    with pytest.raises(CodecFileError, match="CRC-32 checksum does not match"):
        decompress_image(tiny_codec, bytes(altered))
    other = create("codec", seed=1, **tiny_config.to_dict())
    other.update_tables()
    with pytest.raises(
        CodecFileError, match=r"made by model 'codec' with weights sha256 .*decode it with the model"
    ):
        decompress_image(other, valid_file)
    # A consistent file (valid CRC) whose payload was swapped for garbage still fails clearly.
    header, _ = unpack(valid_file)
    with pytest.raises(CodecFileError, match="payload cannot be decoded"):
        decompress_image(tiny_codec, pack(header, b"\x01\x00\x00\x00" * 3))


def _decode_or_clear_error(codec: Codec, data: bytes) -> None:
    try:
        image = decompress_image(codec, data, max_pixels=100_000)
    except CodecFileError:
        return
    assert image.dtype == np.uint8 and image.ndim in (2, 3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_fuzz_random_bytes(tiny_codec: Codec, data: bytes) -> None:
    _decode_or_clear_error(tiny_codec, data)
    _decode_or_clear_error(tiny_codec, MAGIC + data)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=4),
    cut=st.integers(min_value=0),
    fix_crc=st.booleans(),
)
def test_fuzz_mutated_valid_files(
    tiny_codec: Codec, valid_file: bytes, edits, cut: int, fix_crc: bool
) -> None:
    data = bytearray(valid_file)
    for position, value in edits:
        data[position % len(data)] = value
    data = bytes(data[: len(data) - cut % 8]) if cut % 3 == 0 else bytes(data)
    # With the CRC recomputed the decoder must still catch inconsistent headers and payloads.
    _decode_or_clear_error(tiny_codec, _recrc(data) if fix_crc and len(data) > 4 else data)
