"""Input normalisation learned from training data and stored with the model.

Inference must repeat exactly what training did, so the fitted normaliser is saved in the model's
``config.json`` and applied again by every app and CLI command.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from aekit.errors import DataError, ModelFileError

__all__ = ["Normalizer", "rescale_to_model"]

NormalizerKind = Literal["identity", "scale", "standardize", "minmax", "robust"]
ROBUST_TAIL = 3.0
"""Where the ``robust`` normaliser starts compressing values logarithmically (in IQR-based units)."""


@dataclasses.dataclass(frozen=True)
class Normalizer:
    """An affine map ``x_norm = (x - offset) / scale`` with scalar or per-feature parameters.

    Attributes:
        kind: How it was fitted: ``"identity"``, ``"scale"`` (fixed range such as 0..255 → 0..1),
            ``"minmax"`` (per-feature range → 0..1), ``"standardize"`` (per-feature mean 0, std 1) or
            ``"robust"`` (per-feature median 0 and interquartile range 1.349, a normal's: a few extreme
            values barely move it; features with a zero IQR fall back to their std; then values beyond
            ±3 are compressed logarithmically, ``±(3 + log(1 + |z| − 3))``, so heavy tails cannot
            dominate a squared loss — the only part of a normaliser that is not affine).
        offset: Subtracted first; a scalar list ``[v]`` or one value per feature.
        scale: Divided by next; same length rules as ``offset``; never zero.
    """

    kind: NormalizerKind = "identity"
    offset: tuple[float, ...] = (0.0,)
    scale: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        if len(self.offset) != len(self.scale):
            raise DataError(f"offset and scale lengths differ: {len(self.offset)} vs {len(self.scale)}")
        if any(s == 0 for s in self.scale):
            raise DataError("normalizer scale must not contain zeros")

    @classmethod
    def identity(cls) -> Normalizer:
        """No change."""
        return cls()

    @classmethod
    def range(cls, low: float, high: float) -> Normalizer:
        """Map the fixed range ``[low, high]`` (e.g. 0..255 pixels) onto ``[0, 1]``."""
        if not high > low:
            raise DataError(f"range needs high > low; got low={low}, high={high}")
        return cls("scale", (float(low),), (float(high - low),))

    @classmethod
    def fit(cls, x: Tensor, kind: NormalizerKind) -> Normalizer:
        """Learn per-feature parameters from training data ``x`` of shape ``(N, n_features)``.

        Constant features get scale 1 so that they map to 0 instead of dividing by zero.
        """
        if kind == "identity":
            return cls.identity()
        flat = x.reshape(len(x), -1).double()
        if kind == "standardize":
            offset, spread = flat.mean(0), flat.std(0, unbiased=False)
        elif kind == "minmax":
            offset, spread = flat.amin(0), flat.amax(0) - flat.amin(0)
        elif kind == "robust":
            # NumPy: torch.quantile refuses inputs above 16 M values
            quartiles = torch.from_numpy(np.percentile(flat.cpu().numpy(), [25.0, 50.0, 75.0], axis=0))
            offset, spread = quartiles[1], (quartiles[2] - quartiles[0]) / 1.349
            spread = torch.where(spread > 0, spread, flat.std(0, unbiased=False))
        elif kind == "scale":
            low, high = flat.min(), flat.max()
            return cls.range(float(low), float(high)) if high > low else cls.identity()
        else:
            raise DataError(f"unknown normalizer kind {kind!r}")
        spread = torch.where(spread > 0, spread, torch.ones_like(spread))
        return cls(kind, tuple(offset.tolist()), tuple(spread.tolist()))

    def _params(self, x: Tensor) -> tuple[Tensor, Tensor]:
        offset = torch.tensor(self.offset, dtype=x.dtype, device=x.device)
        scale = torch.tensor(self.scale, dtype=x.dtype, device=x.device)
        if len(self.offset) > 1:
            shape = x.shape[1:]
            if shape.numel() != len(self.offset):
                raise DataError(
                    f"the model was trained on samples of {len(self.offset)} features; these have "
                    f"{shape.numel()} (shape {tuple(shape)}): check the file's columns"
                )
            offset, scale = offset.reshape(shape), scale.reshape(shape)
        return offset, scale

    def unit_range(self) -> tuple[float, float] | None:
        """The raw values this normaliser maps onto ``[0, 1]`` (for drawing pictures in the data's scale):
        the fixed range of ``"scale"``, ``(0, 1)`` for ``"identity"``, None for normalisers fitted per
        feature (each picture then uses its own range)."""
        if self.kind == "scale":
            return self.offset[0], self.offset[0] + self.scale[0]
        return (0.0, 1.0) if self.kind == "identity" else None

    def transform(self, x: Tensor) -> Tensor:
        """Normalise a batch ``(B, ...)``."""
        if self.kind == "identity":
            return x
        offset, scale = self._params(x)
        z = (x - offset) / scale
        if self.kind != "robust":
            return z
        excess = (z.abs() - ROBUST_TAIL).clamp(min=0)
        return z.clamp(-ROBUST_TAIL, ROBUST_TAIL) + z.sign() * torch.log1p(excess)

    def inverse_transform(self, x: Tensor) -> Tensor:
        """Undo :meth:`transform`."""
        if self.kind == "identity":
            return x
        offset, scale = self._params(x)
        if self.kind == "robust":
            excess = (x.abs() - ROBUST_TAIL).clamp(min=0)
            x = x.clamp(-ROBUST_TAIL, ROBUST_TAIL) + x.sign() * torch.expm1(excess)
        return x * scale + offset

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form stored in ``config.json``."""
        return {"kind": self.kind, "offset": list(self.offset), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normalizer:
        """Rebuild from :meth:`to_dict` output; a malformed entry is a :class:`ModelFileError`."""
        try:
            return cls(data["kind"], tuple(map(float, data["offset"])), tuple(map(float, data["scale"])))
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFileError(f"malformed normalization entry in config.json: {error}") from None


def rescale_to_model(x: Tensor, value_range: tuple[float, float] | None, normalizer: Normalizer) -> Tensor:
    """Raw values ``x`` whose known range is ``value_range`` (``(0, 255)`` for 8-bit images) moved onto
    the raw range the model was trained in (``normalizer.unit_range()``, e.g. ``(0, 16)`` for the 8×8
    digits), so that an 8-bit picture goes through such a model in the model's own scale. Unchanged when
    either range is unknown (tables, float arrays, per-feature scaling) or they agree.
    """
    target = normalizer.unit_range()
    if value_range is None or target is None or tuple(value_range) == tuple(target):
        return x
    (low, high), (new_low, new_high) = value_range, target
    return (x - low) * ((new_high - new_low) / (high - low)) + new_low
