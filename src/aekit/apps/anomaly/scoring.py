"""Anomaly scores of any trained model: pooled reconstruction errors, error maps, −ELBO, stored settings."""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from aekit.apps.anomaly.codes import CodeDistance
from aekit.apps.anomaly.gaussian import GaussianResiduals
from aekit.apps.anomaly.thresholds import threshold_from_contamination
from aekit.apps.inference import (
    ERROR_KINDS,
    ModelLike,
    error_map,
    model_device,
    model_dtype,
    run_batches,
    unpack,
)
from aekit.config import check_choice
from aekit.data.normalization import Normalizer
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models.base import AbstractAutoencoder
from aekit.models.files import ModelBundle, load, save_model

__all__ = [
    "METADATA_KEY",
    "AnomalyResult",
    "DetectionSettings",
    "Pooling",
    "ScoreMethod",
    "anomaly_scores",
    "error_maps",
    "error_shares",
    "fit_code_distance",
    "fit_gaussian",
    "resolve_method",
    "save_threshold",
    "score",
    "stored_settings",
]

ScoreMethod = Literal["auto", "mse", "l1", "bce", "elbo", "mahalanobis", "mse_code"]
Pooling = Literal["mean", "max", "top"]
SCORE_METHODS: tuple[str, ...] = ("auto", "mse", "l1", "bce", "elbo", "mahalanobis", "mse_code")
POOLINGS: tuple[str, ...] = ("mean", "max", "top")
METADATA_KEY = "anomaly"


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
class DetectionSettings:
    """How a model folder scores samples, stored under ``metadata["anomaly"]`` of its ``config.json``.

    Attributes:
        threshold: Score above which a sample is an anomaly; None when not calibrated yet.
        method: Score method (see :func:`anomaly_scores`).
        pooling: How element errors become one score per sample.
        top_fraction: Share of the largest element errors averaged by ``pooling="top"``.
        smoothing: Side of the box filter run over image error maps before pooling (1 = none).
        gaussian: The fitted residual Gaussian ``method="mahalanobis"`` needs.
        code_distance: The fitted code statistics ``method="mse_code"`` needs.
    """

    threshold: float | None = None
    method: ScoreMethod = "auto"
    pooling: Pooling = "mean"
    top_fraction: float = 0.05
    smoothing: int = 1
    gaussian: GaussianResiduals | None = None
    code_distance: CodeDistance | None = None

    def __post_init__(self) -> None:
        _check_scoring(self.method, self.pooling, self.top_fraction, self.smoothing)
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise ConfigError(f"threshold must be a finite number; got {self.threshold!r}")

    def to_dict(self) -> dict[str, Any]:
        """The model-folder form (``metadata["anomaly"]``): JSON values, and NumPy arrays for the fitted
        statistics, which :func:`~aekit.models.files.save_model` puts in the folder's arrays file."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["gaussian"] = None if self.gaussian is None else self.gaussian.to_dict()
        values["code_distance"] = None if self.code_distance is None else self.code_distance.to_dict()
        return values

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectionSettings:
        """Rebuild from :meth:`to_dict`; unknown keys are an error."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"anomaly settings have unknown keys {unknown}; known: {sorted(known)}")
        values = dict(data)
        if values.get("gaussian") is not None:
            values["gaussian"] = GaussianResiduals.from_dict(values["gaussian"])
        if values.get("code_distance") is not None:
            values["code_distance"] = CodeDistance.from_dict(values["code_distance"])
        return cls(**values)


def _check_scoring(method: str, pooling: str, top_fraction: float, smoothing: int) -> None:
    check_choice("method", method, SCORE_METHODS)
    check_choice("pooling", pooling, POOLINGS)
    if (
        isinstance(top_fraction, bool)
        or not isinstance(top_fraction, int | float)
        or not 0 < top_fraction <= 1
    ):
        raise ConfigError(f"top_fraction must be in (0, 1]; got {top_fraction!r}")
    if isinstance(smoothing, bool) or not isinstance(smoothing, int) or smoothing < 1 or smoothing % 2 == 0:
        raise ConfigError(f"smoothing must be an odd positive int (1 = none); got {smoothing!r}")


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
    x = x.to(model_dtype(model))
    if not torch.isfinite(x).all():
        raise DataError("x contains NaN or infinite values")
    return x


