"""Anomaly detection with any trained model: scores, error maps, thresholds, metrics and file streaming.

A sample that a model trained on normal data reconstructs badly is unusual for that data. Scores here
grow with abnormality: the per-sample reconstruction error (MSE, L1 or BCE, pooled over the sample's
elements), or the negative ELBO when the model has an ``elbo`` method (VAE). scikit-learn's detectors use
the opposite sign; :class:`aekit.estimators.AutoencoderOutlierDetector` applies it.

Labels follow the anomaly-detection convention everywhere in this module: ``True``/``1`` = anomaly.
No training happens here; fit models with :func:`aekit.fit` or the estimators.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from aekit.config import check_choice
from aekit.data.normalization import Normalizer
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.io import ModelBundle, load, save_model
from aekit.models.base import AbstractAutoencoder

__all__ = [
    "AnomalyMetrics",
    "AnomalyResult",
    "DetectionSettings",
    "DetectionSummary",
    "Pooling",
    "ScoreMethod",
    "anomaly_scores",
    "best_f1_threshold",
    "detect_file",
    "error_maps",
    "error_shares",
    "evaluate",
    "resolve_method",
    "save_threshold",
    "score",
    "stored_settings",
    "threshold_from_contamination",
    "threshold_from_percentile",
]

ScoreMethod = Literal["auto", "mse", "l1", "bce", "elbo"]
Pooling = Literal["mean", "max", "top"]
SCORE_METHODS: tuple[str, ...] = ("auto", "mse", "l1", "bce", "elbo")
POOLINGS: tuple[str, ...] = ("mean", "max", "top")
METADATA_KEY = "anomaly"
ModelLike = AbstractAutoencoder | ModelBundle


@dataclasses.dataclass(frozen=True)
class AnomalyResult:
    """Scores of a set of samples and the flags a threshold gives them.

    Attributes:
        scores: ``(N,)`` anomaly scores, higher = more anomalous.
        threshold: Samples scoring strictly above it are anomalies.
        labels: ``(N,)`` bool, True where ``scores > threshold``.
    """

    scores: np.ndarray
    threshold: float
    labels: np.ndarray

    @property
    def n_anomalies(self) -> int:
        """How many samples are flagged."""
        return int(self.labels.sum())


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


@dataclasses.dataclass(frozen=True)
class DetectionSettings:
    """How a model folder scores samples, stored under ``metadata["anomaly"]`` of its ``config.json``.

    Attributes:
        threshold: Score above which a sample is an anomaly; None when not calibrated yet.
        method: Score method (see :func:`anomaly_scores`).
        pooling: How element errors become one score per sample.
        top_fraction: Share of the largest element errors averaged by ``pooling="top"``.
    """

    threshold: float | None = None
    method: ScoreMethod = "auto"
    pooling: Pooling = "mean"
    top_fraction: float = 0.05

    def __post_init__(self) -> None:
        _check_scoring(self.method, self.pooling, self.top_fraction)
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise ConfigError(f"threshold must be a finite number; got {self.threshold!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectionSettings:
        """Rebuild from :meth:`to_dict`; unknown keys are an error."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"anomaly settings have unknown keys {unknown}; known: {sorted(known)}")
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class DetectionSummary:
    """What :func:`detect_file` did."""

    n_rows: int
    n_anomalies: int
    threshold: float
    n_batches: int
    output: Path


def _check_scoring(method: str, pooling: str, top_fraction: float) -> None:
    check_choice("method", method, SCORE_METHODS)
    check_choice("pooling", pooling, POOLINGS)
    if (
        isinstance(top_fraction, bool)
        or not isinstance(top_fraction, int | float)
        or not 0 < top_fraction <= 1
    ):
        raise ConfigError(f"top_fraction must be in (0, 1]; got {top_fraction!r}")


def _unpack(model: ModelLike, normalizer: Normalizer | None) -> tuple[AbstractAutoencoder, Normalizer]:
    if isinstance(model, ModelBundle):
        return model.model, normalizer or model.normalizer
    if not isinstance(model, AbstractAutoencoder):
        raise TypeError(
            f"model must be an aekit model or a ModelBundle from aekit.load; got {type(model).__name__}"
        )
    return model, normalizer or Normalizer.identity()


