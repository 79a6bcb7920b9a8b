"""The model interface every autoencoder in aekit implements.

A model is a plain :class:`torch.nn.Module` built from its frozen config alone. The training engine only
talks to this interface (``prepare_batch`` → ``forward`` → ``loss`` per phase), so it needs no
family-specific branches. See ``docs/architecture.md``.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Literal, Self

import torch
from torch import Tensor, nn
from typing_extensions import TypeVar

from aekit.config import ConfigBase
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.formats.arrays import all_finite

__all__ = [
    "AEOutput",
    "AbstractAutoencoder",
    "AbstractGenerativeAutoencoder",
    "Batch",
    "ErrorKind",
    "Fitting",
    "LabelRole",
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

Fitting = Literal["gradient", "closed_form", "layerwise"]
"""How a family is fitted: gradient descent, one closed-form step (PCA), or greedy layer-wise
pretraining followed by gradient fine-tuning (stacked)."""

LabelRole = Literal["classes", "domains", "masks"]
"""What the ``y`` of a family's training batches must be: class labels ``(B,)``, domain indices ``(B,)``
(one decoder each) or integer masks ``(B, H, W)``."""

ErrorKind = Literal["mse", "bce", "l1"]
"""The per-element reconstruction error matching a family's training loss."""


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

    @classmethod
    def from_saved(cls, data: Mapping[str, Any]) -> Self:
        """The config of a saved model folder (``config.json``'s ``config``).

        Like :meth:`from_dict`; a family whose config gained a field that changes the layers gives
        documents saved without it the value they were trained with.
        """
        return cls.from_dict(data)


ConfigT = TypeVar("ConfigT", bound=ModelConfig, default=ModelConfig, covariant=True)
"""The config class of a model family (the parameter of ``AbstractAutoencoder[ConfigT]``)."""


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


