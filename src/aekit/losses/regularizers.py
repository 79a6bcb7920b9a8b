"""Penalties on the encoder's Jacobian: the contractive autoencoder's regulariser.

The contractive autoencoder (Rifai et al., "Contractive auto-encoders: explicit invariance during
feature extraction", ICML 2011) adds ``‖J(x)‖²_F = Σ_{j,i} (∂h_j / ∂x_i)²`` to the reconstruction
loss, where ``h = f(x)`` is the code of one sample. Three ways to compute it are offered:

* :func:`contractive_exact` — the paper's closed form, valid only for one sigmoid layer;
* :func:`jacobian_frobenius_sq` — the exact norm for any encoder, one backward pass per code unit;
* :func:`jacobian_projection_sq` — an unbiased random-projection estimate, one backward pass per draw.

All three return the mean over the batch of the per-sample squared norm and keep the graph, so the
result can be minimised. The autograd forms differentiate ``Σ_b h_bj`` with respect to the whole input
batch, which equals the per-sample Jacobian only when samples do not interact inside the encoder (no
batch normalisation in training mode).
"""

from __future__ import annotations

import torch
from torch import Tensor

from aekit.errors import ConfigError, ShapeError

__all__ = ["contractive_exact", "jacobian_frobenius_sq", "jacobian_projection_sq"]


def contractive_exact(code: Tensor, weight: Tensor) -> Tensor:
    """Closed-form ``‖J‖²_F`` of a one-layer sigmoid encoder ``h = σ(W x + b)``, mean over the batch.

    Since ``∂h_j / ∂x_i = h_j (1 − h_j) W_ji``,
    ``‖J‖²_F = Σ_j (h_j (1 − h_j))² Σ_i W_ji²``.

    Args:
        code: Sigmoid activations ``h`` ``(B, latent_dim)``.
        weight: The layer's weight ``W`` ``(latent_dim, n_features)``.

    Raises:
        ShapeError: ``weight`` has not one row per code unit.
    """
    if weight.dim() != 2 or code.dim() != 2 or weight.shape[0] != code.shape[1]:
        raise ShapeError(
            f"weight must have shape (latent_dim={code.shape[-1]}, n_features) for codes of shape "
            f"{tuple(code.shape)}; got {tuple(weight.shape)}"
        )
    row_norms = weight.square().sum(1)
    return ((code * (1.0 - code)).square() @ row_norms).mean()


def jacobian_frobenius_sq(inputs: Tensor, code: Tensor) -> Tensor:
    """Exact ``‖∂h / ∂x‖²_F`` per sample by reverse-mode autograd, mean over the batch.

    Row ``j`` of every sample's Jacobian is the gradient of ``Σ_b h_bj`` with respect to the inputs,
    so the cost is one backward pass per code unit (``create_graph=True`` keeps it differentiable).

    Args:
        inputs: The encoder's input ``(B, ...)``, with ``requires_grad`` set before ``code`` was computed.
        code: Codes ``(B, latent_dim)`` computed from ``inputs``.
    """
    _check_graph(inputs, code)
    total = code.new_zeros(())
    for unit in range(code.shape[1]):
        (row,) = torch.autograd.grad(code[:, unit].sum(), inputs, create_graph=True, retain_graph=True)
        total = total + row.square().sum()
    return total / len(code)


def jacobian_projection_sq(
    inputs: Tensor, code: Tensor, *, n_projections: int = 1, generator: torch.Generator | None = None
) -> Tensor:
    """Unbiased estimate of ``‖J‖²_F`` from random projections, mean over the batch.

    For ``v ~ N(0, I)``, ``E_v ‖Jᵀ v‖² = E_v vᵀ J Jᵀ v = tr(J Jᵀ) = ‖J‖²_F``; ``Jᵀ v`` is one
    vector–Jacobian product (one backward pass), so the cost does not grow with ``latent_dim``.
    The estimate averages ``n_projections`` independent draws per sample.

    Args:
        inputs: The encoder's input ``(B, ...)``, with ``requires_grad`` set before ``code`` was computed.
        code: Codes ``(B, latent_dim)`` computed from ``inputs``.
        n_projections: Draws of ``v`` per sample (more = lower variance).
        generator: Source of ``v``; the global RNG when None (the trainer seeds it).

    Raises:
        ConfigError: ``n_projections`` is not a positive integer.
    """
    _check_graph(inputs, code)
    if isinstance(n_projections, bool) or not isinstance(n_projections, int) or n_projections < 1:
        raise ConfigError(f"n_projections must be a positive integer; got {n_projections!r}")
    total = code.new_zeros(())
    for _ in range(n_projections):
        if generator is None:
            direction = torch.randn_like(code)
        else:
            direction = torch.randn(
                tuple(code.shape), generator=generator, device=generator.device, dtype=code.dtype
            ).to(code.device)
        (projected,) = torch.autograd.grad(
            (code * direction).sum(), inputs, create_graph=True, retain_graph=True
        )
        total = total + projected.square().sum()
    return total / (len(code) * n_projections)


def _check_graph(inputs: Tensor, code: Tensor) -> None:
    if not inputs.requires_grad or not code.requires_grad:
        raise ValueError(
            "inputs must require grad and code must be computed from them (with gradients enabled); "
            f"got inputs.requires_grad={inputs.requires_grad}, code.requires_grad={code.requires_grad}"
        )
    if code.dim() != 2 or len(code) != len(inputs):
        raise ShapeError(f"code must have shape (B={len(inputs)}, latent_dim); got {tuple(code.shape)}")
