"""Atomic training checkpoints holding everything a killed run needs to continue identically."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from aekit.errors import CheckpointError
from aekit.formats.arrays import all_finite
from aekit.formats.files import atomic_write_bytes

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_NAME",
    "check_model_state",
    "check_structure",
    "load_checkpoint",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "aekit-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Write ``state`` (tensors, numbers, strings, lists, dicts) atomically with a format header."""
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    model_name: str,
    model_config: dict[str, Any],
    model_state: dict[str, torch.Tensor] | None = None,
) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``: no code runs) and check it belongs to this run:
    every entry the trainer reads is present and well-formed, the epoch is in range, the weights are
    finite, and (given ``model_state``) the model tensors have the model's names and shapes.

    Raises:
        CheckpointError: The file is unreadable or corrupt, not an aekit checkpoint, from a newer
            format, or made for another model or config.
    """
    file = Path(path)
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {file} does not exist") from None
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
            f"checkpoint {file} was made for {_made_for(state, model_name, model_config)}; "
            "use a fresh checkpoint_dir or the same model settings"
        )
    check_structure(state, file)
    if model_state is not None:
        check_model_state(state, model_state, file)
    return state


def _made_for(state: dict[str, Any], model_name: str, model_config: dict[str, Any]) -> str:
    """What a foreign checkpoint was made for: another family, or the first config field that differs."""
    saved_name, saved = state.get("model_name"), state.get("model_config")
    if saved_name != model_name:
        return f"model {saved_name!r}, not {model_name!r}"
    saved = saved if isinstance(saved, dict) else {}
    changed = [key for key in model_config if key in saved and saved[key] != model_config[key]]
    if not changed:
        return f"model {model_name!r} with another config"
    key = changed[0]
    return f"model {model_name!r} with {key}={saved[key]!r} (this one has {model_config[key]!r})"


MAX_EPOCH = 10**6
"""Largest epoch count a checkpoint may record."""

_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "epoch": (int, "an epoch count"),
    "model": (dict, "the model's tensors by name"),
    "optimizers": (dict, "optimiser states by phase"),
    "schedulers": (dict, "scheduler states by phase"),
    "generator": (torch.Tensor, "the data-order generator state"),
    "torch_rng": (torch.Tensor, "the global RNG state"),
    "history": (list, "the loss rows per epoch"),
    "best_loss": ((int, float), "a number"),
    "epochs_without_improvement": (int, "an epoch count"),
}


def check_structure(state: dict[str, Any], file: Path) -> None:
    """Check every entry the trainer reads: present, of the right type, in range, finite weights.

    Raises:
        CheckpointError: Naming the file and the entry.
    """
    for key, (kind, description) in _FIELDS.items():
        if key not in state:
            raise CheckpointError(f"checkpoint {file} lacks the {key!r} entry; it is damaged or incomplete")
        value = state[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CheckpointError(
                f"checkpoint {file}: {key!r} must be {description}; got {type(value).__name__}"
            )
    if not 0 <= state["epoch"] <= MAX_EPOCH:
        raise CheckpointError(f"checkpoint {file}: 'epoch' must be in [0, {MAX_EPOCH}]; got {state['epoch']}")
    if not 0 <= state["epochs_without_improvement"] <= state["epoch"]:
        raise CheckpointError(
            f"checkpoint {file}: 'epochs_without_improvement' must be in [0, epoch]; "
            f"got {state['epochs_without_improvement']}"
        )
    if not all(isinstance(row, dict) for row in state["history"]):
        raise CheckpointError(f"checkpoint {file}: 'history' must be a list of rows (objects)")
    for key in ("generator", "torch_rng"):
        if state[key].dtype != torch.uint8 or state[key].dim() != 1:
            raise CheckpointError(f"checkpoint {file}: {key!r} must be a 1-D uint8 tensor (an RNG state)")
    by_rank = state.get("torch_rng_by_rank")  # optional: one RNG state per process (DDP)
    if by_rank is not None and not (
        isinstance(by_rank, torch.Tensor) and by_rank.dtype == torch.uint8 and by_rank.dim() == 2
    ):
        raise CheckpointError(
            f"checkpoint {file}: 'torch_rng_by_rank' must be a 2-D uint8 tensor (an RNG state per process)"
        )
    for name in ("model", "best_state"):
        tensors = state.get(name)
        if tensors is None and name == "best_state":
            continue
        if not isinstance(tensors, dict) or not all(isinstance(t, torch.Tensor) for t in tensors.values()):
            raise CheckpointError(f"checkpoint {file}: {name!r} must map names to tensors")
        for key, tensor in tensors.items():
            if tensor.is_floating_point() and not all_finite(tensor):
                raise CheckpointError(f"checkpoint {file}: {name}[{key!r}] holds NaN or infinite values")
    for name, optimizer in state["optimizers"].items():
        if not isinstance(optimizer, dict) or not {"state", "param_groups"} <= set(optimizer):
            raise CheckpointError(f"checkpoint {file}: optimiser {name!r} is not an optimiser state")


def check_model_state(state: dict[str, Any], expected: dict[str, torch.Tensor], file: Path) -> None:
    """Check that the checkpoint's model tensors have the names and shapes of ``expected``.

    Raises:
        CheckpointError: Naming the first missing, unexpected or misshapen tensor.
    """
    for name in ("model", "best_state"):
        tensors = state.get(name)
        if tensors is None:
            continue
        missing = sorted(set(expected) - set(tensors))
        unexpected = sorted(set(tensors) - set(expected))
        if missing or unexpected:
            what = f"lacks {missing[0]}" if missing else f"has an unexpected tensor {unexpected[0]}"
            raise CheckpointError(f"checkpoint {file}: {name!r} {what}; it belongs to another model")
        for key, tensor in tensors.items():
            if tuple(tensor.shape) != tuple(expected[key].shape):
                raise CheckpointError(
                    f"checkpoint {file}: {name}[{key!r}] has shape {tuple(tensor.shape)}; "
                    f"the model needs {tuple(expected[key].shape)}"
                )
