"""Reader and writer for IDX files, the format MNIST and Fashion-MNIST are published in.

An IDX file is a 4-byte magic number (two zero bytes, a dtype code, the number of dimensions), one
big-endian ``uint32`` per dimension, then the values in C order, big-endian. Files may be gzipped.
The reader checks every part of that layout, because a silently mis-parsed download (a truncated
file, an HTML error page saved under the right name) would otherwise train on garbage.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from aekit.errors import DataError

__all__ = ["read_idx", "write_idx"]

# IDX dtype code -> big-endian numpy dtype, as defined by the format.
_CODE_TO_DTYPE: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _decompress(raw: bytes, path: Path) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"IDX file {path} is not a valid gzip file (corrupt or truncated): {error}") from None


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzipped (detected by content, not name) or not.

    Args:
        path: The ``.idx*`` or ``.gz`` file.

    Returns:
        A writable array in native byte order with the shape stored in the file.

    Raises:
        DataError: The file is missing, is corrupt gzip, has a wrong magic number or an unknown dtype
            code, or its payload is shorter or longer than its dimensions say.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read IDX file {path}: {error.strerror or error}") from None
    if raw[:2] == _GZIP_MAGIC:
        raw = _decompress(raw, path)
    if len(raw) < 4:
        raise DataError(
            f"IDX file {path} is truncated: {len(raw)} bytes, shorter than the 4-byte magic number"
        )
    zero, code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or code not in _CODE_TO_DTYPE or ndim == 0:
        raise DataError(
            f"IDX file {path} has wrong magic number 0x{raw[:4].hex()}; expected 0x0000 + a dtype code "
            f"({', '.join(f'0x{c:02x}' for c in _CODE_TO_DTYPE)}) + the number of dimensions (>= 1)"
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataError(
            f"IDX file {path} is truncated: the header needs {header_size} bytes for {ndim} dimensions; "
            f"the file has {len(raw)}"
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _CODE_TO_DTYPE[code]
    expected = math.prod(shape) * dtype.itemsize
    found = len(raw) - header_size
    if found < expected:
        raise DataError(
            f"IDX file {path} is truncated: shape {shape} needs {expected} bytes of data; found {found}"
        )
    if found > expected:
        raise DataError(
            f"IDX file {path} has {found - expected} unexpected trailing bytes after the {expected} bytes "
            f"that shape {shape} needs"
        )
    values = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=header_size)
    return values.reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file; gzipped when ``path`` ends in ``.gz``.

    Written to a temporary file in the same folder first and then renamed, so readers never see half a
    file.

    Args:
        path: Destination file.
        array: Values of a dtype the format supports (uint8, int8, int16, int32, float32, float64), at
            least one dimension.

    Returns:
        The path written.

    Raises:
        DataError: ``array`` has an unsupported dtype or no dimensions.
    """
    path = Path(path)
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in _CODE_TO_DTYPE.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        supported = ", ".join(str(d) for d in codes)
        raise DataError(f"write_idx cannot store dtype {array.dtype}; supported dtypes: {supported}")
    if array.ndim == 0 or array.ndim > 255:
        raise DataError(f"write_idx needs an array with 1 to 255 dimensions; got shape {array.shape}")
    header = bytes([0, 0, codes[native], array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    payload = header + np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[codes[native]]).tobytes()
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(payload)
    os.replace(temporary, path)
    return path
