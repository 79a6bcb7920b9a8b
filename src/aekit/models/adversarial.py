"""Adversarial autoencoders: a discriminator on codes makes the code distribution match a chosen prior.

Makhzani, Shlens, Jaitly, Goodfellow, Frey, "Adversarial Autoencoders", ICLR workshop 2016.

Training alternates three phases per batch (the trainer runs them in order):

1. ``reconstruction``: encoder and decoder minimise ``recon``;
2. ``discriminator``: the discriminator ``D`` learns to tell prior samples ``z' ~ p(z)`` from codes
   ``z = f(x)``, minimising ``disc = ½ [−log σ(D(z')) − log(1 − σ(D(z)))] + (γ/2) E‖∇D(z')‖²``, where the
   last term (R1, Mescheder et al. 2018; ``γ`` = ``discriminator_penalty``) keeps the game from
   oscillating: without it, codes of 16 dimensions ended farther from the prior than a plain
   autoencoder's (``tests/families``, ``benchmarks/families.py``);
3. ``generator``: the encoder learns to fool ``D``, minimising ``gen = −log σ(D(z))``.

At the optimum the aggregated posterior ``q(z) = E_x[q(z|x)]`` equals the prior, so decoding prior
samples gives data-like outputs.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar, Literal, TypeVar

import torch
from torch import Tensor

from aekit.config import check_choice, check_positive
from aekit.errors import ConfigError, ShapeError
from aekit.losses.adversarial import discriminator_loss, generator_loss, real_gradient_penalty
from aekit.losses.functional import reconstruction_loss
from aekit.models._backbone import BackboneConfig, Encoder, as_one_hot, check_labels
from aekit.models.base import (
    AbstractGenerativeAutoencoder,
    AEOutput,
    Batch,
    ErrorKind,
    LabelRole,
    LossTerms,
    Phase,
    PreparedBatch,
    check_count,
    check_temperature,
)
from aekit.models.registry import register_model
from aekit.nn.backbone import build_decoder
from aekit.nn.heads import MLPDiscriminator

__all__ = [
    "AbstractAdversarialAutoencoder",
    "AdversarialAutoencoder",
    "AdversarialAutoencoderConfig",
    "AdversarialOutput",
    "ConditionalAdversarialAutoencoder",
    "ConditionalAdversarialAutoencoderConfig",
]

Prior = Literal["gaussian", "mixture"]


@dataclasses.dataclass(frozen=True)
class AdversarialAutoencoderConfig(BackboneConfig):
    """Config of :class:`AdversarialAutoencoder` (encoder/decoder fields: see ``BackboneConfig``).

    Attributes:
        prior: ``gaussian`` (``N(0, I)``) or ``mixture``: ``prior_components`` Gaussians of standard
            deviation ``prior_std`` whose means sit evenly on a circle of radius ``prior_radius`` in the
            first two code dimensions (0 in the others), the 2-D mixture of the paper's figure 4.
        prior_components: Number of mixture components.
        prior_radius: Radius of the circle of component means.
        prior_std: Standard deviation of each component, in every dimension.
        discriminator_hidden_dims: Hidden widths of the code discriminator.
        discriminator_dropout: Dropout in the discriminator.
        discriminator_penalty: ``γ`` of the R1 gradient penalty on prior samples in ``disc``; 0 turns
            it off (the paper's original game).

    The mixture prior trains more reliably with ``batch_norm=True``: on the 8×8 digits the conditional
    model put 0.89–0.93 of the codes in their class's component with it, 0.54–0.67 without (3 seeds).
    The Gaussian prior does well without it.
    """

    latent_dim: int = 8
    prior: Prior = "gaussian"
    prior_components: int = 10
    prior_radius: float = 2.0
    prior_std: float = 0.3
    discriminator_hidden_dims: tuple[int, ...] = (256, 256)
    discriminator_dropout: float = 0.0
    discriminator_penalty: float = 1.0

    def validate(self) -> None:
        super().validate()
        check_choice("prior", self.prior, ("gaussian", "mixture"))
        check_positive("prior_components", self.prior_components)
        if isinstance(self.prior_components, float):
            raise ConfigError(f"prior_components must be an int; got {self.prior_components!r}")
        check_positive("prior_radius", self.prior_radius, allow_zero=True)
        check_positive("prior_std", self.prior_std)
        for width in self.discriminator_hidden_dims:
            check_positive("discriminator_hidden_dims entries", width)
        check_positive("discriminator_penalty", self.discriminator_penalty, allow_zero=True)
        if not 0.0 <= self.discriminator_dropout < 1.0:
            raise ConfigError(f"discriminator_dropout must be in [0, 1); got {self.discriminator_dropout!r}")
        if self.prior == "mixture" and self.latent_dim < 2:
            raise ConfigError(
                f"prior 'mixture' needs latent_dim ≥ 2 (a circle of means); got {self.latent_dim}"
            )


@dataclasses.dataclass(frozen=True)
class ConditionalAdversarialAutoencoderConfig(AdversarialAutoencoderConfig):
    """Config of :class:`ConditionalAdversarialAutoencoder`.

    Attributes:
        n_classes: Number of classes of the labels; with the ``mixture`` prior it must equal
            ``prior_components`` (class ``k`` owns component ``k``).
    """

    n_classes: int = 10

    def validate(self) -> None:
        super().validate()
        check_positive("n_classes", self.n_classes)
        if self.prior == "mixture" and self.prior_components != self.n_classes:
            raise ConfigError(
                f"prior 'mixture' gives each class its own component, so prior_components must equal "
                f"n_classes={self.n_classes}; got {self.prior_components}"
            )


@dataclasses.dataclass(frozen=True)
class AdversarialOutput(AEOutput):
    """Forward result of an adversarial autoencoder.

    Attributes:
        prior_sample: Codes drawn from the prior, ``(B, latent_dim)``.
        prior_logits: ``D`` on the prior samples, ``(B,)``.
        code_logits: ``D`` on the codes, ``(B,)``; gradients reach the encoder (generator phase).
        detached_code_logits: ``D`` on the detached codes, ``(B,)`` (discriminator phase).
        condition: The one-hot labels ``(B, n_classes)`` shown to ``D``, or None (unconditional).
    """

    prior_sample: Tensor = dataclasses.field(kw_only=True)
    prior_logits: Tensor = dataclasses.field(kw_only=True)
    code_logits: Tensor = dataclasses.field(kw_only=True)
    detached_code_logits: Tensor = dataclasses.field(kw_only=True)
    condition: Tensor | None = dataclasses.field(kw_only=True, default=None)


AdversarialConfigT = TypeVar("AdversarialConfigT", bound=AdversarialAutoencoderConfig)


class AbstractAdversarialAutoencoder(AbstractGenerativeAutoencoder[AdversarialConfigT]):
    """Shared machinery of the adversarial autoencoders; ``n_classes > 0`` makes it conditional.

    Loss terms: ``recon`` (the configured reconstruction loss), ``disc`` and ``gen`` (see the module
    docstring) and ``loss = recon + gen``, the sum of what the encoder side minimises (for monitoring;
    each phase optimises its own term).
    """

    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon", "disc", "gen")
    phases: ClassVar[tuple[Phase, ...]] = (
        Phase("reconstruction", "recon", "autoencoder"),
        Phase("discriminator", "disc", "discriminator"),
        Phase("generator", "gen", "encoder"),
    )

    prior_means: Tensor

    def __init__(self, config: AdversarialConfigT, n_classes: int) -> None:
        super().__init__(config)
        self._n_classes = n_classes
        spec = config.backbone()
        self.encoder = Encoder(spec, extra_inputs=n_classes)
        self.decoder = build_decoder(
            spec, extra_inputs=n_classes, output_activation=config.resolved_output_activation
        )
        self.discriminator = MLPDiscriminator(
            config.latent_dim + n_classes, config.discriminator_hidden_dims, config.discriminator_dropout
        )
        angles = (
            2 * math.pi * torch.arange(config.prior_components, dtype=torch.float64) / config.prior_components
        )
        means = torch.zeros(config.prior_components, config.latent_dim, dtype=torch.float64)
        if config.latent_dim >= 2:
            means[:, 0], means[:, 1] = config.prior_radius * angles.cos(), config.prior_radius * angles.sin()
        self.register_buffer("prior_means", means.float(), persistent=False)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def n_classes(self) -> int:
        """Number of classes of the condition (0: unconditional)."""
        return self._n_classes

    @property
    def error_kind(self) -> ErrorKind:
        return self.config.reconstruction

    def param_groups(self) -> dict[str, list[torch.nn.Parameter]]:
        """``autoencoder`` (encoder + decoder), ``discriminator``, ``encoder`` (the generator of codes)."""
        encoder = list(self.encoder.parameters())
        return {
            "autoencoder": encoder + list(self.decoder.parameters()),
            "discriminator": list(self.discriminator.parameters()),
            "encoder": encoder,
        }

    # -- the prior ------------------------------------------------------------------------------
    def prior_sample(
        self, n_samples: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None
    ) -> Tensor:
        """Draw ``n_samples`` codes ``(n_samples, latent_dim)`` from the prior.

        Args:
            n_samples: Number of codes.
            labels: Mixture prior only: the component of each sample ``(n_samples,)``; drawn uniformly
                when None.
            generator: Source of randomness; the global RNG when None.
        """
        if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int; got {n_samples!r}")
        device = self.prior_means.device
        draw_device = generator.device if generator is not None else device
        config = self.config
        if config.prior == "gaussian":
            return torch.randn(n_samples, self.latent_dim, generator=generator, device=draw_device).to(device)
        if labels is None:
            labels = torch.randint(
                config.prior_components, (n_samples,), generator=generator, device=draw_device
            )
        noise = torch.randn(n_samples, self.latent_dim, generator=generator, device=draw_device).to(device)
        return self.prior_means[labels.to(device)] + config.prior_std * noise

    # -- conditions -----------------------------------------------------------------------------
    def _one_hot(self, condition: Tensor | None, batch_size: int) -> Tensor | None:
        if self.n_classes == 0:
            return None
        return as_one_hot(condition, self.n_classes, batch_size, model=self.registry_name)

    def _join(self, z: Tensor, one_hot: Tensor | None) -> Tensor:
        return z if one_hot is None else torch.cat([z, one_hot.to(z.dtype)], dim=1)

    def _prior_labels(self, one_hot: Tensor | None) -> Tensor | None:
        mixture = self.config.prior == "mixture"
        return one_hot.argmax(1) if one_hot is not None and mixture else None

    # -- the interface --------------------------------------------------------------------------
    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Codes ``(B, latent_dim)`` of ``x`` ``(B, *input_shape)`` (and of the labels if conditional)."""
        self.check_input(x)
        # x.shape[0], not len(x): len() fixes the batch size when torch.export traces the encoder
        return self.encoder(x, self._one_hot(condition, x.shape[0]))

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """Reconstructions ``(B, *input_shape)`` of codes ``z`` ``(B, latent_dim)`` [and labels]."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ShapeError(f"z must have shape (B, {self.latent_dim}); got {tuple(z.shape)}")
        return self.decoder(self._join(z, self._one_hot(condition, z.shape[0])))

    def forward(self, x: Tensor, condition: Tensor | None = None) -> AdversarialOutput:
        """Encode, decode and score codes and prior samples with ``D``.

        Prior samples come from the global RNG, which the trainer seeds for each run.
        """
        self.check_input(x)
        one_hot = self._one_hot(condition, len(x))
        z = self.encoder(x, one_hot)
        x_hat = self.decoder(self._join(z, one_hot))
        prior = self.prior_sample(len(x), labels=self._prior_labels(one_hot)).to(z.dtype)
        return AdversarialOutput(
            x_hat=x_hat,
            z=z,
            prior_sample=prior,
            prior_logits=self.discriminator(self._join(prior, one_hot)),
            code_logits=self.discriminator(self._join(z, one_hot)),
            detached_code_logits=self.discriminator(self._join(z.detach(), one_hot)),
            condition=one_hot,
        )

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """Loss terms (see the module docstring).

        ``recon``: the configured reconstruction loss; ``disc = ½[−log σ(D(z')) − log(1 − σ(D(z)))]
        + (γ/2) E‖∇D(z')‖²`` (the discriminator's whole objective, penalty included);
        ``gen = −log σ(D(z))``; ``loss = recon + gen``.
        """
        if not isinstance(output, AdversarialOutput):
            raise TypeError(
                f"output must be an AdversarialOutput from this model's forward; got {type(output).__name__}"
            )
        recon = reconstruction_loss(output.x_hat, target, self.config.reconstruction)
        disc = discriminator_loss(output.prior_logits, output.detached_code_logits)
        penalty_weight = self.config.discriminator_penalty
        if penalty_weight > 0:
            one_hot = output.condition
            penalty = real_gradient_penalty(
                lambda prior: self.discriminator(self._join(prior, one_hot)), output.prior_sample
            )
            disc = disc + 0.5 * penalty_weight * penalty
        gen = generator_loss(output.code_logits)
        return {"loss": recon + gen, "recon": recon, "disc": disc, "gen": gen}

    def prior_codes(
        self,
        n_samples: int,
        *,
        temperature: float = 1.0,
        labels: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Prior codes with temperature; ``labels`` pick the mixture components of a conditional model.

        ``z = μ_k + T · (z' − μ_k)`` for a mixture component ``k`` (``μ = 0`` for the Gaussian prior).
        """
        check_count("n_samples", n_samples)
        temperature = check_temperature(temperature)
        config = self.config
        if config.prior == "gaussian":
            return temperature * self.prior_sample(n_samples, generator=generator)
        device = self.prior_means.device
        if labels is None:
            components = torch.randint(config.prior_components, (n_samples,), generator=generator)
        elif labels.is_floating_point():
            components = labels.argmax(1)
        else:
            components = labels.long().reshape(-1)
        draw = self.prior_sample(n_samples, labels=components, generator=generator)
        centre = self.prior_means[components.to(device)]
        return centre + temperature * (draw - centre)


@register_model("aae")
class AdversarialAutoencoder(AbstractAdversarialAutoencoder[AdversarialAutoencoderConfig]):
    """Adversarial autoencoder (Makhzani et al. 2016): codes shaped into a Gaussian or a mixture prior.

    ``AdversarialAutoencoder(AdversarialAutoencoderConfig(input_shape=(1, 28, 28), prior="mixture"))``.
    """

    config_class = AdversarialAutoencoderConfig

    def __init__(self, config: AdversarialAutoencoderConfig) -> None:
        super().__init__(config, n_classes=0)


@register_model("caae")
class ConditionalAdversarialAutoencoder(
    AbstractAdversarialAutoencoder[ConditionalAdversarialAutoencoderConfig]
):
    """Conditional adversarial autoencoder: the label is given to encoder, decoder and discriminator.

    The one-hot label is joined to the encoder's input and to the decoder's code, as in the conditional
    VAE, and ``D`` judges ``(code, label)`` pairs against ``(prior sample, label)`` pairs (Makhzani et al.
    2016, §2.3 shows the label to ``D``; §5 gives it to the decoder). So ``D`` pushes the codes of every
    class to the prior ``p(z | label)``: with the ``gaussian`` prior the codes become independent of the
    label and carry only the style (the decoder gets the class from the label); with the ``mixture``
    prior, class ``k``'s codes fill component ``k`` (a label-dependent prior).

    Batches must carry labels ``y`` of shape ``(B,)`` with values in ``[0, n_classes)``.
    """

    config_class = ConditionalAdversarialAutoencoderConfig
    label_role: ClassVar[LabelRole | None] = "classes"
    conditional: ClassVar[bool] = True

    @classmethod
    def config_from_labels(cls, n_labels: int) -> dict[str, Any]:
        """``n_classes`` from the data (and as many mixture components when the prior is a mixture)."""
        return {"n_classes": n_labels}

    def __init__(self, config: ConditionalAdversarialAutoencoderConfig) -> None:
        super().__init__(config, n_classes=config.n_classes)

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """Return ``(x, x, labels)``.

        Raises:
            DataError: The batch has no labels or they are out of range.
        """
        inputs, labels = batch
        labels = check_labels(labels, self.n_classes, len(inputs), name="class labels", model="caae")
        return inputs, inputs, labels
