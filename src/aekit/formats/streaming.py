"""Data larger than memory: ``.npy`` files and Parquet tables read in chunks with bounded memory.

``.npy`` files are read by explicit seeks and reads of whole row ranges (not memory maps, whose touched pages
count toward the process's resident memory), Parquet tables by record batches. :class:`NpyStream` is a
drop-in for :class:`~aekit.data.tensors.TensorData` in the :class:`~aekit.training.Trainer`: each epoch it
visits the file's chunks in a seeded random order and shuffles rows within a chunk, with optional loader
workers reading ahead.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from aekit.errors import DataError, ShapeError
from aekit.formats.arrays import read_npy_header
from aekit.formats.limits import check_allocation
from aekit.formats.suffixes import format_of, suffixes

__all__ = ["STREAMABLE_SUFFIXES", "NpyRows", "NpyStream", "iter_parquet_chunks", "open_chunks"]

STREAMABLE_SUFFIXES = suffixes("npy", "parquet")
"""What :func:`open_chunks` streams."""


@dataclasses.dataclass(frozen=True)
class NpyRows:
    """Random access to row ranges of a C-ordered ``.npy`` file without loading it.

    Attributes:
        path: The file.
        shape: The stored array's shape ``(N, ...)``.
        dtype: Its dtype.
        offset: Byte offset of the first row.
    """

    path: Path
    shape: tuple[int, ...]
    dtype: np.dtype
    offset: int

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> NpyRows:
        """Read the header of ``path``.

        Raises:
            DataError: Missing or malformed file, Fortran order, object dtype, or fewer than 2 dimensions.
        """
        header = read_npy_header(path, check_memory=False)  # streamed: may be larger than memory
        file, shape, dtype, offset = header.path, header.shape, header.dtype, header.offset
        if header.fortran_order:
            raise DataError(f"{file} is stored in Fortran order; save it C-ordered to stream it")
        if not np.issubdtype(dtype, np.number) or np.iscomplexobj(np.empty(0, dtype)):
            raise DataError(f"{file} holds dtype {dtype}; expected real numbers")
        if len(shape) < 2:
            raise ShapeError(f"{file} holds shape {shape}; expected (N, ...) with at least 2 dimensions")
        if shape[0] == 0 or math.prod(shape[1:]) == 0:
            raise DataError(f"{file} is empty (shape {shape})")
        return cls(file, tuple(shape), dtype, offset)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def row_bytes(self) -> int:
        """Bytes per row."""
        return math.prod(self.shape[1:]) * self.dtype.itemsize

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a fresh array (float32 unless already floating)."""
        stop = min(stop, len(self))
        count = max(stop - start, 0)
        check_allocation(count * self.row_bytes, f"reading {count} rows of {self.path}")
        with open(self.path, "rb") as handle:
            handle.seek(self.offset + start * self.row_bytes)
            rows = np.fromfile(handle, dtype=self.dtype, count=count * math.prod(self.shape[1:]))
        rows = rows.reshape(count, *self.shape[1:])
        if np.issubdtype(rows.dtype, np.floating) and not np.isfinite(rows).all():
            raise DataError(f"{self.path} rows {start}..{stop} contain NaN or infinite values")
        return rows.astype(np.float32, copy=False)

    def chunks(self, rows_per_chunk: int) -> Iterator[np.ndarray]:
        """Consecutive chunks of at most ``rows_per_chunk`` rows."""
        for start in range(0, len(self), rows_per_chunk):
            yield self.read(start, start + rows_per_chunk)


