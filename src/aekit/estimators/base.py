"""Shared fit machinery of the scikit-learn estimators: parameters → model config → training.

The estimators follow scikit-learn's contract: ``__init__`` only stores keyword hyperparameters, fitted
state ends in ``_``, ``fit`` returns ``self`` and starts afresh, inputs go through
:func:`sklearn.utils.validation.validate_data`. Training is aekit's own (:func:`aekit.training.fit.fit`)
and a fitted estimator saves as an ordinary aekit model folder.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import Tensor

from aekit.apps.inference import reconstruction_errors, run_batches
from aekit.data.normalization import Normalizer
from aekit.errors import ConfigError, DataError, ModelFileError
from aekit.models import registry
from aekit.models.base import AbstractAutoencoder
from aekit.models.files import ModelBundle, load, save_model
from aekit.training.fit import fit as fit_model

__all__ = ["AbstractAutoencoderEstimator", "Scaling", "draw_seed"]

Scaling = Literal["standardize", "robust", "minmax", "none"]
SCALINGS: tuple[str, ...] = ("standardize", "robust", "minmax", "none")
ESTIMATOR_KEY = "estimator"
_SEED_BOUND = np.iinfo(np.int32).max


def check_numeric_columns(X: Any, name: str = "X") -> None:
    """Refuse pandas frames with non-numeric columns, naming them (``validate_data`` would not)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "columns"):
        return
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    bad = [
        str(c)
        for c, t in zip(X.columns, dtypes, strict=True)
        if not (is_numeric_dtype(t) or is_bool_dtype(t))
    ]
    if bad:
        raise DataError(
            f"{name} has non-numeric column(s) {bad[:5]}; encode them as numbers (e.g. OneHotEncoder in a "
            "Pipeline) or drop them"
        )


