"""Tables of user data: CSV and TSV (optionally gzipped) and Parquet, whole or in chunks, and chunked writes.

CSV files are comma-separated, or, when their header holds semicolons and no comma (a spreadsheet saved
where the comma is the decimal mark), semicolon-separated with decimal commas. A first line of numbers
only is data, not a header (``numpy.savetxt`` writes none): the columns are then named ``0``, ``1``, …
in order. pandas (and pyarrow, for
Parquet) are imported on use. Every function takes the suffixes of the ``"table"`` kind of
:mod:`aekit.formats.suffixes`; errors are one-line :class:`~aekit.errors.DataError` naming the file.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from aekit.errors import DataError
from aekit.formats.suffixes import require_format

__all__ = ["TableWriter", "iter_frames", "read_frame", "writable_format", "write_csv"]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _pandas(path: Path) -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            f"reading {path.name} needs pandas (and pyarrow for Parquet); install them with "
            "pip install 'aekit[tabular]'"
        ) from None
    return pd


def _sep(fmt: str) -> str:
    return "\t" if fmt == "tsv" else ","


def _csv_options(file: Path, fmt: str) -> dict[str, Any]:
    """``read_csv`` options for ``file``: tabs for TSV; for CSV, commas, or, when the header holds
    semicolons and no comma (a spreadsheet saved in a locale whose decimal mark is the comma),
    semicolons and the decimal comma if the first row uses one; no header when the first line holds
    numbers only."""
    opener = gzip.open if file.name.lower().endswith(".gz") else open
    try:
        with opener(file, "rt", encoding="utf-8", errors="replace") as text:
            header, first_row = text.readline(), text.readline()
    except (OSError, EOFError):
        return {"sep": _sep(fmt)}  # read_csv names the problem
    options: dict[str, Any] = {"sep": _sep(fmt)}
    if fmt != "tsv" and ";" in header and "," not in header:
        options = {"sep": ";", "decimal": "," if "," in first_row else "."}
    fields = next(csv.reader([header], delimiter=options["sep"]), [])
    if fields and all(_is_number(field.replace(options.get("decimal", "."), ".")) for field in fields):
        options |= {"header": None, "names": [str(column) for column in range(len(fields))]}
    return options


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _check_fields(frame: Any, file: Path, what: str) -> Any:
    """``frame``, unless its rows have two or more fields more than its header. pandas reads one extra
    field as row names (R's ``write.table`` writes them so); it would silently make several an index,
    which is what a file split on the wrong separator looks like."""
    extra = frame.index.nlevels
    if extra > 1:
        raise DataError(
            f"{what} {file}: its rows have {extra} more fields than its header ({len(frame.columns)} "
            "columns); check the separator (aekit reads ',' or, when the header has no comma, ';' with "
            "decimal commas)"
        )
    return frame


def read_frame(path: str | os.PathLike[str], *, what: str = "table") -> Any:
    """Read a whole table into a pandas DataFrame.

    Raises:
        DataError: Another suffix, a missing, empty or unreadable file.
        ImportError: pandas (or pyarrow, for Parquet) is not installed.
    """
    file = Path(path)
    fmt = require_format(file, "table", what=what)
    pd = _pandas(file)
    if not file.is_file():
        raise DataError(f"{what} file {file} does not exist")
    try:
        if fmt == "parquet":
            return pd.read_parquet(file)
        frame = pd.read_csv(file, **_csv_options(file, fmt))
    except pd.errors.EmptyDataError:
        raise DataError(f"{what} {file} is empty (no header and no rows)") from None
    except ImportError as error:
        raise ImportError(f"reading {file.name} needs pyarrow: {error}") from None
    except (OSError, ValueError, KeyError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise DataError(f"cannot read {what} {file}: {_first_line(error)}") from None
    return _check_fields(frame, file, what)


def iter_frames(path: str | os.PathLike[str], batch_size: int, *, what: str = "input") -> Iterator[Any]:
    """Yield DataFrames of at most ``batch_size`` rows without reading the whole table.

    Raises:
        DataError: Another suffix, a missing, empty or unreadable file.
    """
    file = Path(path)
    fmt = require_format(file, "table", what=f"{what} file")
    pd = _pandas(file)
    if not file.is_file():
        raise DataError(f"{what} file {file} does not exist")
    if file.stat().st_size == 0:
        raise DataError(f"{what} file {file} is empty (no header and no rows)")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            reader = pq.ParquetFile(file)
        except Exception as error:  # pyarrow raises ArrowInvalid and OSError subclasses
            raise DataError(f"cannot read Parquet file {file}: {error}") from None
        for record_batch in reader.iter_batches(batch_size=batch_size):
            yield record_batch.to_pandas()
        return
    try:
        with pd.read_csv(file, **_csv_options(file, fmt), chunksize=batch_size) as reader:
            for frame in reader:
                yield _check_fields(frame, file, f"{what} file")
    except pd.errors.EmptyDataError:
        raise DataError(f"{what} file {file} is empty (no header and no rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"cannot read {fmt.upper()} file {file}: {_first_line(error)}") from None


def write_csv(path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Write a small CSV table (a header, then ``rows``) atomically, without pandas.

    Returns:
        The path written.
    """
    from aekit.formats.files import atomic_path

    target = Path(path)
    with atomic_path(target) as temp, open(temp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return target


def writable_format(path: str | os.PathLike[str]) -> str:
    """The table format ``path`` is written in: ``csv``, ``tsv`` or ``parquet`` (gzip is read, not written).

    Raises:
        DataError: Another suffix.
    """
    target = Path(path)
    if target.name.lower().endswith(".gz"):
        raise DataError(f"cannot write {target}: tables are written uncompressed (.csv, .tsv, .parquet)")
    return require_format(target, "table", what="the output table")


class TableWriter:
    """Append DataFrames to a CSV, TSV or Parquet file (the Parquet schema comes from the first frame).

    The format follows the suffix of ``name`` (default: ``path``'s), so a temporary file of an atomic
    write can be written in the target's format. Use as a context manager.

    Raises:
        DataError: On creation, when the suffix is not a writable table (``.csv``, ``.tsv``,
            ``.parquet``, ``.pq``; gzip is read but not written).
    """

    def __init__(self, path: str | os.PathLike[str], *, name: str | os.PathLike[str] | None = None) -> None:
        self.format = writable_format(name if name is not None else path)
        self.path = Path(path)
        self._parquet: Any = None
        self._stack = contextlib.ExitStack()
        self._text: Any = None

    def __enter__(self) -> TableWriter:
        if self.format != "parquet":
            self._text = self._stack.enter_context(open(self.path, "w", encoding="utf-8", newline=""))
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._parquet is not None:
            self._parquet.close()
        self._stack.close()

    def write(self, frame: Any) -> None:
        """Append ``frame``'s rows (the header is written with the first)."""
        if self._text is not None:
            frame.to_csv(self._text, sep=_sep(self.format), header=self._text.tell() == 0, index=False)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.path, table.schema)
        elif table.schema != self._parquet.schema:
            table = table.cast(self._parquet.schema)
        self._parquet.write_table(table)