def _as_inputs(model: AbstractAutoencoder, x: np.ndarray | Tensor) -> Tensor:
    """Raw samples as a float tensor ``(N, *input_shape)``; flat rows of the right length are reshaped."""
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.number) and x.dtype != np.bool_:
            raise DataError(f"x must be numeric; got dtype {x.dtype}")
        x = np.ascontiguousarray(x)
        x = torch.from_numpy(x if x.flags.writeable else x.copy())
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a NumPy array or a torch.Tensor; got {type(x).__name__}")
    shape = tuple(model.input_shape)
    if x.dim() == 0 or len(x) == 0:
        raise DataError(f"x holds no samples; got shape {tuple(x.shape)}")
    if tuple(x.shape[1:]) != shape:
        if x[0].numel() != math.prod(shape):
            expected = ", ".join(map(str, shape))
            raise ShapeError(
                f"x must have shape (N, {expected}) or (N, {math.prod(shape)}); got {tuple(x.shape)}"
            )
        x = x.reshape(len(x), *shape)
    x = x.float()
    if not torch.isfinite(x).all():
        raise DataError("x contains NaN or infinite values")
    return x


def _device(model: AbstractAutoencoder) -> torch.device:
    tensor = next(iter(model.parameters()), next(iter(model.buffers()), torch.empty(0)))
    return tensor.device


def _normalised_batches(
    model: AbstractAutoencoder, normalizer: Normalizer, x: Tensor, batch_size: int
) -> Iterator[Tensor]:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive int; got {batch_size!r}")
    device = _device(model)
    for start in range(0, len(x), batch_size):
        yield normalizer.transform(x[start : start + batch_size]).to(device)


def resolve_method(model: ModelLike, method: ScoreMethod = "auto") -> str:
    """The concrete score method ``auto`` stands for: ``elbo`` when the model has one, else its loss.

    A model whose config names a reconstruction loss (``mse``, ``bce``, ``l1``) is scored with it;
    others (PCA) with ``mse``.
    """
    check_choice("method", method, SCORE_METHODS)
    net, _ = _unpack(model, None)
    if method == "elbo" and not callable(getattr(net, "elbo", None)):
        raise ConfigError(f"method 'elbo' needs a model with an elbo method; {type(net).__name__} has none")
    if method != "auto":
        return method
    if callable(getattr(net, "elbo", None)):
        return "elbo"
    return _model_loss(net)


def _model_loss(net: AbstractAutoencoder) -> str:
    kind = getattr(net.config, "reconstruction", "mse")
    return kind if kind in ("mse", "bce", "l1") else "mse"


def _elementwise(x_hat: Tensor, target: Tensor, kind: str) -> Tensor:
    if kind == "mse":
        return (x_hat - target).square()
    if kind == "l1":
        return (x_hat - target).abs()
    if target.min() < 0 or target.max() > 1:
        raise DataError("method 'bce' needs inputs scaled to [0, 1]; got values outside that range")
    return F.binary_cross_entropy(x_hat.clamp(1e-7, 1 - 1e-7), target, reduction="none")


def error_maps(
    model: ModelLike,
    x: np.ndarray | Tensor,
    *,
    method: ScoreMethod = "auto",
    normalizer: Normalizer | None = None,
    batch_size: int = 1024,
) -> np.ndarray:
    """Per-element reconstruction error of each sample: per-feature or per-pixel error maps.

    Errors are measured in the model's (normalised) space, where training made them comparable.

    Args:
        model: A trained model or a loaded :class:`~aekit.io.ModelBundle` (its normaliser is applied).
        x: Raw samples ``(N, *input_shape)`` or flat ``(N, n_features)``.
        method: ``mse`` (squared error), ``l1`` or ``bce``; ``auto`` and ``elbo`` use the model's
            reconstruction loss.
        normalizer: Overrides the bundle's normaliser (default: none for a bare model).
        batch_size: Samples per forward pass.

    Returns:
        ``(N, *input_shape)`` float32 errors.
    """
    check_choice("method", method, SCORE_METHODS)
    net, norm = _unpack(model, normalizer)
    kind = method if method in ("mse", "l1", "bce") else _model_loss(net)
    inputs = _as_inputs(net, x)
    was_training = net.training
    net.eval()
    maps = []
    with torch.inference_mode():
        for batch in _normalised_batches(net, norm, inputs, batch_size):
            maps.append(_elementwise(net.reconstruct(batch), batch, kind).float().cpu())
    net.train(was_training)
    return torch.cat(maps).numpy()


