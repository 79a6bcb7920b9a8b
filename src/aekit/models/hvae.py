"""A VAE with two stochastic layers: ``p(x | z₁, z₂) p(z₁ | z₂) p(z₂)``.

The hierarchical VAE of Burda et al. ("Importance weighted autoencoders", ICLR 2016, two stochastic
layers) in the form of Tomczak & Welling ("VAE with a VampPrior", AISTATS 2018, their "HVAE (L = 2)"):
the top code ``z₂`` has the prior ``p(z₂)`` (standard, VampPrior or a learned mixture, as in
:mod:`aekit.models.vae`), the bottom code ``z₁`` a Gaussian prior ``p(z₁ | z₂)`` predicted from ``z₂``,
and the decoder sees both. The posterior is ``q(z₂ | x) q(z₁ | x, z₂)``; both posteriors read the same
MLP features of ``x``. A second stochastic layer lets the model use its latent space better than one
Gaussian layer (Burda et al. report 85.33 nats against 86.76 for one layer on MNIST; Tomczak & Welling
83.19 with a VampPrior).

The code that :meth:`HierarchicalVAE.encode` returns and :meth:`HierarchicalVAE.decode` takes is both
layers' values joined, bottom first: ``[z₁, z₂]`` of size ``latent_dim``, of which the last
``top_latent_dim`` are ``z₂``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

from aekit.config import check_choice
from aekit.errors import ConfigError
from aekit.losses.bounds import elbo_bound, iwae_bound
from aekit.losses.functional import diagonal_gaussian_log_density, log_mean_exp, standard_normal_log_density
from aekit.models.ae import check_code
from aekit.models.base import (
    AbstractGenerativeAutoencoder,
    AEOutput,
    ErrorKind,
    LossTerms,
    ModelConfig,
    check_count,
    check_temperature,
)
from aekit.models.registry import register_model
from aekit.models.vae import (
    Likelihood,
    check_variational_fields,
    check_warmup_weight,
    gaussian_log_std,
    observation_log_likelihood,
    observation_mean,
    standard_normal_draws,
)
from aekit.nn.heads import GaussianHead
from aekit.nn.layers import ACTIVATIONS
from aekit.nn.mlp import mlp
from aekit.nn.priors import (
    GaussianMixturePrior,
    MixtureComponents,
    PriorKind,
    PseudoInputs,
    equal_weight_components,
    mixture_log_density,
    sample_mixture,
    standard_components,
)

__all__ = ["HierarchicalVAE", "HierarchicalVAEConfig", "HierarchicalVAEOutput"]

HierarchicalObjective = Literal["elbo", "iwae"]

_KL_DRAWS = 8


@dataclasses.dataclass(frozen=True)
class HierarchicalVAEConfig(ModelConfig):
    """Config of :class:`HierarchicalVAE`.

    Attributes:
        latent_dim: Size of the whole code ``[z₁, z₂]`` (at least 2).
        top_latent_dim: Size of the top code ``z₂``; None: half of ``latent_dim`` (rounded down).
        hidden_dims: Widths of the MLP that reads ``x`` (both posteriors share it); the decoder mirrors
            them, and ``q(z₁ | x, z₂)`` and ``p(z₁ | z₂)`` have hidden layers of the last width.
        activation: Hidden activation.
        beta: Weight β of the KL part (``log p(z) − log q(z | x)``) of the bound; 1 is the VAE.
        likelihood: ``bernoulli`` (data in [0, 1]; the decoder outputs logits) or ``gaussian``.
        observation_std: σ of the Gaussian likelihood; None learns one shared σ.
        objective: ``elbo`` or ``iwae`` (the importance-weighted bound of ``importance_samples`` draws).
        importance_samples: Draws ``K`` of ``(z₁, z₂)`` per input in training.
        prior: The prior of ``z₂``: ``standard``, ``vamp`` (the posteriors ``q(z₂ | u_k)`` of learned
            pseudo-inputs) or ``mixture`` (a learned Gaussian mixture).
        prior_components: Pseudo-inputs (``vamp``) or components (``mixture``).
    """

    latent_dim: int = 64
    top_latent_dim: int | None = None
    hidden_dims: tuple[int, ...] = (512, 256)
    activation: str = "relu"
    beta: float = 1.0
    likelihood: Likelihood = "bernoulli"
    observation_std: float | None = None
    objective: HierarchicalObjective = "elbo"
    importance_samples: int = 1
    prior: PriorKind = "standard"
    prior_components: int = 50

    def validate(self) -> None:
        super().validate()
        check_count("latent_dim", self.latent_dim)
        if self.latent_dim < 2:
            raise ConfigError(f"latent_dim must be at least 2 (one per layer); got {self.latent_dim}")
        if self.top_latent_dim is not None:
            check_count("top_latent_dim", self.top_latent_dim)
            if self.top_latent_dim >= self.latent_dim:
                raise ConfigError(
                    f"top_latent_dim must be below latent_dim ({self.latent_dim}), leaving room for the "
                    f"bottom code; got {self.top_latent_dim}"
                )
        if not self.hidden_dims:
            raise ConfigError("hidden_dims must name at least one hidden layer")
        for width in self.hidden_dims:
            check_count("hidden_dims entries", width)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_variational_fields(self, ("elbo", "iwae"))

    @property
    def top_dim(self) -> int:
        """Size of ``z₂``."""
        return self.top_latent_dim if self.top_latent_dim is not None else self.latent_dim // 2

    @property
    def bottom_dim(self) -> int:
        """Size of ``z₁``."""
        return self.latent_dim - self.top_dim


@dataclasses.dataclass(frozen=True, kw_only=True)
class HierarchicalVAEOutput(AEOutput):
    """What :meth:`HierarchicalVAE.forward` returns.

    Attributes:
        x_hat: Mean of ``p(x | z₁, z₂)`` for the first draw (training) or the posterior means (eval).
        z: The code ``[z₁, z₂]`` decoded (the first draw in training mode).
        decoder_outputs: Logits or means of every draw, ``(K · B, *input_shape)``, draw-major.
        log_ratios: ``log p(z₁ | z₂) + log p(z₂) − log q(z₁ | x, z₂) − log q(z₂ | x)`` of every draw,
            ``(K, B)``; in eval mode from draws of a generator seeded with 0 (the KL estimate).
    """

    decoder_outputs: Tensor
    log_ratios: Tensor


@register_model("hvae")
class HierarchicalVAE(AbstractGenerativeAutoencoder[HierarchicalVAEConfig]):
    """Two-layer VAE: ``q(z₂ | x) q(z₁ | x, z₂)`` against ``p(z₂) p(z₁ | z₂) p(x | z₁, z₂)``.

    Example:
        >>> model = HierarchicalVAE(HierarchicalVAEConfig(input_shape=(784,), latent_dim=64, prior="vamp"))
    """

    config_class = HierarchicalVAEConfig
    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon", "kl")
    has_likelihood: ClassVar[bool] = True
    warms_up: ClassVar[bool] = True

    def __init__(self, config: HierarchicalVAEConfig) -> None:
        super().__init__(config)
        n_inputs = math.prod(config.input_shape)
        hidden = config.hidden_dims
        width = hidden[-1]
        top, bottom = config.top_dim, config.bottom_dim
        act = config.activation
        self.features = mlp((n_inputs, *hidden), activation=act, final_activation=act)
        self.top_posterior = GaussianHead(width, top)
        self.bottom_features = mlp((width + top, width), activation=act, final_activation=act)
        self.bottom_posterior = GaussianHead(width, bottom)
        self.bottom_prior_features = mlp((top, width, width), activation=act, final_activation=act)
        self.bottom_prior = GaussianHead(width, bottom)
        self.decoder = mlp((config.latent_dim, *reversed(hidden), n_inputs), activation=act)
        if config.likelihood == "gaussian" and config.observation_std is None:
            self.log_observation_std = nn.Parameter(torch.zeros(()))
        if config.prior == "mixture":
            self.mixture_prior = GaussianMixturePrior(top, config.prior_components)
        elif config.prior == "vamp":
            self.pseudo_inputs = PseudoInputs(config.input_shape, config.prior_components)
        self._warmup = 1.0

    # -- parts -------------------------------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def _top(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The features of ``x`` and ``q(z₂ | x)``'s mean and log-variance."""
        features = self.features(x.flatten(1))
        mu, logvar = self.top_posterior(features)
        return features, mu, logvar

    def _bottom(self, features: Tensor, top: Tensor) -> tuple[Tensor, Tensor]:
        """``q(z₁ | x, z₂)``'s mean and log-variance for top codes ``(..., B, top_dim)``; ``features``
        ``(B, width)`` are shared by the draws."""
        features = features.expand(*top.shape[:-1], features.shape[-1])
        hidden = self.bottom_features(torch.cat([features, top], dim=-1).flatten(0, -2))
        mu, logvar = self.bottom_posterior(hidden)
        return mu.reshape(*top.shape[:-1], -1), logvar.reshape(*top.shape[:-1], -1)

    def _bottom_prior(self, top: Tensor) -> tuple[Tensor, Tensor]:
        """``p(z₁ | z₂)``'s mean and log-variance for top codes ``(..., top_dim)``."""
        mu, logvar = self.bottom_prior(self.bottom_prior_features(top.flatten(0, -2)))
        return mu.reshape(*top.shape[:-1], -1), logvar.reshape(*top.shape[:-1], -1)

    def _decoder_output(self, z: Tensor) -> Tensor:
        """Logits or means ``(N, *input_shape)`` of codes ``(N, latent_dim)``."""
        return self.decoder(z).reshape(-1, *self.input_shape)

    def log_likelihood(self, decoder_output: Tensor, target: Tensor) -> Tensor:
        """``log p(x | z₁, z₂)`` of each sample, summed over its elements, ``(N,)``."""
        if self.config.likelihood == "bernoulli":
            return observation_log_likelihood("bernoulli", decoder_output, target)
        learned = getattr(self, "log_observation_std", None)
        log_std = gaussian_log_std(self.config.observation_std, learned, self._device())
        return observation_log_likelihood("gaussian", decoder_output, target, log_std)

    # -- the prior -------------------------------------------------------------------------------
    def prior_mixture(self) -> MixtureComponents:
        """The prior ``p(z₂)`` of the top code as a mixture of diagonal Gaussians."""
        config = self.config
        if config.prior == "mixture":
            return self.mixture_prior.components()
        if config.prior == "vamp":
            _features, mu, logvar = self._top(self.pseudo_inputs())
            return equal_weight_components(mu, logvar)
        return standard_components(self.config.top_dim, self._device())

    def _log_top_prior(self, top: Tensor, components: MixtureComponents | None) -> Tensor:
        if components is None:
            return standard_normal_log_density(top)
        return mixture_log_density(top, components)

    def set_warmup(self, weight: float) -> None:
        """Scale the KL part of training-mode losses by ``weight`` in ``[0, 1]`` (a KL warm-up)."""
        self._warmup = check_warmup_weight(weight)

    def _noise(self, shape: tuple[int, ...], generator: torch.Generator | None) -> Tensor:
        return standard_normal_draws(shape, self._device(), generator)

    # -- draws ------------------------------------------------------------------------------------
    def _draws(self, x: Tensor, count: int, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        """``count`` posterior draws per input: the codes ``(count, B, latent_dim)`` and their log-ratios
        ``log p(z₁ | z₂) + log p(z₂) − log q(z₁ | x, z₂) − log q(z₂ | x)``, ``(count, B)``."""
        features, mu_top, logvar_top = self._top(x)
        batch = (count, len(x))
        top = mu_top + torch.exp(0.5 * logvar_top) * self._noise((*batch, self.config.top_dim), generator)
        mu_bottom, logvar_bottom = self._bottom(features, top)
        noise = self._noise((*batch, self.config.bottom_dim), generator)
        bottom = mu_bottom + torch.exp(0.5 * logvar_bottom) * noise
        prior_mu, prior_logvar = self._bottom_prior(top)
        components = None if self.config.prior == "standard" else self.prior_mixture()
        log_ratios = (
            diagonal_gaussian_log_density(bottom, prior_mu, prior_logvar)
            + self._log_top_prior(top, components)
            - diagonal_gaussian_log_density(bottom, mu_bottom, logvar_bottom)
            - diagonal_gaussian_log_density(top, mu_top, logvar_top)
        )
        return torch.cat([bottom, top], dim=-1), log_ratios

    def _log_weights(self, x: Tensor, count: int, generator: torch.Generator | None) -> Tensor:
        """``log p(x | z) + log p(z) − log q(z | x)`` of ``count`` draws per input, ``(count, B)``."""
        codes, log_ratios = self._draws(x, count, generator)
        targets = x.unsqueeze(0).expand(count, *x.shape).reshape(count * len(x), *x.shape[1:])
        log_likelihood = self.log_likelihood(self._decoder_output(codes.flatten(0, 1)), targets)
        return log_likelihood.reshape(count, len(x)) + log_ratios

    # -- the interface ---------------------------------------------------------------------------
    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """The posterior means ``[μ₁, μ₂]`` ``(B, latent_dim)``, ``μ₁`` taken at ``z₂ = μ₂``."""
        self.check_input(x)
        features, mu_top, _logvar = self._top(x)
        mu_bottom, _ = self._bottom(features, mu_top)
        return torch.cat([mu_bottom, mu_top], dim=1)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """The mean of ``p(x | z₁, z₂)`` ``(B, *input_shape)`` for codes ``[z₁, z₂]`` ``(B, latent_dim)``."""
        check_code(z, self.latent_dim)
        return observation_mean(self.config.likelihood, self._decoder_output(z))

    def forward(self, x: Tensor, condition: Tensor | None = None) -> HierarchicalVAEOutput:
        """Training mode: ``importance_samples`` draws from the global RNG, all decoded. Eval mode: the
        posterior means decoded (deterministic), with the log-ratios of 8 draws seeded with 0."""
        self.check_input(x)
        if self.training:
            codes, log_ratios = self._draws(x, self.config.importance_samples, None)
            outputs = self._decoder_output(codes.flatten(0, 1))
            z = codes[0]
        else:
            generator = torch.Generator(device=x.device).manual_seed(0)
            _codes, log_ratios = self._draws(x, _KL_DRAWS, generator)
            z = self.encode(x)
            outputs = self._decoder_output(z)
        mean = observation_mean(self.config.likelihood, outputs[: len(x)])
        return HierarchicalVAEOutput(x_hat=mean, z=z, decoder_outputs=outputs, log_ratios=log_ratios)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``loss``: the negative bound in nats per sample (``−ELBO`` or ``−IWAE_K``); ``recon``:
        ``−mean log p(x | z)``; ``kl``: the mean of ``log q(z | x) − log p(z)`` over the draws.

        Training mode scales the KL part by β and the warm-up weight; eval mode reports
        ``recon`` at the posterior means and ``loss = recon + β · kl``.
        """
        if not isinstance(output, HierarchicalVAEOutput):
            raise TypeError(
                "output must be the HierarchicalVAEOutput of this model's forward; "
                f"got {type(output).__name__}"
            )
        count = len(output.decoder_outputs) // len(target)
        targets = target.unsqueeze(0).expand(count, *target.shape).reshape(-1, *target.shape[1:])
        log_likelihood = self.log_likelihood(output.decoder_outputs, targets).reshape(count, len(target))
        recon = -log_likelihood.mean()
        kl = -output.log_ratios.mean()
        beta = self.config.beta
        if not self.training:
            return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
        log_weights = log_likelihood + beta * self._warmup * output.log_ratios
        bound = iwae_bound(log_weights) if self.config.objective == "iwae" else elbo_bound(log_weights)
        return {"loss": -bound.mean(), "recon": recon, "kl": kl}

    def prior_codes(
        self,
        n_samples: int,
        *,
        temperature: float = 1.0,
        labels: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Codes ``[z₁, z₂]``: ``z₂`` from ``p(z₂)`` (around its component's mean at temperature ``T``),
        then ``z₁ = m(z₂) + T · s(z₂) ⊙ ε`` from ``p(z₁ | z₂)``."""
        check_count("n_samples", n_samples)
        temperature = check_temperature(temperature)
        with torch.no_grad():
            if self.config.prior == "standard":
                top = temperature * self._noise((n_samples, self.config.top_dim), generator)
            else:
                top = sample_mixture(
                    self.prior_mixture(), n_samples, temperature=temperature, generator=generator
                ).to(self._device())
            mu, logvar = self._bottom_prior(top)
            bottom = mu + temperature * torch.exp(0.5 * logvar) * self._noise(tuple(mu.shape), generator)
        return torch.cat([bottom, top], dim=1)

    @property
    def error_kind(self) -> ErrorKind:
        """``bce`` for the Bernoulli likelihood, ``mse`` for the Gaussian one."""
        return "bce" if self.config.likelihood == "bernoulli" else "mse"

    def negative_log_likelihood(
        self, x: Tensor, condition: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """The bound the model trains on, per sample: ``−ELBO`` (one draw) or ``−IWAE_K``."""
        if self.config.objective == "elbo" or self.config.importance_samples == 1:
            return -self.elbo(x, generator=generator)
        return self.iwae_nll(x, k=self.config.importance_samples, generator=generator)

    def elbo(self, x: Tensor, *, n_samples: int = 1, generator: torch.Generator | None = None) -> Tensor:
        """Evidence lower bound of each sample ``(B,)`` in nats (β not applied), the mean over
        ``n_samples`` draws of ``log p(x | z) + log p(z) − log q(z | x)``."""
        self.check_input(x)
        check_count("n_samples", n_samples)
        return self._log_weights(x, n_samples, generator).mean(0)

    @torch.no_grad()
    def iwae_nll(
        self, x: Tensor, *, k: int = 1000, batch_size: int = 100, generator: torch.Generator | None = None
    ) -> Tensor:
        """Importance-weighted estimate of ``−log p(x)`` of each sample ``(B,)`` in nats from ``k`` draws
        of ``q(z₂ | x) q(z₁ | x, z₂)``, ``batch_size`` draws per input at a time."""
        self.check_input(x)
        check_count("k", k)
        check_count("batch_size", batch_size)
        log_weights = [
            self._log_weights(x, min(batch_size, k - start), generator) for start in range(0, k, batch_size)
        ]
        return -log_mean_exp(torch.cat(log_weights, dim=0), dim=0)
