"""Variational bounds on ``log p(x)`` from importance log-weights.

With ``K`` draws ``z_k ~ q(z | x)`` and log-weights
``log w_k = log p(x | z_k) + log p(z_k) − log q(z_k | x)``:

- ``elbo``: ``1/K Σ_k log w_k``, the evidence lower bound averaged over the draws (Kingma & Welling 2014).
- ``iwae``: ``log 1/K Σ_k w_k``, the importance-weighted bound (Burda, Grosse & Salakhutdinov, ICLR 2016):
  ``ELBO ≤ IWAE_K ≤ IWAE_{K+1} ≤ log p(x)`` in expectation; with ``K = 1`` it is the ELBO.
- ``piwae``: the partially importance-weighted objective of Rainforth et al., "Tighter variational bounds
  are not necessarily better", ICML 2018: the generative model (decoder and prior) climbs the IWAE bound
  while the encoder climbs the ELBO averaged over the same ``K`` draws (their MIWAE with ``M = K``
  groups of one), since the encoder's gradient signal-to-noise ratio falls as ``K`` grows under IWAE.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor

from aekit.losses.functional import log_mean_exp

__all__ = ["OBJECTIVES", "Objective", "elbo_bound", "iwae_bound", "piwae_surrogate"]

Objective = Literal["elbo", "iwae", "piwae"]
OBJECTIVES: tuple[str, ...] = ("elbo", "iwae", "piwae")


def elbo_bound(log_weights: Tensor, dim: int = 0) -> Tensor:
    """``1/K Σ_k log w_k`` along ``dim`` (the draws): the ELBO estimated from ``K`` draws."""
    return log_weights.mean(dim)


def iwae_bound(log_weights: Tensor, dim: int = 0) -> Tensor:
    """``log 1/K Σ_k exp(log w_k)`` along ``dim`` (the draws): the importance-weighted bound ``IWAE_K``."""
    return log_mean_exp(log_weights, dim=dim)


def piwae_surrogate(decoder_log_weights: Tensor, encoder_log_weights: Tensor, dim: int = 0) -> Tensor:
    """A per-sample objective whose value is ``IWAE_K`` and whose gradients are PIWAE's.

    Args:
        decoder_log_weights: Log-weights computed with the encoder's outputs (and the draws) detached:
            only the generative model's parameters get gradients from these, through ``IWAE_K``.
        encoder_log_weights: The same log-weights computed with the generative model's parameters
            detached: only the encoder gets gradients from these, through the averaged ELBO.
        dim: The axis of the ``K`` draws.

    Returns:
        ``IWAE_K(decoder) + ELBO(encoder) − stop_gradient(ELBO(encoder))``: the value is the IWAE bound
        (so the reported training loss stays comparable with the other objectives).
    """
    encoder_elbo = elbo_bound(encoder_log_weights, dim)
    return iwae_bound(decoder_log_weights, dim) + encoder_elbo - encoder_elbo.detach()