def _pool(errors: Tensor, pooling: str, top_fraction: float) -> Tensor:
    flat = errors.reshape(len(errors), -1).double()
    if pooling == "mean":
        return flat.mean(1)
    if pooling == "max":
        return flat.amax(1)
    k = max(1, math.ceil(top_fraction * flat.shape[1]))
    return flat.topk(k, dim=1).values.mean(1)


def anomaly_scores(
    model: ModelLike,
    x: np.ndarray | Tensor,
    *,
    method: ScoreMethod = "auto",
    pooling: Pooling = "mean",
    top_fraction: float = 0.05,
    normalizer: Normalizer | None = None,
    batch_size: int = 1024,
) -> np.ndarray:
    """One anomaly score per sample, higher = more anomalous.

    With a reconstruction method the element errors ``e`` of a sample are pooled: ``mean`` (the usual
    reconstruction error), ``max`` (the worst element), or ``top`` (the mean of the largest
    ``top_fraction`` share, which keeps a small defect from being averaged away). With ``elbo`` the score
    is ``−ELBO(x)``, the model's bound on ``−log p(x)``.

    Args:
        model: A trained model or a loaded :class:`~aekit.io.ModelBundle`.
        x: Raw samples ``(N, *input_shape)`` or flat ``(N, n_features)``.
        method: ``auto`` (ELBO if the model has one, else its reconstruction loss), ``mse``, ``l1``,
            ``bce`` or ``elbo``.
        pooling: ``mean``, ``max`` or ``top`` (reconstruction methods only).
        top_fraction: Share of elements ``top`` pooling averages, in (0, 1].
        normalizer: Overrides the bundle's normaliser.
        batch_size: Samples per forward pass.

    Returns:
        ``(N,)`` float64 scores.

    Raises:
        ConfigError: Unknown method or pooling, or ``elbo`` for a model without one.
        ShapeError: ``x`` does not fit the model's input shape.
        DataError: ``x`` is empty or holds NaN/inf.
    """
    _check_scoring(method, pooling, top_fraction)
    net, norm = _unpack(model, normalizer)
    kind = resolve_method(net, method)
    if kind == "elbo" and pooling != "mean":
        raise ConfigError(f"pooling {pooling!r} applies to reconstruction errors; the ELBO takes 'mean'")
    inputs = _as_inputs(net, x)
    was_training = net.training
    net.eval()
    scores = []
    with torch.inference_mode():
        for batch in _normalised_batches(net, norm, inputs, batch_size):
            if kind == "elbo":
                value = -net.elbo(batch).double()  # type: ignore[operator]
            else:
                value = _pool(_elementwise(net.reconstruct(batch), batch, kind), pooling, top_fraction)
            scores.append(value.reshape(-1).cpu())
    net.train(was_training)
    return torch.cat(scores).numpy()


def error_shares(maps: np.ndarray) -> np.ndarray:
    """Each element's share of its sample's total error, ``(N, D)`` rows summing to 1 (0 for a perfect fit).

    Args:
        maps: Non-negative error maps ``(N, ...)`` from :func:`error_maps`.
    """
    flat = np.asarray(maps, dtype=np.float64).reshape(len(maps), -1)
    totals = flat.sum(1, keepdims=True)
    return np.divide(flat, totals, out=np.zeros_like(flat), where=totals > 0)


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


