"""The ``.aek`` file format: a small self-checking header around the entropy-coded payload.

Layout, little-endian, format version 1::

    offset  size  field
    0       4     magic b"AEKC"
    4       1     format version (1)
    5       1     image channels (1 = grey, 3 = RGB)
    6       1     quality level (index into the model's λ values)
    7       1     reserved, 0
    8       4     image height (pixels)
    12      4     image width (pixels)
    16      1     n = length of the model's registry name
    17      n     registry name (UTF-8)
    17+n    32    SHA-256 fingerprint of the model's state (weights and probability tables)
    49+n    4     payload length p (bytes)
    53+n    p     payload (ANS words, see :mod:`aekit.apps.compression.coder`)
    53+n+p  4     CRC-32 of every byte before it (header and payload)

Format version 2 has the same layout; only the payload differs. Version 1 (written for images whose
latent fits one tile, up to 1024 × 1024 pixels with the shipped codecs) holds one entropy-coded stream
of all latent symbols. Version 2 cuts the latent into tiles of :data:`TILE` × :data:`TILE` latent
positions, row-major, and holds one stream per tile, each preceded by its length in bytes (4 bytes,
little-endian), so a decoder needs only a few tiles' symbols at a time: memory stays bounded by the tile,
not the image.

Format version 3 (the mean-scale hyperprior codec, ``codec_hyperprior``) has the same header and the
tiled layout of version 2, always, even for one tile; each tile's stream holds two segments (see
:func:`aekit.apps.compression.coder.encode_segments`): the tile's hyper-latent symbols, channel by
channel, then its latent symbols grouped by the scale table the exact integer hyper-synthesis assigns
them. Files of formats 1 and 2 are made by the factorized codec (``codec``) and decode with it; the
model name in the header says which codec a file needs.

The version is checked right after the magic (a newer layout may move every later field), then the
length, then the CRC, then the field values, and only then does decoding start; each failure is a
:class:`CodecFileError` naming what is wrong.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib

from aekit.errors import DataError

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_PIXELS",
    "TILE",
    "CodecFileError",
    "CodecHeader",
    "pack",
    "split_tiles",
    "unpack",
]

MAGIC = b"AEKC"
FORMAT_VERSION = 3
TILE = 64
"""Side of a format-2 tile in latent positions (1024 pixels with a codec that downsamples 16×)."""
MAX_PIXELS = 1 << 28
"""Largest image (height × width) a file may declare; guards against absurd allocations."""

_FIXED = struct.Struct("<4sBBBBIIB")
_FINGERPRINT_BYTES = 32


class CodecFileError(DataError):
    """A compressed file is not an aekit file, is truncated, altered, too new, or made by another model."""


@dataclasses.dataclass(frozen=True)
class CodecHeader:
    """What a compressed file declares about its image and the model that made it.

    Attributes:
        height, width: Image size in pixels.
        channels: 1 (grey) or 3 (RGB): the layout of the decoded image.
        level: Quality level the image was coded at.
        model_name: Registry name of the model (``"codec"``).
        fingerprint: SHA-256 of the model's state, 32 bytes.
        format_version: 1 (one stream) or 2 (one stream per tile), factorized codec; 3 (one stream per
            tile, hyperprior codec).
    """

    height: int
    width: int
    channels: int
    level: int
    model_name: str
    fingerprint: bytes
    format_version: int = 1

    def __post_init__(self) -> None:
        if self.format_version not in (1, 2, 3):
            raise DataError(f"format_version must be 1, 2 or 3; got {self.format_version}")
        if not 0 < self.height < 1 << 32 or not 0 < self.width < 1 << 32:
            raise DataError(f"height and width must be in [1, 2**32); got {self.height}×{self.width}")
        if self.height * self.width > MAX_PIXELS:
            raise DataError(f"images may have at most {MAX_PIXELS} pixels; got {self.height}×{self.width}")
        if self.channels not in (1, 3):
            raise DataError(f"channels must be 1 or 3; got {self.channels}")
        if not 0 <= self.level < 256:
            raise DataError(f"level must be in [0, 255]; got {self.level}")
        name = self.model_name.encode("utf-8")
        if not 0 < len(name) < 256:
            raise DataError(f"model_name must be 1 to 255 UTF-8 bytes; got {self.model_name!r}")
        if len(self.fingerprint) != _FINGERPRINT_BYTES:
            raise DataError(f"fingerprint must be {_FINGERPRINT_BYTES} bytes; got {len(self.fingerprint)}")

    @property
    def fingerprint_hex(self) -> str:
        """The fingerprint as hex text."""
        return self.fingerprint.hex()


def pack(header: CodecHeader, payload: bytes) -> bytes:
    """Serialise ``header`` and ``payload`` into a complete file (with CRC-32)."""
    name = header.model_name.encode("utf-8")
    body = b"".join(
        [
            _FIXED.pack(
                MAGIC,
                header.format_version,
                header.channels,
                header.level,
                0,
                header.height,
                header.width,
                len(name),
            ),
            name,
            header.fingerprint,
            struct.pack("<I", len(payload)),
            payload,
        ]
    )
    return body + struct.pack("<I", zlib.crc32(body))


def unpack(data: bytes) -> tuple[CodecHeader, bytes]:
    """Parse and verify a file; returns its header and payload.

    Raises:
        CodecFileError: Not an aekit file (magic), a newer or unknown format version, truncated or with
            trailing bytes, a CRC mismatch (altered or corrupt), or header values out of range.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes; got {type(data).__name__}")
    data = bytes(data)
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise CodecFileError(
            f"not an aekit compressed file (expected magic bytes {MAGIC!r}; got {data[:4]!r})"
        )
    if len(data) < len(MAGIC) + 1:
        raise CodecFileError("the file is truncated (it ends inside the header)")
    version = data[len(MAGIC)]
    if version > FORMAT_VERSION:
        raise CodecFileError(
            f"the file uses format version {version}, newer than this aekit supports ({FORMAT_VERSION}); "
            "upgrade aekit to decode it"
        )
    if version < 1:
        raise CodecFileError(f"invalid format version {version} (supported: 1 to {FORMAT_VERSION})")
    if len(data) < _FIXED.size:
        raise CodecFileError(
            f"the file is truncated: {len(data)} bytes, shorter than the {_FIXED.size}-byte header"
        )
    _, _, channels, level, reserved, height, width, name_length = _FIXED.unpack_from(data)
    length_at = _FIXED.size + name_length + _FINGERPRINT_BYTES
    if len(data) < length_at + 4:
        raise CodecFileError(f"the file is truncated: {len(data)} bytes end inside the header")
    (payload_length,) = struct.unpack_from("<I", data, length_at)
    expected = length_at + 4 + payload_length + 4
    if len(data) < expected:
        raise CodecFileError(f"the file is truncated: {len(data)} bytes, but its header announces {expected}")
    if len(data) > expected:
        raise CodecFileError(
            f"the file has {len(data) - expected} unexpected trailing bytes after its checksum"
        )
    (stored_crc,) = struct.unpack_from("<I", data, expected - 4)
    if zlib.crc32(data[: expected - 4]) != stored_crc:
        raise CodecFileError("the file is corrupt or was altered: its CRC-32 checksum does not match")
    if reserved != 0:
        raise CodecFileError(f"invalid header: reserved byte must be 0; got {reserved}")
    name_bytes = data[_FIXED.size : _FIXED.size + name_length]
    try:
        model_name = name_bytes.decode("utf-8")
        header = CodecHeader(
            height=height,
            width=width,
            channels=channels,
            level=level,
            model_name=model_name,
            fingerprint=data[_FIXED.size + name_length : length_at],
            format_version=version,
        )
    except (UnicodeDecodeError, DataError) as error:
        raise CodecFileError(f"invalid header: {error}") from None
    return header, data[length_at + 4 : expected - 4]


def split_tiles(payload: bytes, n_tiles: int) -> list[tuple[int, int]]:
    """``(start, stop)`` byte ranges of the ``n_tiles`` streams of a format-2 payload.

    Raises:
        CodecFileError: The length prefixes do not add up to the payload exactly (truncated, padded or
            made for another image size), or a stream is empty or not whole 32-bit words.
    """
    ranges = []
    position = 0
    for index in range(n_tiles):
        if position + 4 > len(payload):
            raise CodecFileError(f"the payload ends before tile {index} of {n_tiles}: the stream runs out")
        (length,) = struct.unpack_from("<I", payload, position)
        start, position = position + 4, position + 4 + length
        if length == 0 or length % 4 or position > len(payload):
            raise CodecFileError(
                f"tile {index} of {n_tiles} declares {length} bytes, which the payload cannot hold"
            )
        ranges.append((start, position))
    if position != len(payload):
        raise CodecFileError(f"the payload has {len(payload) - position} bytes after its last tile")
    return ranges