def resolve_method(model: ModelLike, method: ScoreMethod = "auto") -> str:
    """The concrete score method ``auto`` stands for: ``elbo`` when the model has one, else its loss.

    A model whose config names a reconstruction loss (``mse``, ``bce``, ``l1``) is scored with it;
    others (PCA) with ``mse``.
    """
    check_choice("method", method, SCORE_METHODS)
    net, _ = unpack(model)
    if method == "elbo" and not net.has_likelihood:
        raise ConfigError(f"method 'elbo' needs a model with an elbo method; {type(net).__name__} has none")
    if method != "auto":
        return method
    if net.has_likelihood and not net.conditional:
        return "elbo"
    return net.error_kind


def _negative_elbo(net: AbstractAutoencoder, batch: Tensor, generator: torch.Generator) -> Tensor:
    """``−ELBO`` per sample, codes drawn from ``generator`` so scores repeat."""
    return net.negative_log_likelihood(batch, generator=generator).double()


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
        model: A trained model or a loaded :class:`~aekit.models.files.ModelBundle` (normaliser applied).
        x: Raw samples ``(N, *input_shape)`` or flat ``(N, n_features)``.
        method: ``mse`` (squared error), ``l1`` or ``bce``; ``auto`` and ``elbo`` use the model's
            reconstruction loss.
        normalizer: Overrides the bundle's normaliser (default: none for a bare model).
        batch_size: Samples per forward pass.

    Returns:
        ``(N, *input_shape)`` float32 errors.
    """
    check_choice("method", method, SCORE_METHODS)
    net, norm = unpack(model, normalizer)
    kind = method if method in ERROR_KINDS else net.error_kind
    inputs = _as_inputs(net, x)
    maps = run_batches(
        net,
        lambda batch, _: _element_errors(net.reconstruct(batch), batch, kind).float(),
        inputs,
        batch_size=batch_size,
        normalizer=norm,
    )
    return maps.numpy()


def _element_errors(x_hat: Tensor, target: Tensor, kind: str) -> Tensor:
    """:func:`~aekit.apps.inference.error_map`, defined for new samples outside the training range too.

    Cross-entropy needs targets in [0, 1], the range min-max scaling gives the training rows; a new
    value beyond it is scored at the nearest edge plus its squared distance beyond the edge, so it
    scores higher than any value inside the range with the same reconstruction.
    """
    if kind != "bce":
        return error_map(x_hat, target, kind)
    inside = target.clamp(0.0, 1.0)
    return error_map(x_hat, inside, kind) + (target - inside).square()


def _pool(errors: Tensor, pooling: str, top_fraction: float, smoothing: int) -> Tensor:
    if smoothing > 1:
        if errors.dim() != 4:
            raise ConfigError(
                f"smoothing applies to image error maps (B, C, H, W); these have shape {tuple(errors.shape)}"
            )
        errors = F.avg_pool2d(errors, smoothing, stride=1, padding=smoothing // 2, count_include_pad=False)
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
    smoothing: int = 1,
    gaussian: GaussianResiduals | None = None,
    normalizer: Normalizer | None = None,
    batch_size: int = 1024,
    code_distance: CodeDistance | None = None,
) -> np.ndarray:
    """One anomaly score per sample, higher = more anomalous.

    With a reconstruction method the element errors ``e`` of a sample are pooled: ``mean`` (the usual
    reconstruction error), ``max`` (the worst element), or ``top`` (the mean of the largest
    ``top_fraction`` share, which keeps a small defect from being averaged away). For images, a
    ``smoothing`` × ``smoothing`` box filter over the error map first makes ``max``/``top`` respond to
    regions that are wrong rather than to isolated noisy pixels. With ``elbo`` the score
    is ``−ELBO(x)``, the model's bound on ``−log p(x)``; when the ELBO samples codes, the draws come from
    a generator seeded with 0 at each call, so a call repeats exactly (a sample's score can still differ
    slightly with the batching). With ``mahalanobis`` the score is the squared Mahalanobis distance
    of the residual ``x̂ − x`` (plus that of the code) under ``gaussian``, from :func:`fit_gaussian`.
    With ``mse_code`` it is the mean squared error plus a robust distance of the code and the code's
    mean distance to its nearest normal codes, each relative to its median on normal data
    (``code_distance``, from :func:`fit_code_distance`; see :class:`~aekit.apps.anomaly.codes.CodeDistance`).

    Args:
        model: A trained model or a loaded :class:`~aekit.models.files.ModelBundle`.
        x: Raw samples ``(N, *input_shape)`` or flat ``(N, n_features)``.
        method: ``auto`` (ELBO if the model has one, else its reconstruction loss), ``mse``, ``l1``,
            ``bce`` (a value beyond [0, 1] is scored at the edge plus its squared distance beyond it),
            ``elbo``, ``mahalanobis`` or ``mse_code``.
        pooling: ``mean``, ``max`` or ``top`` (element-error methods only).
        top_fraction: Share of elements ``top`` pooling averages, in (0, 1].
        smoothing: Odd side of the box filter over image error maps; 1 = none.
        gaussian: Fitted residual Gaussian, required by ``mahalanobis``.
        normalizer: Overrides the bundle's normaliser.
        batch_size: Samples per forward pass.
        code_distance: Fitted code statistics, required by ``mse_code``.

    Returns:
        ``(N,)`` float64 scores.

    Raises:
        ConfigError: Unknown method or pooling, ``elbo`` for a model without one, or ``mahalanobis``
            without ``gaussian``.
        ShapeError: ``x`` does not fit the model's input shape.
        DataError: ``x`` is empty or holds NaN/inf.
    """
    _check_scoring(method, pooling, top_fraction, smoothing)
    net, norm = unpack(model, normalizer)
    kind = resolve_method(net, method)
    if kind in ("elbo", "mahalanobis", "mse_code") and (pooling != "mean" or smoothing != 1):
        raise ConfigError(
            f"pooling {pooling!r} and smoothing {smoothing} apply to element errors; method {kind!r} takes "
            "pooling='mean', smoothing=1"
        )
    if kind == "mahalanobis" and gaussian is None:
        raise ConfigError("method 'mahalanobis' needs gaussian=fit_gaussian(model, normal_samples)")
    if kind == "mse_code" and code_distance is None:
        raise ConfigError("method 'mse_code' needs code_distance=fit_code_distance(model, normal_samples)")
    inputs = _as_inputs(net, x)
    generator = torch.Generator(device=model_device(net)).manual_seed(0)

    def score(batch: Tensor, _: Tensor | None) -> Tensor:
        if kind == "elbo":
            value = _negative_elbo(net, batch, generator)
        elif kind == "mahalanobis" and gaussian is not None:
            value = torch.from_numpy(_mahalanobis(net, batch, gaussian))
        elif kind == "mse_code" and code_distance is not None:
            both = _errors_and_codes(net, batch).cpu().numpy()
            value = torch.from_numpy(code_distance.score(both[:, 0], both[:, 1:]))
        else:
            errors = _element_errors(net.reconstruct(batch), batch, kind)
            value = _pool(errors, pooling, top_fraction, smoothing)
        return value.reshape(-1)

    return run_batches(net, score, inputs, batch_size=batch_size, normalizer=norm).numpy()


def _mahalanobis(net: AbstractAutoencoder, batch: Tensor, gaussian: GaussianResiduals) -> np.ndarray:
    codes = net.encode(batch)
    residuals = (net.decode(codes) - batch).flatten(1).double().cpu().numpy()
    return gaussian.score(residuals, codes.double().cpu().numpy() if gaussian.uses_codes else None)


def _errors_and_codes(net: AbstractAutoencoder, batch: Tensor) -> Tensor:
    """Float64 ``(B, 1 + latent_dim)``: each sample's mean squared reconstruction error, then its code."""
    codes = net.encode(batch)
    errors = error_map(net.decode(codes).double(), batch.double(), "mse").flatten(1).mean(1)
    return torch.cat([errors[:, None], codes.double()], dim=1)


