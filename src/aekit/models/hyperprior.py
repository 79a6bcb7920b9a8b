"""The mean-scale hyperprior codec: a learned image codec whose latents are coded with a Gaussian whose
mean and scale are predicted, per element, from a small side stream (the hyper-latent).

Ballé, Minnen, Singh, Hwang, Johnston, "Variational image compression with a scale hyperprior", ICLR 2018;
with the predicted means of Minnen, Ballé, Toderici, "Joint autoregressive and hierarchical priors for
learned image compression", NeurIPS 2018, *without* the serial autoregressive context (so decoding stays
parallel).

``x → analysis (conv + GDN) → y``; at quality level ``k`` the latent is scaled, ``u = y / Δ[k]`` (one
learned step per level and channel, as in :class:`~aekit.models.compression.Codec`);
``u → hyper-analysis → z → ẑ`` (coded with the factorized density);
``ẑ → hyper-synthesis → (μ, log σ)``; ``û = round(u − μ) + μ`` is coded with a discretised
``N(0, σ²)`` on ``round(u − μ)``; ``x̂ = synthesis(û · Δ[k])``.

**Bit-exact decoding.** The probabilities of the main latents depend on the hyper-synthesis outputs, so
the decoder must compute *exactly* what the encoder computed. Floating-point convolutions do not: their
sums are ordered differently by thread count, CPU type and device, so a scale or mean can land one
rounding step apart, and the arithmetic decoder then desynchronises. After training,
:meth:`HyperpriorCodec.update_tables` therefore converts the hyper-synthesis into an *integer network*
(fixed-point weights, biases and activations; Ballé, Johnston, Minnen, "Integer networks for data
compression with latent-variable models", ICLR 2019, here by post-training quantisation). The coding path
evaluates it in float64 on integer values: every product and partial sum is an integer below ``2 ** 53``
(checked from the weights when the network is built), so float64 holds it exactly and *any* summation
order (threads, SIMD width, BLAS, GPU) gives the same bits. Its outputs are then integers: the mean on a
grid of ``1 / 2 ** ACTIVATION_BITS`` and the log-scale, which selects one of ``n_scales`` fixed Gaussian
tables by integer comparison with stored thresholds. The integer tables, thresholds and weights are saved
with the model, so encoder and decoder use the same integers on any machine. Only the synthesis
transform (latent to pixels) stays in floating point; its rounding may move a pixel by one level.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aekit.config import check_positive, check_range
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models.base import AEOutput, LossTerms
from aekit.models.compression import CodecConfig, LevelledCodec, _analysis, _synthesis
from aekit.models.registry import register_model
from aekit.nn.entropy import FactorizedDensity, gaussian_likelihood, gaussian_tables, log_scale_table
from aekit.nn.gdn import lower_bound

__all__ = [
    "ACTIVATION_BITS",
    "HyperpriorCodec",
    "HyperpriorCodecConfig",
    "HyperpriorOutput",
    "IntegerHyperSynthesis",
]

_LIKELIHOOD_BOUND = 1e-9
_MAX_TABLE_SYMBOLS = 4096
ACTIVATION_BITS = 8
"""Fraction bits of the integer hyper-synthesis activations and outputs (mean grid ``1/256``)."""
_ACTIVATION_LIMIT = float(1 << 24)
_EXACT_LIMIT = float(1 << 52)


@dataclasses.dataclass(frozen=True)
class HyperpriorCodecConfig(CodecConfig):
    """Configuration of :class:`HyperpriorCodec`: :class:`~aekit.models.compression.CodecConfig` plus
    the hyperprior.

    Attributes:
        input_shape: ``(C, H, W)`` of the training crops; ``H`` and ``W`` must be multiples of
            ``2 ** (n_stages + 2)`` (the hyper-latent is 4× smaller than the latent per axis).
        hyper_channels: Channels of the hyper-latent ``z`` (and of the hyper-transforms' hidden layers).
        scale_min, scale_max, n_scales: The fixed table of Gaussian scales (log-spaced) the coder picks
            from; smaller predicted scales use ``scale_min``.
        (other fields as :class:`~aekit.models.compression.CodecConfig`; ``density_*`` configure the
        factorized density of ``z``, ``lmbda`` the quality levels.)
    """

    input_shape: tuple[int, ...] = (3, 128, 128)
    lmbda: tuple[float, ...] = (0.0018, 0.0035, 0.0067, 0.013, 0.025, 0.0483, 0.0932, 0.18)
    hyper_channels: int = 64
    scale_min: float = 0.11
    scale_max: float = 256.0
    n_scales: int = 64

    def validate(self) -> None:
        super().validate()
        if isinstance(self.hyper_channels, bool) or not isinstance(self.hyper_channels, int):
            raise ConfigError(f"hyper_channels must be an int; got {self.hyper_channels!r}")
        check_positive("hyper_channels", self.hyper_channels)
        factor = 2 ** (self.n_stages + 2)
        _, height, width = self.input_shape
        if height % factor or width % factor:
            raise ConfigError(
                f"input_shape H and W must be multiples of 2 ** (n_stages + 2) = {factor}; "
                f"got {self.input_shape!r}"
            )
        check_positive("scale_min", self.scale_min)
        if not self.scale_max > self.scale_min:
            raise ConfigError(f"scale_max must exceed scale_min; got {self.scale_max} ≤ {self.scale_min}")
        if isinstance(self.n_scales, bool) or not isinstance(self.n_scales, int):
            raise ConfigError(f"n_scales must be an int; got {self.n_scales!r}")
        check_range("n_scales", self.n_scales, 2, 1024)


@dataclasses.dataclass(frozen=True)
class HyperpriorOutput(AEOutput):
    """:class:`AEOutput` plus what the rate term needs.

    Attributes:
        y_hat: Quantised (or noisy) latent ``(B, M, h, w)`` fed to the synthesis.
        likelihoods: Probability of each latent element's bin ``(B, M, h, w)``.
        hyper_likelihoods: Probability of each hyper-latent element's bin ``(B, Mz, h/4, w/4)``.
        levels: Quality level of each sample ``(B,)``.
    """

    y_hat: Tensor = dataclasses.field(default_factory=lambda: torch.empty(0))
    likelihoods: Tensor = dataclasses.field(default_factory=lambda: torch.empty(0))
    hyper_likelihoods: Tensor = dataclasses.field(default_factory=lambda: torch.empty(0))
    levels: Tensor = dataclasses.field(default_factory=lambda: torch.empty(0, dtype=torch.long))


def _hyper_analysis(config: HyperpriorCodecConfig) -> nn.Sequential:
    latent, hyper = config.latent_channels, config.hyper_channels
    return nn.Sequential(
        nn.Conv2d(latent, hyper, 3, padding=1),
        nn.LeakyReLU(),
        nn.Conv2d(hyper, hyper, 5, stride=2, padding=2),
        nn.LeakyReLU(),
        nn.Conv2d(hyper, hyper, 5, stride=2, padding=2),
    )


def _hyper_synthesis(config: HyperpriorCodecConfig) -> nn.Sequential:
    latent, hyper = config.latent_channels, config.hyper_channels
    middle = (hyper + 2 * latent) // 2
    return nn.Sequential(
        nn.ConvTranspose2d(hyper, hyper, 5, stride=2, padding=2, output_padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(hyper, middle, 5, stride=2, padding=2, output_padding=1),
        nn.ReLU(),
        nn.Conv2d(middle, 2 * latent, 3, padding=1),
    )


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor) -> Tensor:
        return torch.round(x)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: Tensor) -> Tensor:
        return grad


class IntegerHyperSynthesis:
    """The hyper-synthesis as an exact integer network (see the module docstring).

    Each layer ``l`` holds integer weights ``W_l = round(w · 2**F_l)`` and biases
    ``B_l = round(b · 2**(A + F_l))``; with integer activations ``a`` (value ``a / 2**A``) it computes
    ``floor((conv(a, W_l) + B_l + 2**(F_l − 1)) / 2**F_l)`` then ReLU (hidden layers), clamping activations
    to ``±2**24``. ``F_l`` is the largest value ≤ 16 for which ``2**24 · max Σ|W_l| + max|B_l| < 2**52``,
    so every partial sum of every output is an exactly representable float64 integer.

    Convolutions are evaluated as ``unfold`` + matrix product (transposed ones after zero insertion), so
    no transform-based algorithm (Winograd, FFT) that would break exactness is ever selected.
    """

    def __init__(self, weights: list[Tensor], biases: list[Tensor], shifts: list[int]) -> None:
        self.weights = weights
        self.biases = biases
        self.shifts = shifts

    @staticmethod
    def from_float(module: nn.Sequential) -> IntegerHyperSynthesis:
        """Quantise a float hyper-synthesis (``ConvTranspose2d, ReLU, ConvTranspose2d, ReLU, Conv2d``)."""
        weights, biases, shifts = [], [], []
        for layer in module:
            if not isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
                continue
            w = layer.weight.detach().to("cpu", torch.float64)
            if isinstance(layer, nn.ConvTranspose2d):  # to the equivalent stride-1 kernel (out, in, k, k)
                w = w.transpose(0, 1).flip(-1, -2)
            bias = layer.bias
            b = (
                torch.zeros(w.shape[0], dtype=torch.float64)
                if bias is None
                else bias.detach().to("cpu", torch.float64)
            )
            for shift in range(16, -1, -1):
                w_int = torch.round(w * 2.0**shift)
                b_int = torch.round(b * 2.0 ** (ACTIVATION_BITS + shift))
                worst = _ACTIVATION_LIMIT * float(w_int.abs().flatten(1).sum(1).max()) + float(
                    b_int.abs().max()
                )
                worst += 2.0**shift
                if worst < _EXACT_LIMIT:
                    break
            else:  # pragma: no cover - needs weights around 2**28
                raise DataError("the hyper-synthesis weights are too large for an exact integer network")
            weights.append(w_int.to(torch.int32))
            biases.append(b_int.to(torch.int64))
            shifts.append(shift)
        return IntegerHyperSynthesis(weights, biases, shifts)

    def __call__(self, z_int: Tensor) -> Tensor:
        """Integer-valued float64 ``(B, 2M, 4h, 4w)`` outputs (value ``/ 2**A``) from integer inputs
        ``z_int`` ``(B, Mz, h, w)`` (value ``/ 2**A``)."""
        x = z_int.to(torch.float64)
        n = len(self.weights)
        for i, (w, b, shift) in enumerate(zip(self.weights, self.biases, self.shifts, strict=True)):
            weight = w.to(device=x.device, dtype=torch.float64)
            k = weight.shape[-1]
            if i < n - 1:  # transposed stride-2 layer: zero insertion, then a stride-1 convolution
                batch, channels, height, width = x.shape
                up = x.new_zeros(batch, channels, 2 * height, 2 * width)
                up[:, :, ::2, ::2] = x
                x = F.pad(up, (k // 2, k // 2, k // 2, k // 2))
            else:
                x = F.pad(x, (k // 2,) * 4)
            batch, _, height, width = x.shape
            out_h, out_w = height - k + 1, width - k + 1
            columns = F.unfold(x, k)  # (B, C·k·k, out_h·out_w), a copy: exact
            acc = torch.matmul(weight.reshape(weight.shape[0], -1), columns)
            acc = acc + b.to(device=x.device, dtype=torch.float64).view(1, -1, 1)
            x = torch.floor((acc + 2.0 ** (shift - 1)) / 2.0**shift) if shift else acc
            x = x.clamp(-_ACTIVATION_LIMIT, _ACTIVATION_LIMIT).view(batch, -1, out_h, out_w)
            if i < n - 1:
                x = torch.relu(x)
        return x


@register_model("codec_hyperprior")
class HyperpriorCodec(LevelledCodec[HyperpriorCodecConfig]):
    """Learned image codec with a mean-scale hyperprior and several quality levels (see module doc).

    Training: additive uniform noise for the rates of ``u`` and ``z`` (from torch's default generator,
    forked and seeded by the trainer); the synthesis sees ``round(u − μ) + μ`` with a straight-through
    gradient (Minnen & Singh 2020), the decoder's actual input. Each sample is trained at a quality level
    drawn in :meth:`prepare_batch`.

    Loss per sample at level ``k``: ``bpp = (Σ −log2 P(û|ẑ) + Σ −log2 P(ẑ)) / (H·W)``;
    ``loss = mean(bpp + λ_k · s · distortion)`` (``s = 255²`` for mse, 1 for ms_ssim);
    ``aux`` = the factorized density's quantile loss (phase ``aux``, group ``aux``).

    Call :meth:`update_tables` once after training (and before saving): it builds the integer tables
    and the integer hyper-synthesis that the coding path uses.
    """

    config_class = HyperpriorCodecConfig
    z_tables: Tensor
    z_offsets: Tensor
    z_lengths: Tensor
    scale_tables: Tensor
    scale_offsets: Tensor
    scale_lengths: Tensor
    scale_thresholds: Tensor
    table_source: Tensor
    int_weights_0: Tensor
    int_weights_1: Tensor
    int_weights_2: Tensor
    int_biases_0: Tensor
    int_biases_1: Tensor
    int_biases_2: Tensor
    int_shifts: Tensor
    _TABLE_BUFFERS: ClassVar[tuple[str, ...]] = (
        "z_tables",
        "z_offsets",
        "z_lengths",
        "scale_tables",
        "scale_offsets",
        "scale_lengths",
        "scale_thresholds",
        "int_weights_0",
        "int_weights_1",
        "int_weights_2",
        "int_biases_0",
        "int_biases_1",
        "int_biases_2",
        "int_shifts",
    )

    def __init__(self, config: HyperpriorCodecConfig) -> None:
        super().__init__(config)
        self.analysis = _analysis(config)
        self.synthesis = _synthesis(config)
        self.hyper_analysis = _hyper_analysis(config)
        self.hyper_synthesis = _hyper_synthesis(config)
        self.density = FactorizedDensity(
            config.hyper_channels, config.density_filters, config.density_init_scale, config.tail_mass
        )
        self._init_levels()
        for name in self._TABLE_BUFFERS:
            dtype = (
                torch.int64 if "biases" in name or "thresholds" in name or "shifts" in name else torch.int32
            )
            self.register_buffer(name, torch.zeros(0, dtype=dtype))
        self.register_buffer("table_source", torch.zeros(32, dtype=torch.uint8))

    def check_level(self, level: int) -> int:
        """``level`` as an int after checking it names a quality level."""
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level < self.n_levels:
            raise DataError(f"level must be an int in [0, {self.n_levels - 1}]; got {level!r}")
        return level

    # -- transforms -------------------------------------------------------------------------------

    def _hyper_parameters(self, z_hat: Tensor, height: int, width: int) -> tuple[Tensor, Tensor]:
        """Float means and scales ``(B, M, height, width)`` from ``ẑ`` (training and evaluation path)."""
        params = self.hyper_synthesis(z_hat)[:, :, :height, :width]
        means, log_scales = params.chunk(2, dim=1)
        scales = lower_bound(
            torch.exp(log_scales.clamp(max=math.log(self.config.scale_max))), self.config.scale_min
        )
        return means, scales

    @staticmethod
    def _pad4(u: Tensor) -> Tensor:
        pad_h, pad_w = -u.shape[-2] % 4, -u.shape[-1] % 4
        return F.pad(u, (0, pad_w, 0, pad_h)) if pad_h or pad_w else u

    def forward(self, x: Tensor, condition: Tensor | None = None) -> HyperpriorOutput:
        """Analysis, hyperprior, bottleneck and synthesis; ``condition`` = quality level per sample."""
        self.check_input(x)
        levels = self._levels(condition, x.shape[0])
        y = self.analysis(x)
        batch, channels, height, width = y.shape
        steps = self.steps()[levels].view(batch, channels, 1, 1)
        u = y / steps
        z = self.hyper_analysis(self._pad4(u))
        medians = self.density.medians().view(1, -1, 1, 1)
        z_hat = z + torch.rand_like(z) - 0.5 if self.training else torch.round(z - medians) + medians
        hyper_channels = z.shape[1]
        values = z_hat.permute(1, 0, 2, 3).reshape(hyper_channels, 1, -1)
        z_likelihoods = lower_bound(self.density.bin_probability(values, 1.0), _LIKELIHOOD_BOUND)
        z_likelihoods = z_likelihoods.reshape(hyper_channels, batch, *z.shape[-2:]).permute(1, 0, 2, 3)
        means, scales = self._hyper_parameters(z_hat, height, width)
        if self.training:
            noisy = u + torch.rand_like(u) - 0.5
            likelihoods = gaussian_likelihood(noisy, means, scales)
            u_hat = _RoundSTE.apply(u - means) + means
        else:
            u_hat = torch.round(u - means) + means
            likelihoods = gaussian_likelihood(u_hat, means, scales)
        likelihoods = lower_bound(likelihoods, _LIKELIHOOD_BOUND)
        y_hat = u_hat * steps
        x_hat = self.synthesis(y_hat)
        return HyperpriorOutput(
            x_hat=x_hat,
            z=y_hat.flatten(1),
            y_hat=y_hat,
            likelihoods=likelihoods,
            hyper_likelihoods=z_likelihoods,
            levels=levels,
        )

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Quantised latent at each sample's level (default: the top level), flattened ``(B, latent_dim)``."""
        was_training = self.training
        self.eval()
        try:
            return self.forward(x, condition).y_hat.flatten(1)
        finally:
            self.train(was_training)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """Rate + λ·distortion per sample at its level, and the density's aux loss (see class doc)."""
        if not isinstance(output, HyperpriorOutput):
            raise TypeError(
                f"output must be a HyperpriorOutput from HyperpriorCodec.forward; got {type(output).__name__}"
            )
        bits = -torch.log2(output.likelihoods).flatten(1).sum(dim=1)
        bits = bits - torch.log2(output.hyper_likelihoods).flatten(1).sum(dim=1)
        return self._rate_distortion(bits, output.x_hat, target, output.levels)

    # -- the exact coding path --------------------------------------------------------------------

    def _integer_synthesis(self) -> IntegerHyperSynthesis:
        return IntegerHyperSynthesis(
            [self.int_weights_0, self.int_weights_1, self.int_weights_2],
            [self.int_biases_0, self.int_biases_1, self.int_biases_2],
            [int(s) for s in self.int_shifts.tolist()],
        )

    def hyper_encode(self, y: Tensor, level: int) -> tuple[Tensor, Tensor]:
        """Scaled latent ``u = y / Δ[level]`` and the integer hyper-latent symbols ``round(z − median)``
        of a latent ``(1, M, h, w)`` (encoder side; floating point)."""
        level = self.check_level(level)
        if y.dim() != 4 or y.shape[1] != self.latent_channels:
            raise ShapeError(
                f"latent must have shape (B, {self.latent_channels}, h, w); got {tuple(y.shape)}"
            )
        u = y / self.steps()[level].detach().view(1, -1, 1, 1)
        z = self.hyper_analysis(self._pad4(u))
        medians = self.density.medians().view(1, -1, 1, 1)
        return u, torch.round(z - medians).to(torch.int64)

    def hyper_decode(self, z_symbols: Tensor, height: int, width: int) -> tuple[Tensor, Tensor]:
        """Means and scale-table indices ``(B, M, height, width)`` of the latent from the hyper-latent
        symbols, computed exactly (the same integers on every machine; see the module docstring).

        Returns:
            ``(means float64 on the 1/2**A grid, indices int64 into the scale tables)``.
        """
        if not self.tables_ready:
            raise DataError("the codec's integer tables are missing or stale; call update_tables()")
        medians = self.density.medians().to(torch.float64).view(1, -1, 1, 1).to(z_symbols.device)
        z_int = torch.round((z_symbols.to(torch.float64) + medians) * 2.0**ACTIVATION_BITS)
        out = self._integer_synthesis()(z_int)[:, :, :height, :width]
        mean_int, log_scale_int = out.chunk(2, dim=1)
        thresholds = self.scale_thresholds.to(device=out.device, dtype=torch.float64)
        indices = torch.searchsorted(thresholds, log_scale_int.contiguous(), right=True)
        return mean_int / 2.0**ACTIVATION_BITS, indices

    def quantize_latent(self, u: Tensor, means: Tensor) -> Tensor:
        """Symbols ``round(u − μ̂)`` (int64) of the scaled latent given the exact means."""
        return torch.round(u.to(torch.float64) - means).to(torch.int64)

    def dequantize_latent(self, symbols: Tensor, means: Tensor, level: int) -> Tensor:
        """Latent ``ŷ = (symbols + μ̂) · Δ[level]`` (float32) for the synthesis."""
        level = self.check_level(level)
        u_hat = (symbols.to(torch.float64) + means).to(torch.float32)
        return u_hat * self.steps()[level].detach().view(1, -1, 1, 1).to(u_hat.device)

    # -- integer tables ---------------------------------------------------------------------------

    def _table_source_digest(self) -> bytes:
        """SHA-256 of every parameter the tables and the integer network depend on."""
        digest = hashlib.sha256()
        sources = [*self.density.parameters(), *self.hyper_synthesis.parameters()]
        for tensor in sources:
            raw = tensor.detach().to("cpu", torch.float32).contiguous().flatten().view(torch.uint8)
            digest.update(raw.numpy().tobytes())
        config = self.config
        digest.update(
            repr(
                (
                    config.table_precision,
                    config.tail_mass,
                    config.scale_min,
                    config.scale_max,
                    config.n_scales,
                    ACTIVATION_BITS,
                )
            ).encode()
        )
        return digest.digest()

    @property
    def tables_ready(self) -> bool:
        """Whether :meth:`update_tables` has run since the entropy model or hyper-synthesis changed."""
        if self.scale_tables.numel() == 0:
            return False
        return bytes(self.table_source.tolist()) == self._table_source_digest()

    @torch.no_grad()
    def update_tables(self) -> None:
        """Build the integer tables of ``z`` and of the Gaussian scales, the scale thresholds and the
        integer hyper-synthesis, all in float64 then integers (see the module docstring)."""
        config = self.config
        precision = config.table_precision
        frequencies, offsets, lengths = self.density.integer_tables(
            torch.ones(config.hyper_channels, dtype=torch.float64), precision, _MAX_TABLE_SYMBOLS
        )
        self.z_tables = frequencies.to(torch.int32)
        self.z_offsets = offsets.to(torch.int32)
        self.z_lengths = lengths.to(torch.int32)
        scales = log_scale_table(config.scale_min, config.scale_max, config.n_scales)
        frequencies, offsets, lengths = gaussian_tables(
            scales, config.tail_mass, precision, _MAX_TABLE_SYMBOLS
        )
        self.scale_tables = frequencies.to(torch.int32)
        self.scale_offsets = offsets.to(torch.int32)
        self.scale_lengths = lengths.to(torch.int32)
        logs = torch.log(scales)
        middles = (logs[1:] + logs[:-1]) / 2
        self.scale_thresholds = torch.round(middles * 2.0**ACTIVATION_BITS).to(torch.int64)
        network = IntegerHyperSynthesis.from_float(self.hyper_synthesis)
        for i in range(3):
            setattr(self, f"int_weights_{i}", network.weights[i].to(self.log_steps.device))
            setattr(self, f"int_biases_{i}", network.biases[i].to(self.log_steps.device))
        self.int_shifts = torch.tensor(network.shifts, dtype=torch.int64)
        for name in self._TABLE_BUFFERS:
            setattr(self, name, getattr(self, name).to(self.log_steps.device))
        self.table_source = torch.tensor(list(self._table_source_digest()), dtype=torch.uint8)

    def _load_from_state_dict(
        self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        # Table and integer-network shapes depend on the trained model: size the buffers from the file.
        for name in self._TABLE_BUFFERS:
            key = prefix + name
            if key in state_dict and isinstance(state_dict[key], Tensor):
                setattr(self, name, torch.zeros_like(state_dict[key], dtype=getattr(self, name).dtype))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
