"""Applying a saved model to raw data: normalise as at training time, run in batches, undo the scaling."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch
from torch import Tensor

from aekit.errors import ShapeError
from aekit.io import ModelBundle

__all__ = ["decode_codes", "encode_chunks", "encode_dataset", "reconstruct_dataset"]


def _batched(function, x: Tensor, batch_size: int) -> Tensor:  # type: ignore[no-untyped-def]
    with torch.inference_mode():
        return torch.cat([function(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def encode_dataset(bundle: ModelBundle, x: Tensor, *, batch_size: int = 1024) -> Tensor:
    """Codes ``(N, latent_dim)`` of raw inputs ``x`` ``(N, *input_shape)``."""
    bundle.model.eval()
    return _batched(
        lambda batch: bundle.model.encode(bundle.normalizer.transform(batch)), x.float(), batch_size
    )


def decode_codes(bundle: ModelBundle, codes: Tensor | np.ndarray, *, batch_size: int = 1024) -> Tensor:
    """Samples in the original data scale decoded from ``codes`` ``(N, latent_dim)``."""
    z = torch.as_tensor(codes, dtype=torch.float32)
    if z.dim() != 2 or z.shape[1] != bundle.model.latent_dim:
        raise ShapeError(f"codes must have shape (N, {bundle.model.latent_dim}); got {tuple(z.shape)}")
    bundle.model.eval()
    return _batched(
        lambda batch: bundle.normalizer.inverse_transform(bundle.model.decode(batch)), z, batch_size
    )


def reconstruct_dataset(bundle: ModelBundle, x: Tensor, *, batch_size: int = 1024) -> Tensor:
    """Reconstructions of raw inputs in the original data scale, same shape as ``x``."""
    bundle.model.eval()
    normalizer = bundle.normalizer
    return _batched(
        lambda batch: normalizer.inverse_transform(bundle.model.reconstruct(normalizer.transform(batch))),
        x.float(),
        batch_size,
    )


def encode_chunks(
    bundle: ModelBundle, chunks: Iterable[np.ndarray], *, batch_size: int = 1024
) -> Iterator[Tensor]:
    """Codes of each raw chunk in turn, so inputs larger than memory are encoded in bounded memory."""
    for chunk in chunks:
        yield encode_dataset(
            bundle, torch.from_numpy(np.asarray(chunk, dtype=np.float32)), batch_size=batch_size
        )
