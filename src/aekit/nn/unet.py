"""The U-Net: an encoder–decoder with skip connections, fully convolutional or with a code in the middle.

Ronneberger et al., "U-Net", MICCAI 2015 (encoder–decoder with skip connections); Zhang et al., "FFDNet",
TIP 2018 (working on a pixel-unshuffled image, which makes every convolution four times cheaper and the
receptive field twice as large); Badrinarayanan et al., "SegNet", TPAMI 2017 (the same network without
skips).

Two ways down, one class:

* fully convolutional (the default; the photo denoiser and inpainter): each level halves the resolution
  with a 2×2 stride-2 convolution and the decoder doubles it with a 2×2 transposed convolution (kernel =
  stride, so no checkerboard overlap); any ``H`` and ``W`` that are multiples of :attr:`UNet.size_multiple`;
* planned for one image size (``input_size``; the segmentation and mask-aware inpainting models): 3×3
  stride-2 stages for exactly that size, odd sizes included, the stages the image does not fit dropped,
  and optionally a linear code of ``code_dim`` values at the bottom (``encode`` of those models).

Skips add the encoder's features of the same level to the decoder's (``add``), join them as channels
(``concat``) or are left out (``none``).
"""

from __future__ import annotations

import itertools
import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aekit.errors import ShapeError
from aekit.nn.backbone import fitting_channels
from aekit.nn.layers import make_activation
from aekit.nn.shapes import ConvStage, plan_conv_stages

__all__ = ["Skip", "UNet", "earlier_code_unet_names", "pad_to_multiple", "plan_unet_stages"]


def pad_to_multiple(x: Tensor, multiple: int) -> Tensor:
    """Pad images ``(…, H, W)`` at the bottom and right to multiples of ``multiple``: mirrored where
    the image is larger than the padding, repeated edge pixels otherwise; crop with ``[..., :H, :W]``."""
    height, width = x.shape[-2:]
    pad_h, pad_w = -height % multiple, -width % multiple
    if not (pad_h or pad_w):
        return x
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)


Skip = Literal["add", "concat", "none"]


