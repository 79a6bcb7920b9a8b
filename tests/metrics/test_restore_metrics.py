"""SSIM and MS-SSIM: known values, scikit-image agreement, the accumulating form."""

from __future__ import annotations

import pytest
import torch
from skimage.metrics import structural_similarity

from aekit.errors import ConfigError, ShapeError
from aekit.metrics import StructuralSimilarity, ms_ssim, psnr, ssim
from aekit.metrics.structural import MS_SSIM_WEIGHTS


def _pair(shape: tuple[int, ...], noise: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    clean = torch.rand(shape, generator=generator, dtype=torch.float64)
    noisy = (clean + noise * torch.randn(shape, generator=generator, dtype=torch.float64)).clamp(0, 1)
    return noisy, clean


def test_identical_images_score_one() -> None:
    _, clean = _pair((2, 3, 40, 40))
    torch.testing.assert_close(ssim(clean, clean), torch.ones(2, dtype=torch.float64))
    torch.testing.assert_close(ms_ssim(clean, clean), torch.ones(2, dtype=torch.float64))


@pytest.mark.parametrize("channels", [1, 3])
def test_ssim_equals_scikit_image(channels: int) -> None:
    noisy, clean = _pair((channels, 33, 41))
    expected = structural_similarity(
        noisy.numpy(),
        clean.numpy(),
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        channel_axis=0,
    )
    assert ssim(noisy, clean).item() == pytest.approx(expected, abs=1e-9)


def test_ms_ssim_of_constant_images_is_the_luminance_term() -> None:
    a, b = 0.2, 0.6
    c1 = (0.01 * 1.0) ** 2
    luminance = (2 * a * b + c1) / (a * a + b * b + c1)
    first, second = torch.full((1, 1, 64, 64), a), torch.full((1, 1, 64, 64), b)
    # 64 px keeps an 11 px window for 3 scales: every cs is 1 and the last scale's SSIM is l, so
    # MS-SSIM = l^(w_3 · Σw / (w_1 + w_2 + w_3)) (the used weights keep the sum of all five).
    weight = 0.3001 * sum(MS_SSIM_WEIGHTS) / (0.0448 + 0.2856 + 0.3001)
    assert ms_ssim(first, second).item() == pytest.approx(luminance**weight, rel=1e-6)


def test_single_scale_ms_ssim_is_ssim_and_noise_lowers_both() -> None:
    noisy, clean = _pair((2, 1, 28, 28), noise=0.05)
    torch.testing.assert_close(ms_ssim(noisy, clean, weights=(1.0,)), ssim(noisy, clean))
    noisier, _ = _pair((2, 1, 28, 28), noise=0.3)
    assert (ms_ssim(noisier, clean) < ms_ssim(noisy, clean)).all()
    assert (ssim(noisier, clean) < ssim(noisy, clean)).all()
    assert (psnr(noisier, clean) < psnr(noisy, clean)).all()


def test_accumulator_is_the_mean_over_images() -> None:
    noisy, clean = _pair((5, 1, 16, 16))
    meter = StructuralSimilarity("ms_ssim")
    meter.update(noisy[:2], clean[:2])
    meter.update(noisy[2:], clean[2:])
    assert meter.compute() == pytest.approx(ms_ssim(noisy, clean).mean().item())
    meter.reset()
    with pytest.raises(ConfigError, match="no images were added"):
        meter.compute()


def test_mismatched_shapes_and_bad_weights_raise() -> None:
    with pytest.raises(ShapeError, match="shapes differ"):
        ssim(torch.rand(1, 8, 8), torch.rand(1, 8, 9))
    with pytest.raises(ConfigError, match="weights must be non-negative"):
        ms_ssim(torch.rand(1, 8, 8), torch.rand(1, 8, 8), weights=())


@pytest.mark.parametrize("shape", [(2, 3, 161, 200), (1, 1, 256, 256), (1, 3, 192, 321)])
@pytest.mark.parametrize("data_range", [1.0, 255.0])
def test_ssim_and_ms_ssim_equal_pytorch_msssim(shape: tuple[int, ...], data_range: float) -> None:
    """One convention, pinned against an independent implementation on sizes where all 5 scales fit."""
    reference = pytest.importorskip("pytorch_msssim")
    generator = torch.Generator().manual_seed(1)
    clean = torch.rand(shape, generator=generator, dtype=torch.float64) * data_range
    noise = 0.1 * data_range * torch.randn(shape, generator=generator, dtype=torch.float64)
    noisy = (clean + noise).clamp(0, data_range)
    expected_ms = reference.ms_ssim(noisy, clean, data_range=data_range, size_average=False)
    expected = reference.ssim(noisy, clean, data_range=data_range, size_average=False)
    torch.testing.assert_close(ms_ssim(noisy, clean, data_range), expected_ms, rtol=0, atol=1e-6)
    torch.testing.assert_close(ssim(noisy, clean, data_range), expected, rtol=0, atol=1e-6)


def test_loss_metric_and_codec_share_one_ms_ssim() -> None:
    """The codec's MS-SSIM distortion, the metric and the loss kernel give the same number."""
    from aekit.apps.compression import image_ms_ssim
    from aekit.losses.ssim import ms_ssim as kernel_ms_ssim

    noisy, clean = _pair((1, 3, 64, 64), noise=0.1)
    metric = ms_ssim(noisy, clean).item()
    assert kernel_ms_ssim(noisy.float(), clean.float()).item() == pytest.approx(metric, abs=1e-5)
    as_image = lambda t: t[0].permute(1, 2, 0).numpy() * 255  # noqa: E731
    assert image_ms_ssim(as_image(clean), as_image(noisy)) == pytest.approx(metric, abs=1e-9)
