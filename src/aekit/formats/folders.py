"""Finding the files of a folder that a reader takes, in the one order every reader uses.

Hidden files (names starting with ``.``) are skipped; files are sorted by path. A folder either holds
its files at the top level (no labels) or in class sub-folders (``cats/``, ``dogs/``: label = index of
the sub-folder in sorted order), never both.
"""

from __future__ import annotations

import os
from pathlib import Path

from aekit.errors import DataError
from aekit.formats.suffixes import format_of, suffixes

__all__ = ["LabelledFiles", "folder_files", "labelled_files"]

LabelledFiles = tuple[list[Path], list[int] | None, tuple[str, ...] | None]
"""Files, their labels (or None without class sub-folders) and the class names (or None)."""


def _takes(path: Path, accepted: tuple[str, ...]) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.name.lower().endswith(accepted)


def folder_files(folder: str | os.PathLike[str], *kinds_or_formats: str) -> list[Path]:
    """The files directly in ``folder`` of the given kinds (``"image"``) or formats (``"npy"``), sorted.

    Raises:
        DataError: ``folder`` is not a folder.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"folder {root} does not exist or is not a folder")
    accepted = suffixes(*kinds_or_formats)
    return sorted(p for p in root.iterdir() if _takes(p, accepted) and format_of(p) is not None)


def labelled_files(
    folder: str | os.PathLike[str], *kinds_or_formats: str, what: str = "files"
) -> LabelledFiles:
    """The files of ``folder`` of the given kinds, labelled by class sub-folder when it has them.

    Args:
        folder: The folder.
        kinds_or_formats: What to take, e.g. ``"image"`` or ``"audio"`` (see :mod:`~aekit.formats.suffixes`).
        what: What the files are called in messages (``"images"``).

    Raises:
        DataError: The folder mixes files at its top level with class sub-folders.
    """
    root = Path(folder)
    accepted = suffixes(*kinds_or_formats)
    top = sorted(p for p in root.iterdir() if _takes(p, accepted))
    classes = sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and any(_takes(q, accepted) for q in p.rglob("*"))
    )
    if not classes:
        return top, None, None
    if top:
        raise DataError(
            f"{root} mixes {what} at its top level (e.g. {top[0].name}) with class sub-folders "
            f"({', '.join(classes[:3])}); move every file into a class sub-folder"
        )
    files: list[Path] = []
    labels: list[int] = []
    for index, name in enumerate(classes):
        members = sorted(p for p in (root / name).rglob("*") if _takes(p, accepted))
        files += members
        labels += [index] * len(members)
    return files, labels, tuple(classes)