def plan_unet_stages(
    channels: tuple[int, ...], input_size: tuple[int, int], unshuffle: int = 1
) -> list[ConvStage]:
    """The 3×3 stride-2 stages of a U-Net planned for images of ``input_size``: from the first level's
    ``channels[0]`` maps, one stage per further entry the image fits (see :func:`fitting_channels`)."""
    shape = (channels[0], input_size[0] // unshuffle, input_size[1] // unshuffle)
    return plan_conv_stages(shape, fitting_channels(shape, channels[1:]))


def earlier_code_unet_names(attribute: str, tail: str) -> dict[str, str]:
    """Old → new weight-name prefixes of a model whose planned U-Net with a code is ``attribute``, for
    folders saved when the model built the same layers itself (``stem``, ``down``, ``to_latent``,
    ``from_latent``, ``up``, ``merge`` and ``tail``, the name of its last convolution)."""
    old = {"stem": "head", "down": "downs", "to_latent": "to_code", "from_latent": "from_code"}
    old |= {"up": "ups", "merge": "decoders"}
    names = {f"{before}.": f"{attribute}.{after}." for before, after in old.items()}
    return {**names, f"{tail}.": f"{attribute}.tail."}


def _activation(name: str) -> nn.Module:
    return nn.ReLU(inplace=True) if name == "relu" else make_activation(name)


def _conv_block(
    n_in: int, n_out: int, n_convs: int, activation: str = "relu", batch_norm: bool = False
) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index in range(n_convs):
        layers.append(nn.Conv2d(n_in if index == 0 else n_out, n_out, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(n_out))
        layers.append(_activation(activation))
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """Images ``(B, in_channels, H, W)`` → maps ``(B, out_channels, H, W)``.

    Args:
        in_channels: Channels of the input image.
        out_channels: Channels of the output map (no activation on it).
        channels: Feature width of each level, finest first (one level per entry).
        convs_per_block: 3×3 convolutions (each followed by the activation) of the first level and of each
            decoder level.
        unshuffle: Pixel-unshuffle factor applied first (1 = none); the output is shuffled back.
        input_size: ``(H, W)`` to plan 3×3 stride-2 stages for (any size; the levels the image does not
            fit are dropped); None for the fully convolutional 2×2 stages.
        skip: ``add``, ``concat`` or ``none`` (see the module docstring).
        code_dim: Size of a linear code between the bottom of the U and the decoder (needs ``input_size``);
            None for none.
        activation: Hidden activation.
        batch_norm: Batch normalisation after each convolution.
        encoder_convs: 3×3 convolutions after each strided stage of the encoder (default
            ``convs_per_block``).
        tail_kernel: Kernel size (odd) of the last convolution, to the output channels.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        channels: tuple[int, ...] = (64, 128, 256),
        convs_per_block: int = 2,
        unshuffle: int = 2,
        *,
        input_size: tuple[int, int] | None = None,
        skip: Skip = "add",
        code_dim: int | None = None,
        activation: str = "relu",
        batch_norm: bool = False,
        encoder_convs: int | None = None,
        tail_kernel: int = 3,
    ) -> None:
        super().__init__()
        if code_dim is not None and input_size is None:
            raise ValueError("a U-Net with a code needs input_size (the code layer's width depends on it)")
        self.unshuffle = unshuffle
        self.out_channels = out_channels
        self.skip: Skip = skip
        self.code_dim = code_dim
        self.input_size = input_size
        encoder_convs = convs_per_block if encoder_convs is None else encoder_convs
        packed = in_channels * unshuffle**2
        self.stages: list[ConvStage] = []
        if input_size is None:
            pairs = list(itertools.pairwise(channels))
        else:
            self.stages = plan_unet_stages(channels, input_size, unshuffle)
            pairs = [(stage.in_channels, stage.out_channels) for stage in self.stages]
        # Built in this order so seeded weights stay what they were before the U-Nets were one class.
        self.head = _conv_block(packed, channels[0], convs_per_block, activation, batch_norm)
        if input_size is None:
            self.downs = nn.ModuleList(
                nn.Sequential(nn.Conv2d(a, b, 2, stride=2), _activation(activation)) for a, b in pairs
            )
        else:
            self.downs = nn.ModuleList(
                self._planned_down(stage, activation, batch_norm) for stage in self.stages
            )
        self.encoders = nn.ModuleList(
            _conv_block(b, b, encoder_convs, activation, batch_norm) for _a, b in pairs
        )
        if code_dim is not None:
            last = self.stages[-1]
            self.map_shape = (last.out_channels, *last.out_size)
            flat = math.prod(self.map_shape)
            self.to_code = nn.Linear(flat, code_dim)
            self.from_code = nn.Sequential(nn.Linear(code_dim, flat), make_activation(activation))
        # The planned U-Net builds each level's up-convolution and decoder block together, as its
        # earlier copies did (the same seeded weights).
        ups: list[nn.Module] = []
        decoders: list[nn.Module] = []
        for index, (a, b) in enumerate(reversed(pairs)):
            if input_size is None:
                ups.append(nn.ConvTranspose2d(b, a, 2, stride=2))
            else:
                stage = self.stages[-1 - index]
                ups.append(
                    nn.ConvTranspose2d(
                        b,
                        a,
                        stage.kernel_size,
                        stage.stride,
                        stage.padding,
                        output_padding=stage.output_padding,
                    )
                )
                decoders.append(self._decoder_block(a, skip, convs_per_block, activation, batch_norm))
        if input_size is None:
            decoders = [
                self._decoder_block(a, skip, convs_per_block, activation, batch_norm)
                for a, _b in reversed(pairs)
            ]
        self.ups = nn.ModuleList(ups)
        self.decoders = nn.ModuleList(decoders)
        self.tail = nn.Conv2d(channels[0], out_channels * unshuffle**2, tail_kernel, padding=tail_kernel // 2)

    @staticmethod
    def _decoder_block(
        width: int, skip: Skip, n_convs: int, activation: str, batch_norm: bool
    ) -> nn.Sequential:
        return _conv_block(2 * width if skip == "concat" else width, width, n_convs, activation, batch_norm)

    @staticmethod
    def _planned_down(stage: ConvStage, activation: str, batch_norm: bool) -> nn.Sequential:
        layers: list[nn.Module] = [
            nn.Conv2d(stage.in_channels, stage.out_channels, stage.kernel_size, stage.stride, stage.padding)
        ]
        if batch_norm:
            layers.append(nn.BatchNorm2d(stage.out_channels))
        layers.append(_activation(activation))
        return nn.Sequential(*layers)

    @property
    def size_multiple(self) -> int:
        """Height and width of inputs must be multiples of this (fully convolutional U-Nets)."""
        if self.input_size is not None:
            return self.unshuffle
        return self.unshuffle * 2 ** len(self.downs)

    def features(self, x: Tensor) -> list[Tensor]:
        """Encoder features of every level, finest first (the last is the bottom of the U)."""
        multiple = self.size_multiple
        if x.dim() != 4 or x.shape[-2] % multiple or x.shape[-1] % multiple:
            raise ShapeError(
                f"the U-Net needs (B, C, H, W) with H and W multiples of {multiple}; got {tuple(x.shape)}"
            )
        if self.input_size is not None and tuple(x.shape[-2:]) != tuple(self.input_size):
            raise ShapeError(f"the U-Net was planned for {self.input_size} images; got {tuple(x.shape)}")
        h = F.pixel_unshuffle(x, self.unshuffle) if self.unshuffle > 1 else x
        levels = [self.head(h)]
        for down, encoder in zip(self.downs, self.encoders, strict=True):
            levels.append(encoder(down(levels[-1])))
        return levels

    def code(self, levels: list[Tensor]) -> Tensor:
        """The linear code ``(B, code_dim)`` of the bottom features (U-Nets with ``code_dim``)."""
        if self.code_dim is None:
            raise ValueError("this U-Net has no code (code_dim=None)")
        return self.to_code(levels[-1].flatten(1))

    def output(self, levels: list[Tensor] | None, code: Tensor | None = None) -> Tensor:
        """Decode into the output map: from the features of :meth:`features`, or from a ``code`` when the
        U-Net has one (``levels`` then feed the skips; None puts zeros in their place)."""
        if self.code_dim is not None:
            if code is None:
                raise ValueError("a U-Net with a code decodes from the code: pass code=")
            h = self.from_code(code).reshape(-1, *self.map_shape)
        elif levels is None:
            raise ValueError("a U-Net without a code decodes from the features of features()")
        else:
            h = levels[-1]
        for index, (up, decoder) in enumerate(zip(self.ups, self.decoders, strict=True)):
            h = up(h)
            if self.skip != "none":
                skip = levels[-2 - index] if levels is not None else torch.zeros_like(h)
                h = torch.cat([h, skip], dim=1) if self.skip == "concat" else h + skip
            h = decoder(h)
        out = self.tail(h)
        return F.pixel_shuffle(out, self.unshuffle) if self.unshuffle > 1 else out

    def forward(self, x: Tensor) -> Tensor:
        levels = self.features(x)
        return self.output(levels, self.code(levels) if self.code_dim is not None else None)
