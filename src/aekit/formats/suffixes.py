"""The one suffix registry: which file names are which format, and which formats each reader takes.

Every reader and writer of user files asks this module which suffixes it accepts, so a format that one
command reads is read by every command that takes that kind of data (a ``.tsv`` table trains, encodes,
decodes and detects alike). Suffixes match case-insensitively and the longest wins (``x.csv.gz`` is
``csv``, not unknown).

>>> format_of("scores.TSV")
'tsv'
>>> kind_of("codes.csv.gz")
'table'
>>> suffixes("table")
('.csv', '.csv.gz', '.tsv', '.tsv.gz', '.parquet', '.pq')
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from aekit.errors import DataError

__all__ = [
    "FORMATS",
    "KINDS",
    "Kind",
    "format_of",
    "kind_of",
    "require_format",
    "suffixes",
]

Kind = Literal["array", "table", "image", "audio", "compressed"]

FORMATS = MappingProxyType(
    {
        # arrays
        "npy": (".npy",),
        "npz": (".npz",),
        # tables
        "csv": (".csv", ".csv.gz"),
        "tsv": (".tsv", ".tsv.gz"),
        "parquet": (".parquet", ".pq"),
        # images
        "png": (".png",),
        "jpeg": (".jpg", ".jpeg"),
        "tiff": (".tif", ".tiff"),
        "bmp": (".bmp",),
        "webp": (".webp",),
        # sounds
        "wav": (".wav",),
        "flac": (".flac",),
        "ogg": (".ogg",),
        "aiff": (".aiff", ".aif"),
        # images compressed by aekit's codecs
        "aek": (".aek",),
    }
)
"""Format name → its suffixes (lower case, compressed variants included)."""

KINDS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "array": ("npy", "npz"),
        "table": ("csv", "tsv", "parquet"),
        "image": ("png", "jpeg", "tiff", "bmp", "webp"),
        "audio": ("wav", "flac", "ogg", "aiff"),
        "compressed": ("aek",),
    }
)
"""Kind of data → its format names."""

_KIND_OF = {name: kind for kind, names in KINDS.items() for name in names}
# longest suffix first, so ".csv.gz" wins over a hypothetical ".gz"
_BY_SUFFIX = sorted(((s, n) for n, group in FORMATS.items() for s in group), key=lambda p: -len(p[0]))


def _names(kinds_or_formats: Iterable[str]) -> tuple[str, ...]:
    names: list[str] = []
    for item in kinds_or_formats:
        if item in KINDS:
            names += KINDS[item]
        elif item in FORMATS:
            names.append(item)
        else:
            raise KeyError(f"unknown kind or format {item!r}; known: {', '.join([*KINDS, *FORMATS])}")
    return tuple(dict.fromkeys(names))


def suffixes(*kinds_or_formats: str) -> tuple[str, ...]:
    """The suffixes of the given kinds (``"table"``) and formats (``"npy"``), in registry order."""
    return tuple(s for name in _names(kinds_or_formats) for s in FORMATS[name])


def format_of(path: str | os.PathLike[str]) -> str | None:
    """The format name of ``path`` by its suffix (``"csv"`` for ``x.CSV.gz``), or None when unknown."""
    name = Path(path).name.lower()
    return next((fmt for suffix, fmt in _BY_SUFFIX if name.endswith(suffix)), None)


def kind_of(path: str | os.PathLike[str]) -> str | None:
    """The kind of data ``path`` holds by its suffix (``"array"``, ``"table"``, ...), or None."""
    fmt = format_of(path)
    return None if fmt is None else _KIND_OF[fmt]


def require_format(path: str | os.PathLike[str], *accepted: str, what: str = "file") -> str:
    """The format of ``path`` when it is one of ``accepted`` (kinds or format names).

    Raises:
        DataError: ``"x.txt: unsupported file type '.txt'; <what> must end with one of .npy, …"``.
    """
    names = _names(accepted)
    fmt = format_of(path)
    if fmt not in names:
        found = repr(Path(path).suffix) if Path(path).suffix else "(none)"
        raise DataError(
            f"{path}: unsupported file type {found}; {what} must end with one of "
            f"{', '.join(suffixes(*names))}"
        )
    assert fmt is not None
    return fmt
