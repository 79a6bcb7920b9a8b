"""The shape arithmetic agrees with real layers, and planned decoders return the input size."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from aekit.errors import ConfigError
from aekit.models import create
from aekit.nn.shapes import conv_output_size, conv_transpose_output_size, plan_conv_stages


@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 4),
    padding=st.integers(0, 3),
)
@settings(max_examples=60, deadline=None)
def test_conv_output_size_matches_conv2d(size: int, kernel: int, stride: int, padding: int) -> None:
    if size + 2 * padding < kernel:
        return
    layer = nn.Conv2d(1, 1, kernel, stride, padding)
    out = layer(torch.zeros(1, 1, size, size))
    assert out.shape[-1] == conv_output_size(size, kernel, stride, padding)


@given(
    size=st.integers(1, 20),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 4),
    padding=st.integers(0, 3),
    output_padding=st.integers(0, 3),
)
@settings(max_examples=60, deadline=None)
def test_conv_transpose_output_size_matches_layer(
    size: int, kernel: int, stride: int, padding: int, output_padding: int
) -> None:
    if output_padding >= stride:
        return
    expected = conv_transpose_output_size(size, kernel, stride, padding, output_padding)
    if expected < 1:
        return
    layer = nn.ConvTranspose2d(1, 1, kernel, stride, padding, output_padding=output_padding)
    assert layer(torch.zeros(1, 1, size, size)).shape[-1] == expected


def test_transpose_formula_is_the_textbook_one() -> None:
    # N = s·(M − 1) + k − 2p (+ output padding)
    assert conv_transpose_output_size(7, 3, 2, 1) == 2 * 6 + 3 - 2
    assert conv_transpose_output_size(7, 3, 2, 1, output_padding=1) == 2 * 6 + 3 - 2 + 1


@pytest.mark.parametrize(
    "height,width", [(8, 8), (28, 28), (7, 9), (13, 11), (5, 5), (3, 3), (1, 6), (31, 17)]
)
def test_planned_conv_autoencoder_returns_exact_input_size(height: int, width: int) -> None:
    model = create("conv", input_shape=(2, height, width), latent_dim=3, channels=[4, 8, 8], seed=0)
    x = torch.rand(2, 2, height, width)
    out = model(x)
    assert out.x_hat.shape == x.shape
    assert out.z.shape == (2, 3)


def test_plan_records_output_padding_for_odd_sizes() -> None:
    stages = plan_conv_stages((1, 7, 8), (4,))
    assert stages[0].out_size == (4, 4)
    assert stages[0].output_padding == (0, 1)


def test_plan_rejects_even_kernels() -> None:
    with pytest.raises(ConfigError, match="kernel_size must be odd"):
        plan_conv_stages((1, 8, 8), (4,), kernel_size=4)


def test_dense_layers_sit_between_the_feature_map_and_the_code() -> None:
    plain = create("conv", input_shape=(1, 28, 28), latent_dim=2, channels=[4, 8], dense_dims=[], seed=0)
    dense = create("conv", input_shape=(1, 28, 28), latent_dim=2, channels=[4, 8], dense_dims=[16], seed=0)
    flat = 8 * 7 * 7
    linear_sizes = [m.weight.shape for m in dense.modules() if isinstance(m, nn.Linear)]
    assert linear_sizes == [(16, flat), (2, 16), (16, 2), (flat, 16)]
    assert [m.weight.shape for m in plain.modules() if isinstance(m, nn.Linear)] == [(2, flat), (flat, 2)]
    x = torch.rand(3, 1, 28, 28)
    assert dense(x).x_hat.shape == x.shape and dense.encode(x).shape == (3, 2)
    assert "(8, 7, 7) → 16 → (2,) → 16 → (8, 7, 7)" in "\n".join(dense.describe_plan())
    with pytest.raises(ConfigError, match="dense_dims"):
        create("conv", input_shape=(1, 28, 28), latent_dim=2, dense_dims=[0])


def test_default_bottleneck_adds_dense_layers_only_for_a_large_squeeze() -> None:
    # MNIST with the default stages: a 128 × 4 × 4 = 2048-value map; 2048 / 8 = 256 is the threshold
    for latent_dim, expected in ((2, (512, 256)), (8, (512, 256)), (9, ()), (32, ())):
        model = create("conv", input_shape=(1, 28, 28), latent_dim=latent_dim, seed=0)
        assert model.dense_dims == expected, latent_dim
        widths = [m.weight.shape[0] for m in model.to_latent.modules() if isinstance(m, nn.Linear)]
        assert widths == [*expected, latent_dim]
    explicit = create("conv", input_shape=(1, 28, 28), latent_dim=2, dense_dims=[], seed=0)
    assert explicit.dense_dims == ()
    small = create("conv", input_shape=(1, 8, 8), latent_dim=1, channels=[32, 64], seed=0)
    assert small.dense_dims == (64, 32)  # a quarter and an eighth of its 64 × 2 × 2 map
