"""A fully convolutional U-Net for image-to-image networks of any size.

Ronneberger et al., "U-Net", MICCAI 2015 (encoder–decoder with skip connections); Zhang et al., "FFDNet",
TIP 2018 (working on a pixel-unshuffled image, which makes every convolution four times cheaper and the
receptive field twice as large). The encoder halves the resolution at each level with a 2×2 strided
convolution; the decoder doubles it with a 2×2 transposed convolution (kernel = stride, so no checkerboard
overlap) and adds the encoder's features of the same level.
"""

from __future__ import annotations

import itertools

import torch.nn.functional as F
from torch import Tensor, nn

from aekit.errors import ShapeError

__all__ = ["UNet"]


def _conv_block(n_in: int, n_out: int, n_convs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index in range(n_convs):
        layers += [nn.Conv2d(n_in if index == 0 else n_out, n_out, 3, padding=1), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """Images ``(B, in_channels, H, W)`` → maps ``(B, out_channels, H, W)``, ``H`` and ``W`` multiples of
    :attr:`size_multiple`.

    Args:
        in_channels: Channels of the input image.
        out_channels: Channels of the output map.
        channels: Feature width of each level, finest first (one level per entry).
        convs_per_block: 3×3 convolutions (each followed by ReLU) per level on each side.
        unshuffle: Pixel-unshuffle factor applied first (1 = none); the output is shuffled back.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        channels: tuple[int, ...] = (64, 128, 256),
        convs_per_block: int = 2,
        unshuffle: int = 2,
    ) -> None:
        super().__init__()
        self.unshuffle = unshuffle
        self.out_channels = out_channels
        packed = in_channels * unshuffle**2
        self.head = _conv_block(packed, channels[0], convs_per_block)
        self.downs = nn.ModuleList(
            nn.Sequential(nn.Conv2d(a, b, 2, stride=2), nn.ReLU(inplace=True))
            for a, b in itertools.pairwise(channels)
        )
        self.encoders = nn.ModuleList(_conv_block(b, b, convs_per_block) for b in channels[1:])
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(a, b, 2, stride=2)
            for a, b in zip(reversed(channels[1:]), reversed(channels[:-1]), strict=True)
        )
        self.decoders = nn.ModuleList(_conv_block(b, b, convs_per_block) for b in reversed(channels[:-1]))
        self.tail = nn.Conv2d(channels[0], out_channels * unshuffle**2, 3, padding=1)

    @property
    def size_multiple(self) -> int:
        """Height and width of inputs must be multiples of this."""
        return self.unshuffle * 2 ** len(self.downs)

    def features(self, x: Tensor) -> list[Tensor]:
        """Encoder features of every level, finest first (the last is the bottom of the U)."""
        multiple = self.size_multiple
        if x.dim() != 4 or x.shape[-2] % multiple or x.shape[-1] % multiple:
            raise ShapeError(
                f"the U-Net needs (B, C, H, W) with H and W multiples of {multiple}; got {tuple(x.shape)}"
            )
        h = F.pixel_unshuffle(x, self.unshuffle) if self.unshuffle > 1 else x
        levels = [self.head(h)]
        for down, encoder in zip(self.downs, self.encoders, strict=True):
            levels.append(encoder(down(levels[-1])))
        return levels

    def output(self, levels: list[Tensor]) -> Tensor:
        """Decode the features of :meth:`features` into the output map."""
        h = levels[-1]
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(levels[:-1]), strict=True):
            h = decoder(up(h) + skip)
        out = self.tail(h)
        return F.pixel_shuffle(out, self.unshuffle) if self.unshuffle > 1 else out

    def forward(self, x: Tensor) -> Tensor:
        return self.output(self.features(x))
