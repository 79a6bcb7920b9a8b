"""Pictures of anomaly scores: score histograms with the threshold, ROC curves, worst reconstructions.

Every function returns a matplotlib ``Figure`` (Agg backend); save it with
:func:`aekit.report.plots.save_figure`. Scores are "higher = more anomalous" and labels 1/True = anomaly,
as in :mod:`aekit.apps.anomaly`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from aekit.errors import DataError, ShapeError
from aekit.report.plots import _as_image, _pyplot

__all__ = ["roc_curve_figure", "score_histogram_figure", "worst_reconstructions_figure"]


def _scores_and_labels(scores: Any, labels: Any | None) -> tuple[np.ndarray, np.ndarray | None]:
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise DataError("scores is empty")
    if labels is None:
        return values, None
    flags = np.asarray(labels).reshape(-1)
    if len(flags) != len(values):
        raise ShapeError(f"labels must have one entry per score ({len(values)}); got {len(flags)}")
    return values, flags.astype(bool)


def score_histogram_figure(
    scores: np.ndarray | Sequence[float],
    labels: np.ndarray | Sequence[int] | None = None,
    threshold: float | None = None,
    *,
    bins: int = 50,
    log_scale: bool = False,
    title: str = "anomaly scores",
) -> Any:
    """Histogram of scores, normal and anomalous samples in separate colours, the threshold as a line.

    Args:
        scores: ``(N,)`` anomaly scores.
        labels: Optional ``(N,)`` true labels (1 = anomaly); without them one histogram is drawn.
        threshold: Drawn as a vertical dashed line when given.
        bins: Number of bins shared by both groups.
        log_scale: Log-scaled score axis (reconstruction errors are often heavy-tailed).
        title: Axes title.
    """
    plt = _pyplot()
    values, flags = _scores_and_labels(scores, labels)
    figure, axis = plt.subplots(figsize=(6, 4))
    shown = np.log10(np.maximum(values, 1e-12)) if log_scale else values
    edges = np.histogram_bin_edges(shown, bins=bins)
    if flags is None:
        axis.hist(shown, bins=edges, color="tab:blue", alpha=0.8, label="all")
    else:
        axis.hist(
            shown[~flags],
            bins=edges,
            color="tab:blue",
            alpha=0.6,
            density=True,
            label=f"normal ({(~flags).sum()})",
        )
        axis.hist(
            shown[flags],
            bins=edges,
            color="tab:red",
            alpha=0.6,
            density=True,
            label=f"anomaly ({flags.sum()})",
        )
    if threshold is not None:
        line = np.log10(max(threshold, 1e-12)) if log_scale else threshold
        axis.axvline(line, color="black", linestyle="--", label=f"threshold {threshold:.4g}")
    axis.set_xlabel("log10 score" if log_scale else "score")
    axis.set_ylabel("density" if flags is not None else "count")
    axis.set_title(title)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def roc_curve_figure(
    scores: np.ndarray | Sequence[float] | dict[str, np.ndarray],
    labels: np.ndarray | Sequence[int],
    *,
    title: str = "ROC curve",
) -> Any:
    """ROC curve(s) with the AUROC in the legend.

    Args:
        scores: ``(N,)`` anomaly scores, or ``{name: scores}`` to compare several detectors.
        labels: ``(N,)`` true labels, 1 = anomaly; both classes must occur.
        title: Axes title.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = _pyplot()
    named = scores if isinstance(scores, dict) else {"model": scores}
    figure, axis = plt.subplots(figsize=(4.8, 4.5))
    for name, values in named.items():
        values, flags = _scores_and_labels(values, np.asarray(labels))
        if flags is None or flags.all() or not flags.any():
            raise DataError("labels must contain both normal (0) and anomalous (1) samples")
        false_positive, true_positive, _ = roc_curve(flags, values)
        axis.plot(false_positive, true_positive, label=f"{name} (AUROC {roc_auc_score(flags, values):.3f})")
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    axis.set_xlabel("false positive rate")
    axis.set_ylabel("true positive rate")
    axis.set_title(title)
    axis.legend(fontsize=8, loc="lower right")
    axis.set_aspect("equal")
    figure.tight_layout()
    return figure


def worst_reconstructions_figure(
    inputs: np.ndarray,
    reconstructions: np.ndarray,
    scores: np.ndarray | Sequence[float],
    *,
    n_samples: int = 8,
    error_maps: np.ndarray | None = None,
) -> Any:
    """The ``n_samples`` highest-scoring inputs (top row), their reconstructions and, if given, error maps.

    Args:
        inputs: ``(N, C, H, W)``, ``(N, H, W)`` or flat ``(N, D)`` samples in [0, 1].
        reconstructions: Same shape as ``inputs``.
        scores: ``(N,)`` anomaly scores; the worst are shown, highest first, score in the title.
        n_samples: How many columns.
        error_maps: Optional per-element errors, same shape as ``inputs``; drawn in a third row.
    """
    plt = _pyplot()
    values, _ = _scores_and_labels(scores, None)
    inputs, reconstructions = np.asarray(inputs), np.asarray(reconstructions)
    if inputs.shape != reconstructions.shape or len(inputs) != len(values):
        raise ShapeError(
            f"inputs {inputs.shape}, reconstructions {reconstructions.shape} and scores ({len(values)},) "
            "must describe the same samples"
        )
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise DataError(f"n_samples must be a positive int; got {n_samples!r}")
    order = np.argsort(-values, kind="stable")[:n_samples]
    rows = [("input", inputs), ("reconstruction", reconstructions)]
    if error_maps is not None:
        maps = np.asarray(error_maps)
        if maps.shape != inputs.shape:
            raise ShapeError(f"error_maps must have the inputs' shape {inputs.shape}; got {maps.shape}")
        rows.append(("error", maps))
    figure, axes = plt.subplots(
        len(rows), len(order), figsize=(1.3 * len(order), 1.35 * len(rows) + 0.3), squeeze=False
    )
    for column, index in enumerate(order):
        for row, (name, source) in enumerate(rows):
            image, cmap = _as_image(np.asarray(source[index], dtype=np.float32))
            if name == "error":
                axes[row, column].imshow(
                    image if image.ndim == 2 else image.mean(-1), cmap="magma", interpolation="nearest"
                )
            else:
                axes[row, column].imshow(image, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
            axes[row, column].axis("off")
        axes[0, column].set_title(f"{values[index]:.3g}", fontsize=7)
    for row, (name, _) in enumerate(rows):
        axes[row, 0].text(
            -0.1,
            0.5,
            name,
            transform=axes[row, 0].transAxes,
            fontsize=7,
            rotation=90,
            ha="right",
            va="center",
        )
    figure.tight_layout()
    return figure
