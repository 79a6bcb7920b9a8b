"""Reconstruction error plus code distance: the two halves of PCA's classic ``SPE + T²`` monitoring pair.

A row can be unusual in two ways: off the data's manifold, so the autoencoder reconstructs it badly
(the squared prediction error, SPE), or on the manifold but far out along it, so it is reconstructed
well and its *code* is extreme (Hotelling's T² in PCA). On the ADBench tables either kind dominates
depending on the table (wine, cardio and thyroid anomalies are extreme codes; letter, vowels and cover
anomalies reconstruct badly), so the default tabular score adds both, each divided by its median on the
training rows so that neither unit wins by scale. The code distance is the mean squared robust z-score
of the code units (median and MAD of the training codes), which a few anomalies in the training data
barely move.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from aekit.errors import DataError, ModelFileError

__all__ = ["CODE_WEIGHT", "CodeDistance"]

CODE_WEIGHT = 0.5
"""Weight of the code distance against the reconstruction error (chosen on 18 ADBench tables: 0.5
scored 76.8 % mean AUROC, 1.0 76.3 %, 0 (reconstruction only) 70.8 %, see ``docs/anomaly.md``)."""


@dataclasses.dataclass(frozen=True, eq=False)
class CodeDistance:
    """Robust location and spread of normal codes, and the medians that put both score parts on one scale.

    The score of a row with mean squared reconstruction error ``e`` and code ``z`` is
    ``e / recon_scale + weight · mean_j ((z_j − code_median_j) / code_spread_j)² / code_scale``.

    Attributes:
        code_median: ``(latent_dim,)`` median code.
        code_spread: ``(latent_dim,)`` MAD of each code unit × 1.4826 (a normal's std), never 0.
        recon_scale: Median reconstruction error of the fitting rows.
        code_scale: Median code distance of the fitting rows.
        weight: Weight of the code part.
    """

    code_median: np.ndarray
    code_spread: np.ndarray
    recon_scale: float
    code_scale: float
    weight: float = CODE_WEIGHT

    @classmethod
    def fit(cls, errors: np.ndarray, codes: np.ndarray, *, weight: float = CODE_WEIGHT) -> CodeDistance:
        """Fit to the reconstruction errors ``(N,)`` and codes ``(N, latent_dim)`` of (mostly) normal rows.

        Raises:
            DataError: No rows.
        """
        errors = np.asarray(errors, dtype=np.float64).reshape(-1)
        codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
        if len(errors) == 0 or len(codes) != len(errors):
            raise DataError(
                f"need one code per error and at least one row; got {len(errors)} and {len(codes)}"
            )
        median = np.median(codes, axis=0)
        spread = 1.4826 * np.median(np.abs(codes - median), axis=0)
        floor = max(float(spread.max(initial=0.0)) * 1e-3, 1e-12)
        spread = np.maximum(spread, floor)
        distances = _code_distances(codes, median, spread)
        return cls(median, spread, _positive_median(errors), _positive_median(distances), float(weight))

    def score(self, errors: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Anomaly scores ``(N,)`` from reconstruction errors ``(N,)`` and codes ``(N, latent_dim)``."""
        codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
        if codes.shape[1] != len(self.code_median):
            raise DataError(
                f"codes have {codes.shape[1]} units; the distance was fitted to {len(self.code_median)}"
            )
        distances = _code_distances(codes, self.code_median, self.code_spread)
        return (
            np.asarray(errors, dtype=np.float64) / self.recon_scale
            + self.weight * distances / self.code_scale
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, stored in a model folder's ``config.json``."""
        return {
            "code_median": self.code_median.tolist(),
            "code_spread": self.code_spread.tolist(),
            "recon_scale": self.recon_scale,
            "code_scale": self.code_scale,
            "weight": self.weight,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CodeDistance:
        """Rebuild from :meth:`to_dict`.

        Raises:
            ModelFileError: Missing keys, or vectors of different lengths.
        """
        try:
            median = np.asarray(data["code_median"], dtype=np.float64).reshape(-1)
            spread = np.asarray(data["code_spread"], dtype=np.float64).reshape(-1)
            values = (float(data["recon_scale"]), float(data["code_scale"]), float(data["weight"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFileError(
                f"malformed code-distance entry in the anomaly settings: {error!r}"
            ) from None
        if median.shape != spread.shape or not (spread > 0).all():
            raise ModelFileError("malformed code-distance entry in the anomaly settings: bad code_spread")
        return cls(median, spread, *values)


def _code_distances(codes: np.ndarray, median: np.ndarray, spread: np.ndarray) -> np.ndarray:
    return np.square((codes - median) / spread).mean(axis=1)


def _positive_median(values: np.ndarray) -> float:
    median = float(np.median(values))
    return median if median > 0 else 1.0
