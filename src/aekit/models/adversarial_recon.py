"""An adversarial reconstruction term for any single-phase family, by composition.

Larsen, Sønderby, Larochelle, Winther, "Autoencoding beyond pixels using a learned similarity metric",
ICML 2016 (the VAE/GAN) showed that a discriminator on reconstructions sharpens them: pixel losses
average over plausible outputs (blur), while a discriminator penalises outputs unlike real data.

:class:`AdversarialReconstruction` wraps a base model named by its registry name and config, delegates
``encode``/``decode``/``forward``/``prepare_batch`` to it, and adds a discriminator ``D`` on
reconstructions with a second training phase:

* ``autoencoder`` phase, over the base model: ``loss = base loss + λ·adv``, ``adv = −log σ(D(x̂))``;
* ``discriminator`` phase, over ``D``: ``disc = ½ [−log σ(D(x)) − log(1 − σ(D(x̂)))]``, with ``x`` the
  clean target.

Because phases and loss keys are class constants, the wrapper reports ``loss``, ``recon`` (the base
model's reconstruction term), ``adv`` and ``disc``; other terms of the base model (``kl``, ``sparsity``)
are included in ``loss`` but not reported separately — evaluate ``model.base`` for them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor

from aekit.config import check_choice, check_positive
from aekit.errors import ConfigError
from aekit.losses.adversarial import discriminator_loss, generator_loss
from aekit.models.base import (
    AbstractAutoencoder,
    AEOutput,
    Batch,
    ErrorKind,
    LabelRole,
    LossTerms,
    ModelConfig,
    Phase,
    PreparedBatch,
)
from aekit.models.registry import register_model, resolve
from aekit.nn.heads import make_discriminator

__all__ = ["AdversarialReconstruction", "AdversarialReconstructionConfig", "AdversarialReconstructionOutput"]

WRAPPER_NAME = "adversarial_recon"


def _frozen(value: Any) -> Any:
    """Lists → tuples, recursively, so a config read from JSON equals the one it was written from."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {key: _frozen(v) for key, v in value.items()}
    return value


@dataclasses.dataclass(frozen=True)
class AdversarialReconstructionConfig(ModelConfig):
    """Config of :class:`AdversarialReconstruction`.

    Attributes:
        latent_dim: Code size, passed to the base model.
        base_model: Registry name (or preset) of the wrapped model; it must train in one phase and
            report a ``recon`` term (``mlp``, ``conv``, ``vae``, ``sparse`` ... not ``pca`` or ``aae``).
        base_config: The base model's other config fields as a JSON-able dict (``input_shape`` and
            ``latent_dim`` come from this config).
        adversarial_weight: ``λ`` in ``loss = base loss + λ·adv``; relative to the base loss's scale
            (the VAE sums its reconstruction over pixels, so it needs a λ hundreds of times larger
            than a mean-reduced MLP autoencoder).
        discriminator: ``auto`` (conv for images, MLP otherwise), ``mlp`` or ``conv``.
        discriminator_hidden_dims: Hidden widths of the MLP discriminator.
        discriminator_channels: Stage channels of the conv discriminator.
    """

    latent_dim: int = 32
    base_model: str = "mlp"
    base_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    adversarial_weight: float = 0.01
    discriminator: Literal["auto", "mlp", "conv"] = "auto"
    discriminator_hidden_dims: tuple[int, ...] = (256,)
    discriminator_channels: tuple[int, ...] = (32, 64)

    def __post_init__(self) -> None:
        if not isinstance(self.base_config, dict):
            raise ConfigError(
                f"base_config must be a dict of config fields; got {type(self.base_config).__name__}"
            )
        object.__setattr__(self, "base_config", _frozen(self.base_config))
        super().__post_init__()

    def validate(self) -> None:
        super().validate()
        check_positive("latent_dim", self.latent_dim)
        check_positive("adversarial_weight", self.adversarial_weight, allow_zero=True)
        check_choice("discriminator", self.discriminator, ("auto", "mlp", "conv"))
        if self.discriminator == "conv" and len(self.input_shape) != 3:
            raise ConfigError(f"discriminator 'conv' needs input_shape (C, H, W); got {self.input_shape!r}")
        for width in (*self.discriminator_hidden_dims, *self.discriminator_channels):
            check_positive("discriminator_hidden_dims and discriminator_channels entries", width)
        self.resolve_base()

    def resolve_base(self) -> tuple[type[AbstractAutoencoder], ModelConfig]:
        """Return the base model's class and validated config.

        Raises:
            ConfigError: The base model is unknown, cannot be wrapped, or its config is invalid.
        """
        if self.base_model == WRAPPER_NAME:
            raise ConfigError(f"base_model cannot be {WRAPPER_NAME!r} itself; name the model to wrap")
        for key in ("input_shape", "latent_dim"):
            if key in self.base_config:
                raise ConfigError(f"base_config must not set {key!r}; set it on the {WRAPPER_NAME} config")
        cls, config = resolve(
            self.base_model,
            {**self.base_config, "input_shape": self.input_shape, "latent_dim": self.latent_dim},
        )
        if cls.fitting != "gradient" or len(cls.phases) != 1 or "recon" not in cls.loss_terms:
            raise ConfigError(
                f"base_model must be a gradient-trained, single-phase model with a 'recon' term; "
                f"{self.base_model!r} has phases {[p.name for p in cls.phases]} "
                f"and terms {list(cls.loss_terms)}"
            )
        return cls, config


