"""In-memory datasets batched by index tensors (no per-sample Python work)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Protocol

import torch
from torch import Tensor

from aekit.errors import DataError, ShapeError

__all__ = ["BatchSource", "TensorData", "with_sample_shape"]


def with_sample_shape(x: Tensor, sample_shape: tuple[int, ...]) -> Tensor:
    """``x`` ``(N, ...)`` as ``(N, *sample_shape)`` when their sample shapes differ only by axes of size 1
    (a stack of grey images ``(N, H, W)`` for a model of ``(1, H, W)``, and the reverse); else ``x``
    unchanged, for the model's own shape check to name."""
    given = tuple(int(size) for size in x.shape[1:])
    wanted = tuple(int(size) for size in sample_shape)
    if x.dim() >= 1 and given != wanted and _without_unit_axes(given) == _without_unit_axes(wanted):
        return x.reshape(len(x), *wanted)
    return x


def _without_unit_axes(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(size for size in shape if size != 1)


class BatchSource(Protocol):
    """What the trainer needs from data: a length, a sample shape, and seeded, shardable batches.

    :class:`TensorData` (in memory) and :class:`~aekit.formats.streaming.NpyStream` (on disk) implement it.
    """

    def __len__(self) -> int: ...

    @property
    def sample_shape(self) -> tuple[int, ...]: ...

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> Iterator[tuple[Tensor, Tensor | None]]: ...

    def n_batches(self, batch_size: int, *, drop_last: bool = False, world_size: int = 1) -> int: ...


@dataclasses.dataclass(frozen=True)
class TensorData:
    """Samples ``x`` of shape ``(N, *sample_shape)`` with optional labels or targets ``y`` ``(N, ...)``.

    Batches are slices of whole tensors by an index tensor, so the data time of a step stays a small
    fraction of the step (measured in ``benchmarks/throughput.py``).
    """

    x: Tensor
    y: Tensor | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.x, Tensor):
            raise TypeError(f"x must be a torch.Tensor; got {type(self.x).__name__}")
        if self.x.dim() < 2:
            raise ShapeError(
                f"x must have shape (N, ...) with at least 2 dimensions; got {tuple(self.x.shape)}"
            )
        if len(self.x) == 0:
            raise DataError("the dataset is empty (0 samples)")
        if self.y is not None and len(self.y) != len(self.x):
            raise DataError(f"x has {len(self.x)} samples but y has {len(self.y)}; they must match")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample."""
        return tuple(self.x.shape[1:])

    def subset(self, indices: Tensor) -> TensorData:
        """Return the samples at ``indices`` (a 1-D index tensor)."""
        return TensorData(self.x[indices], None if self.y is None else self.y[indices])

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> Iterator[tuple[Tensor, Tensor | None]]:
        """Yield ``(x, y)`` batches; with ``world_size > 1`` each rank gets every ``world_size``-th sample.

        Args:
            batch_size: Samples per batch (per rank).
            shuffle: Draw a new permutation from ``generator`` for this pass.
            generator: Source of the permutation; pass the same seeded generator for the same order.
            drop_last: Skip a final batch smaller than ``batch_size``.
            rank: This process's rank, for sharding in distributed training.
            world_size: Number of processes sharing the data.
        """
        order = torch.randperm(len(self), generator=generator) if shuffle else torch.arange(len(self))
        if world_size > 1:
            usable = len(order) - len(order) % world_size
            order = order[:usable][rank::world_size]
        stop = len(order) - len(order) % batch_size if drop_last else len(order)
        for start in range(0, stop, batch_size):
            index = order[start : start + batch_size]
            yield self.x[index], None if self.y is None else self.y[index]

    def n_batches(self, batch_size: int, *, drop_last: bool = False, world_size: int = 1) -> int:
        """Number of batches :meth:`batches` yields with the same arguments."""
        n = len(self) // world_size if world_size > 1 else len(self)
        return n // batch_size if drop_last else -(-n // batch_size)
