"""Model files: a folder with ``config.json`` and ``model.safetensors`` that load without running code.

``config.json`` holds the format version, aekit version, registry name, model config, the input
normalisation, free-form metadata and the SHA-256 of the weights file, so a tampered or mismatched
weights file is refused before it is parsed.

Arrays in the metadata (fitted statistics such as a detector's reference codes or a precision matrix)
are not written into the JSON: they go to ``arrays.safetensors`` beside the weights, with their own
checksum, and the metadata keeps ``{"$array": name}`` in their place. Such folders are format 2; a
folder without arrays is written as format 1, which older versions of aekit read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load_file as load_arrays
from safetensors.numpy import save_file as save_arrays
from safetensors.torch import load_file, save_file

from aekit import __version__
from aekit.data.normalization import Normalizer
from aekit.errors import AekitError, ModelFileError
from aekit.formats.arrays import all_finite
from aekit.formats.files import atomic_path, atomic_write_text, make_output_folder
from aekit.models import registry
from aekit.models.base import AbstractAutoencoder

__all__ = ["FORMAT_VERSION", "ModelBundle", "load", "load_model", "read_config", "save_model"]

FORMAT_VERSION = 2
"""The newest format this aekit reads: 1 without metadata arrays, 2 with ``arrays.safetensors``."""
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
ARRAYS_NAME = "arrays.safetensors"
ARRAY_KEY = "$array"
"""The key of the placeholder ``{"$array": name}`` that stands for an array in the stored metadata."""


@dataclasses.dataclass(frozen=True)
class ModelBundle:
    """A loaded model folder: the model, the normalisation its inputs need, and stored metadata (its
    arrays restored as NumPy arrays)."""

    model: AbstractAutoencoder
    normalizer: Normalizer
    metadata: dict[str, Any]
    path: Path

    @property
    def feature_names(self) -> tuple[str, ...] | None:
        """The table columns the model was trained on, in input order; None when not stored (images,
        arrays, models saved without them)."""
        names = self.metadata.get("feature_names")
        return tuple(str(name) for name in names) if names else None


def save_model(
    model: AbstractAutoencoder,
    folder: str | os.PathLike[str],
    *,
    normalizer: Normalizer | None = None,
    metadata: dict[str, Any] | None = None,
    float16: bool = False,
) -> Path:
    """Write ``model`` to ``folder`` (created if needed) as ``config.json`` + ``model.safetensors``.

    Both files are written atomically, weights first, so a reader never sees a config whose checksum
    does not match the weights beside it except during the instant between the two renames. NumPy
    arrays anywhere in ``metadata`` are stored in ``arrays.safetensors`` (see the module docstring).

    Args:
        float16: Store the floating-point weights as float16 (half the bytes; integer tensors such as a
            codec's probability tables are kept as they are). Loading casts them back to the model's
            dtype, so only weights that float16 holds exactly come back unchanged: round them first
            (``w.half().float()``) and measure the rounded model.

    Returns:
        The folder path.

    Raises:
        ModelFileError: ``float16`` with a weight beyond float16's range, or ``folder`` holds files
            other than a model's (a model replaces only another model).
        DataError: ``folder`` is a file.
    """
    if not isinstance(model, AbstractAutoencoder):
        raise TypeError(f"save_model saves aekit models (aekit.create); got {type(model).__name__}")
    if not model.registry_name:
        raise ModelFileError(f"{type(model).__name__} is not registered; only registered models can be saved")
    target = Path(folder)
    _check_model_destination(target)
    tensors = {name: value.detach().cpu().contiguous() for name, value in model.state_dict().items()}
    if float16:
        tensors = {name: _as_float16(name, value) for name, value in tensors.items()}
    make_output_folder(target, "a model")
    with atomic_path(target / WEIGHTS_NAME) as temp:
        save_file(tensors, str(temp))
        digest = _sha256(temp)
    stored_metadata, arrays = _split_arrays(metadata or {}, "metadata")
    document = {
        "format": "aekit-model",
        "format_version": 2 if arrays else 1,
        "aekit_version": __version__,
        "model": model.registry_name,
        "config": model.config.to_dict(),
        "normalization": (normalizer or Normalizer.identity()).to_dict(),
        "metadata": stored_metadata,
        "weights_sha256": digest,
    }
    if arrays:
        with atomic_path(target / ARRAYS_NAME) as temp:
            save_arrays(arrays, str(temp))
            document["arrays_sha256"] = _sha256(temp)
    atomic_write_text(target / CONFIG_NAME, json.dumps(document, indent=2) + "\n")
    if not arrays:
        (target / ARRAYS_NAME).unlink(missing_ok=True)  # left by an earlier save of this folder
    return target


def _check_model_destination(folder: Path) -> None:
    """Refuse to save a model into a folder of other files (data, a run's results)."""
    model_files = {CONFIG_NAME, WEIGHTS_NAME, ARRAYS_NAME}
    others = (  # hidden names: temporary files an interrupted save may leave
        sorted(p.name for p in folder.iterdir() if p.name not in model_files and not p.name.startswith("."))
        if folder.is_dir()
        else []
    )
    if others:
        listed = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
        raise ModelFileError(
            f"{folder} already holds other files ({listed}); "
            "save the model into a new or empty folder (or over a saved model's folder)"
        )


def _as_float16(name: str, tensor: torch.Tensor) -> torch.Tensor:
    """A floating-point weight as float16 (others unchanged); refused when it overflows float16."""
    if not tensor.is_floating_point():
        return tensor
    half = tensor.to(torch.float16)
    if not torch.isfinite(half).all() and torch.isfinite(tensor).all():
        raise ModelFileError(f"weight {name} exceeds float16's range (±65504); save it without float16")
    return half


def _split_arrays(value: Any, name: str) -> tuple[Any, dict[str, np.ndarray]]:
    """``value`` with each NumPy array replaced by ``{"$array": its path}``, and the arrays by path."""
    if isinstance(value, np.ndarray):
        return {ARRAY_KEY: name}, {name: np.ascontiguousarray(value)}
    arrays: dict[str, np.ndarray] = {}
    if isinstance(value, dict):
        stored = {}
        for key, item in value.items():
            stored[key], found = _split_arrays(item, f"{name}/{key}")
            arrays.update(found)
        return stored, arrays
    if isinstance(value, (list, tuple)):
        items = []
        for index, item in enumerate(value):
            stored_item, found = _split_arrays(item, f"{name}/{index}")
            items.append(stored_item)
            arrays.update(found)
        return items, arrays
    return value, arrays


def _join_arrays(value: Any, arrays: dict[str, np.ndarray], file: Path) -> Any:
    """Undo :func:`_split_arrays`: each placeholder replaced by its array from ``arrays``."""
    if isinstance(value, dict):
        if set(value) == {ARRAY_KEY}:
            name = value[ARRAY_KEY]
            if not isinstance(name, str) or name not in arrays:
                raise ModelFileError(f"{file} lacks the array {name!r} that the model config refers to")
            return arrays[name]
        return {key: _join_arrays(item, arrays, file) for key, item in value.items()}
    if isinstance(value, list):
        return [_join_arrays(item, arrays, file) for item in value]
    return value


def read_config(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``config.json`` of a model folder.

    Raises:
        ModelFileError: Missing folder or file, invalid JSON, not an aekit model, or a newer format.
    """
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise ModelFileError(f"{Path(folder)} is not an aekit model folder: {CONFIG_NAME} is missing")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path} is not valid JSON: {error}") from None
    except RecursionError:
        raise ModelFileError(f"{path} is nested too deeply to be an aekit model config") from None
    if not isinstance(document, dict) or document.get("format") != "aekit-model":
        raise ModelFileError(f"{path} is not an aekit model config")
    version = document.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has format_version {version!r}; this aekit reads up to {FORMAT_VERSION} (upgrade aekit)"
        )
    if version >= 2 and not isinstance(document.get("arrays_sha256"), str):
        raise ModelFileError(f"{path} has format_version 2 but no 'arrays_sha256' entry (text)")
    for key in ("model", "config", "weights_sha256"):
        if key not in document:
            raise ModelFileError(f"{path} lacks the {key!r} entry")
    expected = {
        "model": (str, "a registry name (text)"),
        "config": (dict, "an object of config fields"),
        "weights_sha256": (str, "a hex SHA-256 digest (text)"),
        "normalization": (dict, "an object"),
        "metadata": (dict, "an object"),
    }
    for key, (kind, description) in expected.items():
        if key in document and not isinstance(document[key], kind):
            raise ModelFileError(
                f"{path}: the {key!r} entry must be {description}; got {type(document[key]).__name__}"
            )
    return document


def load(folder: str | os.PathLike[str], *, map_location: str | torch.device = "cpu") -> ModelBundle:
    """Load a model folder written by :func:`save_model`.

    Loading is registry lookup → ``Config.from_dict`` → ``load_state_dict(strict=True)``; no pickle.

    Raises:
        ModelFileError: The folder is incomplete, tampered with (checksum mismatch), or its weights do
            not fit the config.
    """
    document = read_config(folder)
    weights = _checked_file(Path(folder), WEIGHTS_NAME, document["weights_sha256"])
    try:
        cls, config = registry.resolve(document["model"], document["config"], saved=True)
        model = registry.from_config(cls, config)
        normalizer = Normalizer.from_dict(document.get("normalization", Normalizer.identity().to_dict()))
    except AekitError as error:
        raise ModelFileError(f"{Path(folder) / CONFIG_NAME}: {error}") from None
    except (TypeError, ValueError, KeyError) as error:
        raise ModelFileError(
            f"{Path(folder) / CONFIG_NAME} holds values of the wrong type: {error}"
        ) from None
    try:
        state = load_file(str(weights), device=str(map_location))
    except (SafetensorError, RuntimeError, OSError) as error:
        raise ModelFileError(f"{weights} is not a readable safetensors file: {error}") from None
    state = model.upgrade_state_dict(state)  # weight names a family renamed since the folder was saved
    _check_state(model, state, weights, document["model"])
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError) as error:  # shapes that do not fit (torch lists every one)
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = lines[1] if len(lines) > 1 else (lines[0] if lines else type(error).__name__)
        raise ModelFileError(
            f"weights in {weights} do not fit the {document['model']!r} config: {detail}"
        ) from None
    model.to(map_location)
    model.eval()
    metadata = dict(document.get("metadata", {}))
    if document["format_version"] >= 2:
        arrays = _read_arrays(Path(folder), document["arrays_sha256"])
        try:
            metadata = _join_arrays(metadata, arrays, Path(folder) / ARRAYS_NAME)
        except RecursionError:
            raise ModelFileError(f"{Path(folder) / CONFIG_NAME}: the metadata is nested too deeply") from None
    return ModelBundle(model, normalizer, metadata, Path(folder))


def _read_arrays(folder: Path, digest: str) -> dict[str, np.ndarray]:
    """The checked metadata arrays of a format-2 folder."""
    file = _checked_file(folder, ARRAYS_NAME, digest)
    try:
        return load_arrays(str(file))
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelFileError(f"{file} is not a readable safetensors file: {error}") from None


def load_model(
    folder: str | os.PathLike[str], *, map_location: str | torch.device = "cpu"
) -> AbstractAutoencoder:
    """Load only the model of a folder (see :func:`load`)."""
    return load(folder, map_location=map_location).model


def _check_state(model: AbstractAutoencoder, state: dict[str, torch.Tensor], file: Path, name: str) -> None:
    """Refuse weights whose names do not fit ``model``, or that hold NaN/inf (shapes: ``load_state_dict``)."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:3])}{' …' if len(unexpected) > 3 else ''}")
        raise ModelFileError(f"weights in {file} do not fit the {name!r} config: {'; '.join(parts)}")
    for key, tensor in state.items():
        if tensor.is_floating_point() and not all_finite(tensor):
            raise ModelFileError(
                f"weights in {file} hold NaN or infinite values (tensor {key}); the model is broken, "
                "retrain it or load an earlier copy"
            )


def _checked_file(folder: Path, name: str, digest: str) -> Path:
    """``folder / name``, refused when it is missing or its SHA-256 is not the one in ``config.json``."""
    file = folder / name
    if not file.is_file():
        raise ModelFileError(f"{folder} lacks {name}, which its {CONFIG_NAME} refers to")
    if _sha256(file) != digest:
        raise ModelFileError(f"{file} does not match the checksum in {CONFIG_NAME}: the file was altered")
    return file


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