class AbstractAutoencoder(nn.Module, ABC, Generic[ConfigT]):
    """Base class of all aekit models (encoder → bottleneck → decoder).

    Subclasses set ``config_class``, ``loss_terms`` and, for multi-step training, ``phases``; they are
    final (compose or add a config field instead of subclassing a concrete model). A family names its
    config type as the class parameter (``class VAE(AbstractVariationalAutoencoder[VAEConfig])``), so
    ``self.config`` has the family's fields for the type checker.
    """

    config_class: ClassVar[type[ModelConfig]]
    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon")
    phases: ClassVar[tuple[Phase, ...]] = (Phase("main"),)
    registry_name: ClassVar[str] = ""

    # -- capabilities: what the family can do, declared here and checked by the contract suite; code
    # above ``models/`` asks these instead of looking for attribute names.
    fitting: ClassVar[Fitting] = "gradient"
    """``closed_form`` models implement :meth:`fit_closed_form`, ``layerwise`` ones
    :meth:`layer_autoencoders` and :meth:`layer_inputs`."""
    label_role: ClassVar[LabelRole | None] = None
    """What the training batches' ``y`` must hold (see :data:`LabelRole`); None when ``y`` is ignored."""
    conditional: ClassVar[bool] = False
    """``encode``/``decode`` (and ``sample``) take class labels ``(B,)`` as ``condition``."""
    has_likelihood: ClassVar[bool] = False
    """:meth:`negative_log_likelihood` gives a per-sample ``−log p(x)`` bound."""
    takes_mask: ClassVar[bool] = False
    """The model is trained with hole masks and fills holes from the masked image (inpainting)."""
    reconstructs: ClassVar[bool] = True
    """``x_hat`` is a reconstruction of the input (False: class logits of segmentation/classifiers)."""
    generative: ClassVar[bool] = False
    """The family has a prior to sample (see :class:`AbstractGenerativeAutoencoder`)."""
    paired_targets: ClassVar[bool] = False
    """Training batches may carry clean targets ``y`` of the inputs' shape: (noisy, clean) pairs."""
    warms_up: ClassVar[bool] = False
    """The loss has a weight that ``TrainConfig.warmup_fraction`` ramps from 0 to 1 through
    :meth:`set_warmup` (the VAE family's KL weight)."""

    def __init__(self, config: ConfigT) -> None:
        super().__init__()
        if not isinstance(config, self.config_class):
            raise ConfigError(
                f"{type(self).__name__} needs a {self.config_class.__name__}; got {type(config).__name__}"
            )
        self._config = config
        if self.legacy_state_names:
            self._register_load_state_dict_pre_hook(self._rename_legacy_state)

    legacy_state_names: ClassVar[dict[str, str]] = {}
    """Old → new prefixes of weight names the family renamed; weights saved under the old names load
    (through :meth:`upgrade_state_dict`, which model folders and ``load_state_dict`` apply)."""

    def upgrade_state_dict(self, state: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """``state`` with weight names of earlier versions of the family renamed to the current ones."""
        if not self.legacy_state_names:
            return dict(state)
        current = set(self.state_dict())
        upgraded = {}
        for key, value in state.items():
            if key not in current:
                for old, new in self.legacy_state_names.items():
                    if key.startswith(old):
                        key = new + key[len(old) :]
                        break
            upgraded[key] = value
        return upgraded

    def _rename_legacy_state(self, state: dict[str, Any], prefix: str, *args: Any) -> None:
        own = {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
        upgraded = self.upgrade_state_dict(own)
        if list(upgraded) != list(own):
            for key in own:
                del state[prefix + key]
            state.update({prefix + key: value for key, value in upgraded.items()})

    @property
    def config(self) -> ConfigT:
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

    @classmethod
    def capabilities(cls) -> dict[str, Any]:
        """The declared capabilities by name (for ``aekit models`` and error messages)."""
        return {
            "fitting": cls.fitting,
            "labels": cls.label_role,
            "conditional": cls.conditional,
            "likelihood": cls.has_likelihood,
            "takes_mask": cls.takes_mask,
            "reconstructs": cls.reconstructs,
            "sampling": cls.generative,
            "paired_targets": cls.paired_targets,
            "warmup": cls.warms_up,
        }

    @classmethod
    def config_from_labels(cls, n_labels: int) -> dict[str, Any]:
        """Config values a family takes from its training labels (``n_classes``, ``n_domains``...).

        Args:
            n_labels: Number of distinct classes or domains in the data (mask classes for masks).

        Returns:
            Config fields to set; empty for families whose batches carry no labels.
        """
        return {}

    @property
    def n_classes(self) -> int:
        """Number of classes of the labels the model takes (0 when it takes none)."""
        return 0

    @property
    def uses_batch_statistics(self) -> bool:
        """True when training normalises with statistics of the batch (batch-norm layers), so a batch of
        one sample cannot train (the trainer skips it)."""
        return any(isinstance(module, torch.nn.modules.batchnorm._BatchNorm) for module in self.modules())

    @property
    def error_kind(self) -> ErrorKind:
        """The per-element error matching the training loss (``bce`` for Bernoulli/BCE models)."""
        return "mse"

    def fit_closed_form(self, x: Tensor) -> AbstractAutoencoder:
        """Fit in one step from data ``x`` (models with ``fitting = "closed_form"``, such as PCA)."""
        raise ConfigError(
            f"{self.registry_name or type(self).__name__} is fitted by {self.fitting.replace('_', ' ')} "
            "training, not in closed form"
        )

    def layer_autoencoders(self) -> list[AbstractAutoencoder]:
        """The shallow autoencoders of greedy pretraining, bottom first (``fitting = "layerwise"``).

        Each shares its parameters with this model and is trained on the codes of the layers below it
        (see :meth:`layer_inputs`).
        """
        raise ConfigError(
            f"{self.registry_name or type(self).__name__} has no layer-wise pretraining "
            f"(its fitting is {self.fitting!r})"
        )

    def layer_inputs(self, x: Tensor, layer: int) -> Tensor:
        """What layer ``layer``'s shallow autoencoder reconstructs: the codes of ``x`` below it."""
        raise ConfigError(f"{self.registry_name or type(self).__name__} has no layer-wise pretraining")

    def negative_log_likelihood(
        self, x: Tensor, condition: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """A per-sample bound on ``−log p(x)`` in nats, ``(B,)`` (models with ``has_likelihood``).

        Raises:
            ConfigError: The family has no likelihood.
        """
        raise ConfigError(f"{self.registry_name or type(self).__name__} has no likelihood; use a VAE or CVAE")

    def set_warmup(self, weight: float) -> None:
        """Set the warm-up weight in ``[0, 1]`` used by later training-mode losses (``warms_up`` models).

        Raises:
            ConfigError: The family has no warm-up weight.
        """
        raise ConfigError(f"{self.registry_name or type(self).__name__} has no warm-up weight")

    def describe_plan(self) -> list[str]:
        """Lines describing the planned architecture beyond ``repr`` (empty by default)."""
        return []

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


class AbstractGenerativeAutoencoder(AbstractAutoencoder[ConfigT]):
    """An autoencoder with a prior over codes that can be sampled."""

    generative: ClassVar[bool] = True

    @abstractmethod
    def prior_codes(
        self,
        n_samples: int,
        *,
        temperature: float = 1.0,
        labels: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Draw codes ``(n_samples, latent_dim)`` from the prior, on the model's device.

        ``z = μ + T · (z' − μ)`` where ``z'`` is a prior draw and ``μ`` the mean of its component (0 for
        a standard normal), so a temperature ``T < 1`` gives cleaner, less varied samples.

        Args:
            n_samples: Number of codes.
            temperature: Spread around the prior mean (1 = the prior itself).
            labels: Class labels ``(n_samples,)`` of conditional models whose prior depends on the
                class (a mixture prior); ignored otherwise.
            generator: Source of randomness (the global RNG when None).
        """

    def sample(
        self,
        n_samples: int,
        *,
        temperature: float = 1.0,
        condition: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Decode ``n_samples`` prior codes; returns ``(n_samples, *input_shape)``.

        Conditional models decode with ``condition`` (labels ``(n_samples,)``), drawn uniformly from
        ``generator`` when None.
        """
        check_count("n_samples", n_samples)
        labels = None
        if self.conditional:
            labels = (
                torch.randint(self.n_classes, (n_samples,), generator=generator)
                if condition is None
                else condition
            )
        codes = self.prior_codes(n_samples, temperature=temperature, labels=labels, generator=generator)
        return self.decode(codes, None if labels is None else labels.to(codes.device))


def check_count(name: str, value: object) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a positive int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer; got {value!r}")


def check_temperature(temperature: object) -> float:
    """Return ``temperature`` as a float; :class:`ConfigError` unless it is finite and > 0."""
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not temperature > 0
        or temperature == float("inf")
    ):
        raise ConfigError(f"temperature must be a finite number > 0; got {temperature!r}")
    return float(temperature)