def score(
    model: ModelLike,
    x: np.ndarray | Tensor,
    *,
    threshold: float | None = None,
    contamination: float = 0.01,
    method: ScoreMethod | None = None,
    pooling: Pooling | None = None,
    top_fraction: float | None = None,
    normalizer: Normalizer | None = None,
    batch_size: int = 1024,
) -> AnomalyResult:
    """Score samples and flag the anomalies: ``anomaly.score(model, x_test)``.

    The threshold is, in this order: ``threshold`` when given, the one stored in a bundle's folder
    (:func:`save_threshold`), else the one flagging the top ``contamination`` share of these scores.
    Scoring settings not given come from the bundle's stored settings, else the defaults of
    :func:`anomaly_scores`.

    Returns:
        :class:`AnomalyResult` with scores, threshold and flags.
    """
    stored = stored_settings(model) if isinstance(model, ModelBundle) else None
    base = stored or DetectionSettings()
    scores = anomaly_scores(
        model,
        x,
        method=method or base.method,
        pooling=pooling or base.pooling,
        top_fraction=top_fraction if top_fraction is not None else base.top_fraction,
        normalizer=normalizer,
        batch_size=batch_size,
    )
    if threshold is None:
        threshold = base.threshold
    if threshold is None:
        threshold = threshold_from_contamination(scores, contamination)
    return AnomalyResult(scores, float(threshold), scores > threshold)


def stored_settings(bundle: ModelBundle) -> DetectionSettings | None:
    """The detection settings stored in a model folder, or None when it has none.

    Raises:
        ConfigError: The stored entry is malformed.
    """
    entry = bundle.metadata.get(METADATA_KEY)
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise ConfigError(f"{bundle.path}: metadata entry {METADATA_KEY!r} must be an object; got {entry!r}")
    return DetectionSettings.from_dict(entry)


def save_threshold(folder: str | os.PathLike[str], settings: DetectionSettings) -> Path:
    """Store detection settings (threshold, score method, pooling) in a saved model folder.

    ``aekit detect`` then flags rows without a ``--threshold`` option. The model and its normaliser are
    written again unchanged, atomically.
    """
    if settings.threshold is None:
        raise ConfigError("settings.threshold must be set to store a threshold; got None")
    bundle = load(folder)
    metadata = {**bundle.metadata, METADATA_KEY: settings.to_dict()}
    return save_model(bundle.model, folder, normalizer=bundle.normalizer, metadata=metadata)


# ------------------------------------------------------------------------------------------ files
TABLE_READ_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz")
TABLE_WRITE_SUFFIXES = (".parquet", ".pq", ".csv")


def _table_kind(path: Path, allowed: tuple[str, ...], role: str) -> str:
    name = path.name.lower()
    if not name.endswith(allowed):
        raise DataError(f"{role} file {path} must end with one of {', '.join(allowed)}")
    return "parquet" if name.endswith((".parquet", ".pq")) else "csv"


def _read_chunks(path: Path, batch_size: int) -> Iterator[Any]:
    """Yield pandas DataFrames of at most ``batch_size`` rows without reading the whole file."""
    import pandas as pd

    if not path.is_file():
        raise DataError(f"input file {path} does not exist")
    if _table_kind(path, TABLE_READ_SUFFIXES, "input") == "parquet":
        import pyarrow.parquet as pq

        try:
            reader = pq.ParquetFile(path)
        except Exception as error:  # pyarrow raises ArrowInvalid and OSError subclasses
            raise DataError(f"cannot read Parquet file {path}: {error}") from None
        for record_batch in reader.iter_batches(batch_size=batch_size):
            yield record_batch.to_pandas()
        return
    try:
        with pd.read_csv(path, chunksize=batch_size) as reader:
            yield from reader
    except pd.errors.EmptyDataError:
        raise DataError(f"input file {path} is empty (no header and no rows)") from None
    except pd.errors.ParserError as error:
        raise DataError(f"cannot read CSV file {path}: {str(error).strip().splitlines()[0]}") from None


def _feature_values(frame: Any, columns: list[str], first_row: int, path: Path) -> np.ndarray:
    import pandas as pd

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path} lacks the feature column(s) {missing}; its columns are {list(frame.columns)}"
        )
    non_numeric = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise DataError(f"{path} has non-numeric feature column(s) {non_numeric}; the model needs numbers")
    values = frame[columns].to_numpy(dtype=np.float64)
    bad_rows = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if bad_rows.size:
        raise DataError(
            f"{path} has NaN or infinite feature values, first in data row {first_row + int(bad_rows[0]) + 1}"
        )
    return values


