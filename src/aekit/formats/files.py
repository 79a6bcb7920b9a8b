"""Safe file writes: atomic replacement, output-path checks, stale temp files and folder locks.

Atomic writes go to a temp file in the same folder, flushed and fsynced, then ``os.replace``: a crash or
kill mid-write leaves the previous file intact, never a half-written one, and at worst a hidden
``.NAME.*.tmp`` file that :func:`remove_stale_temp_files` clears on the next run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

__all__ = [
    "MODEL_FILES",
    "FolderLock",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_path",
    "check_output_suffix",
    "claim_folder",
    "folder_output_pairs",
    "make_output_folder",
    "remove_stale_temp_files",
]

MODEL_FILES = ("config.json", "model.safetensors")
"""The files of a model folder; an output path never replaces them."""
_PROTECTED_FILES = (*MODEL_FILES, "arrays.safetensors", "checkpoint.pt")


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


def _same_path(first: Path, second: Path) -> bool:
    try:
        if first.exists() and second.exists():
            return os.path.samefile(first, second)
        return first.resolve() == second.resolve()
    except OSError:
        return False


def check_output_path(output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse to write ``output`` when it is one of ``inputs`` (file or folder), or a file of a model
    folder (``config.json``/``model.safetensors`` beside each other) or a training checkpoint.

    Raises:
        DataError: Naming the output and what it would destroy.
    """
    from aekit.errors import DataError

    target = Path(output)
    for source in inputs:
        if _same_path(target, Path(source)):
            raise DataError(
                f"the output {target} is also an input; writing it would destroy the input, so choose "
                "another output path"
            )
    if target.is_file() and target.name in _PROTECTED_FILES:
        folder = target.parent
        if target.name == "checkpoint.pt" or all((folder / name).is_file() for name in MODEL_FILES):
            raise DataError(
                f"the output {target} is a file of the model or checkpoint in {folder}; writing it would "
                "destroy the model, so choose another output path"
            )


def check_output_suffix(output: str | os.PathLike[str], suffixes: Iterable[str], what: str) -> None:
    """Refuse ``output`` unless its suffix (case-insensitive) is one of ``suffixes``.

    Raises:
        DataError: ``"-o x.txt: <what> are written as .png; use a name ending in .png"``.
    """
    from aekit.errors import DataError

    allowed = tuple(suffixes)
    name = Path(output).name.lower()
    if not name.endswith(allowed):
        raise DataError(
            f"cannot write {output}: {what} are written as {' or '.join(allowed)}; "
            f"use a name ending in {' or '.join(allowed)}"
        )


def folder_output_pairs(
    source: Path,
    output: Path,
    files: Iterable[Path],
    name: Callable[[Path], str],
    file_suffixes: Iterable[str],
) -> list[tuple[Path, Path]]:
    """``(input, output / name(input))`` for each of ``files`` of the folder ``source``, checked before
    anything is written: ``output`` must be a folder (neither an existing file nor a name ending in one of
    ``file_suffixes``), not ``source`` itself, and no two inputs may be written to one output file.

    Raises:
        DataError: One line naming the output, or the two inputs and the file they would share.
    """
    from aekit.errors import DataError

    if output.exists() and not output.is_dir():
        raise DataError(f"input {source} is a folder, so --output must be a folder too; {output} is a file")
    if output.name.lower().endswith(tuple(file_suffixes)):
        raise DataError(f"input {source} is a folder, so --output must be a folder, not {output.name}")
    if _same_path(output, source):
        raise DataError(f"--output {output} is the input folder; write the results to another folder")
    pairs = [(file, output / name(file)) for file in files]
    first_input: dict[Path, Path] = {}
    for file, target in pairs:
        if target in first_input:
            raise DataError(
                f"{first_input[target].name} and {file.name} in {source} would both be written to "
                f"{target.name}; rename one of them"
            )
        first_input[target] = file
    return pairs


def make_output_folder(folder: str | os.PathLike[str], what: str) -> Path:
    """Create the output folder ``folder`` (and its parents) if needed; ``what`` names its contents.

    Raises:
        DataError: ``folder`` (or a parent) is an existing file.
    """
    from aekit.errors import DataError

    target = Path(folder)
    blocking = next((p for p in (target, *target.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise DataError(f"{blocking} is a file; {what} is written as a folder, so give a folder's name")
    target.mkdir(parents=True, exist_ok=True)
    return target


def claim_folder(
    folder: Path, previous: Iterable[Path], *, what: str, overwrite: bool, keep_hint: str = ""
) -> None:
    """Make ``folder`` ready for new output: refuse it while it holds ``previous`` outputs (files or
    folders of an earlier run, sweep, …), or with ``overwrite`` remove exactly those and nothing else.

    Args:
        folder: The output folder (named in the message).
        previous: The earlier outputs found in it (empty: nothing to do).
        what: What they are, for the message (``"a run"``, ``"a sweep"``).
        overwrite: Remove them instead of refusing.
        keep_hint: Another way out to suggest, e.g. ``", --resume to continue it"``.

    Raises:
        DataError: ``previous`` is not empty and ``overwrite`` is False.
    """
    from aekit.errors import DataError

    found = sorted(previous)
    if not found:
        return
    if not overwrite:
        names = ", ".join(path.name for path in found[:4]) + (" …" if len(found) > 4 else "")
        raise DataError(
            f"the folder {folder} already holds {what} ({names}); pass --overwrite to replace it"
            f"{keep_hint}, or choose another folder"
        )
    for path in found:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def remove_stale_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the hidden ``.NAME.*.tmp`` files that an atomic write killed mid-way left in ``folder`` and
    its sub-folders. Only call it while holding the folder (see :class:`FolderLock`).

    Returns:
        The files removed.
    """
    removed: list[Path] = []
    root = Path(folder)
    if not root.is_dir():
        return removed
    for path in root.rglob(".*.tmp"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class FolderLock:
    """An exclusive lock on a folder (``.aekit.lock`` inside it), held by one process at a time.

    The lock is an OS file lock (``flock``), so it disappears with the process that held it, even after
    ``kill -9``: a crashed run never blocks the next one. Use as a context manager. A folder the lock
    created, and that holds nothing but the lock file on exit (the run was refused or failed before
    writing), is removed.

    Raises:
        DataError: On entry, when another process holds the lock (its pid is named when known).
    """

    NAME = ".aekit.lock"

    def __init__(self, folder: str | os.PathLike[str], what: str = "run") -> None:
        self.folder = Path(folder)
        self.what = what
        self._handle: IO | None = None
        self._created: list[Path] = []

    def __enter__(self) -> FolderLock:
        from aekit.errors import DataError

        lineage = [self.folder, *self.folder.parents]
        self._created = [folder for folder in lineage if not folder.exists()]  # the folder, then parents
        make_output_folder(self.folder, f"a {self.what}")
        handle = open(self.folder / self.NAME, "a+")
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock, as before
            self._handle = handle
            return self
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise DataError(
                f"another aekit {self.what} is writing to {self.folder}"
                + (f" (process {holder})" if holder else "")
                + "; wait for it to finish or choose another folder"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()  # closing releases the flock
            self._handle = None
        if not self._created:
            return
        with contextlib.suppress(OSError):  # a refused or failed run leaves no empty folders behind
            if [path.name for path in self.folder.iterdir()] == [self.NAME]:
                (self.folder / self.NAME).unlink()
                for folder in self._created:
                    folder.rmdir()