def fit_code_distance(
    model: ModelLike,
    x: np.ndarray | Tensor,
    *,
    normalizer: Normalizer | None = None,
    batch_size: int = 1024,
    random_state: int = 0,
) -> CodeDistance:
    """Fit the code statistics of ``method="mse_code"`` to normal samples (usually the training rows);
    ``random_state`` seeds the choice of the neighbour part's reference codes."""
    net, norm = unpack(model, normalizer)
    inputs = _as_inputs(net, x)
    both = run_batches(
        net, lambda batch, _: _errors_and_codes(net, batch), inputs, batch_size=batch_size, normalizer=norm
    ).numpy()
    return CodeDistance.fit(both[:, 0], both[:, 1:], random_state=random_state)


def fit_gaussian(
    model: ModelLike,
    x: np.ndarray | Tensor,
    *,
    use_codes: bool = True,
    eigenvalue_floor: float = 1e-3,
    normalizer: Normalizer | None = None,
    batch_size: int = 1024,
) -> GaussianResiduals:
    """Fit the residual (and code) Gaussian of normal samples for ``method="mahalanobis"``.

    Meant for tabular data: the residual covariance is ``D × D`` and is stored in the model folder.

    Args:
        model: A trained model or a loaded :class:`~aekit.models.files.ModelBundle`.
        x: Normal samples (usually the training data), raw scale.
        use_codes: Add the code's Mahalanobis distance to the residual's.
        eigenvalue_floor: Covariance eigenvalues are kept above this share of the largest.
        normalizer: Overrides the bundle's normaliser.
        batch_size: Samples per forward pass.
    """
    net, norm = unpack(model, normalizer)
    inputs = _as_inputs(net, x)

    def residuals_and_codes(batch: Tensor, _: Tensor | None) -> Tensor:
        code = net.encode(batch)
        return torch.cat([(net.decode(code) - batch).flatten(1).double(), code.double()], dim=1)

    both = run_batches(net, residuals_and_codes, inputs, batch_size=batch_size, normalizer=norm).numpy()
    n_features = math.prod(net.input_shape)
    return GaussianResiduals.fit(
        both[:, :n_features],
        both[:, n_features:] if use_codes else None,
        eigenvalue_floor=eigenvalue_floor,
    )


def error_shares(maps: np.ndarray) -> np.ndarray:
    """Each element's share of its sample's total error, ``(N, D)`` rows summing to 1 (0 for a perfect fit).

    Args:
        maps: Non-negative error maps ``(N, ...)`` from :func:`error_maps`.
    """
    flat = np.asarray(maps, dtype=np.float64).reshape(len(maps), -1)
    totals = flat.sum(1, keepdims=True)
    return np.divide(flat, totals, out=np.zeros_like(flat), where=totals > 0)


def score(
    model: ModelLike,
    x: np.ndarray | Tensor,
    *,
    threshold: float | None = None,
    contamination: float = 0.01,
    method: ScoreMethod | None = None,
    pooling: Pooling | None = None,
    top_fraction: float | None = None,
    smoothing: int | None = None,
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
        smoothing=smoothing if smoothing is not None else base.smoothing,
        gaussian=base.gaussian,
        normalizer=normalizer,
        batch_size=batch_size,
        code_distance=base.code_distance,
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
