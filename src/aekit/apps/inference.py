"""Applying a trained model to data: normalise as at training time, run in batches on the model's device,
undo the scaling. Every app, command, workflow and estimator that runs a model over data uses these.

- :func:`model_device` / :func:`model_dtype`: where and in which float type a model's weights live.
- :func:`unpack`: a model or a loaded :class:`~aekit.models.files.ModelBundle` as (network, normaliser).
- :func:`run_batches`: any function of normalised batches, on the model's device, without gradients.
- :func:`encode_dataset`, :func:`decode_codes`, :func:`reconstruct_dataset`: codes, samples and
  reconstructions in the data's original scale.
- :func:`error_map` and :func:`reconstruction_errors`: the reconstruction error of each element, and of
  each sample (the mean of its elements), in the model's normalised space.

Conditional models (CVAE, conditional AAE) and the multi-decoder model take labels beside the inputs:
class labels or domains ``(N,)``, passed as ``condition`` (see :func:`needs_condition`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aekit.config import check_choice
from aekit.data.normalization import Normalizer
from aekit.data.tensors import with_sample_shape
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models.base import AbstractAutoencoder
from aekit.models.files import ModelBundle

__all__ = [
    "ERROR_KINDS",
    "ModelLike",
    "decode_codes",
    "encode_chunks",
    "encode_dataset",
    "encode_with_labels",
    "error_map",
    "model_device",
    "model_dtype",
    "needs_condition",
    "reconstruct_dataset",
    "reconstruction_errors",
    "run_batches",
    "unpack",
]

ModelLike = AbstractAutoencoder | ModelBundle
"""A trained model, or a loaded model folder (whose normaliser is then applied)."""

ERROR_KINDS: tuple[str, ...] = ("mse", "l1", "bce")
"""Element errors :func:`error_map` computes: squared, absolute, binary cross-entropy."""


def model_device(model: nn.Module | ModelBundle) -> torch.device:
    """The device of a model's first parameter (or buffer); the CPU for a model with neither."""
    module = model.model if isinstance(model, ModelBundle) else model
    tensor = next(itertools.chain(module.parameters(), module.buffers()), None)
    return torch.device("cpu") if tensor is None else tensor.device


def model_dtype(model: nn.Module | ModelBundle) -> torch.dtype:
    """The dtype of a model's floating-point weights (float32 unless it was converted)."""
    module = model.model if isinstance(model, ModelBundle) else model
    tensors = itertools.chain(module.parameters(), module.buffers())
    return next((t.dtype for t in tensors if t.is_floating_point()), torch.float32)


def unpack(model: ModelLike, normalizer: Normalizer | None = None) -> tuple[AbstractAutoencoder, Normalizer]:
    """``(network, normaliser)``: a bundle's normaliser (or ``normalizer`` when given), the identity for a
    bare model.

    Raises:
        TypeError: ``model`` is neither an aekit model nor a ModelBundle.
    """
    if isinstance(model, ModelBundle):
        return model.model, normalizer or model.normalizer
    if not isinstance(model, AbstractAutoencoder):
        raise TypeError(
            f"model must be an aekit model or a ModelBundle from aekit.load; got {type(model).__name__}"
        )
    return model, normalizer or Normalizer.identity()


