"""Reconstruction error plus code distances: PCA's classic ``SPE + T²`` pair, and a code's neighbours.

A row can be unusual in three ways: off the data's manifold, so the autoencoder reconstructs it badly
(the squared prediction error, SPE); on the manifold but far out along it, so it is reconstructed well
and its *code* is extreme (Hotelling's T² in PCA); or inside the codes' range but in an empty region
between clusters of normal codes, which neither of the first two sees. On the ADBench tables each kind
dominates somewhere (wine, cardio and thyroid anomalies are extreme codes; letter, vowels and cover
anomalies reconstruct badly; letter, vowels and fault are where a nearest-neighbour distance leads), so
the default tabular score adds all three, each divided by its median on the training rows so that no
unit wins by scale:

- the code distance: the mean squared robust z-score of the code units (median and MAD of the training
  codes), which a few anomalies in the training data barely move;
- the neighbour distance: the mean Euclidean distance, in those z-scored units, from the code to its
  ``k`` nearest codes among a random reference sample of the training codes (a kNN detector run in the
  autoencoder's code space rather than on the raw columns).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from aekit.errors import DataError, ModelFileError

__all__ = ["CODE_WEIGHT", "NEIGHBOURS", "NEIGHBOUR_WEIGHT", "REFERENCE_CODES", "CodeDistance"]

CODE_WEIGHT = 0.5
"""Weight of the code distance against the reconstruction error (chosen on 18 ADBench tables: 0.5
scored 76.8 % mean AUROC, 1.0 76.3 %, 0 (reconstruction only) 70.8 %, see ``docs/anomaly.md``)."""
NEIGHBOUR_WEIGHT = 6.0
"""Weight of the neighbour distance (chosen on the 30 ADBench tables, two seeds: weights 4 to 8 scored
within 0.1 point of each other, 1 scored 1.1 points less, 0 (no neighbour part) 2.1 points less)."""
NEIGHBOURS = 20
"""Nearest reference codes averaged (10, 20 and 50 were measured; 20 is the usual kNN-detector size)."""
REFERENCE_CODES = 1024
"""Training codes kept as the neighbours' reference (stored with the model, so its size is bounded)."""


