"""Priors over latent codes: the standard normal, a learned Gaussian mixture and the VampPrior.

All three are (mixtures of) diagonal Gaussians, so one description serves density, sampling and saving:
:class:`MixtureComponents` holds the means, log-variances and log mixing weights; the standard normal is
one component at 0 with unit variance.

- ``standard``: ``p(z) = N(0, I)``.
- ``mixture``: ``p(z) = Σ_k π_k N(z; m_k, diag s_k²)`` with learned ``m``, ``log s²`` and ``π``
  (a softmax over learned logits); as in the GMM prior of Dilokthanakul et al. (2016) but fitted jointly
  by the bound.
- ``vamp``: ``p(z) = 1/K Σ_k q(z | u_k)``, the encoder's posteriors of ``K`` learned pseudo-inputs
  ``u_k`` (Tomczak & Welling, "VAE with a VampPrior", AISTATS 2018). The pseudo-inputs are parameters
  here; the model runs them through its own encoder to get the components.

Everything is stored as ordinary parameters, so a model with any of these priors saves to and loads from
safetensors + JSON without running code.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
from torch import Tensor, nn

__all__ = [
    "PRIORS",
    "GaussianMixturePrior",
    "MixtureComponents",
    "PriorKind",
    "PseudoInputs",
    "equal_weight_components",
    "mixture_log_density",
    "sample_mixture",
    "standard_components",
]

PriorKind = Literal["standard", "vamp", "mixture"]
PRIORS: tuple[str, ...] = ("standard", "vamp", "mixture")

_LOG_2PI = math.log(2.0 * math.pi)


@dataclasses.dataclass(frozen=True)
class MixtureComponents:
    """A mixture of diagonal Gaussians over codes of size ``d``.

    Attributes:
        means: ``(K, d)``.
        logvars: ``(K, d)``, log-variances.
        log_weights: ``(K,)``, log mixing weights (they sum to 1 after ``exp``).
    """

    means: Tensor
    logvars: Tensor
    log_weights: Tensor

    def detach(self) -> MixtureComponents:
        """The same components without gradients."""
        return MixtureComponents(self.means.detach(), self.logvars.detach(), self.log_weights.detach())


def standard_components(latent_dim: int, device: torch.device | None = None) -> MixtureComponents:
    """``N(0, I)`` as a one-component mixture."""
    zeros = torch.zeros(1, latent_dim, device=device)
    return MixtureComponents(zeros, zeros, torch.zeros(1, device=device))


def equal_weight_components(means: Tensor, logvars: Tensor) -> MixtureComponents:
    """Components ``N(means_k, diag exp(logvars_k))`` ``(K, d)``, each of weight ``1/K`` (the
    VampPrior's: the posteriors of its pseudo-inputs)."""
    count = len(means)
    return MixtureComponents(means, logvars, torch.full((count,), -math.log(count), device=means.device))


def mixture_log_density(z: Tensor, components: MixtureComponents) -> Tensor:
    """``log Σ_k π_k N(z; m_k, diag s_k²)`` of codes ``(..., d)``, shape ``(...)``.

    The squared distances are expanded into matrix products, ``Σ_j z_j²/s²_kj − 2 z_j m_kj/s²_kj +
    m²_kj/s²_kj``, so memory grows with ``N · K`` rather than ``N · K · d``.
    """
    shape = z.shape[:-1]
    flat = z.reshape(-1, z.shape[-1])
    precision = torch.exp(-components.logvars)  # (K, d)
    quadratic = (
        flat.square() @ precision.T
        - 2.0 * flat @ (components.means * precision).T
        + (components.means.square() * precision).sum(1)
    )
    constant = components.logvars.sum(1) + z.shape[-1] * _LOG_2PI
    log_components = -0.5 * (quadratic.clamp(min=0.0) + constant) + components.log_weights
    return torch.logsumexp(log_components, dim=-1).reshape(shape)


def sample_mixture(
    components: MixtureComponents,
    n_samples: int,
    *,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw ``(n_samples, d)`` codes: a component ``k ~ π``, then ``m_k + T · s_k ⊙ ε``.

    ``temperature`` ``T`` scales the spread around the drawn component's mean (1 = the prior itself).
    The draws come from ``generator`` (on its own device) and are moved to the components' device.
    """
    device = components.means.device
    source_device = generator.device if generator is not None else device
    probabilities = components.log_weights.detach().exp().to(source_device)
    index = torch.multinomial(probabilities, n_samples, replacement=True, generator=generator)
    noise = torch.randn((n_samples, components.means.shape[1]), generator=generator, device=source_device).to(
        device
    )
    index = index.to(device)
    std = torch.exp(0.5 * components.logvars[index])
    return components.means[index] + temperature * std * noise


class GaussianMixturePrior(nn.Module):
    """A learned mixture of ``n_components`` diagonal Gaussians over ``latent_dim`` codes.

    The means start as draws from ``N(0, I)`` (from the global RNG, which model construction seeds), the
    variances at 1 and the weights uniform, so at initialisation the prior is close to ``N(0, I)``
    spread over several centres.
    """

    def __init__(self, latent_dim: int, n_components: int) -> None:
        super().__init__()
        self.means = nn.Parameter(torch.randn(n_components, latent_dim))
        self.logvars = nn.Parameter(torch.zeros(n_components, latent_dim))
        self.logits = nn.Parameter(torch.zeros(n_components))

    def components(self) -> MixtureComponents:
        """The current means, log-variances and log mixing weights."""
        return MixtureComponents(self.means, self.logvars, torch.log_softmax(self.logits, dim=0))


class PseudoInputs(nn.Module):
    """The ``K`` learned pseudo-inputs ``u_k`` of a VampPrior, shape ``(K, *input_shape)``.

    They start near the middle of the data range (``0.5 + 0.05 ε``, the range of images in [0, 1]); the
    model maps them through its encoder to the prior's components, equally weighted.
    """

    def __init__(self, input_shape: tuple[int, ...], n_components: int) -> None:
        super().__init__()
        self.values = nn.Parameter(0.5 + 0.05 * torch.randn(n_components, *input_shape))

    def forward(self) -> Tensor:
        """The pseudo-inputs ``(K, *input_shape)``."""
        return self.values
