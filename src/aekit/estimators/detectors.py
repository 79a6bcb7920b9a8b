"""``AutoencoderOutlierDetector``: reconstruction-error anomaly detection as a scikit-learn detector."""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sklearn.base import OutlierMixin
from sklearn.utils.validation import check_is_fitted

from aekit.apps import anomaly
from aekit.errors import ConfigError
from aekit.estimators.base import AbstractAutoencoderEstimator, Scaling
from aekit.io import ModelBundle

__all__ = ["AutoencoderOutlierDetector"]


class AutoencoderOutlierDetector(OutlierMixin, AbstractAutoencoderEstimator):
    """Flags rows an autoencoder trained on (mostly) normal data reconstructs badly.

    Scores follow scikit-learn's detectors: ``score_samples`` is minus the anomaly score (the pooled
    reconstruction error, or the negative ELBO for a VAE), so higher = more normal;
    ``decision_function = score_samples − offset_`` is negative for outliers; ``predict`` gives +1
    (inlier) or −1 (outlier). The threshold comes from the training scores: the share
    ``contamination`` of training rows is flagged, or with ``contamination="auto"`` those above the
    ``threshold_percentile``-th percentile of training errors.

    >>> detector = AutoencoderOutlierDetector(hidden_dims=(32, 16), latent_dim=4, epochs=100)
    >>> flags = detector.fit(X_normal).predict(X_new)  # doctest: +SKIP

    Args:
        model, latent_dim, hidden_dims, input_shape, scaling, epochs, batch_size, learning_rate,
        model_options, train_options, device, random_state: As in
            :class:`~aekit.estimators.AutoencoderTransformer`.
        contamination: Expected share of outliers in the training data, in (0, 0.5]; ``"auto"`` uses
            ``threshold_percentile`` instead.
        threshold_percentile: With ``contamination="auto"``, the percentile of training anomaly scores
            used as threshold, in (0, 100].
        score_method: ``auto`` (ELBO when the model has one, else its reconstruction loss), ``mse``,
            ``l1``, ``bce`` (needs ``scaling="minmax"``), ``elbo``, or ``mahalanobis``: the Mahalanobis
            distance of the reconstruction residual under a Gaussian fitted to the training residuals
            (best on the tabular benchmark, see ``docs/benchmarks.md``).
        pooling: How per-feature errors become one score: ``mean``, ``max`` or ``top`` (mean of the
            largest ``top_fraction`` share).
        top_fraction: Share of features ``pooling="top"`` averages, in (0, 1].
        smoothing: With ``input_shape`` images, the odd side of a box filter run over each error map
            before pooling (1 = none; 3 helped on MNIST, see ``docs/benchmarks.md``).
        use_codes: With ``score_method="mahalanobis"``, add the Mahalanobis distance of the code under
            a Gaussian of the training codes (catches rows reconstructed well but far from normal codes).

    Attributes:
        threshold_: Anomaly-score threshold (rows scoring above it are outliers).
        gaussian_: The residual Gaussian of ``score_method="mahalanobis"``, else None.
        offset_: ``−threshold_``, as scikit-learn's detectors define it.
        model_, normalizer_, history_, latent_dim_, input_shape_, n_features_in_, feature_names_in_:
            As in :class:`~aekit.estimators.AutoencoderTransformer`.
    """

    def __init__(
        self,
        *,
        model: str = "mlp",
        latent_dim: int | None = None,
        hidden_dims: tuple[int, ...] | None = None,
        input_shape: tuple[int, ...] | None = None,
        scaling: Scaling = "standardize",
        epochs: int = 50,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        model_options: dict[str, Any] | None = None,
        train_options: dict[str, Any] | None = None,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        contamination: float | Literal["auto"] = "auto",
        threshold_percentile: float = 99.0,
        score_method: anomaly.ScoreMethod = "auto",
        pooling: anomaly.Pooling = "mean",
        top_fraction: float = 0.1,
        smoothing: int = 1,
        use_codes: bool = True,
    ) -> None:
        self.model = model
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.input_shape = input_shape
        self.scaling = scaling
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.model_options = model_options
        self.train_options = train_options
        self.device = device
        self.random_state = random_state
        self.contamination = contamination
        self.threshold_percentile = threshold_percentile
        self.score_method = score_method
        self.pooling = pooling
        self.top_fraction = top_fraction
        self.smoothing = smoothing
        self.use_codes = use_codes

    def _check_detector_params(self) -> None:
        contamination = self.contamination
        if contamination != "auto" and not (
            isinstance(contamination, numbers.Real)
            and not isinstance(contamination, bool)
            and 0 < contamination <= 0.5
        ):
            raise ConfigError(f"contamination must be 'auto' or a float in (0, 0.5]; got {contamination!r}")
        percentile = self.threshold_percentile
        if (
            isinstance(percentile, bool)
            or not isinstance(percentile, numbers.Real)
            or not 0 < percentile <= 100
        ):
            raise ConfigError(f"threshold_percentile must be in (0, 100]; got {percentile!r}")
        self._settings()

    def _settings(self, threshold: float | None = None) -> anomaly.DetectionSettings:
        return anomaly.DetectionSettings(
            threshold,
            self.score_method,
            self.pooling,
            float(self.top_fraction),
            self.smoothing,
            getattr(self, "gaussian_", None),
        )

    def fit(self, X: Any, y: Any = None) -> AutoencoderOutlierDetector:
        """Train on ``X`` (mostly normal rows) and set the threshold from its scores; ``y`` is ignored.

        Raises:
            DataError: Non-numeric columns, NaN/inf values, or ``input_shape`` not matching ``X``.
            ConfigError: An invalid hyperparameter.
        """
        self._check_detector_params()
        array = self._fit_autoencoder(X)
        self.gaussian_ = None
        if anomaly.resolve_method(self.model_, self.score_method) == "mahalanobis":
            with self._in_float64():
                self.gaussian_ = anomaly.fit_gaussian(
                    self.model_, array, use_codes=bool(self.use_codes), normalizer=self.normalizer_
                )
        scores = self._anomaly_scores(array)
        if self.contamination == "auto":
            self.threshold_ = anomaly.threshold_from_percentile(scores, float(self.threshold_percentile))
        else:
            self.threshold_ = anomaly.threshold_from_contamination(scores, float(self.contamination))
        self.offset_ = -self.threshold_
        return self

    def _anomaly_scores(self, array: np.ndarray) -> np.ndarray:
        with self._in_float64():
            return anomaly.anomaly_scores(
                self.model_,
                array,
                method=self.score_method,
                pooling=self.pooling,
                top_fraction=float(self.top_fraction),
                smoothing=self.smoothing,
                gaussian=self.gaussian_,
                normalizer=self.normalizer_,
            )

    def score_samples(self, X: Any) -> np.ndarray:
        """Minus the anomaly score of each row, ``(n_samples,)``; higher = more normal."""
        check_is_fitted(self)
        return -self._anomaly_scores(self._validate(X, reset=False))

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) − offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """+1 for inliers, −1 for outliers (``decision_function < 0``)."""
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def feature_scores(self, X: Any) -> np.ndarray:
        """Each feature's share of each row's reconstruction error, ``(n_samples, n_features)``.

        Rows sum to 1 (a perfectly reconstructed row gives zeros); large shares point at the features
        that make a row unusual. Errors are compared in the scaled space the model was trained in.
        """
        check_is_fitted(self)
        array = self._validate(X, reset=False)
        with self._in_float64():
            maps = anomaly.error_maps(
                self.model_, array, method=self.score_method, normalizer=self.normalizer_
            )
        return anomaly.error_shares(maps)

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the fitted detector as an aekit model folder, threshold included (see ``aekit detect``)."""
        return super().save(folder)

    def _metadata(self) -> dict[str, Any]:
        metadata = super()._metadata()
        metadata[anomaly.METADATA_KEY] = self._settings(float(self.threshold_)).to_dict()
        return metadata

    def _restore(self, bundle: ModelBundle, entry: dict[str, Any]) -> None:
        super()._restore(bundle, entry)
        settings = anomaly.stored_settings(bundle)
        if settings is None or settings.threshold is None:
            raise ConfigError(f"{bundle.path} stores no anomaly threshold")
        self.threshold_ = float(settings.threshold)
        self.offset_ = -self.threshold_
        self.gaussian_ = settings.gaussian
