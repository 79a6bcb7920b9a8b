"""A one-call training API as short as the Keras tutorial's ``autoencoder.fit(...)``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from torch import Tensor

from aekit.data.tensors import TensorData, with_sample_shape
from aekit.errors import ConfigError, DataError
from aekit.models.base import AbstractAutoencoder
from aekit.training.config import TrainConfig, Verbosity
from aekit.training.history import History
from aekit.training.trainer import BatchTransform, EpochHook, Trainer

__all__ = ["as_tensor_data", "fit"]

ArrayLike = np.ndarray | Tensor | TensorData


def as_tensor_data(x: ArrayLike, y: np.ndarray | Tensor | None = None, *, name: str = "x") -> TensorData:
    """Wrap NumPy arrays or tensors as :class:`TensorData` (float32 inputs, labels kept as given)."""
    if isinstance(x, TensorData):
        return x
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.number):
            raise DataError(f"{name} must be numeric; got dtype {x.dtype}")
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a NumPy array, a torch.Tensor or TensorData; got {type(x).__name__}")
    if x.dtype == torch.uint8 and x.numel() and int(x.max()) > 1:
        warnings.warn(
            f"{name} holds 8-bit integers up to {int(x.max())}: aekit trains on values as given, so scale "
            f"images to [0, 1] first ({name} / 255) for a model whose output is a probability or [0, 1]",
            stacklevel=3,
        )
    labels = torch.as_tensor(y) if y is not None else None
    return TensorData(x.float(), labels)


def _shaped_for(model: AbstractAutoencoder, data: TensorData) -> TensorData:
    """``data`` with samples shaped as ``model`` takes them when they differ only by axes of size 1 (grey
    images ``(N, H, W)`` for ``(1, H, W)``); clean targets of the inputs' shape follow them."""
    x = with_sample_shape(data.x, tuple(model.input_shape))
    if x.shape == data.x.shape:
        return data
    paired = data.y is not None and data.y.shape == data.x.shape
    return TensorData(x, data.y.reshape(x.shape) if paired and data.y is not None else data.y)


def fit(
    model: AbstractAutoencoder,
    x: ArrayLike,
    *,
    y: np.ndarray | Tensor | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    shuffle: bool = True,
    validation_data: ArrayLike | None = None,
    validation_labels: np.ndarray | Tensor | None = None,
    on_epoch_end: EpochHook | None = None,
    augment: BatchTransform | None = None,
    verbose: Verbosity = "auto",
    **train_options: Any,
) -> History:
    """Train ``model`` to reconstruct ``x`` and return the per-epoch :class:`History`.

    ``aekit.fit(model, x_train, epochs=50, batch_size=256, validation_data=x_test)`` is the whole call.
    Closed-form models (PCA) are fitted in one step and get a one-row history; layer-wise ones
    (stacked) are pretrained greedily, then fine-tuned (see :meth:`Trainer.fit`).

    Args:
        model: Any aekit model.
        x: Training inputs ``(N, *model.input_shape)`` (or a shape that differs by axes of size 1, such
            as grey images ``(N, H, W)``), already scaled as the model expects (8-bit integers warn).
        y: Optional labels (conditional models) or targets (segmentation).
        epochs, batch_size, shuffle: As in Keras.
        validation_data: Inputs evaluated after every epoch.
        validation_labels: Labels for ``validation_data``.
        on_epoch_end: Called with ``(epoch, row)`` after every epoch (see :class:`Trainer`).
        augment: Seeded transform of training inputs, e.g. ``Augmentation(max_shift=2).apply``.
        verbose: As Keras: 0 silent, 1 a progress bar, 2 one line per epoch (train and validation
            loss, time) on stderr; ``auto`` (default) a bar in a terminal, lines otherwise.
        **train_options: Any other :class:`TrainConfig` field (``learning_rate``, ``seed``, ...).
    """
    if y is not None and tuple(np.shape(y)) == tuple(np.shape(x)) and not model.paired_targets:  # type: ignore[arg-type]
        raise ConfigError(
            "y has the shape of x, like clean targets of noisy inputs, but "
            f"{model.registry_name or 'this model'} does not train on (noisy, clean) pairs; use "
            "photo_denoiser, or give a denoiser clean x and let it corrupt them (corruption=...)"
        )
    train = _shaped_for(model, as_tensor_data(x, y))
    val = (
        _shaped_for(model, as_tensor_data(validation_data, validation_labels, name="validation_data"))
        if validation_data is not None
        else None
    )
    config = TrainConfig(
        epochs=epochs, batch_size=batch_size, shuffle=shuffle, verbose=verbose, **train_options
    )
    return Trainer(config, augment=augment, on_epoch_end=on_epoch_end).fit(model, train, val)
