"""The model interface every autoencoder in aekit implements.

A model is a plain :class:`torch.nn.Module` built from its frozen config alone. The training engine only
talks to this interface (``prepare_batch`` → ``forward`` → ``loss`` per phase), so it needs no
family-specific branches. See ``docs/architecture.md``.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import ClassVar

import torch
from torch import Tensor, nn

from aekit.checks import all_finite
from aekit.config import ConfigBase
from aekit.errors import ConfigError, DataError, ShapeError

__all__ = [
    "AEOutput",
    "AbstractAutoencoder",
    "AbstractGenerativeAutoencoder",
    "Batch",
    "LossTerms",
    "ModelConfig",
    "Phase",
    "PreparedBatch",
]

LossTerms = dict[str, Tensor]
"""Scalar loss terms: ``"loss"`` is the weighted total, the other keys unweighted components."""

Batch = tuple[Tensor, Tensor | None]
"""What the data pipeline yields: inputs ``(B, ...)`` and optional labels ``(B,)`` or targets."""

PreparedBatch = tuple[Tensor, Tensor, Tensor | None]
"""``(inputs, target, condition)`` as returned by :meth:`AbstractAutoencoder.prepare_batch`."""


@dataclasses.dataclass(frozen=True)
class ModelConfig(ConfigBase):
    """Fields every model config has.

    Attributes:
        input_shape: Shape of one sample: ``(C, H, W)`` for images, ``(n_features,)`` for vectors.
    """

    input_shape: tuple[int, ...]

    def validate(self) -> None:
        shape = self.input_shape
        if (
            not isinstance(shape, tuple)
            or not shape
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
        ):
            raise ConfigError(f"input_shape must be a non-empty tuple of positive ints; got {shape!r}")


@dataclasses.dataclass(frozen=True)
class AEOutput:
    """What ``forward`` returns for deterministic autoencoders.

    Attributes:
        x_hat: Reconstruction, same shape as the input ``(B, *input_shape)``.
        z: Latent code ``(B, latent_dim)``.
        penalties: Regulariser values computed during the forward pass (e.g. ``"contractive"``),
            unweighted scalars; empty when the family has none.
    """

    x_hat: Tensor
    z: Tensor
    penalties: dict[str, Tensor] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Phase:
    """One optimisation step per batch: minimise ``loss_key`` over the parameter group ``group``."""

    name: str
    loss_key: str = "loss"
    group: str = "all"


class AbstractAutoencoder(nn.Module, ABC):
    """Base class of all aekit models (encoder → bottleneck → decoder).

    Subclasses set ``config_class``, ``loss_terms`` and, for multi-step training, ``phases``; they are
    final (compose or add a config field instead of subclassing a concrete model).
    """

    config_class: ClassVar[type[ModelConfig]]
    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon")
    phases: ClassVar[tuple[Phase, ...]] = (Phase("main"),)
    registry_name: ClassVar[str] = ""
    closed_form: ClassVar[bool] = False
    """True for models fitted in one step by :meth:`fit_closed_form` instead of gradient training."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if not isinstance(config, self.config_class):
            raise ConfigError(
                f"{type(self).__name__} needs a {self.config_class.__name__}; got {type(config).__name__}"
            )
        self._config = config

    @property
    def config(self) -> ModelConfig:
        """The config the model was built from, unchanged."""
        return self._config

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input sample."""
        return self._config.input_shape

    @property
    @abstractmethod
    def latent_dim(self) -> int:
        """Size of the latent code returned by :meth:`encode`."""

    @abstractmethod
    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Map inputs ``(B, *input_shape)`` to deterministic codes ``(B, latent_dim)``."""

    @abstractmethod
    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """Map codes ``(B, latent_dim)`` to reconstructions ``(B, *input_shape)``."""

    @abstractmethod
    def forward(self, x: Tensor, condition: Tensor | None = None) -> AEOutput:
        """Run the whole model and return everything :meth:`loss` needs."""

    @abstractmethod
    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """Return the loss terms; the key set equals ``loss_terms`` whatever the config."""

    def fit_closed_form(self, x: Tensor) -> AbstractAutoencoder:
        """Fit in one step from data ``x`` (models with ``closed_form = True``, such as PCA)."""
        raise NotImplementedError(f"{type(self).__name__} is trained by gradient descent, not in closed form")

    def reconstruct(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Deterministic reconstruction ``decode(encode(x))``, shape of ``x``."""
        return self.decode(self.encode(x, condition), condition)

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """Turn a data batch into ``(inputs, target, condition)``; the identity by default.

        Families that corrupt their input (denoising) or take a label (conditional models) override it.
        """
        inputs, _labels = batch
        return inputs, inputs, None

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameter groups by name; every phase's ``group`` must be a key."""
        return {"all": list(self.parameters())}

    def check_input(self, x: Tensor, name: str = "x") -> None:
        """Raise a clear error unless ``x`` is a finite float tensor of shape ``(B, *input_shape)``.

        Raises:
            TypeError: ``x`` is not a floating-point tensor.
            ShapeError: the shape differs from ``(B, *input_shape)``.
            DataError: ``x`` holds NaN or infinite values.

        Skipped while ``torch.compile`` or ``torch.export`` trace the model: the value check is
        data-dependent, and traced graphs (ONNX files, compiled steps) get checked inputs from their caller.
        """
        if torch.compiler.is_compiling() or torch.compiler.is_exporting():
            return
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor; got dtype {x.dtype}")
        expected = tuple(self.input_shape)
        if x.dim() != len(expected) + 1 or tuple(x.shape[1:]) != expected:
            shape_text = ", ".join(str(s) for s in expected)
            raise ShapeError(f"{name} must have shape (B, {shape_text}); got {tuple(x.shape)}")
        if not all_finite(x):
            raise DataError(f"{name} contains NaN or infinite values")


class AbstractGenerativeAutoencoder(AbstractAutoencoder):
    """An autoencoder with a prior over codes that can be sampled."""

    @abstractmethod
    def sample(
        self, n_samples: int, *, condition: Tensor | None = None, generator: torch.Generator | None = None
    ) -> Tensor:
        """Decode ``n_samples`` codes drawn from the prior; returns ``(n_samples, *input_shape)``."""
