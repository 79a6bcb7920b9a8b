"""Scoring tables (CSV, TSV, Parquet) batch by batch with a saved model (what ``aekit detect`` runs)."""

from __future__ import annotations

import dataclasses
import heapq
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aekit.apps.anomaly.scoring import (
    DetectionSettings,
    anomaly_scores,
    error_maps,
    error_shares,
    stored_settings,
)
from aekit.errors import ConfigError, DataError
from aekit.formats.tables import TableWriter, iter_frames, writable_format
from aekit.models.files import ModelBundle

__all__ = ["DetectionSummary", "RowExplanation", "detect_file", "detect_images"]


@dataclasses.dataclass(frozen=True)
class RowExplanation:
    """Why one row scored high: the features with the largest shares of its reconstruction error.

    Attributes:
        row: 0-based data row of the input table.
        score: Its anomaly score.
        features: ``(column, share)`` pairs, largest share first; shares of all columns sum to 1.
    """

    row: int
    score: float
    features: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-able form."""
        return {"row": self.row, "score": self.score, "features": dict(self.features)}


@dataclasses.dataclass(frozen=True)
class DetectionSummary:
    """What :func:`detect_file` did.

    Attributes:
        top_rows: The highest-scoring rows, highest first, with their per-feature attribution.
    """

    n_rows: int
    n_anomalies: int
    threshold: float
    n_batches: int
    output: Path
    top_rows: tuple[RowExplanation, ...] = ()


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
    explain: int = 5,
    explain_features: int = 3,
) -> DetectionSummary:
    """Score a CSV, TSV or Parquet table batch by batch, writing it out with a score and a flag column.

    Rows are read (``ParquetFile.iter_batches`` or CSV chunks), scored and written one batch at a time,
    so memory stays bounded by ``batch_size`` whatever the file size. The output is written to a
    temporary file and renamed at the end, so a failure never leaves a partial result.

    Args:
        model: A loaded model folder; its normaliser and stored detection settings are used.
        input_path: A table: ``.csv``/``.tsv`` (optionally ``.gz``) or ``.parquet``/``.pq``.
        output_path: ``.csv``, ``.tsv``, ``.parquet`` or ``.pq``: the input columns plus the two new ones.
        threshold: Overrides the threshold stored in the model folder.
        columns: Feature columns in model order; default the names stored at fit time, else every
            column of the input.
        batch_size: Rows per batch.
        score_column, flag_column: Names of the added columns.
        explain: How many of the highest-scoring rows to explain (0: none).
        explain_features: How many features to name per explained row.

    Raises:
        ConfigError: No threshold given or stored, an added column name is already in the input, or the
            two added columns share a name.
        DataError: Missing/unreadable input, missing or non-numeric feature columns, NaN/inf values.
        DataError: The table's columns do not match the model's features (names or count).
    """
    from aekit.formats.files import atomic_path

    if not isinstance(model, ModelBundle):
        raise TypeError(f"model must be a ModelBundle from aekit.load; got {type(model).__name__}")
    settings, threshold = _settings_and_threshold(model, threshold)
    if score_column == flag_column:
        raise ConfigError(f"the score and flag columns need different names; both are {score_column!r}")
    source, target = Path(input_path), Path(output_path)
    writable_format(target)  # refuse an output it cannot write before any work
    stored_columns = model.metadata.get("feature_names")
    feature_columns = (
        list(columns) if columns is not None else (list(stored_columns) if stored_columns else None)
    )
    n_rows = n_anomalies = n_batches = 0
    n_inputs = math.prod(model.model.input_shape)
    top: list[tuple[float, int, tuple[tuple[str, float], ...]]] = []  # a min-heap of the best rows
    with atomic_path(target) as temp, TableWriter(temp, name=target) as writer:
        for frame in iter_frames(source, batch_size):
            if len(frame) == 0:
                continue
            frame.columns = [str(c) for c in frame.columns]
            if feature_columns is None:
                feature_columns = list(frame.columns)
                if len(feature_columns) != n_inputs:
                    raise DataError(
                        f"{source} has {len(feature_columns)} columns but the model takes {n_inputs} "
                        "features and stores no column names; pass --columns in the training order"
                    )
            for name in (score_column, flag_column):
                if name in frame.columns:
                    raise ConfigError(f"the input already has a column {name!r}; choose another output name")
            values = _feature_values(frame, feature_columns, n_rows, source)
            if values.shape[1] != n_inputs:  # only --columns can name another number
                raise DataError(
                    f"--columns names {values.shape[1]} columns; the model takes {n_inputs} features"
                )
            scores = anomaly_scores(
                model,
                values,
                method=settings.method,
                pooling=settings.pooling,
                top_fraction=settings.top_fraction,
                smoothing=settings.smoothing,
                gaussian=settings.gaussian,
                code_distance=settings.code_distance,
            )
            if explain > 0:
                _keep_top(top, model, values, scores, n_rows, feature_columns, explain, explain_features)
            frame[score_column] = scores
            frame[flag_column] = scores > threshold
            writer.write(frame)
            n_rows += len(frame)
            n_anomalies += int(frame[flag_column].sum())
            n_batches += 1
        if n_rows == 0:
            raise DataError(f"input file {source} has no rows")
    explanations = tuple(
        RowExplanation(row, score, features) for score, row, features in sorted(top, reverse=True)
    )
    return DetectionSummary(n_rows, n_anomalies, float(threshold), n_batches, target, explanations)


def _keep_top(
    top: list[tuple[float, int, tuple[tuple[str, float], ...]]],
    model: ModelBundle,
    values: np.ndarray,
    scores: np.ndarray,
    first_row: int,
    columns: list[str],
    count: int,
    n_features: int,
) -> None:
    """Push this batch's rows that beat the current top ``count`` onto the heap, with attributions."""
    floor = top[0][0] if len(top) >= count else -np.inf
    candidates = np.flatnonzero(scores > floor)
    candidates = candidates[np.argsort(-scores[candidates], kind="stable")][:count]
    if candidates.size == 0:
        return
    shares = error_shares(error_maps(model, values[candidates])).reshape(len(candidates), -1)
    for index, share in zip(candidates, shares, strict=True):
        order = np.argsort(-share, kind="stable")[:n_features]
        named = tuple((columns[j], float(share[j])) for j in order)
        item = (float(scores[index]), first_row + int(index), named)
        if len(top) < count:
            heapq.heappush(top, item)
        elif item[0] > top[0][0]:
            heapq.heapreplace(top, item)


