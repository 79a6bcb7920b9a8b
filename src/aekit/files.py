"""Atomic file writes: a temp file in the same folder, flushed and fsynced, then ``os.replace``.

A crash or kill mid-write leaves the previous file intact, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text"]


def _default_mode() -> int:
    """The permissions ``open()`` would give a new file (``mkstemp`` alone gives owner-only 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    Use it for writers that insist on a file name (safetensors, Pillow, pandas).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        with open(temp, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temp, target.stat().st_mode & 0o777 if target.exists() else _default_mode())
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def _atomic_write(path: str | os.PathLike[str], mode: str, write: Callable[[IO], object]) -> None:
    with atomic_path(path) as temp, open(temp, mode) as handle:
        write(handle)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    _atomic_write(path, "wb", lambda handle: handle.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    _atomic_write(path, "w", lambda handle: handle.write(text))
