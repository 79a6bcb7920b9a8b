"""Atomic training checkpoints holding everything a killed run needs to continue identically."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from aekit.errors import CheckpointError
from aekit.files import atomic_write_bytes

__all__ = ["CHECKPOINT_FORMAT", "CHECKPOINT_NAME", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = "aekit-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Write ``state`` (tensors, numbers, strings, lists, dicts) atomically with a format header."""
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(
    path: str | os.PathLike[str], *, model_name: str, model_config: dict[str, Any]
) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``: no code runs) and check it belongs to this run.

    Raises:
        CheckpointError: The file is unreadable or corrupt, not an aekit checkpoint, from a newer
            format, or made for another model or config.
    """
    file = Path(path)
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt files
        raise CheckpointError(f"checkpoint {file} is corrupt or unreadable: {type(error).__name__}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{file} is not an aekit checkpoint")
    if state.get("version", 0) > CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{file} has checkpoint format {state.get('version')}, "
            f"newer than this aekit reads ({CHECKPOINT_VERSION})"
        )
    if state.get("model_name") != model_name or state.get("model_config") != model_config:
        raise CheckpointError(
            f"checkpoint {file} was made for model {state.get('model_name')!r} with another config; "
            "use a fresh checkpoint_dir or the same model settings"
        )
    return state