def detect_file(
    model: ModelBundle,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    threshold: float | None = None,
    columns: Sequence[str] | None = None,
    batch_size: int = 10_000,
    score_column: str = "anomaly_score",
    flag_column: str = "is_anomaly",
) -> DetectionSummary:
    """Score a CSV or Parquet table batch by batch, writing it out with a score and a flag column.

    Rows are read (``ParquetFile.iter_batches`` or CSV chunks), scored and written one batch at a time,
    so memory stays bounded by ``batch_size`` whatever the file size. The output is written to a
    temporary file and renamed at the end, so a failure never leaves a partial result.

    Args:
        model: A loaded model folder; its normaliser and stored detection settings are used.
        input_path: ``.parquet``/``.pq`` or ``.csv``/``.csv.gz`` file.
        output_path: ``.parquet``/``.pq`` or ``.csv`` file: the input columns plus the two new ones.
        threshold: Overrides the threshold stored in the model folder.
        columns: Feature columns in model order; default the names stored at fit time, else every
            column of the input.
        batch_size: Rows per batch.
        score_column, flag_column: Names of the added columns.

    Raises:
        ConfigError: No threshold given or stored, or an added column name is already in the input.
        DataError: Missing/unreadable input, missing or non-numeric feature columns, NaN/inf values.
        ShapeError: The number of feature columns differs from the model's input size.
    """
    from aekit.files import atomic_path

    if not isinstance(model, ModelBundle):
        raise TypeError(f"model must be a ModelBundle from aekit.load; got {type(model).__name__}")
    settings = stored_settings(model) or DetectionSettings()
    if threshold is None:
        threshold = settings.threshold
    if threshold is None:
        raise ConfigError(
            f"no threshold: {model.path} stores none (save an AutoencoderOutlierDetector, or call "
            "aekit.apps.anomaly.save_threshold) and none was given (--threshold)"
        )
    source, target = Path(input_path), Path(output_path)
    output_kind = _table_kind(target, TABLE_WRITE_SUFFIXES, "output")
    stored_columns = model.metadata.get("feature_names")
    feature_columns = (
        list(columns) if columns is not None else (list(stored_columns) if stored_columns else None)
    )
    n_rows = n_anomalies = n_batches = 0
    with atomic_path(target) as temp, _ChunkWriter(temp, output_kind) as writer:
        for frame in _read_chunks(source, batch_size):
            if len(frame) == 0:
                continue
            frame.columns = [str(c) for c in frame.columns]
            if feature_columns is None:
                feature_columns = list(frame.columns)
            for name in (score_column, flag_column):
                if name in frame.columns:
                    raise ConfigError(f"the input already has a column {name!r}; choose another output name")
            values = _feature_values(frame, feature_columns, n_rows, source)
            scores = anomaly_scores(
                model,
                values,
                method=settings.method,
                pooling=settings.pooling,
                top_fraction=settings.top_fraction,
            )
            frame[score_column] = scores
            frame[flag_column] = scores > threshold
            writer.write(frame)
            n_rows += len(frame)
            n_anomalies += int(frame[flag_column].sum())
            n_batches += 1
        if n_rows == 0:
            raise DataError(f"input file {source} has no rows")
    return DetectionSummary(n_rows, n_anomalies, float(threshold), n_batches, target)


class _ChunkWriter:
    """Appends scored batches to a CSV or Parquet file (the Parquet schema comes from the first batch)."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind = path, kind
        self._parquet: Any = None
        self._stack = contextlib.ExitStack()
        self._text: Any = None

    def __enter__(self) -> _ChunkWriter:
        if self.kind == "csv":
            self._text = self._stack.enter_context(open(self.path, "w", encoding="utf-8", newline=""))
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._parquet is not None:
            self._parquet.close()
        self._stack.close()

    def write(self, frame: Any) -> None:
        if self._text is not None:
            frame.to_csv(self._text, header=self._text.tell() == 0, index=False)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.path, table.schema)
        elif table.schema != self._parquet.schema:
            table = table.cast(self._parquet.schema)
        self._parquet.write_table(table)
