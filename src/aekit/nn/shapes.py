"""Shape arithmetic of convolutions, and the planner that makes decoders return the input size.

Convolution (per spatial axis):           ``out = floor((n + 2p - d(k - 1) - 1) / s) + 1``
Transposed convolution (per spatial axis): ``out = s(n - 1) + d(k - 1) + 1 - 2p + output_padding``,
which with ``d = 1`` is the familiar ``N = s·(M − 1) + k − 2p (+ output_padding)``.
"""

from __future__ import annotations

import dataclasses

from aekit.errors import ConfigError, ShapeError

__all__ = ["ConvStage", "conv_output_size", "conv_transpose_output_size", "plan_conv_stages"]


def conv_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of ``nn.Conv2d`` along one axis."""
    out = (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    if out < 1:
        raise ShapeError(
            f"a convolution with kernel {kernel_size}, stride {stride}, padding {padding} "
            f"cannot take an input of size {size}"
        )
    return out


def conv_transpose_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> int:
    """Output length of ``nn.ConvTranspose2d`` along one axis."""
    if not 0 <= output_padding < max(stride, dilation):
        raise ShapeError(f"output_padding must be in [0, max(stride, dilation)); got {output_padding}")
    return stride * (size - 1) + dilation * (kernel_size - 1) + 1 - 2 * padding + output_padding


@dataclasses.dataclass(frozen=True)
class ConvStage:
    """One strided stage of the encoder and its mirror in the decoder.

    Attributes:
        in_channels, out_channels: Channels into and out of the encoder convolution.
        in_size: Spatial size ``(H, W)`` entering the encoder convolution (= decoder output size).
        out_size: Spatial size after it (= decoder input size).
        kernel_size, stride, padding: Shared by the convolution and its transposed mirror.
        output_padding: Per-axis output padding that makes the transposed convolution return ``in_size``.
    """

    in_channels: int
    out_channels: int
    in_size: tuple[int, int]
    out_size: tuple[int, int]
    kernel_size: int
    stride: int
    padding: int
    output_padding: tuple[int, int]


def plan_conv_stages(
    input_shape: tuple[int, int, int], channels: tuple[int, ...], kernel_size: int = 3, stride: int = 2
) -> list[ConvStage]:
    """Plan strided stages for an input ``(C, H, W)`` so the mirrored decoder returns exactly ``(H, W)``.

    Padding is ``kernel_size // 2`` ("same"-like); each stage's output padding is solved from the
    transposed-convolution formula, so odd sizes work too.

    Raises:
        ConfigError: If the kernel is even or a stage would shrink the image below 1 pixel.
    """
    if kernel_size % 2 == 0 or kernel_size < 1:
        raise ConfigError(f"kernel_size must be odd and positive; got {kernel_size}")
    if stride < 1:
        raise ConfigError(f"stride must be ≥ 1; got {stride}")
    padding = kernel_size // 2
    in_channels, height, width = input_shape
    stages = []
    for out_channels in channels:
        size = (height, width)
        try:
            out = tuple(conv_output_size(n, kernel_size, stride, padding) for n in size)
        except ShapeError:
            raise ConfigError(
                f"{len(channels)} strided stages are too many for an input of size {input_shape[1:]}; "
                "use fewer channels entries"
            ) from None
        output_padding = tuple(
            n - conv_transpose_output_size(m, kernel_size, stride, padding)
            for n, m in zip(size, out, strict=True)
        )
        stages.append(
            ConvStage(
                in_channels,
                out_channels,
                size,
                (out[0], out[1]),
                kernel_size,
                stride,
                padding,
                (output_padding[0], output_padding[1]),
            )
        )
        in_channels, (height, width) = out_channels, out
    return stages
