"""Distributed data-parallel context read from the environment ``torchrun`` sets."""

from __future__ import annotations

import atexit
import dataclasses
import os
import sys
from typing import NoReturn

import torch
import torch.distributed as dist

__all__ = ["DistributedContext", "end_worker_process", "is_main_process", "joined_process_group"]


_opened_here = False  # whether aekit itself joined the process group (and so owns its closing)


def joined_process_group() -> bool:
    """True once aekit has joined a ``torchrun`` process group in this process."""
    return _opened_here


def is_main_process() -> bool:
    """True unless ``torchrun`` started this process with a rank other than 0 (which writes no files)."""
    return int(os.environ.get("RANK", "0") or 0) == 0


@dataclasses.dataclass(frozen=True)
class DistributedContext:
    """Rank and world size of this process; ``world_size == 1`` means an ordinary single-process run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True on the process that writes files and logs (rank 0)."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """True when running under ``torchrun`` with more than one process."""
        return self.world_size > 1

    @classmethod
    def from_environment(cls) -> DistributedContext:
        """Read ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` and join the process group when there are several."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls()
        if not dist.is_initialized():
            global _opened_here
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            dist.init_process_group(backend=backend)
            _opened_here = True
            # the group aekit opened is closed at exit, all ranks together, in a script that does not
            # end with end_worker_process (which the command line does)
            atexit.register(_close_process_group)
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))

    def device_for(self, device: torch.device) -> torch.device:
        """One GPU per process under DDP; CPU stays CPU."""
        if self.enabled and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all processes (identity without DDP)."""
        if self.enabled:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """Every process's ``tensor`` (same shape on each), stacked in rank order on every process:
        ``(world_size, *tensor.shape)`` (one row without DDP)."""
        if not self.enabled:
            return tensor.unsqueeze(0)
        rows = [torch.empty_like(tensor) for _ in range(self.world_size)]
        dist.all_gather(rows, tensor.contiguous())
        return torch.stack(rows)

    def barrier(self) -> None:
        """Wait for all processes (no-op without DDP)."""
        if self.enabled:
            dist.barrier()


def _close_process_group() -> None:
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def end_worker_process(status: int) -> NoReturn:
    """End a ``torchrun`` worker whose command has finished, with exit status ``status``.

    After a clean finish the ranks close the group together; then Python's exit handlers run and the
    process ends without the C++ teardown. That teardown is what aborts now and then ("terminate called
    without an active exception", a plain PyTorch DDP script on gloo does it too, 6 of 90 runs here):
    the backend's threads outlive ``destroy_process_group`` and meet the static destructors. A failed rank
    skips the closing barrier (its peers may never reach it); ``torchrun`` stops them.
    """
    if status == 0:
        _close_process_group()
    atexit._run_exitfuncs()  # logging, temporary folders, ... exactly as a normal exit would
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(status)
