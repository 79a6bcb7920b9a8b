"""Generalized divisive normalization (GDN) and its inverse, with non-negative reparameterisation.

GDN is the nonlinearity of the learned image codec (Ballé, Laparra, Simoncelli, "Density modeling of
images using a generalized normalization transformation", ICLR 2016; used in "End-to-end optimized image
compression", ICLR 2017). It normalises each channel by a learned, non-negative mixture of the squared
activations of all channels at the same position, which Gaussianises natural-image responses far better
than a pointwise nonlinearity.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aekit.errors import ConfigError, ShapeError

__all__ = ["GDN", "NonNegativeParameter", "lower_bound"]


class _LowerBound(torch.autograd.Function):
    """``max(x, bound)`` whose gradient still flows where it would push ``x`` back above the bound.

    A plain ``clamp`` kills the gradient of every clipped entry, so a parameter that once falls under the
    bound could never recover; here a gradient that would *increase* ``x`` always passes.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor, bound: Tensor) -> Tensor:
        ctx.save_for_backward(x, bound)
        return torch.maximum(x, bound)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_output: Tensor) -> tuple[Tensor, None]:
        x, bound = ctx.saved_tensors  # type: ignore[attr-defined]
        passes = (x >= bound) | (grad_output < 0)
        return grad_output * passes.to(grad_output.dtype), None


def lower_bound(x: Tensor, bound: float) -> Tensor:
    """Return ``max(x, bound)`` with the recovering gradient of :class:`_LowerBound`."""
    return _LowerBound.apply(x, torch.tensor(bound, dtype=x.dtype, device=x.device))


class NonNegativeParameter(nn.Module):
    """A tensor parameter constrained to ``value ≥ minimum``, stored as ``θ`` with ``value = θ² - p``.

    The square-root parameterisation (Ballé 2018, appendix) makes gradient steps on small values smaller,
    and the pedestal ``p = offset²`` keeps the gradient finite near zero, so GDN's β and γ stay valid
    (β > 0, γ ≥ 0) throughout training without projection steps.

    Args:
        initial: Initial value (every entry must be ≥ ``minimum``).
        minimum: Lower bound of the represented value.
        offset: Small constant whose square is the pedestal.
    """

    def __init__(self, initial: Tensor, minimum: float = 0.0, offset: float = 2.0**-18) -> None:
        super().__init__()
        if minimum < 0:
            raise ConfigError(f"minimum must be ≥ 0; got {minimum!r}")
        if bool((initial < minimum).any()):
            raise ConfigError(
                f"initial values must all be ≥ minimum={minimum}; got min {initial.min().item()}"
            )
        self.pedestal = offset**2
        self.bound = (minimum + self.pedestal) ** 0.5
        self.raw = nn.Parameter(torch.sqrt(initial.detach().to(torch.float32) + self.pedestal))

    def forward(self) -> Tensor:
        """Return the constrained value ``max(θ, √(minimum + p))² - p``."""
        return lower_bound(self.raw, self.bound) ** 2 - self.pedestal


class GDN(nn.Module):
    """GDN, ``y_i = x_i / sqrt(β_i + Σ_j γ_ij x_j²)``, or its inverse ``y_i = x_i · sqrt(...)`` (IGDN).

    The analysis transform of the codec uses GDN, the synthesis transform the approximate inverse IGDN.

    Args:
        channels: Number of channels ``C`` of the ``(B, C, H, W)`` input.
        inverse: Compute IGDN (multiply) instead of GDN (divide).
        beta_min: Lower bound of β, keeping the denominator away from zero.
        gamma_init: Initial diagonal of γ (γ starts as ``gamma_init · I``, so GDN starts near a scaling).
    """

    def __init__(
        self, channels: int, *, inverse: bool = False, beta_min: float = 1e-6, gamma_init: float = 0.1
    ) -> None:
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels <= 0:
            raise ConfigError(f"channels must be a positive int; got {channels!r}")
        if beta_min <= 0:
            raise ConfigError(f"beta_min must be > 0; got {beta_min!r}")
        if gamma_init < 0:
            raise ConfigError(f"gamma_init must be ≥ 0; got {gamma_init!r}")
        self.channels = channels
        self.inverse = inverse
        self.beta = NonNegativeParameter(torch.ones(channels), minimum=beta_min)
        self.gamma = NonNegativeParameter(gamma_init * torch.eye(channels))

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x`` of shape ``(B, C, H, W)``; returns the same shape."""
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ShapeError(f"x must have shape (B, {self.channels}, H, W); got {tuple(x.shape)}")
        beta = self.beta()
        gamma = self.gamma().reshape(self.channels, self.channels, 1, 1)
        norm = F.conv2d(x * x, gamma, beta)
        return x * torch.sqrt(norm) if self.inverse else x * torch.rsqrt(norm)

    def extra_repr(self) -> str:
        return f"{self.channels}, inverse={self.inverse}"