class AbstractAutoencoderEstimator(BaseEstimator):
    """Base of the autoencoder estimators: validates input, scales it, builds and trains the model.

    Subclasses define ``__init__`` with the shared keyword hyperparameters (``model``, ``latent_dim``,
    ``hidden_dims``, ``input_shape``, ``scaling``, ``epochs``, ``batch_size``, ``learning_rate``,
    ``model_options``, ``train_options``, ``device``, ``random_state``) plus their own.

    Fitted attributes: ``model_`` (the trained aekit model, on the CPU), ``normalizer_`` (the scaling
    learned from the training data), ``history_`` (per-epoch loss rows), ``input_shape_``,
    ``latent_dim_``, ``n_features_in_`` and, for pandas input with string column names,
    ``feature_names_in_``.
    """

    model: str
    latent_dim: int | None
    hidden_dims: tuple[int, ...] | None
    input_shape: tuple[int, ...] | None
    scaling: Scaling
    epochs: int | None
    batch_size: int
    learning_rate: float
    model_options: dict[str, Any] | None
    train_options: dict[str, Any] | None
    device: str
    random_state: int | np.random.RandomState | None

    # -- input ------------------------------------------------------------------------------------
    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        """``X`` as a finite float64 array ``(N, n_features)``; ``reset`` records feature count and names.

        Arrays of images ``(N, C, H, W)`` (any ``(N, d1, d2, ...)``) are flattened to rows."""
        if sample_shape_of(X) is not None:
            X = np.asarray(X).reshape(len(X), -1)
        check_numeric_columns(X)
        array = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=False)
        if not array.flags.writeable:  # read-only memmaps: torch needs memory it may write
            array = array.copy()
        finite = np.isfinite(array)
        if not finite.all():
            columns = np.flatnonzero(~finite.all(axis=0))
            names = getattr(self, "feature_names_in_", None)
            shown = [str(names[c]) if names is not None else int(c) for c in columns[:5]]
            raise DataError(
                f"X contains NaN or infinity in column(s) {shown} ({int((~finite).any(axis=1).sum())} rows); "
                "impute (e.g. SimpleImputer in a Pipeline) or drop those rows"
            )
        return array

    def _check_params(self) -> None:
        if not isinstance(self.model, str):
            raise ConfigError(f"model must be a registered model name (str); got {self.model!r}")
        registry.get(self.model)
        if self.scaling not in SCALINGS:
            raise ConfigError(
                f"scaling must be one of {', '.join(map(repr, SCALINGS))}; got {self.scaling!r}"
            )
        if self.latent_dim is not None and not is_positive_int(self.latent_dim):
            raise ConfigError(f"latent_dim must be a positive int or None; got {self.latent_dim!r}")
        if self.input_shape is not None and not (
            isinstance(self.input_shape, tuple | list)
            and self.input_shape
            and all(map(is_positive_int, self.input_shape))
        ):
            raise ConfigError(
                f"input_shape must be a tuple of positive ints such as (1, 28, 28); got {self.input_shape!r}"
            )
        for name in ("model_options", "train_options"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dict):
                raise ConfigError(
                    f"{name} must be a dict of config fields or None; got {type(value).__name__}"
                )
        if self.epochs is not None and not is_positive_int(self.epochs):
            raise ConfigError(f"epochs must be a positive int; got {self.epochs!r}")
        if not is_positive_int(self.batch_size):
            raise ConfigError(f"batch_size must be a positive int; got {self.batch_size!r}")
        seed = self.random_state
        if isinstance(seed, bool) or not (
            seed is None
            or isinstance(seed, np.random.RandomState)
            or (isinstance(seed, numbers.Integral) and 0 <= int(seed) < 2**32)
        ):
            raise ConfigError(
                f"random_state must be None, an int in [0, 2**32 - 1] or a numpy RandomState; got {seed!r}"
            )
        reserved = {"input_shape", "latent_dim", "hidden_dims"} & set(self.model_options or {})
        if reserved:
            raise ConfigError(f"model_options must not set {sorted(reserved)}; use the estimator parameters")
        reserved = {"epochs", "batch_size", "learning_rate", "seed", "device"} & set(self.train_options or {})
        if reserved:
            raise ConfigError(f"train_options must not set {sorted(reserved)}; use the estimator parameters")

    def _sample_shape(self, n_features: int, given: tuple[int, ...] | None = None) -> tuple[int, ...]:
        """``input_shape`` when set, else the shape of the samples ``X`` was given in (images), else rows."""
        if self.input_shape is None:
            return given or (n_features,)
        shape = tuple(int(s) for s in self.input_shape)
        if math.prod(shape) != n_features:
            raise DataError(
                f"input_shape {shape} holds {math.prod(shape)} values but X has {n_features} features; "
                "they must match"
            )
        return shape

    def _to_model_space(self, array: np.ndarray, dtype: torch.dtype = torch.float64) -> Tensor:
        """Scaled tensor ``(N, *input_shape_)``: float64 for inference (see :meth:`_in_float64`)."""
        x = torch.from_numpy(np.ascontiguousarray(array))
        return self.normalizer_.transform(x).to(dtype).reshape(len(array), *self.input_shape_)

    @contextlib.contextmanager
    def _in_float64(self) -> Iterator[None]:
        """Run the fitted model in float64 inside the block, then return it to float32 (exactly).

        In float32 a row's output depends on how many rows share its batch (matrix-product kernels
        round differently, 1e-6 after a Mahalanobis score); scikit-learn requires results that do not
        depend on the subset of rows asked for, and float64 rounding is far below its 1e-7 tolerance.
        """
        self.model_.double()
        try:
            yield
        finally:
            self.model_.float()

    # -- fitting ----------------------------------------------------------------------------------
    def _fit_autoencoder(self, X: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """Validate, scale, build and train; sets the shared fitted attributes.

        Returns:
            The validated array and the indices of the rows trained on (None: all of them).
        """
        self._check_params()
        array = self._validate(X, reset=True)
        n_features = array.shape[1]
        shape = self._sample_shape(n_features, sample_shape_of(X))
        random = check_random_state(self.random_state)
        seed = draw_seed(random)
        kind = "identity" if self.scaling == "none" else self.scaling
        self.normalizer_ = Normalizer.fit(torch.from_numpy(array), kind)
        self.input_shape_ = shape
        values = {"input_shape": shape, **self._architecture(n_features), **(self.model_options or {})}
        self.model_ = self._build_model(values, seed)
        self.latent_dim_ = int(self.model_.latent_dim)
        train_index, epochs = self._training_plan(len(array), random)
        rows = array if train_index is None else array[train_index]
        history = fit_model(
            self.model_,
            self._to_model_space(rows, torch.float32),
            epochs=epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            seed=seed,
            device=self.device,
            **{"verbose": 0, **(self.train_options or {})},  # quiet unless train_options ask
        )
        self.model_.cpu().eval()
        self.history_ = history.rows
        return array, train_index

    def _architecture(self, n_features: int) -> dict[str, Any]:
        """Size settings of the model config: ``latent_dim`` (and ``hidden_dims`` when given)."""
        latent_dim = (
            self.latent_dim if self.latent_dim is not None else max(1, min(8, math.ceil(n_features / 2)))
        )
        values: dict[str, Any] = {"latent_dim": latent_dim}
        if self.hidden_dims is not None:
            values["hidden_dims"] = tuple(self.hidden_dims)
        return values

    def _training_plan(self, n_rows: int, random: np.random.RandomState) -> tuple[np.ndarray | None, int]:
        """Which rows to train on (None: all) and for how many epochs; ``epochs`` over all by default."""
        if self.epochs is None:
            raise ConfigError("epochs must be a positive int; got None")
        return None, int(self.epochs)

    def _build_model(self, values: dict[str, Any], seed: int) -> AbstractAutoencoder:
        cls = registry.get(self.model)
        if "hidden_dims" in values and "hidden_dims" not in cls.config_class.field_names():
            raise ConfigError(f"hidden_dims is not a setting of model {self.model!r}; leave it None")
        return registry.create(self.model, seed=seed, **values)

    # -- inference --------------------------------------------------------------------------------
    def _run(self, function: Callable[[Tensor], Tensor], x: Tensor, batch_size: int = 1024) -> np.ndarray:
        """Apply ``function`` to float64 ``x`` in batches, the model in float64, without gradients."""
        with self._in_float64():
            return run_batches(
                self.model_, lambda batch, _: function(batch), x, batch_size=batch_size, normalize=False
            ).numpy()

    def _reconstruction_error(self, X: Any) -> np.ndarray:
        """Mean squared error per sample in the scaled space, ``(N,)``."""
        check_is_fitted(self)
        x = self._to_model_space(self._validate(X, reset=False))
        with self._in_float64():
            return reconstruction_errors(self.model_, x, kind="mse").numpy()

    # -- files ------------------------------------------------------------------------------------
    def _metadata(self) -> dict[str, Any]:
        params = {key: _jsonable(value) for key, value in self.get_params(deep=False).items()}
        if not isinstance(self.random_state, numbers.Integral | type(None)):
            params["random_state"] = None
        metadata: dict[str, Any] = {
            ESTIMATOR_KEY: {"class": type(self).__name__, "params": params, "history": self.history_},
        }
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            metadata["feature_names"] = [str(n) for n in names]
        return metadata

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the fitted estimator as an aekit model folder (``config.json`` + ``model.safetensors``).

        The scaling, the hyperparameters, the feature names and (for detectors) the threshold go into
        ``config.json``, so :meth:`load`, :func:`aekit.load` and ``aekit detect`` can all use the folder.

        Returns:
            The folder path.
        """
        check_is_fitted(self)
        return save_model(self.model_, folder, normalizer=self.normalizer_, metadata=self._metadata())

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Any:
        """Rebuild a fitted estimator from a folder written by :meth:`save`.

        Raises:
            ModelFileError: The folder is not an aekit model folder, or was saved by another estimator.
        """
        bundle = load(folder)
        entry = bundle.metadata.get(ESTIMATOR_KEY)
        if not isinstance(entry, dict) or entry.get("class") != cls.__name__:
            found = entry.get("class") if isinstance(entry, dict) else None
            raise ModelFileError(f"{bundle.path} was not saved by {cls.__name__}.save (found {found!r})")
        params = dict(entry["params"])
        for key in ("hidden_dims", "input_shape"):
            if params.get(key) is not None:
                params[key] = tuple(params[key])
        estimator = cls(**params)
        estimator._restore(bundle, entry)
        return estimator

    def _restore(self, bundle: ModelBundle, entry: dict[str, Any]) -> None:
        self.model_ = bundle.model
        self.normalizer_ = bundle.normalizer
        self.history_ = list(entry.get("history", []))
        self.input_shape_ = tuple(bundle.model.input_shape)
        self.latent_dim_ = int(bundle.model.latent_dim)
        self.n_features_in_ = math.prod(self.input_shape_)
        names = bundle.metadata.get("feature_names")
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)


def draw_seed(random: np.random.RandomState) -> int:
    """A torch/NumPy seed drawn from the estimator's ``random_state`` (scikit-learn's convention)."""
    return int(random.randint(_SEED_BOUND))


def sample_shape_of(X: Any) -> tuple[int, ...] | None:
    """The per-sample shape of an array with more than two axes (images ``(N, C, H, W)``; a stack of grey
    images ``(N, H, W)`` gives ``(1, H, W)``), else None."""
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) <= 2:
        return None
    sample = tuple(int(s) for s in shape[1:])
    return (1, *sample) if len(sample) == 2 else sample


def is_positive_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) > 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value
