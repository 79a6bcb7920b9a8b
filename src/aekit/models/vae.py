"""Variational autoencoders: the VAE (β-VAE by config) and the conditional VAE.

Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014; β-VAE: Higgins et al., "β-VAE: learning
basic visual concepts with a constrained variational framework", ICLR 2017; conditional VAE: Sohn, Lee
& Yan, "Learning structured output representation using deep conditional generative models", NeurIPS
2015; importance-weighted bound: Burda, Grosse & Salakhutdinov, "Importance weighted autoencoders",
ICLR 2016; PIWAE: Rainforth et al., "Tighter variational bounds are not necessarily better", ICML 2018;
VampPrior: Tomczak & Welling, "VAE with a VampPrior", AISTATS 2018.

The encoder outputs a diagonal Gaussian posterior ``q(z | x) = N(μ, diag σ²)``, the prior ``p(z)`` is
``N(0, I)`` (``prior="standard"``), a VampPrior or a learned Gaussian mixture (:mod:`aekit.nn.priors`),
and the decoder a Bernoulli (logits) or Gaussian (mean, one shared scale) likelihood ``p(x | z)``. By
default training minimises the negative ELBO per sample, ``−log p(x | z) + β · KL(q(z | x) ‖ p(z))``
with one reparameterised ``z = μ + σ ⊙ ε``; ``objective="iwae"`` or ``"piwae"`` with
``importance_samples = K`` minimises the negative importance-weighted bound of ``K`` draws instead
(:mod:`aekit.losses.bounds`).
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
from aekit.losses.bounds import OBJECTIVES, Objective, elbo_bound, iwae_bound, piwae_surrogate
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
from aekit.nn.priors import (
    PRIORS,
    GaussianMixturePrior,
    MixtureComponents,
    PriorKind,
    PseudoInputs,
    equal_weight_components,
    mixture_log_density,
    sample_mixture,
    standard_components,
)

__all__ = [
    "CVAE",
    "VAE",
    "AbstractVariationalAutoencoder",
    "CVAEConfig",
    "GaussianHead",
    "VAEConfig",
    "VAEOutput",
    "VariationalConfig",
    "check_variational_fields",
    "check_warmup_weight",
    "gaussian_log_std",
    "observation_log_likelihood",
    "observation_mean",
    "standard_normal_draws",
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
        objective: The training bound: ``elbo`` (the ELBO, averaged over ``importance_samples`` draws),
            ``iwae`` (the importance-weighted bound ``IWAE_K``; Burda et al. 2016) or ``piwae`` (decoder
            and prior climb ``IWAE_K``, the encoder the ELBO of the same draws; Rainforth et al. 2018).
            The training ``loss`` is the negative bound in nats either way, so runs compare.
        importance_samples: Draws ``K`` of ``z`` per input in training; the decoder runs on ``K · B`` codes,
            so a step costs about ``K`` times the decoder's share (PIWAE decodes them twice).
        prior: ``standard`` (``N(0, I)``), ``vamp`` (the VampPrior: the encoder's posteriors of
            ``prior_components`` learned pseudo-inputs, equally weighted; not for the conditional VAE) or
            ``mixture`` (a learned mixture of ``prior_components`` diagonal Gaussians). Sampling,
            :meth:`~AbstractVariationalAutoencoder.elbo` and
            :meth:`~AbstractVariationalAutoencoder.iwae_nll` use it.
        prior_components: Components of the ``vamp`` or ``mixture`` prior (pseudo-inputs for ``vamp``;
            each training step encodes all of them, so keep it near the batch size on a CPU).
    """

    latent_dim: int = 16
    hidden_dims: tuple[int, ...] = (512, 256)
    beta: float = 1.0
    likelihood: Likelihood = "bernoulli"
    observation_std: float | None = None
    objective: Objective = "elbo"
    importance_samples: int = 1
    prior: PriorKind = "standard"
    prior_components: int = 50

    def validate(self) -> None:
        super().validate()
        check_variational_fields(self, OBJECTIVES)


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
        if self.prior == "vamp":
            raise ConfigError(
                "prior='vamp' needs an encoder without a condition; the cvae takes 'standard' or 'mixture'"
            )


