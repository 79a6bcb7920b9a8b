"""``AutoencoderTransformer``: an autoencoder as a scikit-learn transformer, a drop-in for ``PCA``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from aekit.errors import ShapeError
from aekit.estimators.base import AbstractAutoencoderEstimator, Scaling

__all__ = ["AutoencoderTransformer"]


class AutoencoderTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, AbstractAutoencoderEstimator):
    """Nonlinear dimensionality reduction with an autoencoder, used like :class:`sklearn.decomposition.PCA`.

    ``transform`` returns latent codes, ``inverse_transform`` decodes them back to the original feature
    scale, ``score_samples`` is minus the per-sample reconstruction error. Inputs are scaled as learned
    at fit time (``scaling``), so raw tabular data can go straight in.

    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> pipe = make_pipeline(AutoencoderTransformer(latent_dim=8, epochs=30), LogisticRegression())

    Args:
        model: Registered aekit model name: ``mlp`` (default), ``conv`` (needs image-shaped ``X`` or
            ``input_shape``), ``pca``,
            or any other family in :func:`aekit.models.names`.
        latent_dim: Size of the code (the number of output features); None picks
            ``min(8, ceil(n_features / 2))``.
        hidden_dims: Hidden layer widths of the encoder (the decoder mirrors them); None keeps the
            model's default. Only for models with that setting.
        input_shape: Shape each row is reshaped to before the model, e.g. ``(1, 28, 28)`` for flattened
            images and a ``conv`` model; None takes the shape of the samples when ``X`` is an array of
            images ``(N, C, H, W)`` (flattened to rows like any table; ``inverse_transform`` returns rows)
            and keeps rows flat otherwise.
        scaling: ``standardize`` (per-feature mean 0, std 1), ``minmax`` (per-feature range to [0, 1],
            for ``bce`` models) or ``none``; learned at fit and stored.
        epochs: Passes over the training data.
        batch_size: Samples per optimisation step.
        learning_rate: Adam step size.
        model_options: Further fields of the model's config (``activation``, ``dropout``,
            ``reconstruction``, ``channels``...).
        train_options: Further :class:`aekit.TrainConfig` fields (``weight_decay``, ``lr_schedule``...).
        device: ``auto``, ``cpu``, ``cuda``...; the fitted model is moved to the CPU afterwards.
        random_state: Seeds the initial weights and the data order; an int gives repeatable fits.

    Attributes:
        model_: The trained aekit model.
        normalizer_: The fitted input scaling.
        history_: Per-epoch training rows (``train_loss`` ...).
        latent_dim_: Size of the code actually used.
        input_shape_: The model's sample shape.
        n_features_in_: Number of input features.
        feature_names_in_: Input column names (pandas input with string columns only).
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

    def fit(self, X: Any, y: Any = None) -> AutoencoderTransformer:
        """Train the autoencoder to reconstruct ``X`` ``(n_samples, n_features)``; ``y`` is ignored.

        Raises:
            DataError: Non-numeric columns, NaN/inf values, or ``input_shape`` not matching ``X``.
            ConfigError: An invalid hyperparameter.
        """
        self._fit_autoencoder(X)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Latent codes of ``X``, shape ``(n_samples, latent_dim_)``."""
        check_is_fitted(self)
        x = self._to_model_space(self._validate(X, reset=False))
        return self._run(self.model_.encode, x)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Decode codes ``(n_samples, latent_dim_)`` to rows in the original feature scale.

        Raises:
            ShapeError: ``X`` does not have ``latent_dim_`` columns.
        """
        check_is_fitted(self)
        codes = check_array(X, dtype=np.float64)
        if codes.shape[1] != self.latent_dim_:
            raise ShapeError(f"X must have shape (n_samples, {self.latent_dim_}) codes; got {codes.shape}")
        z = torch.from_numpy(codes)
        decoded = self._run(lambda batch: self.model_.decode(batch).flatten(1), z)
        return self.normalizer_.inverse_transform(torch.from_numpy(decoded)).numpy()

    def score_samples(self, X: Any) -> np.ndarray:
        """Minus the mean squared reconstruction error of each row (in the scaled space); higher is better."""
        return -self._reconstruction_error(X)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean of :meth:`score_samples`, so ``GridSearchCV`` can tune the transformer alone."""
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self) -> int:
        return int(self.latent_dim_)