def run_batches(
    model: ModelLike,
    function: Callable[[Tensor, Tensor | None], Tensor],
    x: Tensor | np.ndarray,
    *,
    batch_size: int = 1024,
    condition: Tensor | None = None,
    normalizer: Normalizer | None = None,
    normalize: bool = True,
) -> Tensor:
    """``function(batch, condition)`` over ``x`` (a tensor, or an array or nested list of numbers) in
    batches, concatenated on the CPU.

    Each batch is cast to the model's float type, moved to its device and (with ``normalize``)
    normalised; the model runs in eval mode without gradients and its train/eval mode is restored after.

    Raises:
        ConfigError: ``batch_size`` is not a positive integer.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive int; got {batch_size!r}")
    network, norm = unpack(model, normalizer)
    device, dtype = model_device(network), model_dtype(network)
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x)
    if len(x) == 0:  # no samples: run one zero sample for the output's shape, and keep none of it
        empty = run_batches(
            model,
            function,
            x.new_zeros((1, *x.shape[1:])),
            condition=None if condition is None else condition.new_zeros((1, *condition.shape[1:])),
            normalizer=normalizer,
            normalize=normalize,
        )
        return empty[:0]
    was_training = network.training
    network.eval()
    parts = []
    try:
        with torch.inference_mode():
            for start in range(0, len(x), batch_size):
                batch = x[start : start + batch_size].to(device=device, dtype=dtype)
                if normalize:
                    batch = norm.transform(batch)
                labels = None if condition is None else condition[start : start + batch_size].to(device)
                parts.append(function(batch, labels).cpu())
    finally:
        network.train(was_training)
    return torch.cat(parts)


def error_map(x_hat: Tensor, target: Tensor, kind: str = "mse") -> Tensor:
    """The error of each element: ``(x̂ − x)²`` (``mse``), ``|x̂ − x|`` (``l1``) or binary cross-entropy
    (``bce``, targets in [0, 1]); same shape as ``target``.

    Raises:
        ConfigError: Another ``kind``.
        DataError: ``bce`` with targets outside [0, 1].
    """
    check_choice("kind", kind, ERROR_KINDS)
    if kind == "mse":
        return (x_hat - target).square()
    if kind == "l1":
        return (x_hat - target).abs()
    if target.min() < 0 or target.max() > 1:
        raise DataError("method 'bce' needs inputs scaled to [0, 1]; got values outside that range")
    return F.binary_cross_entropy(x_hat.clamp(1e-7, 1 - 1e-7), target, reduction="none")


def reconstruction_errors(
    model: ModelLike,
    x: Tensor,
    *,
    kind: str | None = None,
    batch_size: int = 1024,
    condition: Tensor | None = None,
    normalizer: Normalizer | None = None,
) -> Tensor:
    """The reconstruction error of each sample ``(N,)``: the mean of its :func:`error_map`, measured in
    the model's normalised space (``kind`` defaults to the model's own ``error_kind``).

    Raises:
        ConfigError: The model's output is not a reconstruction (segmentation, classifiers).
    """
    network, _ = unpack(model)
    _check_reconstructs(network)
    chosen = kind or network.error_kind
    labels = _checked_condition(network, condition, len(x))
    return run_batches(
        model,
        lambda batch, y: error_map(network.reconstruct(batch, y), batch, chosen).flatten(1).mean(1),
        x,
        batch_size=batch_size,
        condition=labels,
        normalizer=normalizer,
    )


def _check_reconstructs(model: AbstractAutoencoder) -> None:
    if not model.reconstructs:
        raise ConfigError(
            f"{model.registry_name or type(model).__name__} outputs class logits, not a reconstruction of "
            "its input; use `aekit evaluate` for its accuracy"
        )


def needs_condition(model: AbstractAutoencoder) -> bool:
    """True when ``encode``/``decode`` take labels beside the inputs (class labels or domains)."""
    return model.conditional or model.label_role == "domains"


def _checked_condition(model: AbstractAutoencoder, condition: Tensor | None, n_samples: int) -> Tensor | None:
    if not needs_condition(model):
        return None
    if condition is None:
        what = "class labels" if model.conditional else "domain labels"
        raise DataError(
            f"{model.registry_name or type(model).__name__} needs {what} beside its inputs; "
            "the data have none (use labelled data: digits/MNIST, class sub-folders, an .npz with y, "
            "or a table's label column)"
        )
    if len(condition) != n_samples:
        raise ShapeError(f"labels must have one entry per sample ({n_samples}); got {len(condition)}")
    return condition


def as_input_shape(model: AbstractAutoencoder, x: Tensor | np.ndarray) -> Tensor:
    """Samples ``x`` (a tensor, or an array or nested list of numbers) as ``(N, *input_shape)`` when
    their shape differs from it only by axes of size 1 (:func:`~aekit.data.tensors.with_sample_shape`);
    other shapes are left for the model's own check."""
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x)
    return with_sample_shape(x, tuple(model.input_shape))