@dataclasses.dataclass(frozen=True, eq=False)
class CodeDistance:
    """Robust location and spread of normal codes, reference codes, and the medians that put the score's
    three parts on one scale.

    The score of a row with mean squared reconstruction error ``e`` and code ``z``, with ``u`` the
    z-scored code ``(z − code_median) / code_spread``, is
    ``e / recon_scale + weight · mean_j u_j² / code_scale + neighbour_weight · d_k(u) / neighbour_scale``
    where ``d_k`` is the mean distance from ``u`` to its ``neighbours`` nearest rows of
    ``reference_codes``. Without reference codes (folders saved before the neighbour part existed)
    the last term is left out.

    Attributes:
        code_median: ``(latent_dim,)`` median code.
        code_spread: ``(latent_dim,)`` MAD of each code unit × 1.4826 (a normal's std), never 0.
        recon_scale: Median reconstruction error of the fitting rows.
        code_scale: Median code distance of the fitting rows.
        weight: Weight of the code part.
        reference_codes: ``(M, latent_dim)`` z-scored codes of up to :data:`REFERENCE_CODES` fitting
            rows, rounded to float32 (the precision they are stored in), or None for no neighbour part.
        neighbours: How many nearest reference codes are averaged (at most ``M − 1``).
        neighbour_scale: Median neighbour distance of the reference rows (each without itself).
        neighbour_weight: Weight of the neighbour part.
    """

    code_median: np.ndarray
    code_spread: np.ndarray
    recon_scale: float
    code_scale: float
    weight: float = CODE_WEIGHT
    reference_codes: np.ndarray | None = None
    neighbours: int = NEIGHBOURS
    neighbour_scale: float = 1.0
    neighbour_weight: float = NEIGHBOUR_WEIGHT

    @classmethod
    def fit(
        cls,
        errors: np.ndarray,
        codes: np.ndarray,
        *,
        weight: float = CODE_WEIGHT,
        neighbour_weight: float = NEIGHBOUR_WEIGHT,
        random_state: int = 0,
    ) -> CodeDistance:
        """Fit to the reconstruction errors ``(N,)`` and codes ``(N, latent_dim)`` of (mostly) normal rows.

        The reference codes are a random sample of :data:`REFERENCE_CODES` rows (seeded by
        ``random_state``); fewer than 2 rows, or ``neighbour_weight`` 0, leave the neighbour part out.

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
        fitted = cls(median, spread, _positive_median(errors), _positive_median(distances), float(weight))
        if neighbour_weight == 0 or len(codes) < 2:
            return fitted
        chosen = np.random.default_rng(random_state).permutation(len(codes))[:REFERENCE_CODES]
        # stored as float32: rounded now, so that the scores before and after saving agree exactly
        reference = ((codes[np.sort(chosen)] - median) / spread).astype(np.float32).astype(np.float64)
        neighbours = min(NEIGHBOURS, len(reference) - 1)
        own = _neighbour_distances(reference, reference, neighbours + 1, skip_first=True)
        return dataclasses.replace(
            fitted,
            reference_codes=reference,
            neighbours=neighbours,
            neighbour_scale=_positive_median(own),
            neighbour_weight=float(neighbour_weight),
        )

    def score(self, errors: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Anomaly scores ``(N,)`` from reconstruction errors ``(N,)`` and codes ``(N, latent_dim)``."""
        codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
        if codes.shape[1] != len(self.code_median):
            raise DataError(
                f"codes have {codes.shape[1]} units; the distance was fitted to {len(self.code_median)}"
            )
        distances = _code_distances(codes, self.code_median, self.code_spread)
        scores = (
            np.asarray(errors, dtype=np.float64) / self.recon_scale
            + self.weight * distances / self.code_scale
        )
        if self.reference_codes is not None:
            standardised = (codes - self.code_median) / self.code_spread
            near = _neighbour_distances(standardised, self.reference_codes, self.neighbours)
            scores = scores + self.neighbour_weight * near / self.neighbour_scale
        return scores

    def to_dict(self) -> dict[str, Any]:
        """The model-folder form: numbers and lists, and the reference codes as a float32 array (which a
        model folder keeps in its arrays file)."""
        return {
            "code_median": self.code_median.tolist(),
            "code_spread": self.code_spread.tolist(),
            "recon_scale": self.recon_scale,
            "code_scale": self.code_scale,
            "weight": self.weight,
            **(
                {}
                if self.reference_codes is None
                else {
                    "reference_codes": self.reference_codes.astype(np.float32),
                    "neighbours": self.neighbours,
                    "neighbour_scale": self.neighbour_scale,
                    "neighbour_weight": self.neighbour_weight,
                }
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CodeDistance:
        """Rebuild from :meth:`to_dict` (or from a folder saved before model folders had an arrays file, whose
        reference codes are lines of text).

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
        fitted = cls(median, spread, *values)
        if "reference_codes" not in data:
            return fitted
        try:
            reference = _reference_array(data["reference_codes"])
            neighbours = int(data["neighbours"])
            scale, neighbour_weight = float(data["neighbour_scale"]), float(data["neighbour_weight"])
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFileError(
                f"malformed code-distance entry in the anomaly settings: {error!r}"
            ) from None
        if reference.ndim != 2 or reference.shape[1] != len(median) or not 1 <= neighbours < len(reference):
            raise ModelFileError(
                "malformed code-distance entry in the anomaly settings: reference_codes must be "
                f"(M, {len(median)}) with 1 ≤ neighbours < M; got {reference.shape} and {neighbours}"
            )
        if not (np.isfinite(reference).all() and math.isfinite(scale) and scale > 0):
            raise ModelFileError("malformed code-distance entry in the anomaly settings: non-finite values")
        return dataclasses.replace(
            fitted,
            reference_codes=reference,
            neighbours=neighbours,
            neighbour_scale=scale,
            neighbour_weight=neighbour_weight,
        )


def _code_distances(codes: np.ndarray, median: np.ndarray, spread: np.ndarray) -> np.ndarray:
    return np.square((codes - median) / spread).mean(axis=1)


def _reference_array(stored: Any) -> np.ndarray:
    """Stored reference codes as ``(M, latent_dim)`` float64: an array, or the lines of numbers that
    earlier folders kept in ``config.json`` (one row per line).

    Raises:
        ValueError: Neither, or lines of different lengths.
    """
    if isinstance(stored, np.ndarray):
        return stored.astype(np.float64)
    if not isinstance(stored, list) or not all(isinstance(line, str) for line in stored):
        raise ValueError("reference_codes must be an array or a list of lines of numbers")
    rows = [line.split() for line in stored]
    if len({len(row) for row in rows}) != 1:
        raise ValueError("reference_codes lines have different lengths")
    return np.asarray(rows, dtype=np.float64)


def _neighbour_distances(
    points: np.ndarray, reference: np.ndarray, k: int, *, skip_first: bool = False
) -> np.ndarray:
    """Mean Euclidean distance from each of ``points`` to its ``k`` nearest ``reference`` rows, in
    blocks of rows so memory stays bounded; ``skip_first`` drops the nearest (the point itself, when
    the points are the reference).

    The nearest rows are found with ``‖a‖² + ‖b‖² − 2a·b`` (one matrix product), then their distances
    are computed again from the differences: the expansion cancels badly for near-duplicate rows, and a
    row's score must not depend on the batch it is scored in."""
    means = np.empty(len(points))
    squared_reference = np.square(reference).sum(1)
    for start in range(0, len(points), _BLOCK_ROWS):
        block = points[start : start + _BLOCK_ROWS]
        squared = np.square(block).sum(1)[:, None] + squared_reference[None, :] - 2 * block @ reference.T
        candidates = np.argpartition(squared, k - 1, axis=1)[:, :k]
        nearest = np.sqrt(np.square(block[:, None, :] - reference[candidates]).sum(-1))
        if skip_first:
            nearest = np.sort(nearest, axis=1)[:, 1:]
        means[start : start + len(block)] = nearest.mean(1)
    return means


_BLOCK_ROWS = 1024


def _positive_median(values: np.ndarray) -> float:
    median = float(np.median(values))
    return median if median > 0 else 1.0