def detect_images(
    model: ModelBundle,
    folder: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    threshold: float | None = None,
    score_column: str = "anomaly_score",
    flag_column: str = "is_anomaly",
) -> DetectionSummary:
    """Score every image of a folder with a saved image model; one output row per image.

    Images are read as the model's training folder was (:func:`aekit.data.load_image_folder`, resized
    to the model's input size, greyscale for one channel); the table lists each file's path relative to
    the folder, its score and its flag.

    Raises:
        ConfigError: No threshold given or stored.
        DataError: The model does not take images, or the folder is missing, empty or unreadable.
    """
    import pandas as pd

    from aekit.data.images import load_image_folder
    from aekit.formats.files import atomic_path
    from aekit.formats.folders import labelled_files

    source, target = Path(folder), Path(output_path)
    writable_format(target)  # refuse an output it cannot write before any work
    shape = tuple(model.model.input_shape)
    if len(shape) != 3:
        raise DataError(f"{model.path} takes rows of {math.prod(shape)} features, not images; pass a table")
    settings, threshold = _settings_and_threshold(model, threshold)
    loaded = load_image_folder(source, size=(shape[1], shape[2]), mode="L" if shape[0] == 1 else "RGB")
    files, _, _ = labelled_files(source, "image")  # the order load_image_folder reads them in
    scores = anomaly_scores(
        model,
        loaded.data.x,
        method=settings.method,
        pooling=settings.pooling,
        top_fraction=settings.top_fraction,
        smoothing=settings.smoothing,
        gaussian=settings.gaussian,
        code_distance=settings.code_distance,
    )
    frame = pd.DataFrame({"file": [str(p.relative_to(source)) for p in files], score_column: scores})
    frame[flag_column] = scores > threshold
    with atomic_path(target) as temp, TableWriter(temp, name=target) as writer:
        writer.write(frame)
    return DetectionSummary(len(frame), int(frame[flag_column].sum()), float(threshold), 1, target)


def _settings_and_threshold(model: ModelBundle, threshold: float | None) -> tuple[DetectionSettings, float]:
    settings = stored_settings(model) or DetectionSettings()
    if threshold is None:
        threshold = settings.threshold
    if threshold is None:
        raise ConfigError(
            f"no threshold: {model.path} stores none (save an AutoencoderOutlierDetector, or call "
            "aekit.apps.anomaly.save_threshold) and none was given (--threshold)"
        )
    return settings, float(threshold)
