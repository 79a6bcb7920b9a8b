"""The codec model: interface contract, bottleneck behaviour, rate term and probability tables."""

from __future__ import annotations

import pytest
import torch

from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models.compression import Codec, CodecConfig, CodecOutput
from aekit.models.registry import create, get


def test_registered_with_two_phases_and_partitioned_groups(tiny_config: CodecConfig) -> None:
    assert get("codec") is Codec
    model = create("codec", seed=0, **tiny_config.to_dict())
    assert [(p.name, p.loss_key, p.group) for p in model.phases] == [
        ("main", "loss", "main"),
        ("aux", "aux", "aux"),
    ]
    groups = model.param_groups()
    main, aux = {id(p) for p in groups["main"]}, {id(p) for p in groups["aux"]}
    assert main.isdisjoint(aux)
    assert main | aux == {id(p) for p in model.parameters()}
    assert aux == {id(model.density.quantiles)}


def test_shapes_loss_keys_and_gradients(tiny_config: CodecConfig) -> None:
    model = create("codec", seed=0, **tiny_config.to_dict())
    x = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    inputs, target, levels = model.prepare_batch((x, None), torch.Generator().manual_seed(1))
    assert levels.shape == (3,) and int(levels.max()) < model.n_levels
    output = model(inputs, levels)
    assert isinstance(output, CodecOutput)
    assert output.x_hat.shape == x.shape
    assert output.z.shape == (3, model.latent_dim) == (3, 6 * 4 * 4)
    terms = model.loss(output, target)
    assert tuple(terms) == model.loss_terms == ("loss", "bpp", "distortion", "aux")
    terms["loss"].backward()
    assert all(p.grad is not None for p in model.param_groups()["main"])
    assert model.density.quantiles.grad is None
    terms = model.loss(model(inputs, levels), target)
    model.zero_grad()
    terms["aux"].backward()
    assert model.density.quantiles.grad is not None
    assert model.encode(x).shape == (3, model.latent_dim)
    assert model.decode(model.encode(x)).shape == x.shape


def test_training_adds_noise_and_inference_rounds_to_the_grid(tiny_codec: Codec) -> None:
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    levels = torch.tensor([0, 1])
    eval_out = tiny_codec(x, levels)
    steps = tiny_codec.steps()[levels].view(2, -1, 1, 1)
    medians = tiny_codec.density.medians().view(1, -1, 1, 1)
    grid = (eval_out.y_hat - medians) / steps
    torch.testing.assert_close(grid, grid.round(), atol=1e-4, rtol=0)
    tiny_codec.train()
    try:
        noisy = tiny_codec(x, levels).y_hat
    finally:
        tiny_codec.eval()
    y = tiny_codec.analysis(x)
    assert bool(((noisy - y).abs() <= steps / 2 + 1e-6).all())
    assert not torch.allclose(noisy, eval_out.y_hat)


def test_rate_is_minus_log2_likelihood_per_pixel(tiny_codec: Codec) -> None:
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    out = tiny_codec(x)
    terms = tiny_codec.loss(out, x)
    expected = -torch.log2(out.likelihoods).sum() / (2 * 16 * 16)
    torch.testing.assert_close(terms["bpp"], expected)
    mse = (out.x_hat - x).pow(2).mean()
    torch.testing.assert_close(terms["distortion"], mse)
    torch.testing.assert_close(terms["loss"], expected + 0.05 * 255**2 * mse)  # default level = the top λ


def test_tables_are_normalised_deterministic_and_track_staleness(tiny_config: CodecConfig) -> None:
    model = create("codec", seed=0, **tiny_config.to_dict())
    assert not model.tables_ready
    model.update_tables()
    assert model.tables_ready
    total = 1 << tiny_config.table_precision
    for level in range(model.n_levels):
        for channel in range(tiny_config.latent_channels):
            length = int(model.cdf_lengths[level, channel])
            row = model.cdf_tables[level, channel]
            assert int(row[: length + 1].sum()) == total
            assert bool((row[: length + 1] >= 1).all()) and bool((row[length + 1 :] == 0).all())
    first = model.cdf_tables.clone()
    model.update_tables()
    assert torch.equal(first, model.cdf_tables)
    with torch.no_grad():
        model.log_steps.add_(0.1)
    assert not model.tables_ready


def test_state_dict_round_trip_resizes_tables(tiny_codec: Codec, tiny_config: CodecConfig) -> None:
    fresh = Codec(tiny_config)
    fresh.load_state_dict(tiny_codec.state_dict(), strict=True)
    assert torch.equal(fresh.cdf_tables, tiny_codec.cdf_tables)
    assert fresh.tables_ready


def test_config_and_input_errors_are_clear(tiny_codec: Codec) -> None:
    with pytest.raises(ConfigError, match="multiples of 2 \\*\\* n_stages = 16"):
        CodecConfig(input_shape=(3, 40, 40))
    with pytest.raises(ConfigError, match="lmbda must be strictly increasing"):
        CodecConfig(lmbda=(0.1, 0.01))
    with pytest.raises(ConfigError, match="distortion must be one of"):
        CodecConfig(distortion="l1")
    assert CodecConfig(lmbda=0.01).lmbda == (0.01,)
    with pytest.raises(ShapeError, match=r"x must have shape \(B, 3, 16, 16\)"):
        tiny_codec(torch.zeros(1, 3, 15, 16))
    with pytest.raises(DataError, match="quality levels outside \\[0, 1\\]"):
        tiny_codec(torch.zeros(1, 3, 16, 16), torch.tensor([2]))
    with pytest.raises(DataError, match="NaN"):
        tiny_codec(torch.full((1, 3, 16, 16), float("nan")))


def test_ms_ssim_distortion_trains(tiny_config: CodecConfig) -> None:
    model = create("codec", seed=0, **tiny_config.replace(distortion="ms_ssim").to_dict())
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(4))
    terms = model.loss(model(x), x)
    assert 0 <= float(terms["distortion"].detach()) <= 1
    terms["loss"].backward()
    assert model.analysis[0].weight.grad is not None


def test_ms_ssim_distortion_is_float32_under_bf16_autocast(tiny_config: CodecConfig) -> None:
    """In bf16, ``σ² = E[x²] − μ²`` cancels to ≤ 0 and MS-SSIM can reach ±inf (a real training run
    stopped on a −inf loss); the distortion must be computed in float32 whatever the autocast."""
    from aekit.losses.ssim import ms_ssim

    config = {**tiny_config.to_dict(), "input_shape": (3, 32, 32), "distortion": "ms_ssim"}
    model = create("codec", seed=0, **config)
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    levels = torch.tensor([0, 1])
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        output = model(x, levels)
        terms = model.loss(output, x)
    assert terms["distortion"].dtype == torch.float32
    expected = (1 - ms_ssim(output.x_hat.float(), x)).mean()
    assert terms["distortion"].item() == pytest.approx(expected.item(), rel=1e-6)
    assert torch.isfinite(terms["loss"])