VariationalConfigT = TypeVar("VariationalConfigT", bound=VariationalConfig)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VAEOutput(AEOutput):
    """What a variational autoencoder's ``forward`` returns.

    Attributes:
        x_hat: Mean of ``p(x | z)``, shape of the input.
        z: The code decoded: a posterior sample in training mode, the posterior mean ``μ`` in eval mode.
        mu, logvar: Posterior parameters ``(B, latent_dim)``.
        decoder_output: What the likelihood is computed from: logits (Bernoulli) or means (Gaussian).
        samples: Training mode only: the ``K`` draws ``(K, B, latent_dim)`` (``z`` is the first).
        sample_outputs: Training mode only: the decoder outputs of all draws ``(K · B, *input_shape)``,
            draw-major (PIWAE: decoded from the draws with their gradient stopped).
        frozen_outputs: PIWAE in training mode only: the draws decoded with the decoder's parameters
            detached, so the encoder's bound reaches the encoder alone.
    """

    mu: Tensor
    logvar: Tensor
    decoder_output: Tensor
    samples: Tensor | None = None
    sample_outputs: Tensor | None = None
    frozen_outputs: Tensor | None = None


class AbstractVariationalAutoencoder(AbstractGenerativeAutoencoder[VariationalConfigT]):
    """Shared body of :class:`VAE` and :class:`CVAE`: encoder, Gaussian head, decoder, likelihood, bounds.

    Subclasses say how a ``condition`` becomes a float vector ``(B, condition_dim)`` (the VAE has none).
    """

    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon", "kl")
    has_likelihood: ClassVar[bool] = True
    warms_up: ClassVar[bool] = True

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
        if config.prior == "mixture":
            self.mixture_prior = GaussianMixturePrior(config.latent_dim, config.prior_components)
        elif config.prior == "vamp":
            self.pseudo_inputs = PseudoInputs(config.input_shape, config.prior_components)
        self._warmup = 1.0

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

    def _decoder_output(self, z: Tensor, condition: Tensor | None, *, frozen: bool = False) -> Tensor:
        """Logits or means ``(B, *input_shape)``; ``frozen`` detaches the decoder's parameters."""
        if condition is not None:
            z = torch.cat([z, condition.to(z.dtype)], dim=1)
        if self.config.architecture == "conv":
            maps = _run(self.from_latent, z, frozen).reshape(-1, *self._map_shape)
            return _run(self.decoder, maps, frozen)
        return _run(self.decoder, z, frozen).reshape(-1, *self.input_shape)

    def _mean(self, decoder_output: Tensor) -> Tensor:
        return observation_mean(self.config.likelihood, decoder_output)

    def _log_std(self) -> Tensor:
        learned = getattr(self, "log_observation_std", None)
        return gaussian_log_std(self.config.observation_std, learned, self._device())

    def log_likelihood(self, decoder_output: Tensor, target: Tensor, *, frozen: bool = False) -> Tensor:
        """``log p(x | z)`` of each sample, summed over its elements, shape ``(B,)``.

        Bernoulli: ``Σ_i [x_i log p_i + (1 − x_i) log(1 − p_i)]``, ``p = sigmoid(logits)``;
        Gaussian: ``−Σ_i [½ ((x_i − x̂_i) / σ)² + log σ + ½ log 2π]`` (``frozen`` detaches a learned σ).
        """
        if self.config.likelihood == "bernoulli":
            return observation_log_likelihood("bernoulli", decoder_output, target)
        log_std = self._log_std()
        return observation_log_likelihood(
            "gaussian", decoder_output, target, log_std.detach() if frozen else log_std
        )

    # -- the prior -------------------------------------------------------------------------------
    def prior_mixture(self) -> MixtureComponents:
        """The prior ``p(z)`` as a mixture of diagonal Gaussians.

        ``standard``: one component ``N(0, I)``; ``mixture``: the learned components; ``vamp``: the
        encoder's posteriors ``q(z | u_k)`` of the pseudo-inputs, each with weight ``1/K`` (computed by
        the encoder in its current mode, with gradients).
        """
        config = self.config
        if config.prior == "mixture":
            return self.mixture_prior.components()
        if config.prior == "vamp":
            return equal_weight_components(*self._posterior(self.pseudo_inputs(), None))
        return standard_components(self.latent_dim, self._device())

    def log_prior(self, z: Tensor, components: MixtureComponents | None = None) -> Tensor:
        """``log p(z)`` of codes ``(..., latent_dim)``, shape ``(...)`` (``components``: a reused
        :meth:`prior_mixture`)."""
        if self.config.prior == "standard":
            return standard_normal_log_density(z)
        return mixture_log_density(z, components if components is not None else self.prior_mixture())

    def _kl(self, mu: Tensor, logvar: Tensor) -> Tensor:
        """``mean_b KL(q(z | x_b) ‖ p(z))``: exact for ``N(0, I)``; else the mean of ``log q − log p``
        over 8 draws per sample from a generator seeded with 0 (repeatable, so evaluation stays
        deterministic; an estimate, which can fall slightly below 0 when the KL is near 0)."""
        if self.config.prior == "standard":
            return gaussian_kl(mu, logvar)
        generator = torch.Generator(device=mu.device).manual_seed(0)
        noise = torch.randn((8, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * noise
        return (diagonal_gaussian_log_density(z, mu, logvar) - self.log_prior(z)).mean()

    def set_warmup(self, weight: float) -> None:
        """Scale the KL part of training-mode losses by ``weight`` in ``[0, 1]`` (a KL warm-up; Bowman et
        al. 2016, Sønderby et al. 2016): ``log w = log p(x | z) + weight · β · (log p(z) − log q(z | x))``.
        Evaluation-mode losses and the bounds always use the full β."""
        self._warmup = check_warmup_weight(weight)

    def _standard_normal(self, shape: tuple[int, ...], generator: torch.Generator | None) -> Tensor:
        return standard_normal_draws(shape, self._device(), generator)

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

        In training mode ``K = importance_samples`` draws ``z_k = μ + σ ⊙ ε_k`` with ``ε_k ~ N(0, I)``
        from the global RNG (the trainer seeds it) are decoded; ``z`` and ``x_hat`` are the first draw's.
        In eval mode ``z = μ``, so evaluation is deterministic (the reported ``recon`` is then the
        reconstruction term at the posterior mean; use :meth:`elbo` or :meth:`iwae_nll` for bounds).
        """
        self.check_input(x)
        condition_vector = self._condition_vector(condition, x.shape[0])
        mu, logvar = self._posterior(x, condition_vector)
        if not self.training:
            decoder_output = self._decoder_output(mu, condition_vector)
            return VAEOutput(
                x_hat=self._mean(decoder_output), z=mu, mu=mu, logvar=logvar, decoder_output=decoder_output
            )
        config = self.config
        count = config.importance_samples
        noise = torch.randn((count, *mu.shape), device=mu.device, dtype=mu.dtype)
        samples = mu + torch.exp(0.5 * logvar) * noise
        flat = samples.reshape(count * len(x), -1)
        repeated = None if condition_vector is None else condition_vector.repeat(count, 1)
        frozen_outputs = None
        if config.objective == "piwae":
            outputs = self._decoder_output(flat.detach(), repeated)
            frozen_outputs = self._decoder_output(flat, repeated, frozen=True)
        else:
            outputs = self._decoder_output(flat, repeated)
        decoder_output = outputs[: len(x)]
        return VAEOutput(
            x_hat=self._mean(decoder_output),
            z=samples[0],
            mu=mu,
            logvar=logvar,
            decoder_output=decoder_output,
            samples=samples,
            sample_outputs=outputs,
            frozen_outputs=frozen_outputs,
        )

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``loss``: the negative training bound in nats, averaged over the batch (β = 1: ``−ELBO``).

        ``recon = −mean log p(x | z)`` over the draws (summed over pixels: a log-likelihood in nats) and
        ``kl = mean_b KL(q(z | x_b) ‖ p(z))``: exact for ``N(0, I)``
        (``½ Σ_j (μ² + σ² − log σ² − 1)``), else the mean of ``log q(z | x) − log p(z)`` over the draws.
        With the ``elbo`` objective ``loss = recon + β · kl``; with ``iwae``/``piwae`` ``loss`` is
        ``−mean_b IWAE_K(x_b)`` with log-weights ``log p(x | z_k) + β (log p(z_k) − log q(z_k | x))``,
        at most ``recon + β · kl``. In training mode a warm-up (:meth:`set_warmup`) scales β.
        """
        if not isinstance(output, VAEOutput):
            raise TypeError(
                f"output must be the VAEOutput of this model's forward; got {type(output).__name__}"
            )
        config = self.config
        if output.samples is None or output.sample_outputs is None:  # eval mode: z = μ
            recon = -self.log_likelihood(output.decoder_output, target).mean()
            kl = self._kl(output.mu, output.logvar)
            return {"loss": recon + config.beta * kl, "recon": recon, "kl": kl}
        weight = config.beta * self._warmup
        samples, mu, logvar = output.samples, output.mu, output.logvar
        count, batch = samples.shape[:2]
        targets = target.unsqueeze(0).expand(count, *target.shape).reshape(count * batch, *target.shape[1:])
        log_likelihood = self.log_likelihood(output.sample_outputs, targets).reshape(count, batch)
        recon = -log_likelihood.mean()
        if config.prior == "standard" and config.objective == "elbo":
            kl = gaussian_kl(mu, logvar)
            return {"loss": recon + weight * kl, "recon": recon, "kl": kl}
        components = self.prior_mixture()
        if config.objective == "piwae" and output.frozen_outputs is not None:
            fixed = samples.detach()
            log_ratio = self.log_prior(fixed, components) - diagonal_gaussian_log_density(
                fixed, mu.detach(), logvar.detach()
            )
            encoder_ratio = self.log_prior(samples, components.detach()) - diagonal_gaussian_log_density(
                samples, mu, logvar
            )
            frozen = self.log_likelihood(output.frozen_outputs, targets, frozen=True).reshape(count, batch)
            bound = piwae_surrogate(log_likelihood + weight * log_ratio, frozen + weight * encoder_ratio)
        else:
            log_posterior = diagonal_gaussian_log_density(samples, mu, logvar)
            log_ratio = self.log_prior(samples, components) - log_posterior
            log_weights = log_likelihood + weight * log_ratio
            bound = iwae_bound(log_weights) if config.objective == "iwae" else elbo_bound(log_weights)
        kl = gaussian_kl(mu, logvar) if config.prior == "standard" else -log_ratio.mean()
        return {"loss": -bound.mean(), "recon": recon, "kl": kl}

    def prior_codes(
        self,
        n_samples: int,
        *,
        temperature: float = 1.0,
        labels: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Prior codes ``(n_samples, latent_dim)`` (the prior ignores labels).

        ``standard``: ``T · ε``, ``ε ~ N(0, I)``; ``vamp``/``mixture``: a component ``k`` by its weight,
        then ``m_k + T · s_k ⊙ ε`` (:func:`aekit.nn.priors.sample_mixture`).
        """
        check_count("n_samples", n_samples)
        temperature = check_temperature(temperature)
        if self.config.prior == "standard":
            return temperature * self._standard_normal((n_samples, self.latent_dim), generator)
        with torch.no_grad():
            components = self.prior_mixture()
            return sample_mixture(components, n_samples, temperature=temperature, generator=generator)

    def negative_log_likelihood(
        self, x: Tensor, condition: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """An upper bound on ``−log p(x)`` of each sample ``(B,)`` in nats, under the model's prior.

        The bound the model trains on: ``−ELBO`` from one draw of ``z`` for the ``elbo`` objective, the
        negative IWAE bound of ``importance_samples`` draws for ``iwae`` and ``piwae`` (tighter). For a
        close estimate of ``−log p(x)`` use :meth:`iwae_nll` with a large ``k``.
        """
        if self.config.objective == "elbo" or self.config.importance_samples == 1:
            return -self.elbo(x, condition, generator=generator)
        return self.iwae_nll(x, condition, k=self.config.importance_samples, generator=generator)

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
        mean over ``n_samples`` reparameterised draws, the KL is exact for ``N(0, I)`` and estimated from
        the same draws (``log q(z | x) − log p(z)``) for the other priors. Call it in eval mode when the
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
        components = None if self.config.prior == "standard" else self.prior_mixture()
        total = x.new_zeros(len(x))
        for _ in range(n_samples):
            z = mu + std * self._standard_normal(tuple(mu.shape), generator)
            total = total + self.log_likelihood(self._decoder_output(z, condition_vector), x)
            if components is not None:
                total = total + self.log_prior(z, components) - diagonal_gaussian_log_density(z, mu, logvar)
        if components is not None:
            return total / n_samples
        return total / n_samples - gaussian_kl(mu, logvar, reduction="none")

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
        components = None if self.config.prior == "standard" else self.prior_mixture()
        log_weights = []
        for start in range(0, k, batch_size):
            chunk = min(batch_size, k - start)
            z = mu + std * self._standard_normal((chunk, *mu.shape), generator)  # (chunk, B, latent_dim)
            flat_z = z.reshape(chunk * len(x), -1)
            repeated = None if condition_vector is None else condition_vector.repeat(chunk, 1)
            targets = x.unsqueeze(0).expand(chunk, *x.shape).reshape(chunk * len(x), *x.shape[1:])
            log_likelihood = self.log_likelihood(self._decoder_output(flat_z, repeated), targets)
            log_prior = self.log_prior(z, components)
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


def observation_mean(likelihood: Likelihood, decoder_output: Tensor) -> Tensor:
    """Mean of ``p(x | z)``: ``sigmoid(logits)`` (Bernoulli) or the decoded mean (Gaussian)."""
    return torch.sigmoid(decoder_output) if likelihood == "bernoulli" else decoder_output


def observation_log_likelihood(
    likelihood: Likelihood, decoder_output: Tensor, target: Tensor, log_std: Tensor | None = None
) -> Tensor:
    """``log p(x | z)`` per sample ``(B,)``: Bernoulli from logits, or Gaussian of scale ``exp(log_std)``."""
    if likelihood == "bernoulli":
        return bernoulli_log_likelihood(decoder_output, target)
    if log_std is None:
        raise ValueError("the Gaussian likelihood needs log_std")
    return gaussian_log_likelihood(decoder_output, log_std, target)


def gaussian_log_std(observation_std: float | None, learned: Tensor | None, device: torch.device) -> Tensor:
    """``log σ`` of the Gaussian likelihood: the configured ``observation_std`` (on ``device``), else the
    ``learned`` parameter (bounded below by ``log 10⁻³``)."""
    if observation_std is not None:
        return torch.tensor(math.log(observation_std), device=device)
    if learned is None:
        raise ValueError("a learned σ needs its parameter")
    return learned.clamp(min=_MIN_LOG_STD)


def standard_normal_draws(
    shape: tuple[int, ...], device: torch.device, generator: torch.Generator | None
) -> Tensor:
    """``N(0, 1)`` draws of ``shape`` on ``device``, from ``generator`` (on its own device) when given,
    else from the global RNG."""
    if generator is None:
        return torch.randn(shape, device=device)
    return torch.randn(shape, generator=generator, device=generator.device).to(device)


def check_variational_fields(config: Any, objectives: tuple[str, ...]) -> None:
    """Check the likelihood, objective and prior fields that the VAE and the two-layer VAE configs share
    (``beta``, ``likelihood``, ``observation_std``, ``objective``, ``importance_samples``, ``prior``,
    ``prior_components``); ``objectives`` are the objectives the family trains on."""
    check_positive("beta", config.beta, allow_zero=True)
    check_choice("likelihood", config.likelihood, ("bernoulli", "gaussian"))
    if config.observation_std is not None:
        check_positive("observation_std", config.observation_std)
    check_choice("objective", config.objective, objectives)
    check_choice("prior", config.prior, PRIORS)
    _check_count("importance_samples", config.importance_samples)
    _check_count("prior_components", config.prior_components)


def check_warmup_weight(weight: object) -> float:
    """``weight`` as a float; :class:`ConfigError` unless it is a number in ``[0, 1]``."""
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
        raise ConfigError(f"the warm-up weight must be in [0, 1]; got {weight!r}")
    return float(weight)


def _run(module: nn.Module, x: Tensor, frozen: bool) -> Tensor:
    """``module(x)``; ``frozen`` detaches the module's parameters, so gradients reach ``x`` alone."""
    if not frozen:
        return module(x)
    parameters = {name: parameter.detach() for name, parameter in module.named_parameters()}
    return torch.func.functional_call(module, parameters, (x,))


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer; got {value!r}")
