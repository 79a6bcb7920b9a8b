"""Thresholds on anomaly scores and detection metrics against true labels (1 = anomaly)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from aekit.errors import ConfigError, DataError, ShapeError

__all__ = [
    "AnomalyMetrics",
    "best_f1_threshold",
    "evaluate",
    "threshold_from_contamination",
    "threshold_from_percentile",
]


@dataclasses.dataclass(frozen=True)
class AnomalyMetrics:
    """Detection quality against true labels (1 = anomaly).

    Attributes:
        auroc: Area under the ROC curve (threshold-free; 0.5 = chance).
        auprc: Average precision, the area under the precision–recall curve (chance = anomaly share).
        f1, precision, recall: Of the flags ``score > threshold``.
        threshold: The threshold the F1 refers to.
    """

    auroc: float
    auprc: float
    f1: float
    precision: float
    recall: float
    threshold: float

    def to_dict(self) -> dict[str, float]:
        """Plain floats, for JSON."""
        return dataclasses.asdict(self)


def _scores_array(scores: np.ndarray | Sequence[float], name: str = "scores") -> np.ndarray:
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise DataError(f"{name} is empty")
    if not np.isfinite(values).all():
        raise DataError(f"{name} contains NaN or infinite values")
    return values


def _labels_array(labels: np.ndarray | Sequence[int], n_samples: int) -> np.ndarray:
    values = np.asarray(labels).reshape(-1)
    if len(values) != n_samples:
        raise ShapeError(f"labels must have one entry per score ({n_samples}); got {len(values)}")
    if not np.isin(values, (0, 1)).all():
        raise DataError(f"labels must be 0/1 or bool with 1 = anomaly; got values {np.unique(values)[:5]}")
    flags = values.astype(bool)
    if flags.all() or not flags.any():
        raise DataError("labels must contain both normal (0) and anomalous (1) samples")
    return flags


def threshold_from_contamination(scores: np.ndarray | Sequence[float], contamination: float) -> float:
    """The threshold that flags the top ``contamination`` share of ``scores``.

    Args:
        scores: Scores of data expected to hold that share of anomalies (often the training data).
        contamination: Expected anomaly share, in (0, 0.5].
    """
    if (
        isinstance(contamination, bool)
        or not isinstance(contamination, int | float)
        or not 0 < contamination <= 0.5
    ):
        raise ConfigError(f"contamination must be in (0, 0.5]; got {contamination!r}")
    return float(np.percentile(_scores_array(scores), 100.0 * (1.0 - contamination)))


def threshold_from_percentile(scores: np.ndarray | Sequence[float], percentile: float) -> float:
    """The ``percentile``-th percentile of ``scores`` (e.g. 99 of normal training scores)."""
    if isinstance(percentile, bool) or not isinstance(percentile, int | float) or not 0 <= percentile <= 100:
        raise ConfigError(f"percentile must be in [0, 100]; got {percentile!r}")
    return float(np.percentile(_scores_array(scores), percentile))


def best_f1_threshold(
    scores: np.ndarray | Sequence[float], labels: np.ndarray | Sequence[int]
) -> tuple[float, float]:
    """The threshold with the best F1 on a labelled validation set, and that F1.

    Cuts are placed halfway between distinct neighbouring scores, so tied scores are never split.

    Returns:
        ``(threshold, f1)``; flags are ``score > threshold``.
    """
    values = _scores_array(scores)
    flags = _labels_array(labels, len(values))
    order = np.argsort(-values, kind="stable")
    ordered, truth = values[order], flags[order]
    true_positives = np.cumsum(truth)
    flagged = np.arange(1, len(values) + 1)
    precision = true_positives / flagged
    recall = true_positives / true_positives[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(true_positives > 0, 2 * precision * recall / (precision + recall), 0.0)
    cut_allowed = np.r_[ordered[:-1] > ordered[1:], True]
    f1 = np.where(cut_allowed, f1, -1.0)
    best = int(np.argmax(f1))
    if best + 1 < len(ordered):
        threshold = 0.5 * (ordered[best] + ordered[best + 1])
    else:
        threshold = float(np.nextafter(ordered[-1], -np.inf))
    return float(threshold), float(f1[best])


def evaluate(
    scores: np.ndarray | Sequence[float], labels: np.ndarray | Sequence[int], threshold: float | None = None
) -> AnomalyMetrics:
    """AUROC, AUPRC and the F1/precision/recall of ``score > threshold`` against true labels.

    Args:
        scores: ``(N,)`` anomaly scores, higher = more anomalous.
        labels: ``(N,)`` true labels, 1/True = anomaly; both classes must occur.
        threshold: Threshold the F1 is measured at; None takes :func:`best_f1_threshold` (an optimistic
            figure, as it looks at the labels).
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    values = _scores_array(scores)
    flags = _labels_array(labels, len(values))
    if threshold is None:
        threshold, _ = best_f1_threshold(values, flags)
    predicted = values > threshold
    true_positives = float(np.sum(predicted & flags))
    precision = true_positives / max(float(predicted.sum()), 1.0)
    recall = true_positives / float(flags.sum())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return AnomalyMetrics(
        auroc=float(roc_auc_score(flags, values)),
        auprc=float(average_precision_score(flags, values)),
        f1=float(f1),
        precision=float(precision),
        recall=float(recall),
        threshold=float(threshold),
    )
