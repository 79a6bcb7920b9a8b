"""``AutoencoderOutlierDetector``: reconstruction-error anomaly detection as a scikit-learn detector."""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sklearn.base import OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples, check_is_fitted

from aekit.apps import anomaly
from aekit.errors import ConfigError, DataError
from aekit.estimators.base import (
    ESTIMATOR_KEY,
    AbstractAutoencoderEstimator,
    Scaling,
    draw_seed,
    is_positive_int,
)
from aekit.models import registry
from aekit.models.files import ModelBundle

__all__ = ["AutoencoderOutlierDetector"]


# Rows per optimiser step times steps: the training budget does not grow with the table.
STEP_BUDGET_VALUES = 16_000_000  # largest tiled training set (values) before epochs take over
MIN_FIT_ROWS = 10  # fewer rows cannot show what normal looks like: every new row would be flagged
MIN_CALIBRATION_ROWS = 20
MAX_CALIBRATION_ROWS = 20_000  # a 99th percentile of 20 000 scores is within ±0.15 points of FPR


class AutoencoderOutlierDetector(OutlierMixin, AbstractAutoencoderEstimator):
    """Flags rows an autoencoder trained on (mostly) normal data reconstructs badly.

    The defaults are meant for an unknown table and were chosen across the ADBench tables (see
    ``docs/anomaly.md``): robust scaling (median, interquartile range), an ensemble of 8 small MLP
    autoencoders (``mlp_ensemble``) sized from the number of columns, a fixed budget of ``steps``
    optimiser steps whatever the number of rows, and as score the reconstruction error plus how far
    the row's code lies from the training codes, both from their centre and from their nearest
    members (``score_method="mse_code"``). A
    ``calibration_fraction`` of the rows is held out of training to set the threshold.

    Scores follow scikit-learn's detectors: ``score_samples`` is minus the anomaly score (the pooled
    reconstruction error, or the negative ELBO for a VAE), so higher = more normal;
    ``decision_function = score_samples − offset_`` is negative for outliers; ``predict`` gives +1
    (inlier) or −1 (outlier). With ``contamination="auto"`` the threshold is the
    ``threshold_percentile``-th percentile of the held-out rows' scores, so on new normal rows about
    ``1 − threshold_percentile / 100`` are flagged (the false-positive rate); with a number, that share
    of the training rows is flagged.

    >>> detector = AutoencoderOutlierDetector(random_state=0)
    >>> flags = detector.fit(X_train).predict(X_new)  # doctest: +SKIP

    Args:
        model: Registered model name; ``mlp_ensemble`` by default (``mlp``, ``vae``, ``conv`` ... work).
        latent_dim: Code size (each member's, for ``mlp_ensemble``); None: ``round(√n_features)``
            clipped to [2, 16] for the ensemble, ``min(8, ⌈n_features / 2⌉)`` otherwise.
        hidden_dims: Hidden widths; None: one layer of ``2 · n_features`` clipped to [16, 128] (and
            narrower for very wide tables, so a step costs about the same) for the ensemble, the
            model's default otherwise.
        input_shape, model_options, train_options, device, random_state: As in
            :class:`~aekit.estimators.AutoencoderTransformer`.
        scaling: ``robust`` (median 0, IQR-based unit scale; constant columns map to 0),
            ``standardize``, ``minmax`` or ``none``.
        steps: Optimiser steps of training when ``epochs`` is None (the default): the training rows
            are drawn (repeated when the table is small) to fill ``steps`` batches.
        epochs: Passes over all training rows instead of the step budget.
        batch_size, learning_rate: Of the optimiser.
        contamination: Expected share of outliers in the training data, in (0, 0.5]; ``"auto"`` uses
            ``threshold_percentile`` of held-out scores instead.
        threshold_percentile: With ``contamination="auto"``, the percentile of held-out anomaly scores
            used as threshold, in (0, 100]: the target false-positive rate is ``1 − p / 100``.
        calibration_fraction: Share of the rows held out of training to set the threshold, in [0, 0.5]
            (0, or fewer than 20 rows: the training rows set it).
        score_method: ``mse_code`` (the default): the mean squared reconstruction error, plus half a
            robust distance of the code from the training codes' median, plus 6 × the code's mean
            distance to its 20 nearest training codes, each relative to its median on the training
            rows (:class:`~aekit.apps.anomaly.CodeDistance`); ``auto`` (ELBO when the model
            has one, else its reconstruction loss), ``mse``, ``l1``, ``bce`` (needs
            ``scaling="minmax"``; a new value beyond the training range also scores its squared
            distance beyond it), ``elbo``, or ``mahalanobis``: the Mahalanobis distance of the
            reconstruction residual under a Gaussian fitted to the training residuals.
        pooling: How per-feature errors become one score: ``mean``, ``max`` or ``top`` (mean of the
            largest ``top_fraction`` share).
        top_fraction: Share of features ``pooling="top"`` averages, in (0, 1].
        smoothing: With ``input_shape`` images, the odd side of a box filter run over each error map
            before pooling (1 = none).
        use_codes: With ``score_method="mahalanobis"``, add the Mahalanobis distance of the code under
            a Gaussian of the training codes.

    Attributes:
        threshold_: Anomaly-score threshold (rows scoring above it are outliers).
        gaussian_: The residual Gaussian of ``score_method="mahalanobis"``, else None.
        code_distance_: The code statistics of ``score_method="mse_code"``, else None.
        offset_: ``−threshold_``, as scikit-learn's detectors define it.
        n_calibration_rows_: Rows the threshold was set on that training did not see (0: none).
        model_, normalizer_, history_, latent_dim_, input_shape_, n_features_in_, feature_names_in_:
            As in :class:`~aekit.estimators.AutoencoderTransformer`.
    """

    def __init__(
        self,
        *,
        model: str = "mlp_ensemble",
        latent_dim: int | None = None,
        hidden_dims: tuple[int, ...] | None = None,
        input_shape: tuple[int, ...] | None = None,
        scaling: Scaling = "robust",
        steps: int = 300,
        epochs: int | None = None,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        model_options: dict[str, Any] | None = None,
        train_options: dict[str, Any] | None = None,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        contamination: float | Literal["auto"] = "auto",
        threshold_percentile: float = 99.0,
        calibration_fraction: float = 0.2,
        score_method: anomaly.ScoreMethod = "mse_code",
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
        self.steps = steps
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.model_options = model_options
        self.train_options = train_options
        self.device = device
        self.random_state = random_state
        self.contamination = contamination
        self.threshold_percentile = threshold_percentile
        self.calibration_fraction = calibration_fraction
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
        fraction = self.calibration_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 <= fraction <= 0.5:
            raise ConfigError(f"calibration_fraction must be in [0, 0.5]; got {fraction!r}")
        if self.epochs is None and not is_positive_int(self.steps):
            raise ConfigError(f"steps must be a positive int (or set epochs); got {self.steps!r}")
        self._settings()

    def _settings(self, threshold: float | None = None) -> anomaly.DetectionSettings:
        return anomaly.DetectionSettings(
            threshold,
            self.score_method,
            self.pooling,
            float(self.top_fraction),
            self.smoothing,
            getattr(self, "gaussian_", None),
            getattr(self, "code_distance_", None),
        )

    def _architecture(self, n_features: int) -> dict[str, Any]:
        fields = {f.name for f in dataclasses.fields(registry.get(self.model).config_class)}
        if "member_latent_dim" not in fields:
            return super()._architecture(n_features)
        latent_dim = self.latent_dim or int(np.clip(round(math.sqrt(n_features)), 2, 16))
        width = int(np.clip(min(2 * n_features, 50_000 // n_features), 16, 128))
        return {
            "member_latent_dim": latent_dim,
            "hidden_dims": tuple(self.hidden_dims) if self.hidden_dims is not None else (width,),
        }

    def _training_plan(self, n_rows: int, random: np.random.RandomState) -> tuple[np.ndarray | None, int]:
        """Hold out the calibration rows; fill ``steps`` batches from the others (or run ``epochs``)."""
        n_held = round(self.calibration_fraction * n_rows) if n_rows >= MIN_CALIBRATION_ROWS else 0
        order = random.permutation(n_rows)
        train = order[n_held:]
        if self.epochs is not None:
            return (None if n_held == 0 else np.sort(train)), int(self.epochs)
        budget = int(self.steps) * int(self.batch_size)
        n_features = int(self.n_features_in_)
        if budget <= len(train):
            return np.sort(train[:budget]), 1
        # a small table: repeat its rows (each pass in a new order) so one epoch holds `steps` batches,
        # unless that copy would be large; then whole passes approximate the budget
        if budget * n_features > STEP_BUDGET_VALUES:
            return (None if n_held == 0 else np.sort(train)), max(1, round(budget / len(train)))
        passes = [random.permutation(train) for _ in range(math.ceil(budget / len(train)))]
        return np.concatenate(passes)[:budget], 1

    def fit(self, X: Any, y: Any = None) -> AutoencoderOutlierDetector:
        """Train on ``X`` (mostly normal rows) and set the threshold; ``y`` is ignored.

        Raises:
            DataError: Fewer than ``MIN_FIT_ROWS`` (10) rows, non-numeric columns, NaN/inf values, or
                ``input_shape`` not matching ``X``.
            ConfigError: An invalid hyperparameter.
        """
        self._check_detector_params()
        n_rows = _num_samples(X)
        if n_rows < MIN_FIT_ROWS:
            raise DataError(
                f"a detector needs at least {MIN_FIT_ROWS} rows (samples) of normal data to learn from; "
                f"got {n_rows} sample{'' if n_rows == 1 else 's'}"
            )
        array, train_index = self._fit_autoencoder(X)
        trained = (
            np.ones(len(array), dtype=bool)
            if train_index is None
            else np.isin(np.arange(len(array)), train_index)
        )
        self.gaussian_ = self.code_distance_ = None
        method = anomaly.resolve_method(self.model_, self.score_method)
        with self._in_float64():
            if method == "mahalanobis":
                self.gaussian_ = anomaly.fit_gaussian(
                    self.model_, array[trained], use_codes=bool(self.use_codes), normalizer=self.normalizer_
                )
            elif method == "mse_code":
                self.code_distance_ = anomaly.fit_code_distance(
                    self.model_,
                    array[trained],
                    normalizer=self.normalizer_,
                    random_state=draw_seed(check_random_state(self.random_state)),
                )
        if self.contamination == "auto":
            held_out = np.flatnonzero(~trained)
            if len(held_out) > MAX_CALIBRATION_ROWS:
                chosen = check_random_state(self.random_state).choice(
                    held_out, MAX_CALIBRATION_ROWS, replace=False
                )
                held_out = np.sort(chosen)
            held_out = array[held_out]
            self.n_calibration_rows_ = len(held_out)
            calibration = held_out if len(held_out) else array
            self.threshold_ = anomaly.threshold_from_percentile(
                self._anomaly_scores(calibration), float(self.threshold_percentile)
            )
        else:
            self.n_calibration_rows_ = 0
            self.threshold_ = anomaly.threshold_from_contamination(
                self._anomaly_scores(array), float(self.contamination)
            )
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
                code_distance=self.code_distance_,
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
        metadata[ESTIMATOR_KEY]["n_calibration_rows"] = int(self.n_calibration_rows_)
        return metadata

    def _restore(self, bundle: ModelBundle, entry: dict[str, Any]) -> None:
        super()._restore(bundle, entry)
        settings = anomaly.stored_settings(bundle)
        if settings is None or settings.threshold is None:
            raise ConfigError(f"{bundle.path} stores no anomaly threshold")
        self.threshold_ = float(settings.threshold)
        self.offset_ = -self.threshold_
        self.gaussian_ = settings.gaussian
        self.code_distance_ = settings.code_distance
        self.n_calibration_rows_ = int(entry.get("n_calibration_rows", 0))
