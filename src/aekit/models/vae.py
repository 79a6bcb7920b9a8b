"""Variational autoencoders: the VAE (β-VAE by config) and the conditional VAE.

Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014; β-VAE: Higgins et al., "β-VAE: learning
basic visual concepts with a constrained variational framework", ICLR 2017; conditional VAE: Sohn, Lee
& Yan, "Learning structured output representation using deep conditional generative models", NeurIPS
2015; importance-weighted bound: Burda, Grosse & Salakhutdinov, "Importance weighted autoencoders",
ICLR 2016.

The encoder outputs a diagonal Gaussian posterior ``q(z | x) = N(μ, diag σ²)``, the prior is
``p(z) = N(0, I)`` and the decoder a Bernoulli (logits) or Gaussian (mean, one shared scale)
likelihood ``p(x | z)``. Training minimises the negative ELBO per sample,
``−log p(x | z) + β · KL(q(z | x) ‖ p(z))`` with one reparameterised ``z = μ + σ ⊙ ε``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar, Literal, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aekit.config import check_choice, check_positive
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.losses.functional import (
    bernoulli_log_likelihood,
    diagonal_gaussian_log_density,
    gaussian_kl,
    gaussian_log_likelihood,
    log_mean_exp,
    standard_normal_log_density,
)
from aekit.models._backbone import ArchitectureConfig
from aekit.models.ae import check_code
from aekit.models.base import (
    AbstractGenerativeAutoencoder,
    AEOutput,
    Batch,
    ErrorKind,
    LabelRole,
    LossTerms,
    PreparedBatch,
    check_count,
    check_temperature,
)
from aekit.models.registry import register_model
from aekit.nn.backbone import build_encoder, decoder_parts, encoder_input
from aekit.nn.heads import GaussianHead

__all__ = [
    "CVAE",
    "VAE",
    "AbstractVariationalAutoencoder",
    "CVAEConfig",
    "GaussianHead",
    "VAEConfig",
    "VAEOutput",
    "VariationalConfig",
]

Likelihood = Literal["bernoulli", "gaussian"]

_MIN_LOG_STD = math.log(1e-3)


@dataclasses.dataclass(frozen=True)
class VariationalConfig(ArchitectureConfig):
    """Fields shared by :class:`VAEConfig` and :class:`CVAEConfig`.

    The encoder/decoder fields (``latent_dim``, ``architecture``, ``hidden_dims``, ``channels``,
    ``kernel_size``, ``activation``, ``batch_norm``, ``dense_dims``) are those of
    :class:`~aekit.models._backbone.ArchitectureConfig`: ``conv`` keeps the stages the image fits and
    chooses its bottleneck by the squeeze, as the conv autoencoder does.

    Attributes:
        latent_dim: Size of the code ``z``.
        hidden_dims: Widths of the MLP encoder's hidden layers (the decoder mirrors them); ``mlp`` only.
        beta: Weight β of the KL term; 1 is the VAE, > 1 the β-VAE (more disentangled, blurrier).
        likelihood: ``bernoulli`` for data in [0, 1] (binary or grey levels; the decoder outputs logits)
            or ``gaussian`` (the decoder outputs means; the scale is ``observation_std``).
        observation_std: Standard deviation σ of the Gaussian likelihood; None learns one shared σ.
    """

    latent_dim: int = 16
    hidden_dims: tuple[int, ...] = (512, 256)
    beta: float = 1.0
    likelihood: Likelihood = "bernoulli"
    observation_std: float | None = None

    def validate(self) -> None:
        super().validate()
        check_positive("beta", self.beta, allow_zero=True)
        check_choice("likelihood", self.likelihood, ("bernoulli", "gaussian"))
        if self.observation_std is not None:
            check_positive("observation_std", self.observation_std)


@dataclasses.dataclass(frozen=True)
class VAEConfig(VariationalConfig):
    """Config of :class:`VAE` (all fields in :class:`VariationalConfig`); β-VAE is ``beta > 1``."""


@dataclasses.dataclass(frozen=True)
class CVAEConfig(VariationalConfig):
    """Config of :class:`CVAE`.

    Attributes:
        n_classes: Number of classes; labels are ``0 .. n_classes − 1``.
    """

    n_classes: int = 10

    def validate(self) -> None:
        super().validate()
        if isinstance(self.n_classes, bool) or not isinstance(self.n_classes, int) or self.n_classes < 2:
            raise ConfigError(f"n_classes must be an integer ≥ 2; got {self.n_classes!r}")


VariationalConfigT = TypeVar("VariationalConfigT", bound=VariationalConfig)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VAEOutput(AEOutput):
    """What a variational autoencoder's ``forward`` returns.

    Attributes:
        x_hat: Mean of ``p(x | z)``, shape of the input.
        z: The code decoded: a posterior sample in training mode, the posterior mean ``μ`` in eval mode.
        mu, logvar: Posterior parameters ``(B, latent_dim)``.
        decoder_output: What the likelihood is computed from: logits (Bernoulli) or means (Gaussian).
    """

    mu: Tensor
    logvar: Tensor
    decoder_output: Tensor


class AbstractVariationalAutoencoder(AbstractGenerativeAutoencoder[VariationalConfigT]):
    """Shared body of :class:`VAE` and :class:`CVAE`: encoder, Gaussian head, decoder, likelihood, bounds.

    Subclasses say how a ``condition`` becomes a float vector ``(B, condition_dim)`` (the VAE has none).
    """

    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon", "kl")
    has_likelihood: ClassVar[bool] = True

    def __init__(self, config: VariationalConfigT, condition_dim: int) -> None:
        super().__init__(config)
        self._condition_dim = condition_dim
        spec = config.backbone()
        # The condition joins the encoder's input (as constant channels for conv) and the code.
        self.encoder = build_encoder(spec, extra_inputs=condition_dim)
        self.head = GaussianHead(spec.feature_width(condition_dim), config.latent_dim)
        from_code, body = decoder_parts(spec, extra_inputs=condition_dim)
        if config.architecture == "conv":
            self._map_shape = spec.feature_map_shape
            self.from_latent = from_code
            self.decoder: nn.Module = body
        else:
            self.decoder = from_code  # outputs (B, n); reshaped in _decoder_output
        if config.likelihood == "gaussian" and config.observation_std is None:
            self.log_observation_std = nn.Parameter(torch.zeros(()))

    # -- the condition ---------------------------------------------------------------------------
    def _condition_vector(self, condition: Tensor | None, batch_size: int) -> Tensor | None:
        """The condition as floats ``(B, condition_dim)``, or None for unconditional models."""
        return None

    # -- parts -------------------------------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def _posterior(self, x: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        features = self.encoder(encoder_input(x, condition, self.config.architecture))
        return self.head(features)

    def _decoder_output(self, z: Tensor, condition: Tensor | None) -> Tensor:
        if condition is not None:
            z = torch.cat([z, condition.to(z.dtype)], dim=1)
        if self.config.architecture == "conv":
            maps = self.from_latent(z).reshape(-1, *self._map_shape)
            return self.decoder(maps)
        return self.decoder(z).reshape(-1, *self.input_shape)

    def _mean(self, decoder_output: Tensor) -> Tensor:
        """Mean of ``p(x | z)``: ``sigmoid(logits)`` (Bernoulli) or the decoded mean (Gaussian)."""
        if self.config.likelihood == "bernoulli":
            return torch.sigmoid(decoder_output)
        return decoder_output

    def _log_std(self) -> Tensor:
        config = self.config
        if config.observation_std is not None:
            return torch.tensor(math.log(config.observation_std), device=self._device())
        return self.log_observation_std.clamp(min=_MIN_LOG_STD)

    def log_likelihood(self, decoder_output: Tensor, target: Tensor) -> Tensor:
        """``log p(x | z)`` of each sample, summed over its elements, shape ``(B,)``.

        Bernoulli: ``Σ_i [x_i log p_i + (1 − x_i) log(1 − p_i)]``, ``p = sigmoid(logits)``;
        Gaussian: ``−Σ_i [½ ((x_i − x̂_i) / σ)² + log σ + ½ log 2π]``.
        """
        if self.config.likelihood == "bernoulli":
            return bernoulli_log_likelihood(decoder_output, target)
        return gaussian_log_likelihood(decoder_output, self._log_std(), target)

    def _standard_normal(self, shape: tuple[int, ...], generator: torch.Generator | None) -> Tensor:
        device = self._device()
        if generator is None:
            return torch.randn(shape, device=device)
        return torch.randn(shape, generator=generator, device=generator.device).to(device)

    # -- the interface ---------------------------------------------------------------------------
    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """The posterior mean ``μ`` ``(B, latent_dim)`` of inputs ``(B, *input_shape)``."""
        self.check_input(x)
        mu, _logvar = self._posterior(x, self._condition_vector(condition, x.shape[0]))
        return mu

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """The mean of ``p(x | z)`` ``(B, *input_shape)`` for codes ``(B, latent_dim)``."""
        check_code(z, self.latent_dim)
        return self._mean(self._decoder_output(z, self._condition_vector(condition, z.shape[0])))

    def forward(self, x: Tensor, condition: Tensor | None = None) -> VAEOutput:
        """Encode, reparameterise and decode ``x`` ``(B, *input_shape)``.

        In training mode ``z = μ + σ ⊙ ε`` with ``ε ~ N(0, I)`` from the global RNG (the trainer seeds
        it); in eval mode ``z = μ``, so evaluation is deterministic (the reported ``recon`` is then the
        reconstruction term at the posterior mean; use :meth:`elbo` or :meth:`iwae_nll` for bounds).
        """
        self.check_input(x)
        condition_vector = self._condition_vector(condition, x.shape[0])
        mu, logvar = self._posterior(x, condition_vector)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if self.training else mu
        decoder_output = self._decoder_output(z, condition_vector)
        return VAEOutput(
            x_hat=self._mean(decoder_output), z=z, mu=mu, logvar=logvar, decoder_output=decoder_output
        )

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``loss = recon + β · kl``: the negative ELBO (β = 1), averaged over the batch.

        ``recon = −mean_b log p(x_b | z_b)`` (summed over pixels: a log-likelihood in nats) and
        ``kl = mean_b KL(N(μ_b, σ_b²) ‖ N(0, I)) = mean_b ½ Σ_j (μ² + σ² − log σ² − 1)``.
        """
        if not isinstance(output, VAEOutput):
            raise TypeError(
                f"output must be the VAEOutput of this model's forward; got {type(output).__name__}"
            )
        recon = -self.log_likelihood(output.decoder_output, target).mean()
        kl = gaussian_kl(output.mu, output.logvar)
        return {"loss": recon + self.config.beta * kl, "recon": recon, "kl": kl}

    def prior_codes(
        self,
        n_samples: int,
        *,
        temperature: float = 1.0,
        labels: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Codes ``T · ε``, ``ε ~ N(0, I)``, ``(n_samples, latent_dim)`` (the prior ignores labels)."""
        check_count("n_samples", n_samples)
        return check_temperature(temperature) * self._standard_normal((n_samples, self.latent_dim), generator)

    def negative_log_likelihood(
        self, x: Tensor, condition: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """``−ELBO`` of each sample ``(B,)`` in nats, an upper bound on ``−log p(x)`` (one draw of ``z``)."""
        return -self.elbo(x, condition, generator=generator)

    @property
    def error_kind(self) -> ErrorKind:
        """``bce`` for the Bernoulli likelihood, ``mse`` for the Gaussian one."""
        return "bce" if self.config.likelihood == "bernoulli" else "mse"

    def elbo(
        self,
        x: Tensor,
        condition: Tensor | None = None,
        *,
        n_samples: int = 1,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Evidence lower bound of each sample, ``(B,)`` in nats (β is not applied).

        ``ELBO(x) = E_{q(z|x)}[log p(x | z)] − KL(q(z | x) ‖ p(z)) ≤ log p(x)``; the expectation is the
        mean over ``n_samples`` reparameterised draws, the KL is exact. Call it in eval mode when the
        model has batch norm (training-mode statistics would couple the samples).

        Args:
            x: Inputs ``(B, *input_shape)``.
            condition: The condition of conditional models.
            n_samples: Draws of ``z`` per input for the expectation.
            generator: Source of the draws (the global RNG when None).
        """
        self.check_input(x)
        _check_count("n_samples", n_samples)
        condition_vector = self._condition_vector(condition, x.shape[0])
        mu, logvar = self._posterior(x, condition_vector)
        std = torch.exp(0.5 * logvar)
        log_likelihood = x.new_zeros(len(x))
        for _ in range(n_samples):
            z = mu + std * self._standard_normal(tuple(mu.shape), generator)
            log_likelihood = log_likelihood + self.log_likelihood(
                self._decoder_output(z, condition_vector), x
            )
        return log_likelihood / n_samples - gaussian_kl(mu, logvar, reduction="none")

    @torch.no_grad()
    def iwae_nll(
        self,
        x: Tensor,
        condition: Tensor | None = None,
        *,
        k: int = 1000,
        batch_size: int = 100,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Importance-weighted estimate of ``−log p(x)`` of each sample, ``(B,)`` in nats.

        ``−log p(x) ≈ −log (1/K Σ_k p(x | z_k) p(z_k) / q(z_k | x))`` with ``z_k ~ q(z | x)``: the
        negative IWAE bound, which is ≥ ``−log p(x)`` in expectation, ≤ ``−ELBO`` and tightens as K grows.
        Computed with ``log-mean-exp`` (stable) and without gradients; call it in eval mode.

        Args:
            x: Inputs ``(B, *input_shape)``.
            condition: The condition of conditional models.
            k: Importance samples ``K`` per input.
            batch_size: Importance samples decoded at once per input (memory grows with ``B · batch_size``).
            generator: Source of the draws (the global RNG when None).
        """
        self.check_input(x)
        _check_count("k", k)
        _check_count("batch_size", batch_size)
        condition_vector = self._condition_vector(condition, x.shape[0])
        mu, logvar = self._posterior(x, condition_vector)
        std = torch.exp(0.5 * logvar)
        log_weights = []
        for start in range(0, k, batch_size):
            chunk = min(batch_size, k - start)
            z = mu + std * self._standard_normal((chunk, *mu.shape), generator)  # (chunk, B, latent_dim)
            flat_z = z.reshape(chunk * len(x), -1)
            repeated = None if condition_vector is None else condition_vector.repeat(chunk, 1)
            targets = x.unsqueeze(0).expand(chunk, *x.shape).reshape(chunk * len(x), *x.shape[1:])
            log_likelihood = self.log_likelihood(self._decoder_output(flat_z, repeated), targets)
            log_prior = standard_normal_log_density(z)
            log_posterior = diagonal_gaussian_log_density(z, mu, logvar)
            log_weights.append(log_likelihood.reshape(chunk, len(x)) + log_prior - log_posterior)
        return -log_mean_exp(torch.cat(log_weights, dim=0), dim=0)


@register_model("vae")
class VAE(AbstractVariationalAutoencoder[VAEConfig]):
    """Variational autoencoder (Kingma & Welling 2014); β-VAE (Higgins et al. 2017) when ``beta != 1``.

    Example:
        >>> model = VAE(VAEConfig(input_shape=(1, 28, 28), latent_dim=20, beta=4.0))
    """

    config_class = VAEConfig

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config, condition_dim=0)


@register_model("cvae")
class CVAE(AbstractVariationalAutoencoder[CVAEConfig]):
    """Conditional VAE (Sohn et al. 2015): ``q(z | x, y)`` and ``p(x | z, y)`` for a class label ``y``.

    The label's one-hot vector is joined to the encoder input (as constant channels for ``conv``) and to
    the code before decoding; the prior stays ``N(0, I)``. The condition is integer labels ``(B,)`` or
    one-hot (or soft) vectors ``(B, n_classes)``.
    """

    config_class = CVAEConfig
    label_role: ClassVar[LabelRole | None] = "classes"
    conditional: ClassVar[bool] = True

    def __init__(self, config: CVAEConfig) -> None:
        super().__init__(config, condition_dim=config.n_classes)

    @classmethod
    def config_from_labels(cls, n_labels: int) -> dict[str, Any]:
        """``n_classes`` from the data."""
        return {"n_classes": max(n_labels, 2)}

    @property
    def n_classes(self) -> int:
        """Number of classes of the condition."""
        return self.config.n_classes

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """Return ``(inputs, inputs, labels)``: the labels are the condition.

        Raises:
            DataError: The batch has no labels.
        """
        inputs, labels = batch
        if labels is None:
            raise DataError(
                f"cvae needs class labels 0..{self.n_classes - 1} with every batch; the batch has none "
                "(pass TensorData(x, y) or fit(..., y=labels))"
            )
        return inputs, inputs, labels

    def _condition_vector(self, condition: Tensor | None, batch_size: int) -> Tensor:
        if condition is None:
            raise DataError(
                f"cvae needs a condition: class labels (B,) in 0..{self.n_classes - 1} "
                f"or one-hot vectors (B, {self.n_classes}); got None"
            )
        if not isinstance(condition, Tensor):
            raise TypeError(f"condition must be a torch.Tensor; got {type(condition).__name__}")
        if condition.dim() == 1 and not condition.is_floating_point():
            if len(condition) != batch_size:
                raise ShapeError(f"condition must have shape ({batch_size},); got {tuple(condition.shape)}")
            if len(condition) and (condition.min() < 0 or condition.max() >= self.n_classes):
                raise DataError(
                    f"labels must be in 0..{self.n_classes - 1}; got values from {int(condition.min())} "
                    f"to {int(condition.max())}"
                )
            return F.one_hot(condition.long(), self.n_classes).float()
        if condition.is_floating_point() and tuple(condition.shape) == (batch_size, self.n_classes):
            if not torch.isfinite(condition).all():
                raise DataError("condition contains NaN or infinite values")
            return condition
        raise ShapeError(
            f"condition must be integer labels ({batch_size},) or floats ({batch_size}, {self.n_classes}); "
            f"got shape {tuple(condition.shape)}, dtype {condition.dtype}"
        )


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer; got {value!r}")