def encode_dataset(
    model: ModelLike, x: Tensor | np.ndarray, *, batch_size: int = 1024, condition: Tensor | None = None
) -> Tensor:
    """Codes ``(N, latent_dim)`` of raw inputs ``x`` ``(N, *input_shape)`` (with labels when needed), on
    the CPU; batches run on the model's device. Shapes that differ only by axes of size 1 are taken
    (:func:`as_input_shape`)."""
    network, _ = unpack(model)
    labels = _checked_condition(network, condition, len(x))
    inputs = as_input_shape(network, x)
    return run_batches(model, network.encode, inputs, batch_size=batch_size, condition=labels)


def encode_with_labels(
    model: ModelLike,
    x: Tensor | np.ndarray,
    labels: Tensor | np.ndarray | None = None,
    *,
    batch_size: int = 1024,
) -> Tensor:
    """Codes ``(N, latent_dim)`` of raw inputs ``x`` whose labels ``(N,)`` may be known: a model that
    encodes with labels beside its inputs (CVAE classes, domains: :func:`needs_condition`) gets them, any
    other model ignores them."""
    network, _ = unpack(model)
    condition = None
    if labels is not None and needs_condition(network):
        condition = torch.as_tensor(np.asarray(labels.cpu() if isinstance(labels, Tensor) else labels))
    return encode_dataset(model, x, batch_size=batch_size, condition=condition)


def decode_codes(
    model: ModelLike, codes: Tensor | np.ndarray, *, batch_size: int = 1024, condition: Tensor | None = None
) -> Tensor:
    """Samples in the original data scale decoded from ``codes`` ``(N, latent_dim)``; models that need a
    condition (:func:`needs_condition`) take its labels ``(N,)`` (classes or domains)."""
    network, normalizer = unpack(model)
    z = torch.as_tensor(codes, dtype=torch.float32)
    if z.dim() != 2 or z.shape[1] != network.latent_dim:
        raise ShapeError(f"codes must have shape (N, {network.latent_dim}); got {tuple(z.shape)}")
    if not torch.isfinite(z).all():
        raise DataError(f"codes contain NaN or infinite values ({int((~torch.isfinite(z)).sum())} of them)")
    labels = _checked_condition(network, condition, len(z))  # decoding labelled codes needs their labels
    return run_batches(
        model,
        lambda batch, batch_labels: normalizer.inverse_transform(network.decode(batch, batch_labels).cpu()),
        z,
        batch_size=batch_size,
        condition=labels,
        normalize=False,
    )


def reconstruct_dataset(
    model: ModelLike, x: Tensor | np.ndarray, *, batch_size: int = 1024, condition: Tensor | None = None
) -> Tensor:
    """Reconstructions of raw inputs in the original data scale, same shape as ``x`` (which may differ
    from the model's input shape by axes of size 1, :func:`as_input_shape`).

    Raises:
        ConfigError: The model's output is not a reconstruction (segmentation, classifiers).
    """
    network, normalizer = unpack(model)
    _check_reconstructs(network)
    labels = _checked_condition(network, condition, len(x))
    given = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x)
    inputs = as_input_shape(network, given)
    result = run_batches(
        model,
        lambda batch, y: normalizer.inverse_transform(network.reconstruct(batch, y).cpu()),
        inputs,
        batch_size=batch_size,
        condition=labels,
    )
    return result if inputs.shape == given.shape else result.reshape(given.shape)


def encode_chunks(
    model: ModelLike, chunks: Iterable[np.ndarray], *, batch_size: int = 1024
) -> Iterator[Tensor]:
    """Codes of each raw chunk in turn, so inputs larger than memory are encoded in bounded memory."""
    for chunk in chunks:
        yield encode_dataset(
            model, torch.from_numpy(np.asarray(chunk, dtype=np.float32)), batch_size=batch_size
        )
