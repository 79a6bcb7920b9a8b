"""``benchmarks/train_codec.py --init`` with other quality levels: a continuation that adds levels keeps
every learned weight and the steps of the levels it shares, and extrapolates the new ones; its
``float16`` command, which made the shipped MS-SSIM codec's file; and its ``widen`` command, a codec
with more latent channels that starts out decoding like the narrow one."""

from __future__ import annotations

import importlib.util
from argparse import Namespace
from pathlib import Path
from types import ModuleType

import pytest
import torch

from aekit.models.files import save_model
from aekit.models.registry import create

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "train_codec.py"
TINY = {
    "input_shape": (3, 64, 64),
    "hidden_channels": 8,
    "latent_channels": 4,
    "hyper_channels": 4,
    "n_stages": 2,
    "kernel_size": 3,
}


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_codec_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_continuation_with_new_levels_keeps_the_shared_ones_and_extrapolates(tmp_path: Path) -> None:
    script = _script()
    source = create("codec_hyperprior", seed=0, lmbda=(0.01, 0.02, 0.04), **TINY)
    slopes = torch.tensor([-0.5, -0.4, -0.6, -0.45])  # log Δ linear in log λ per channel, but for a bump
    bump = torch.tensor([0.0, 0.3, 0.0]).view(-1, 1)  # on the middle level (centred log λ = 0)
    with torch.no_grad():
        log_lmbda = torch.tensor((0.01, 0.02, 0.04)).log().view(-1, 1)
        source.log_steps.copy_(0.3 + slopes * (log_lmbda - log_lmbda[0]) + bump)
        source.synthesis[0].weight.add_(0.5)  # a weight no fresh model has
    folder = save_model(source, tmp_path / "source")

    model = create("codec_hyperprior", seed=1, lmbda=(0.005, 0.01, 0.02, 0.04, 0.08), **TINY)
    script._init_from(model, str(folder))

    assert torch.equal(model.synthesis[0].weight, source.synthesis[0].weight)
    assert torch.equal(model.log_steps[1:4], source.log_steps)  # the shared levels: their learned steps
    # the least-squares line keeps the slopes and lifts the intercept by a third of the bump
    expected = 0.3 + 0.1 + slopes * (torch.tensor([0.005, 0.08]).log().view(-1, 1) - log_lmbda[0])
    torch.testing.assert_close(model.log_steps[[0, 4]], expected, rtol=0, atol=1e-5)


def test_a_codec_for_another_distortion_starts_level_by_level(tmp_path: Path) -> None:
    script = _script()
    source = create("codec_hyperprior", seed=0, lmbda=(0.01, 0.02, 0.04), **TINY)
    with torch.no_grad():
        generator = torch.Generator().manual_seed(3)
        source.log_steps.copy_(torch.randn(source.log_steps.shape, generator=generator))
    folder = save_model(source, tmp_path / "source")
    lmbda = (12.0, 24.0, 48.0)  # MS-SSIM λ: another scale, so no line through the MSE levels applies
    model = create("codec_hyperprior", seed=1, lmbda=lmbda, distortion="ms_ssim", **TINY)
    script._init_from(model, str(folder))
    assert torch.equal(model.log_steps, source.log_steps)
    assert torch.equal(model.synthesis[0].weight, source.synthesis[0].weight)

    fewer = create("codec_hyperprior", seed=1, lmbda=lmbda[:2], distortion="ms_ssim", **TINY)
    with pytest.raises(SystemExit, match="as many λ"):
        script._init_from(fewer, str(folder))


def test_a_continuation_refuses_another_architecture(tmp_path: Path) -> None:
    script = _script()
    folder = save_model(create("codec_hyperprior", seed=0, lmbda=(0.01, 0.02), **TINY), tmp_path / "source")
    wider = create("codec_hyperprior", seed=0, lmbda=(0.01, 0.02, 0.04), **{**TINY, "hidden_channels": 12})
    with pytest.raises(SystemExit, match="does not fit"):
        script._init_from(wider, str(folder))


def test_the_float16_command_stores_the_rounded_codec_with_rebuilt_tables(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from aekit.models.files import load_model

    script = _script()
    source = create("codec_hyperprior", seed=0, lmbda=(0.01, 0.02), **TINY).eval()
    source.update_tables()
    folder = save_model(source, tmp_path / "source")
    script.float16(Namespace(model=str(folder), output=str(tmp_path / "half")))

    stored = load_file(str(tmp_path / "half" / "model.safetensors"))
    assert {t.dtype for t in stored.values() if t.is_floating_point()} == {torch.float16}
    half = load_model(tmp_path / "half")
    assert half.tables_ready
    for name, tensor in source.state_dict().items():
        if tensor.is_floating_point():
            assert torch.equal(half.state_dict()[name], tensor.half().float()), name
    rebuilt = create("codec_hyperprior", seed=0, lmbda=(0.01, 0.02), **TINY).eval()
    rebuilt.load_state_dict(half.state_dict())
    rebuilt.update_tables()  # the stored tables are the ones the rounded weights give
    assert all(torch.equal(rebuilt.state_dict()[k], v) for k, v in half.state_dict().items())


def test_a_widened_codec_decodes_like_the_narrow_one_and_adds_trainable_channels(tmp_path: Path) -> None:
    script = _script()
    narrow = create("codec_hyperprior", seed=0, lmbda=(0.01, 0.04), **TINY)
    with torch.no_grad():
        for parameter in narrow.parameters():  # trained-looking weights, unlike any fresh model's
            parameter.add_(0.05 * torch.randn_like(parameter))
    folder = save_model(narrow, tmp_path / "narrow")
    script.widen(Namespace(model=str(folder), latent_channels=7, seed=3, output=str(tmp_path / "wide")))
    from aekit.models.files import load_model

    wide = load_model(tmp_path / "wide")
    assert wide.config.latent_channels == 7
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    narrow.eval()
    wide.eval()
    with torch.no_grad():
        for level in (0, 1):
            before, after = narrow(x, torch.tensor([level] * 2)), wide(x, torch.tensor([level] * 2))
            torch.testing.assert_close(after.x_hat, before.x_hat, rtol=0, atol=1e-6)
            torch.testing.assert_close(after.likelihoods[:, :4], before.likelihoods, rtol=0, atol=1e-6)
            torch.testing.assert_close(after.hyper_likelihoods, before.hyper_likelihoods, rtol=0, atol=1e-6)
    # the new channels are live: they carry a signal, and the decoder's loss reaches their filters
    assert wide.analysis[-1].weight[4:].abs().sum() > 0
    wide.train()
    output = wide(x, torch.tensor([1, 1]))
    wide.loss(output, x)["loss"].backward()
    assert wide.synthesis[0].weight.grad[4:].abs().sum() > 0