def iter_parquet_chunks(
    path: str | os.PathLike[str], rows_per_chunk: int = 65536, columns: Sequence[str] | None = None
) -> Iterator[tuple[np.ndarray, list[str]]]:
    """Yield ``(rows (n, n_features) float32, column names)`` record batches of a Parquet file.

    Raises:
        DataError: Missing file, a non-numeric column, or NaN/inf values.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"table file {file} does not exist")
    reader = _parquet_file(file)
    names = list(columns) if columns is not None else reader.schema_arrow.names
    if not names:
        raise DataError(f"{file} has no columns")
    missing = [name for name in names if name not in reader.schema_arrow.names]
    if missing:
        raise DataError(f"{file} has no column(s) {missing}; its columns are {reader.schema_arrow.names}")
    for field in reader.schema_arrow:
        if field.name in names and not (field.type.num_fields == 0 and _is_numeric(field.type)):
            raise DataError(f"{file}: column {field.name!r} is not numeric ({field.type})")
    batches = reader.iter_batches(batch_size=rows_per_chunk, columns=names)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (OSError, ValueError, KeyError) as error:  # pyarrow's errors derive from these
            raise DataError(f"cannot read Parquet file {file}: {_first_line(error)}") from None
        rows = np.column_stack([batch.column(name).to_numpy(zero_copy_only=False) for name in names])
        rows = rows.astype(np.float32)
        if not np.isfinite(rows).all():
            bad = [n for i, n in enumerate(names) if not np.isfinite(rows[:, i]).all()]
            raise DataError(f"{file}: NaN or infinite values in column(s) {', '.join(bad)}")
        yield rows, names


def open_chunks(
    path: str | os.PathLike[str], rows_per_chunk: int = 8192, columns: Sequence[str] | None = None
) -> tuple[int, Iterator[np.ndarray]]:
    """Row count and a chunk iterator for a ``.npy`` or Parquet file, without reading it whole.

    ``columns`` picks a Parquet file's feature columns by name, in that order (``.npy`` ignores it).

    Raises:
        DataError: Another file type, or any reading error of the formats.
    """
    file = Path(path)
    fmt = format_of(file)
    if rows_per_chunk < 1:
        raise DataError(f"rows per chunk must be ≥ 1; got {rows_per_chunk}")
    if fmt == "npy":
        rows = NpyRows.open(file)
        return len(rows), rows.chunks(rows_per_chunk)
    if fmt == "parquet":
        if not file.is_file():
            raise DataError(f"table file {file} does not exist")
        n_rows = _parquet_file(file).metadata.num_rows
        if n_rows == 0:
            raise DataError(f"table {file} is empty (0 rows)")
        return n_rows, (rows for rows, _ in iter_parquet_chunks(file, rows_per_chunk, columns))
    raise DataError(f"{file}: only {', '.join(STREAMABLE_SUFFIXES)} files can be streamed")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _parquet_file(file: Path):
    """Open a Parquet file, turning pyarrow's errors for damaged files into one-line DataErrors."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(file)
    except (OSError, ValueError, KeyError) as error:  # ArrowInvalid is a ValueError, ArrowIOError an OSError
        raise DataError(f"cannot read Parquet file {file}: {_first_line(error)}") from None


def _is_numeric(arrow_type: object) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_boolean(arrow_type)
    )


class _ChunkDataset(torch.utils.data.IterableDataset):
    """Reads the chunks listed in ``order`` (split between loader workers) and yields shuffled batches."""

    def __init__(
        self, rows: NpyRows, order: list[int], chunk_rows: int, batch_size: int, shuffle_seed: int | None
    ):
        super().__init__()
        self.rows, self.order, self.chunk_rows = rows, order, chunk_rows
        self.batch_size, self.shuffle_seed = batch_size, shuffle_seed

    def __iter__(self) -> Iterator[Tensor]:
        info = torch.utils.data.get_worker_info()
        mine = self.order if info is None else self.order[info.id :: info.num_workers]
        for chunk_index in mine:
            start = chunk_index * self.chunk_rows
            chunk = torch.from_numpy(self.rows.read(start, start + self.chunk_rows))
            if self.shuffle_seed is not None:
                within = torch.Generator().manual_seed(self.shuffle_seed + chunk_index)
                chunk = chunk[torch.randperm(len(chunk), generator=within)]
            yield from chunk.split(self.batch_size)


@dataclasses.dataclass(frozen=True)
class NpyStream:
    """A ``.npy`` file too large for memory, batched like :class:`~aekit.data.tensors.TensorData`.

    Attributes:
        path: The file (C-ordered numeric ``.npy``).
        chunk_rows: Rows read at once; memory use is about ``(workers + 2) × chunk_rows × row size``.
        num_workers: DataLoader worker processes reading ahead (0: read in the training process).
        scale: Values are multiplied by this after reading (e.g. ``1/255`` for 8-bit pixels).
    """

    path: str
    chunk_rows: int = 8192
    num_workers: int = 0
    scale: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rows", NpyRows.open(self.path))

    @property
    def rows(self) -> NpyRows:
        """The file's header information."""
        return self._rows  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample; a stack of grey images ``(N, H, W)`` gives ``(1, H, W)``, as
        :func:`~aekit.data.datasets.load_array` reads it."""
        shape = tuple(self.rows.shape[1:])
        return (1, *shape) if len(shape) == 2 else shape

    def n_chunks(self) -> int:
        """Number of chunks in the file."""
        return -(-len(self) // self.chunk_rows)

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> Iterator[tuple[Tensor, None]]:
        """Yield ``(x, None)`` batches; chunks are shuffled by ``generator`` and shared out by rank."""
        order = (
            torch.randperm(self.n_chunks(), generator=generator) if shuffle else torch.arange(self.n_chunks())
        )
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator)) if shuffle else None
        mine = order[rank::world_size].tolist()
        dataset = _ChunkDataset(self.rows, mine, self.chunk_rows, batch_size, seed)
        loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=self.num_workers)
        for batch in loader:
            if drop_last and len(batch) < batch_size:
                continue
            batch = batch.reshape(len(batch), *self.sample_shape)
            yield (batch * self.scale if self.scale != 1.0 else batch), None

    def n_batches(self, batch_size: int, *, drop_last: bool = False, world_size: int = 1) -> int:
        """Approximate batches per epoch (exact when chunk_rows is a multiple of batch_size)."""
        per_chunk = -(-self.chunk_rows // batch_size)
        return per_chunk * -(-self.n_chunks() // world_size)
