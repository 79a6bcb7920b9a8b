"""A Gaussian of the reconstruction residuals (and codes) of normal data, for Mahalanobis anomaly scores.

Malhotra et al., "LSTM-based encoder-decoder for multi-sensor anomaly detection" (ICML workshop 2016) fit
a multivariate Gaussian to the reconstruction errors of normal data and score new errors by it: features
whose errors are large on normal data count less, correlated errors are not counted twice. Adding the
code's own Mahalanobis distance is the autoencoder form of PCA's classic ``SPE + T²`` monitoring pair, and
catches samples that the model reconstructs well but maps far from the normal codes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from aekit.errors import DataError, ModelFileError

__all__ = ["GaussianResiduals", "precision_matrix"]


def precision_matrix(samples: np.ndarray, eigenvalue_floor: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and regularised inverse covariance ``(D, D)`` of ``samples`` ``(N, D)``.

    Eigenvalues below ``eigenvalue_floor`` × the largest are raised to it, so directions where normal data
    never vary (or that ``N < D`` samples cannot estimate) do not get unbounded weight.

    Raises:
        DataError: Fewer than 2 samples.
    """
    if len(samples) < 2:
        raise DataError(
            f"a Gaussian needs at least 2 samples to estimate a covariance; got {len(samples)} sample(s)"
        )
    mean = samples.mean(0)
    covariance = np.atleast_2d(np.cov(samples, rowvar=False))
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    floor = max(float(eigenvalues.max()) * eigenvalue_floor, 1e-12)
    eigenvalues = np.maximum(eigenvalues, floor)
    return mean, (eigenvectors / eigenvalues) @ eigenvectors.T


def _squared_distances(values: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> np.ndarray:
    centred = values - mean
    return np.einsum("ij,jk,ik->i", centred, precision, centred)


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianResiduals:
    """Fitted Gaussians of residuals ``x̂ − x`` (flattened, in the model's normalised space) and codes.

    The score of a sample is ``d_r / s_r + d_z / s_z``: squared Mahalanobis distances of its residual and
    code, each divided by its mean on the fitting data so that both parts weigh alike.

    Attributes:
        residual_mean: ``(D,)`` mean residual.
        residual_precision: ``(D, D)`` regularised inverse covariance of the residuals.
        residual_scale: Mean residual distance on the fitting data.
        code_mean, code_precision, code_scale: The same for the codes; None when codes are not used.
    """

    residual_mean: np.ndarray
    residual_precision: np.ndarray
    residual_scale: float
    code_mean: np.ndarray | None = None
    code_precision: np.ndarray | None = None
    code_scale: float | None = None

    @classmethod
    def fit(
        cls, residuals: np.ndarray, codes: np.ndarray | None = None, *, eigenvalue_floor: float = 1e-3
    ) -> GaussianResiduals:
        """Fit to residuals ``(N, D)`` and optionally codes ``(N, latent_dim)`` of normal samples."""
        residuals = np.asarray(residuals, dtype=np.float64).reshape(len(residuals), -1)
        mean, precision = precision_matrix(residuals, eigenvalue_floor)
        scale = _positive_mean(_squared_distances(residuals, mean, precision))
        if codes is None:
            return cls(mean, precision, scale)
        codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
        code_mean, code_precision = precision_matrix(codes, eigenvalue_floor)
        code_scale = _positive_mean(_squared_distances(codes, code_mean, code_precision))
        return cls(mean, precision, scale, code_mean, code_precision, code_scale)

    @property
    def uses_codes(self) -> bool:
        """Whether the code distance is part of the score."""
        return self.code_mean is not None

    def score(self, residuals: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
        """Anomaly scores ``(N,)`` of residuals ``(N, D)`` (and codes, required when fitted with them)."""
        residuals = np.asarray(residuals, dtype=np.float64).reshape(len(residuals), -1)
        if residuals.shape[1] != len(self.residual_mean):
            raise DataError(
                f"residuals have {residuals.shape[1]} values per sample; the Gaussian was fitted to "
                f"{len(self.residual_mean)}"
            )
        total = (
            _squared_distances(residuals, self.residual_mean, self.residual_precision) / self.residual_scale
        )
        if self.code_mean is None or self.code_precision is None or self.code_scale is None:
            return total
        if codes is None:
            raise DataError("this Gaussian was fitted with codes; pass the codes too")
        codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
        return total + _squared_distances(codes, self.code_mean, self.code_precision) / self.code_scale

    def to_dict(self) -> dict[str, Any]:
        """The model-folder form: the means and precision matrices as arrays (which a model folder keeps
        in its arrays file, not in ``config.json``), the scales as numbers."""
        return {
            "residual_mean": self.residual_mean,
            "residual_precision": self.residual_precision,
            "residual_scale": self.residual_scale,
            "code_mean": self.code_mean,
            "code_precision": self.code_precision,
            "code_scale": self.code_scale,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GaussianResiduals:
        """Rebuild from :meth:`to_dict`.

        Raises:
            ModelFileError: Missing keys or matrices of the wrong shape.
        """
        try:
            mean = np.asarray(data["residual_mean"], dtype=np.float64)
            precision = np.asarray(data["residual_precision"], dtype=np.float64)
            code_mean = None if data["code_mean"] is None else np.asarray(data["code_mean"], dtype=np.float64)
            code_precision = (
                None
                if data["code_precision"] is None
                else np.asarray(data["code_precision"], dtype=np.float64)
            )
            scale, code_scale = float(data["residual_scale"]), data["code_scale"]
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFileError(f"malformed Gaussian entry in the anomaly settings: {error!r}") from None
        if precision.shape != (len(mean), len(mean)) or (
            code_mean is not None
            and (code_precision is None or code_precision.shape != (len(code_mean),) * 2)
        ):
            raise ModelFileError(
                "malformed Gaussian entry in the anomaly settings: matrix shapes do not match"
            )
        return cls(
            mean,
            precision,
            scale,
            code_mean,
            code_precision,
            None if code_scale is None else float(code_scale),
        )


def _positive_mean(values: np.ndarray) -> float:
    mean = float(values.mean())
    return mean if mean > 0 else 1.0
