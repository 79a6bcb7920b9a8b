"""Applying a saved model to raw data: normalise as at training time, run in batches, undo the scaling.

Conditional models (CVAE, conditional AAE) and the multi-decoder model take labels beside the inputs:
class labels or domains ``(N,)``, passed as ``condition`` (see :func:`needs_condition`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch
from torch import Tensor

from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models.base import AbstractAutoencoder
from aekit.models.files import ModelBundle

__all__ = ["decode_codes", "encode_chunks", "encode_dataset", "needs_condition", "reconstruct_dataset"]


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


def _batched(function, x: Tensor, batch_size: int, condition: Tensor | None = None) -> Tensor:  # type: ignore[no-untyped-def]
    with torch.inference_mode():
        return torch.cat(
            [
                function(x[i : i + batch_size], None if condition is None else condition[i : i + batch_size])
                for i in range(0, len(x), batch_size)
            ]
        )


def encode_dataset(
    bundle: ModelBundle, x: Tensor, *, batch_size: int = 1024, condition: Tensor | None = None
) -> Tensor:
    """Codes ``(N, latent_dim)`` of raw inputs ``x`` ``(N, *input_shape)`` (with labels when needed)."""
    bundle.model.eval()
    labels = _checked_condition(bundle.model, condition, len(x))
    return _batched(
        lambda batch, labels: bundle.model.encode(bundle.normalizer.transform(batch), labels),
        x.float(),
        batch_size,
        labels,
    )


def decode_codes(bundle: ModelBundle, codes: Tensor | np.ndarray, *, batch_size: int = 1024) -> Tensor:
    """Samples in the original data scale decoded from ``codes`` ``(N, latent_dim)``."""
    z = torch.as_tensor(codes, dtype=torch.float32)
    if z.dim() != 2 or z.shape[1] != bundle.model.latent_dim:
        raise ShapeError(f"codes must have shape (N, {bundle.model.latent_dim}); got {tuple(z.shape)}")
    bundle.model.eval()
    _checked_condition(bundle.model, None, len(z))  # decoding labelled codes needs their labels
    return _batched(
        lambda batch, _: bundle.normalizer.inverse_transform(bundle.model.decode(batch)), z, batch_size
    )


def reconstruct_dataset(
    bundle: ModelBundle, x: Tensor, *, batch_size: int = 1024, condition: Tensor | None = None
) -> Tensor:
    """Reconstructions of raw inputs in the original data scale, same shape as ``x``.

    Raises:
        ConfigError: The model's output is not a reconstruction (segmentation, classifiers).
    """
    model = bundle.model
    if not model.reconstructs:
        raise ConfigError(
            f"{model.registry_name or type(model).__name__} outputs class logits, not a reconstruction of "
            "its input; use `aekit evaluate` for its accuracy"
        )
    model.eval()
    normalizer = bundle.normalizer
    labels = _checked_condition(model, condition, len(x))
    return _batched(
        lambda batch, labels: normalizer.inverse_transform(
            model.reconstruct(normalizer.transform(batch), labels)
        ),
        x.float(),
        batch_size,
        labels,
    )


def encode_chunks(
    bundle: ModelBundle, chunks: Iterable[np.ndarray], *, batch_size: int = 1024
) -> Iterator[Tensor]:
    """Codes of each raw chunk in turn, so inputs larger than memory are encoded in bounded memory."""
    for chunk in chunks:
        yield encode_dataset(
            bundle, torch.from_numpy(np.asarray(chunk, dtype=np.float32)), batch_size=batch_size
        )
