"""Entropy models of the learned image codecs, shared by the factorized and the hyperprior codec.

* :class:`FactorizedDensity`: a learned univariate density per channel (Ballé et al., "Variational image
  compression with a scale hyperprior", ICLR 2018, appendix 6.1); the prior of the factorized codec's
  latents and of the hyperprior codec's hyper-latents.
* :func:`gaussian_likelihood` and :func:`gaussian_tables`: the Gaussian conditional model of the
  hyperprior codec's latents (mean and scale predicted per element; Minnen, Ballé, Toderici, "Joint
  autoregressive and hierarchical priors", NeurIPS 2018, without the autoregressive context).
* :func:`quantize_pmf`: float64 probabilities to the integer frequency tables the entropy coder uses.

The integer tables are computed once, after training, and saved with the weights: encoder and decoder
then use the very same integers on any machine.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "FactorizedDensity",
    "gaussian_likelihood",
    "gaussian_tables",
    "log_scale_table",
    "quantize_pmf",
]


class FactorizedDensity(nn.Module):
    """A learned univariate density per channel, given by its cumulative ``c(x) = sigmoid(f(x))``.

    ``f`` is a small per-channel network of monotone layers (softplus-positive matrices and
    ``x + tanh(a)·tanh(x)`` gates) so ``c`` is a valid CDF of any shape (Ballé 2018, appendix 6.1).
    ``quantiles`` (``(C, 1, 3)``: lower tail, median, upper tail) are trained by :meth:`aux_loss` only.

    Args:
        channels: Number of channels ``C``.
        filters: Hidden widths of ``f``.
        init_scale: Initial spread of the densities.
        tail_mass: Probability mass outside ``[lower, upper]`` targeted by the quantiles.
    """

    quantile_targets: Tensor

    def __init__(self, channels: int, filters: tuple[int, ...], init_scale: float, tail_mass: float) -> None:
        super().__init__()
        self.channels = channels
        self.tail_mass = tail_mass
        widths = (1, *filters, 1)
        scale = init_scale ** (1 / (len(widths) - 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(widths) - 1):
            init = math.log(math.expm1(1 / scale / widths[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, widths[i + 1], widths[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, widths[i + 1], 1) - 0.5))
            if i < len(widths) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, widths[i + 1], 1)))
        self.quantiles = nn.Parameter(torch.tensor([-init_scale, 0.0, init_scale]).repeat(channels, 1, 1))
        target = math.log(2 / tail_mass - 1)
        self.register_buffer("quantile_targets", torch.tensor([-target, 0.0, target]), persistent=False)

    def logits_cumulative(self, x: Tensor) -> Tensor:
        """Return ``f(x)`` for ``x`` of shape ``(C, 1, n)``, in float64 for float64 input, else float32.

        Mixed-precision autocast is switched off here: tail probabilities (and so the rate) need more
        than bfloat16's 8 bits of mantissa.
        """
        dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = x.to(dtype)
            for i, (matrix, bias) in enumerate(zip(self.matrices, self.biases, strict=True)):
                x = torch.matmul(F.softplus(matrix.to(dtype)), x) + bias.to(dtype)
                if i < len(self.factors):
                    x = x + torch.tanh(self.factors[i].to(dtype)) * torch.tanh(x)
        return x

    def bin_probability(self, values: Tensor, steps: Tensor | float) -> Tensor:
        """Probability ``c(v + Δ/2) − c(v − Δ/2)`` of the bin of width ``Δ`` centred on each value.

        Args:
            values: ``(C, 1, n)``.
            steps: Bin widths, broadcastable to ``values``.

        Returns:
            ``(C, 1, n)`` probabilities (not yet bounded away from 0).
        """
        values = values.to(torch.float64 if values.dtype == torch.float64 else torch.float32)
        lower = self.logits_cumulative(values - steps / 2)
        upper = self.logits_cumulative(values + steps / 2)
        # Evaluate on the side of the CDF where sigmoid is not saturated (tails keep their precision).
        sign = -torch.sign(lower + upper).detach()
        return torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))

    def medians(self) -> Tensor:
        """Learned medians ``(C,)`` (detached): the quantisation grid is centred on them."""
        return self.quantiles[:, 0, 1].detach()

    def aux_loss(self) -> Tensor:
        """``Σ |f(quantiles) − targets|``: pulls the quantiles to the tails and median of each density."""
        logits = self.logits_cumulative(self.quantiles)
        return torch.abs(logits - self.quantile_targets.view(1, 1, 3)).sum()

    @torch.no_grad()
    def tail_bounds(self) -> tuple[Tensor, Tensor]:
        """Float64 ``(lower, upper)`` ``(C,)`` with ``c(lower) = tail/2`` and ``c(upper) = 1 − tail/2``.

        Found by bisection from the learned quantiles, so a short training run (whose quantiles have not
        converged) still gets exact tails; deterministic for given parameters.
        """
        target = float(self.quantile_targets[2])
        bounds = []
        for side in (-1.0, 1.0):
            start = self.quantiles[:, 0, 1 + int(side)].detach().to(torch.float64)
            median = self.quantiles[:, 0, 1].detach().to(torch.float64)
            inner = median.clone()
            outer = torch.where(side * (start - median) > 1e-3, start, median + side)
            for _ in range(200):  # grow the bracket until it holds the tail quantile
                logits = self.logits_cumulative(outer.view(-1, 1, 1)).view(-1)
                beyond = side * logits >= target
                if bool(beyond.all()):
                    break
                step = outer - median
                outer = torch.where(beyond, outer, median + 2 * step)
            for _ in range(80):
                middle = (inner + outer) / 2
                logits = self.logits_cumulative(middle.view(-1, 1, 1)).view(-1)
                beyond = side * logits >= target
                outer = torch.where(beyond, middle, outer)
                inner = torch.where(beyond, inner, middle)
            bounds.append(outer)
        return bounds[0], bounds[1]

    @torch.no_grad()
    def integer_tables(
        self, steps: Tensor, precision: int, max_symbols: int
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Integer frequency tables of every channel for quantisation steps ``steps`` ``(C,)``, in float64.

        The symbols of channel ``c`` are ``q ∈ [offset, offset + length)`` with
        ``P(q) = c(μ + qΔ + Δ/2) − c(μ + qΔ − Δ/2)`` over the range holding all but ``tail_mass``; one
        extra escape symbol takes the remaining mass (see :func:`quantize_pmf`).

        Returns:
            ``(frequencies (C, L) int64, offsets (C,) int64, lengths (C,) int64)``; row ``c`` uses its
            first ``lengths[c] + 1`` entries.
        """
        lower, upper = self.tail_bounds()
        medians = self.medians().to(torch.float64)
        step = steps.detach().to(torch.float64)
        first = torch.floor((lower - medians) / step).to(torch.int64)
        last = torch.ceil((upper - medians) / step).to(torch.int64)
        length = (last - first + 1).clamp(max=min(max_symbols, (1 << precision) // 2))
        centre = (first + last) // 2
        first = torch.where(last - first + 1 > length, centre - length // 2, first)
        width = int(length.max())
        grid = first.view(-1, 1) + torch.arange(width, dtype=torch.int64).view(1, -1)
        values = medians.view(-1, 1) + grid.to(torch.float64) * step.view(-1, 1)
        pmf = self.bin_probability(values.unsqueeze(1), step.view(-1, 1, 1)).squeeze(1)
        valid = torch.arange(width).view(1, -1) < length.view(-1, 1)
        pmf = torch.where(valid, pmf, torch.zeros_like(pmf))
        escape = (1 - pmf.sum(dim=1)).clamp(min=0).view(-1, 1)
        pmf = torch.cat([pmf, torch.zeros_like(escape)], dim=1)
        pmf.scatter_(1, length.view(-1, 1), escape)
        return quantize_pmf(pmf, length + 1, precision), first, length


def _standard_cumulative(x: Tensor) -> Tensor:
    return 0.5 * torch.erfc(x * (-(0.5**0.5)))


def gaussian_likelihood(values: Tensor, means: Tensor, scales: Tensor) -> Tensor:
    """Probability of the unit-width bin around each value under ``N(mean, scale²)``, in float32.

    Computed on the lower side of the CDF (``Φ(½ − |v − μ|)/σ`` terms), where it keeps its precision in
    the tails; autocast is switched off (bfloat16 cannot hold small tail probabilities).
    """
    with torch.autocast(device_type=values.device.type, enabled=False):
        values, means, scales = values.float(), means.float(), scales.float()
        distance = torch.abs(values - means)
        upper = _standard_cumulative((0.5 - distance) / scales)
        lower = _standard_cumulative((-0.5 - distance) / scales)
        return upper - lower


def log_scale_table(minimum: float, maximum: float, count: int) -> Tensor:
    """``count`` scales spaced evenly in ``log`` from ``minimum`` to ``maximum`` (float64)."""
    return torch.exp(torch.linspace(math.log(minimum), math.log(maximum), count, dtype=torch.float64))


@torch.no_grad()
def gaussian_tables(
    scales: Tensor, tail_mass: float, precision: int, max_symbols: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Integer tables of the zero-mean Gaussian of each scale, discretised to unit bins, in float64.

    Table ``j`` covers ``q ∈ [−R_j, R_j]`` with ``R_j = ⌈σ_j · z⌉`` (``z`` the two-sided ``tail_mass``
    quantile of the standard normal), plus an escape symbol holding the mass outside.

    Returns:
        ``(frequencies (T, L) int64, offsets (T,) int64, lengths (T,) int64)`` as
        :meth:`FactorizedDensity.integer_tables`.
    """
    scales = scales.to(torch.float64)
    # z with 2·Φ(−z) = tail_mass, by bisection in float64 (no special-function inverse needed).
    low, high = 0.0, 40.0
    for _ in range(200):
        middle = (low + high) / 2
        if math.erfc(middle / math.sqrt(2)) > tail_mass:
            low = middle
        else:
            high = middle
    limit = (min(max_symbols, 1 << precision) - 2) // 2
    radius = torch.ceil(scales * high).to(torch.int64).clamp(min=1, max=limit)
    length = 2 * radius + 1
    width = int(length.max())
    grid = -radius.view(-1, 1) + torch.arange(width, dtype=torch.int64).view(1, -1)
    values = grid.to(torch.float64).abs()
    sigma = scales.view(-1, 1)
    pmf = _standard_cumulative((0.5 - values) / sigma) - _standard_cumulative((-0.5 - values) / sigma)
    valid = torch.arange(width).view(1, -1) < length.view(-1, 1)
    pmf = torch.where(valid, pmf, torch.zeros_like(pmf))
    escape = (1 - pmf.sum(dim=1)).clamp(min=0).view(-1, 1)
    pmf = torch.cat([pmf, torch.zeros_like(escape)], dim=1)
    pmf.scatter_(1, length.view(-1, 1), escape)
    return quantize_pmf(pmf, length + 1, precision), -radius, length


def quantize_pmf(pmf: Tensor, counts: Tensor, precision: int) -> Tensor:
    """Round float64 probability rows ``(R, L)`` to integer frequencies summing to ``2 ** precision``.

    Row ``r`` uses its first ``counts[r]`` entries, each of which gets at least 1; the rounding remainder
    goes to (or comes from) the largest entries, in a fixed order, so the result is deterministic.
    """
    total = 1 << precision
    rows = []
    for row, count in zip(pmf, counts.tolist(), strict=True):
        p = row[:count].clamp(min=0)
        p = p / p.sum()
        freq = torch.clamp(torch.floor(p * (total - count)).to(torch.int64), min=0) + 1
        order = torch.argsort(-p, stable=True)
        remainder = total - int(freq.sum())
        while remainder > 0:
            for index in order[:remainder].tolist():
                freq[index] += 1
            remainder = total - int(freq.sum())
        full = torch.zeros(row.shape[0], dtype=torch.int64)
        full[:count] = freq
        rows.append(full)
    return torch.stack(rows)
