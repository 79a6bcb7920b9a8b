"""The learned image codec: GDN transforms, a quantised bottleneck and a factorised entropy model.

Ballé, Laparra, Simoncelli, "End-to-end optimized image compression", ICLR 2017; the non-parametric
density is the one of Ballé et al., "Variational image compression with a scale hyperprior", ICLR 2018,
appendix 6.1.

One model serves several rate–distortion trade-offs ("quality levels", one per λ): level ``k`` quantises
latent channel ``c`` with its own learned step ``Δ[k, c]``, and all levels share the transforms and one
density per channel. Because the density models the latent ``y`` itself, the probability of the bin of
width ``Δ`` around ``ŷ`` is ``c(ŷ + Δ/2) − c(ŷ − Δ/2)`` for every step, so a single 1-hour training run
yields a whole rate–distortion curve instead of one point.

This module holds the maths only; bytes, files and the arithmetic coder live in
:mod:`aekit.apps.compression`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from typing_extensions import TypeVar

from aekit.config import check_choice, check_positive, check_range
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.losses.ssim import ms_ssim
from aekit.models.base import (
    AbstractAutoencoder,
    AEOutput,
    Batch,
    LossTerms,
    ModelConfig,
    Phase,
    PreparedBatch,
)
from aekit.models.registry import register_model
from aekit.nn.entropy import FactorizedDensity, quantize_pmf
from aekit.nn.gdn import GDN, lower_bound

__all__ = ["Codec", "CodecConfig", "CodecOutput", "FactorizedDensity", "LevelledCodec", "quantize_pmf"]

Distortion = Literal["mse", "ms_ssim"]

_LIKELIHOOD_BOUND = 1e-9
_MAX_TABLE_SYMBOLS = 4096


@dataclasses.dataclass(frozen=True)
class CodecConfig(ModelConfig):
    """Configuration of :class:`Codec`.

    Attributes:
        input_shape: ``(C, H, W)`` of the training crops; ``H`` and ``W`` must be multiples of
            ``2 ** n_stages``. The codec path (``aekit.apps.compression``) takes any image size.
        hidden_channels: Channels ``N`` of the hidden layers of both transforms.
        latent_channels: Channels ``M`` of the latent ``y``.
        lmbda: Rate–distortion trade-offs λ, one per quality level, increasing (higher = better quality,
            more bits). ``loss = bpp + λ · 255² · mse`` or ``bpp + λ · (1 − ms_ssim)``.
        distortion: ``mse`` or ``ms_ssim``.
        n_stages: Stride-2 stages per transform; the latent is ``2 ** n_stages`` times smaller per axis.
        kernel_size: Odd kernel size of every (transposed) convolution.
        density_filters: Hidden widths of the per-channel cumulative-density networks.
        density_init_scale: Initial spread of the densities (and of the tail quantiles).
        tail_mass: Probability left outside the coded range of each channel (coded by escape).
        table_precision: Bits of the integer probability tables used by the entropy coder.
    """

    input_shape: tuple[int, ...] = (3, 128, 128)
    hidden_channels: int = 64
    latent_channels: int = 96
    lmbda: tuple[float, ...] = (0.0018, 0.0035, 0.0067, 0.013, 0.025)
    distortion: Distortion = "mse"
    n_stages: int = 4
    kernel_size: int = 5
    density_filters: tuple[int, ...] = (3, 3, 3)
    density_init_scale: float = 10.0
    tail_mass: float = 1e-9
    table_precision: int = 16

    def validate(self) -> None:
        super().validate()
        if isinstance(self.lmbda, int | float) and not isinstance(self.lmbda, bool):
            object.__setattr__(self, "lmbda", (float(self.lmbda),))
        if len(self.input_shape) != 3:
            raise ConfigError(f"input_shape must be (C, H, W); got {self.input_shape!r}")
        for name in ("hidden_channels", "latent_channels", "n_stages", "kernel_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name} must be an int; got {value!r}")
            check_positive(name, value)
        if self.kernel_size % 2 == 0:
            raise ConfigError(f"kernel_size must be odd; got {self.kernel_size}")
        factor = 2**self.n_stages
        _, height, width = self.input_shape
        if height % factor or width % factor:
            raise ConfigError(
                f"input_shape H and W must be multiples of 2 ** n_stages = {factor}; got {self.input_shape!r}"
            )
        if not isinstance(self.lmbda, tuple) or not self.lmbda:
            raise ConfigError(f"lmbda must be a non-empty tuple of positive numbers; got {self.lmbda!r}")
        for value in self.lmbda:
            check_positive("lmbda", value)
        if any(b <= a for a, b in zip(self.lmbda, self.lmbda[1:], strict=False)):
            raise ConfigError(
                f"lmbda must be strictly increasing (one λ per quality level); got {self.lmbda!r}"
            )
        if len(self.lmbda) > 255:
            raise ConfigError(f"lmbda can hold at most 255 quality levels; got {len(self.lmbda)}")
        check_choice("distortion", self.distortion, ("mse", "ms_ssim"))
        if not self.density_filters or not all(
            isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in self.density_filters
        ):
            raise ConfigError(
                f"density_filters must be a non-empty tuple of positive ints; got {self.density_filters!r}"
            )
        check_positive("density_init_scale", self.density_init_scale)
        check_range("tail_mass", self.tail_mass, 0.0, 0.01, inclusive=False)
        if isinstance(self.table_precision, bool) or not isinstance(self.table_precision, int):
            raise ConfigError(f"table_precision must be an int; got {self.table_precision!r}")
        check_range("table_precision", self.table_precision, 13, 22)

    @property
    def downsampling(self) -> int:
        """Factor by which the latent is smaller than the image along each axis."""
        return 2**self.n_stages


@dataclasses.dataclass(frozen=True)
class CodecOutput(AEOutput):
    """:class:`AEOutput` plus what the rate term needs.

    Attributes:
        y_hat: Noisy (training) or quantised (inference) latent ``(B, M, h, w)``.
        likelihoods: Probability of each latent element's bin ``(B, M, h, w)``.
        levels: Quality level of each sample ``(B,)``.
    """

    y_hat: Tensor = dataclasses.field(default_factory=lambda: torch.empty(0))
    likelihoods: Tensor = dataclasses.field(default_factory=lambda: torch.empty(0))
    levels: Tensor = dataclasses.field(default_factory=lambda: torch.empty(0, dtype=torch.long))


def _analysis(config: CodecConfig) -> nn.Sequential:
    channels, hidden, latent, k = (
        config.input_shape[0],
        config.hidden_channels,
        config.latent_channels,
        config.kernel_size,
    )
    layers: list[nn.Module] = []
    widths = [channels] + [hidden] * (config.n_stages - 1) + [latent]
    for i in range(config.n_stages):
        layers.append(nn.Conv2d(widths[i], widths[i + 1], k, stride=2, padding=k // 2))
        if i < config.n_stages - 1:
            layers.append(GDN(widths[i + 1]))
    return nn.Sequential(*layers)


def _synthesis(config: CodecConfig) -> nn.Sequential:
    channels, hidden, latent, k = (
        config.input_shape[0],
        config.hidden_channels,
        config.latent_channels,
        config.kernel_size,
    )
    layers: list[nn.Module] = []
    widths = [latent] + [hidden] * (config.n_stages - 1) + [channels]
    for i in range(config.n_stages):
        layers.append(
            nn.ConvTranspose2d(widths[i], widths[i + 1], k, stride=2, padding=k // 2, output_padding=1)
        )
        if i < config.n_stages - 1:
            layers.append(GDN(widths[i + 1], inverse=True))
    return nn.Sequential(*layers)


CodecConfigT = TypeVar("CodecConfigT", bound=CodecConfig, default=CodecConfig, covariant=True)
"""The config class of a codec family."""


class LevelledCodec(AbstractAutoencoder[CodecConfigT]):
    """What the learned codecs share: an analysis and a synthesis transform, quantisation steps ``Δ`` per
    quality level and latent channel (``log_steps``), and a quality level per sample as ``condition``
    (drawn uniformly by :meth:`prepare_batch`); the factorized ``density``'s quantiles train in their own
    ``aux`` group; both share the rate–distortion loss (:meth:`_rate_distortion`). Subclasses build
    ``analysis``, ``synthesis`` and ``density`` and call :meth:`_init_levels`."""

    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "bpp", "distortion", "aux")
    phases: ClassVar[tuple[Phase, ...]] = (Phase("main", "loss", "main"), Phase("aux", "aux", "aux"))
    analysis: nn.Module
    synthesis: nn.Module
    density: FactorizedDensity
    log_steps: nn.Parameter
    lmbda_values: Tensor

    @property
    def n_levels(self) -> int:
        """Number of quality levels (one per λ)."""
        return len(self.config.lmbda)

    @property
    def latent_channels(self) -> int:
        """Channels ``M`` of the spatial latent."""
        return self.config.latent_channels

    @property
    def latent_dim(self) -> int:
        _, height, width = self.config.input_shape
        factor = self.config.downsampling
        return self.config.latent_channels * (height // factor) * (width // factor)

    def steps(self) -> Tensor:
        """Quantisation steps ``Δ`` of shape ``(n_levels, M)``."""
        return torch.exp(self.log_steps)

    def _init_levels(self) -> None:
        """Register ``log_steps`` (``Δ_k ∝ λ_k^(-1/2)``, the high-rate optimum of D + λR; the top level
        starts at ``Δ = 1``) and the ``lmbda_values`` buffer."""
        lmbda = self.config.lmbda
        steps = torch.tensor([(lmbda[-1] / value) ** 0.5 for value in lmbda])
        self.log_steps = nn.Parameter(steps.log().view(len(lmbda), 1).repeat(1, self.config.latent_channels))
        self.register_buffer("lmbda_values", torch.tensor(lmbda, dtype=torch.float32), persistent=False)

    def _rate_distortion(self, bits: Tensor, x_hat: Tensor, target: Tensor, levels: Tensor) -> LossTerms:
        """The loss terms from each sample's coded ``bits`` ``(B,)``, its reconstruction and its level."""
        bpp = bits / (target.shape[-2] * target.shape[-1])
        if self.config.distortion == "mse":
            distortion = (x_hat.float() - target.float()).pow(2).flatten(1).mean(dim=1)
            weight = 255.0**2
        else:
            # float32 outside autocast: in bf16, σ² = E[x²] − μ² cancels to ≤ 0 and MS-SSIM blows up
            with torch.autocast(device_type=target.device.type, enabled=False):
                distortion = 1 - ms_ssim(x_hat.float(), target.float(), data_range=1.0)
            weight = 1.0
        lmbda = self.lmbda_values[levels]
        return {
            "loss": (bpp + lmbda * weight * distortion).mean(),
            "bpp": bpp.mean(),
            "distortion": distortion.mean(),
            "aux": self.density.aux_loss(),
        }

    def _levels(self, condition: Tensor | None, batch: int) -> Tensor:
        device = self.log_steps.device
        if condition is None:
            return torch.full((batch,), self.n_levels - 1, dtype=torch.long, device=device)
        if not isinstance(condition, Tensor) or condition.is_floating_point() or condition.is_complex():
            raise TypeError(f"condition must be an integer tensor of quality levels; got {condition!r:.60}")
        if condition.shape != (batch,):
            raise ShapeError(
                f"condition must have shape ({batch},) (one level per sample); got {tuple(condition.shape)}"
            )
        if bool(((condition < 0) | (condition >= self.n_levels)).any()):
            raise DataError(
                f"condition holds quality levels outside [0, {self.n_levels - 1}]: {condition.tolist()}"
            )
        return condition.to(device=device, dtype=torch.long)

    def encode_latent(self, x: Tensor) -> Tensor:
        """Analysis transform: images ``(B, C, H, W)`` with ``H, W`` multiples of ``downsampling`` →
        continuous latent ``y`` ``(B, M, H / downsampling, W / downsampling)``."""
        factor = self.config.downsampling
        if x.dim() != 4 or x.shape[1] != self.input_shape[0] or x.shape[-2] % factor or x.shape[-1] % factor:
            raise ShapeError(
                f"x must have shape (B, {self.input_shape[0]}, H, W) with H and W multiples of {factor}; "
                f"got {tuple(x.shape)}"
            )
        return self.analysis(x)

    def decode_latent(self, y_hat: Tensor) -> Tensor:
        """Synthesis transform: latent ``(B, M, h, w)`` → image ``(B, C, h·downsampling, w·downsampling)``."""
        if y_hat.dim() != 4 or y_hat.shape[1] != self.latent_channels:
            raise ShapeError(
                f"y_hat must have shape (B, {self.latent_channels}, h, w); got {tuple(y_hat.shape)}"
            )
        return self.synthesis(y_hat)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """Reconstruction ``(B, *input_shape)`` from flattened latents ``(B, latent_dim)``."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ShapeError(f"z must have shape (B, {self.latent_dim}); got {tuple(z.shape)}")
        _, height, width = self.input_shape
        factor = self.config.downsampling
        return self.synthesis(z.view(z.shape[0], self.latent_channels, height // factor, width // factor))

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """Inputs are their own target; draw a quality level per sample (uniform) as the condition."""
        inputs, _labels = batch
        device = generator.device if generator is not None else inputs.device
        levels = torch.randint(self.n_levels, (inputs.shape[0],), generator=generator, device=device)
        return inputs, inputs, levels.to(inputs.device)

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """``main``: transforms, steps and density shape; ``aux``: the density quantiles."""
        aux = [self.density.quantiles]
        main = [p for p in self.parameters() if p is not self.density.quantiles]
        return {"main": main, "aux": aux}


@register_model("codec")
class Codec(LevelledCodec[CodecConfig]):
    """Learned lossy image codec (Ballé, Laparra, Simoncelli, ICLR 2017) with several quality levels.

    ``x → analysis (conv + GDN) → y → quantise with step Δ[level] → ŷ → synthesis (deconv + IGDN) → x̂``.
    Training replaces rounding by additive uniform noise ``ŷ = y + Δ·u``, ``u ~ U(−½, ½)`` (from torch's
    default generator, like dropout; the trainer forks and seeds it). Each sample of a batch is trained at
    a quality level drawn in :meth:`prepare_batch`; the level travels as ``condition``.

    Loss per sample at level ``k`` (``B`` samples, ``H × W`` pixels):
    ``bpp = Σ −log2 P(ŷ) / (H·W)``; ``distortion = mse(x̂, x)`` (on [0, 1]) or ``1 − ms_ssim(x̂, x)``;
    ``loss = mean(bpp + λ_k · s · distortion)`` with ``s = 255²`` for mse and 1 for ms_ssim;
    ``aux = Σ |f(quantiles) − targets|`` (phase ``aux``, group ``aux``: the quantiles only).

    Before coding real bitstreams call :meth:`update_tables` once after training; it stores the integer
    probability tables as buffers, so they are saved with the weights and encoder and decoder use the very
    same integers on any machine.
    """

    config_class = CodecConfig
    cdf_tables: Tensor
    cdf_offsets: Tensor
    cdf_lengths: Tensor
    cdf_source: Tensor

    def __init__(self, config: CodecConfig) -> None:
        super().__init__(config)
        self.analysis = _analysis(config)
        self.synthesis = _synthesis(config)
        self.density = FactorizedDensity(
            config.latent_channels, config.density_filters, config.density_init_scale, config.tail_mass
        )
        self._init_levels()
        n_levels = self.n_levels
        self.register_buffer(
            "cdf_tables", torch.zeros(n_levels, config.latent_channels, 0, dtype=torch.int32)
        )
        self.register_buffer("cdf_offsets", torch.zeros(n_levels, config.latent_channels, dtype=torch.int32))
        self.register_buffer("cdf_lengths", torch.zeros(n_levels, config.latent_channels, dtype=torch.int32))
        self.register_buffer("cdf_source", torch.zeros(32, dtype=torch.uint8))

    def quantize_symbols(self, y: Tensor, level: int) -> Tensor:
        """Integer symbols ``round((y − median) / Δ[level])`` of a latent ``(B, M, h, w)`` (int64)."""
        steps, medians = self._grid(level, y)
        return torch.round((y - medians) / steps).to(torch.int64)

    def dequantize_symbols(self, symbols: Tensor, level: int) -> Tensor:
        """Latent ``ŷ = median + symbols · Δ[level]`` ``(B, M, h, w)`` from integer symbols."""
        steps, medians = self._grid(level, symbols)
        return medians + symbols.to(steps.dtype) * steps

    def _grid(self, level: int, like: Tensor) -> tuple[Tensor, Tensor]:
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level < self.n_levels:
            raise DataError(f"level must be an int in [0, {self.n_levels - 1}]; got {level!r}")
        if like.dim() != 4 or like.shape[1] != self.latent_channels:
            raise ShapeError(
                f"latent must have shape (B, {self.latent_channels}, h, w); got {tuple(like.shape)}"
            )
        steps = self.steps()[level].detach().view(1, -1, 1, 1)
        return steps, self.density.medians().view(1, -1, 1, 1)

    def _bottleneck(self, y: Tensor, levels: Tensor) -> tuple[Tensor, Tensor]:
        """Quantise (or add noise in training) per sample level; return ``ŷ`` and bin probabilities."""
        batch, channels, height, width = y.shape
        steps = self.steps()[levels].view(batch, channels, 1, 1)
        if self.training:
            noise = torch.rand(y.shape, dtype=y.dtype, device=y.device) - 0.5
            y_hat = y + steps * noise
        else:
            medians = self.density.medians().view(1, -1, 1, 1)
            y_hat = medians + torch.round((y - medians) / steps) * steps
        values = y_hat.permute(1, 0, 2, 3).reshape(channels, 1, -1)
        bin_steps = steps.expand(-1, -1, height, width).permute(1, 0, 2, 3).reshape(channels, 1, -1)
        probability = self.density.bin_probability(values, bin_steps)
        probability = lower_bound(probability, _LIKELIHOOD_BOUND)
        likelihoods = probability.reshape(channels, batch, height, width).permute(1, 0, 2, 3)
        return y_hat, likelihoods

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Quantised latent at each sample's level (default: the top level), flattened ``(B, latent_dim)``."""
        self.check_input(x)
        levels = self._levels(condition, x.shape[0])
        y = self.analysis(x)
        steps = self.steps()[levels].view(x.shape[0], -1, 1, 1)
        medians = self.density.medians().view(1, -1, 1, 1)
        return (medians + torch.round((y - medians) / steps) * steps).flatten(1)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> CodecOutput:
        """Run analysis, bottleneck and synthesis; ``condition`` = quality level per sample ``(B,)``."""
        self.check_input(x)
        levels = self._levels(condition, x.shape[0])
        y = self.analysis(x)
        y_hat, likelihoods = self._bottleneck(y, levels)
        x_hat = self.synthesis(y_hat)
        return CodecOutput(
            x_hat=x_hat, z=y_hat.flatten(1), y_hat=y_hat, likelihoods=likelihoods, levels=levels
        )

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """Rate + λ·distortion per sample at its level, and the entropy model's aux loss (see class doc)."""
        if not isinstance(output, CodecOutput):
            raise TypeError(f"output must be a CodecOutput from Codec.forward; got {type(output).__name__}")
        bits = -torch.log2(output.likelihoods).flatten(1).sum(dim=1)
        return self._rate_distortion(bits, output.x_hat, target, output.levels)

    # -- integer probability tables ---------------------------------------------------------------

    def _table_source_digest(self) -> bytes:
        """SHA-256 of every parameter the tables depend on (stale-table detection)."""
        digest = hashlib.sha256()
        sources = [*self.density.matrices, *self.density.biases, *self.density.factors]
        sources += [self.density.quantiles, self.log_steps]
        for tensor in sources:
            raw = tensor.detach().to("cpu", torch.float32).contiguous().flatten().view(torch.uint8)
            digest.update(bytes(raw.tolist()))
        digest.update(repr((self.config.table_precision, self.config.tail_mass)).encode())
        return digest.digest()

    @property
    def tables_ready(self) -> bool:
        """Whether :meth:`update_tables` has run since the entropy model last changed."""
        if self.cdf_tables.shape[-1] == 0:
            return False
        return bytes(self.cdf_source.tolist()) == self._table_source_digest()

    @torch.no_grad()
    def update_tables(self) -> None:
        """Compute the integer probability tables of every level and channel, in float64.

        For level ``k`` and channel ``c`` the symbols are ``q ∈ [offset, offset + length)`` with
        ``P(q) = c(μ + qΔ + Δ/2) − c(μ + qΔ − Δ/2)`` over the range holding all but ``tail_mass``; one
        extra escape symbol takes the remaining mass. Probabilities are rounded to integers summing to
        ``2 ** table_precision``, each at least 1, so every symbol stays codable.
        """
        precision = self.config.table_precision
        steps = self.steps().detach().to(torch.float64)
        tables, offsets, lengths = [], [], []
        for level in range(self.n_levels):
            frequencies, first, length = self.density.integer_tables(
                steps[level], precision, _MAX_TABLE_SYMBOLS
            )
            tables.append(frequencies)
            offsets.append(first)
            lengths.append(length)
        width = max(t.shape[1] for t in tables)
        self.cdf_tables = torch.stack([F.pad(t, (0, width - t.shape[1])) for t in tables]).to(torch.int32)
        self.cdf_offsets = torch.stack(offsets).to(torch.int32)
        self.cdf_lengths = torch.stack(lengths).to(torch.int32)
        self.cdf_source = torch.tensor(list(self._table_source_digest()), dtype=torch.uint8)

    def _load_from_state_dict(
        self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        # The table width depends on the trained densities, so size the buffer from the file first.
        key = prefix + "cdf_tables"
        if key in state_dict and state_dict[key].dim() == 3:
            self.cdf_tables = torch.zeros_like(state_dict[key], dtype=torch.int32)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