@dataclasses.dataclass(frozen=True)
class AdversarialReconstructionOutput(AEOutput):
    """Forward result: the base model's fields plus its whole output.

    Attributes:
        base: What the base model's ``forward`` returned (its ``loss`` needs it).
    """

    base: AEOutput = dataclasses.field(kw_only=True)


@register_model(WRAPPER_NAME)
class AdversarialReconstruction(AbstractAutoencoder[AdversarialReconstructionConfig]):
    """Any single-phase model plus a discriminator on its reconstructions (see the module docstring).

    ``create("adversarial_recon", input_shape=(1, 28, 28), latent_dim=16, base_model="conv",
    base_config={"channels": [32, 64]}, adversarial_weight=0.05)``.
    """

    config_class = AdversarialReconstructionConfig
    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon", "adv", "disc")
    phases: ClassVar[tuple[Phase, ...]] = (
        Phase("autoencoder", "loss", "autoencoder"),
        Phase("discriminator", "disc", "discriminator"),
    )

    def __init__(self, config: AdversarialReconstructionConfig) -> None:
        super().__init__(config)
        cls, base_config = config.resolve_base()
        self.base = cls(base_config)
        # The wrapper can do what its base model can: these capabilities are the base instance's.
        self.label_role: LabelRole | None = self.base.label_role  # type: ignore[misc]
        self.conditional: bool = self.base.conditional  # type: ignore[misc]
        self.has_likelihood: bool = self.base.has_likelihood  # type: ignore[misc]
        self.discriminator = make_discriminator(
            config.input_shape,
            kind=config.discriminator,
            hidden_dims=config.discriminator_hidden_dims,
            channels=config.discriminator_channels,
        )

    @property
    def latent_dim(self) -> int:
        return self.base.latent_dim

    @property
    def n_classes(self) -> int:
        return self.base.n_classes

    @property
    def error_kind(self) -> ErrorKind:
        return self.base.error_kind

    def negative_log_likelihood(
        self, x: Tensor, condition: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """The base model's ``−log p(x)`` bound (see :meth:`AbstractAutoencoder.negative_log_likelihood`)."""
        return self.base.negative_log_likelihood(x, condition, generator=generator)

    def param_groups(self) -> dict[str, list[torch.nn.Parameter]]:
        """``autoencoder``: every parameter of the base model; ``discriminator``: those of ``D``."""
        return {
            "autoencoder": list(self.base.parameters()),
            "discriminator": list(self.discriminator.parameters()),
        }

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """The base model's ``prepare_batch`` (corruption, labels ...)."""
        return self.base.prepare_batch(batch, generator)

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """The base model's codes ``(B, latent_dim)``."""
        return self.base.encode(x, condition)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """The base model's decoder, ``(B, latent_dim) → (B, *input_shape)``."""
        return self.base.decode(z, condition)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> AdversarialReconstructionOutput:
        """Run the base model; ``D`` runs in :meth:`loss`, which also sees the clean target."""
        output = self.base(x, condition)
        return AdversarialReconstructionOutput(
            x_hat=output.x_hat, z=output.z, penalties=output.penalties, base=output
        )

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """Loss terms: ``loss = base loss + λ·adv``, ``recon`` (the base model's), ``adv``, ``disc``.

        ``adv = −log σ(D(x̂))`` and ``disc = ½[−log σ(D(x)) − log(1 − σ(D(x̂)))]`` with ``x`` = ``target``.
        """
        if not isinstance(output, AdversarialReconstructionOutput):
            raise TypeError(
                "output must be an AdversarialReconstructionOutput from this model; "
                f"got {type(output).__name__}"
            )
        base_terms = self.base.loss(output.base, target)
        adv = generator_loss(self.discriminator(output.x_hat))
        disc = discriminator_loss(self.discriminator(target), self.discriminator(output.x_hat.detach()))
        weight = self.config.adversarial_weight
        return {
            "loss": base_terms["loss"] + weight * adv,
            "recon": base_terms["recon"],
            "adv": adv,
            "disc": disc,
        }
