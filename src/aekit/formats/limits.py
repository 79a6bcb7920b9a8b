"""Memory limits shared by every reader, decoder and builder.

Readers and decoders estimate what they will allocate from a file's header *before* allocating, and refuse
above a limit with the estimate in the message (:func:`check_allocation`, :func:`check_pixels`). The limits
have documented defaults and can be raised through environment variables (see ``docs/safety.md``):

- ``AEKIT_MAX_MEMORY``: the largest single allocation a reader or builder may make, in bytes, with an
  optional ``K``/``M``/``G``/``T`` suffix (default ``8G``).
- ``AEKIT_MAX_PIXELS``: the largest image (height × width) a decoder may produce (default ``2**27``,
  about 134 million pixels, an 11585 × 11585 image).
"""

from __future__ import annotations

import math
import os

from aekit.errors import ConfigError, DataError

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "DEFAULT_MAX_PIXELS",
    "MAX_IMAGE_SIDE",
    "check_allocation",
    "check_pixels",
    "format_bytes",
    "max_memory",
    "max_pixels",
]

DEFAULT_MAX_MEMORY = 8 << 30
"""Default of ``AEKIT_MAX_MEMORY``: 8 GiB for one allocation."""
DEFAULT_MAX_PIXELS = 1 << 27
"""Default of ``AEKIT_MAX_PIXELS``: 134,217,728 pixels (e.g. 11585 × 11585)."""

MAX_IMAGE_SIDE = 16384
"""Largest side an image size setting (``--image-size``, ``image_size``) accepts; memory is checked as
well, from the number of images."""

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def format_bytes(n_bytes: float) -> str:
    """``3.2 GiB``-style text for a byte count."""
    value = float(n_bytes)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.0f} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"  # pragma: no cover - the loop returns


def _env_size(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    number, unit = text.rstrip("bBkKmMgGtTiI"), text[len(text.rstrip("bBkKmMgGtTiI")) :]
    unit = unit.lower().replace("i", "").rstrip("b") or ""
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if unit not in _UNITS or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"environment variable {name}={text!r} must be a positive size such as 8G or 2e8")
    return int(value * _UNITS[unit])


def max_memory() -> int:
    """The allocation limit in bytes: ``AEKIT_MAX_MEMORY`` or :data:`DEFAULT_MAX_MEMORY`."""
    return _env_size("AEKIT_MAX_MEMORY", DEFAULT_MAX_MEMORY)


def max_pixels() -> int:
    """The image size limit in pixels: ``AEKIT_MAX_PIXELS`` or :data:`DEFAULT_MAX_PIXELS`."""
    return _env_size("AEKIT_MAX_PIXELS", DEFAULT_MAX_PIXELS)


def check_allocation(n_bytes: float, what: str, *, limit: int | None = None) -> None:
    """Refuse to allocate ``n_bytes`` for ``what`` when it exceeds the limit (default :func:`max_memory`).

    Raises:
        DataError: Naming ``what``, the estimate and how to raise the limit.
    """
    limit = max_memory() if limit is None else limit
    if not math.isfinite(n_bytes) or n_bytes > limit:
        raise DataError(
            f"{what} would need about {format_bytes(n_bytes)} of memory, more than the limit of "
            f"{format_bytes(limit)}; set AEKIT_MAX_MEMORY (e.g. AEKIT_MAX_MEMORY=64G) to allow it"
        )


def check_pixels(height: int, width: int, what: str, *, limit: int | None = None) -> None:
    """Refuse an image of ``height × width`` pixels above the limit (default :func:`max_pixels`).

    Raises:
        DataError: Naming ``what``, its size and how to raise the limit.
    """
    how = "set AEKIT_MAX_PIXELS (e.g. AEKIT_MAX_PIXELS=4e8) to allow it"
    if limit is not None:  # given by the caller (compress --max-pixels, max_pixels=)
        how = "raise the limit given (--max-pixels / max_pixels) to allow it"
    limit = max_pixels() if limit is None else limit
    if height * width > limit:
        raise DataError(
            f"{what} is {width}×{height} = {height * width:,} pixels, more than the limit of {limit:,}; {how}"
        )
