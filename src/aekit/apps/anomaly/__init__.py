"""Anomaly detection with any trained model: scores, error maps, thresholds, metrics and file streaming.

A sample that a model trained on normal data reconstructs badly is unusual for that data. Scores here
grow with abnormality: the per-sample reconstruction error (MSE, L1 or BCE, pooled over the sample's
elements), the negative ELBO when the model has an ``elbo`` method (VAE), or the Mahalanobis distance of
the reconstruction residual (and code) under a Gaussian fitted to normal data. scikit-learn's detectors
use the opposite sign; :class:`aekit.estimators.AutoencoderOutlierDetector` applies it.

Labels follow the anomaly-detection convention everywhere here: ``True``/``1`` = anomaly. No training
happens in this package; fit models with :func:`aekit.fit` or the estimators.

>>> from aekit.apps import anomaly
>>> result = anomaly.score(model, x_test)  # doctest: +SKIP
>>> anomaly.evaluate(result.scores, y_test, result.threshold).auroc  # doctest: +SKIP
"""

from __future__ import annotations

from aekit.apps.anomaly.codes import CodeDistance
from aekit.apps.anomaly.files import DetectionSummary, RowExplanation, detect_file, detect_images
from aekit.apps.anomaly.gaussian import GaussianResiduals
from aekit.apps.anomaly.scoring import (
    METADATA_KEY,
    AnomalyResult,
    DetectionSettings,
    Pooling,
    ScoreMethod,
    anomaly_scores,
    error_maps,
    error_shares,
    fit_code_distance,
    fit_gaussian,
    resolve_method,
    save_threshold,
    score,
    stored_settings,
)
from aekit.apps.anomaly.thresholds import (
    AnomalyMetrics,
    best_f1_threshold,
    evaluate,
    threshold_from_contamination,
    threshold_from_percentile,
)

__all__ = [
    "METADATA_KEY",
    "AnomalyMetrics",
    "AnomalyResult",
    "CodeDistance",
    "DetectionSettings",
    "DetectionSummary",
    "GaussianResiduals",
    "Pooling",
    "RowExplanation",
    "ScoreMethod",
    "anomaly_scores",
    "best_f1_threshold",
    "detect_file",
    "detect_images",
    "error_maps",
    "error_shares",
    "evaluate",
    "fit_code_distance",
    "fit_gaussian",
    "resolve_method",
    "save_threshold",
    "score",
    "stored_settings",
    "threshold_from_contamination",
    "threshold_from_percentile",
]
