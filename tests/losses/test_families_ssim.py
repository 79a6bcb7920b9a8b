"""SSIM equals scikit-image's Gaussian-window SSIM (Wang et al. 2004) and is 1 for identical images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.errors import ConfigError, ShapeError
from aekit.losses.ssim import gaussian_window, ssim, ssim_loss

skimage_metrics = pytest.importorskip("skimage.metrics")


def _pair(shape: tuple[int, ...], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth random image and a noisy, contrast-changed copy, both in [0, 1], float64."""
    generator = torch.Generator().manual_seed(seed)
    base = torch.rand(shape, generator=generator, dtype=torch.float64)
    smooth = torch.nn.functional.avg_pool2d(base.reshape(-1, 1, *shape[-2:]), 3, 1, 1).reshape(shape)
    noise = 0.1 * torch.randn(shape, generator=generator, dtype=torch.float64)
    return smooth, (0.8 * smooth + 0.1 + noise).clamp(0, 1)


def _reference(x: torch.Tensor, y: torch.Tensor, data_range: float, channel_axis: int | None = None) -> float:
    return float(
        skimage_metrics.structural_similarity(
            x.numpy(),
            y.numpy(),
            data_range=data_range,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            channel_axis=channel_axis,
        )
    )


def test_matches_scikit_image_on_a_grayscale_pair() -> None:
    x, y = _pair((32, 40))
    ours = ssim(x[None, None], y[None, None], data_range=1.0).item()
    assert ours == pytest.approx(_reference(x, y, 1.0), abs=1e-10)
    assert 0.2 < ours < 0.95


def test_matches_scikit_image_on_colour_images_and_another_range() -> None:
    x, y = _pair((3, 24, 24), seed=1)
    x, y = 255 * x, 255 * y
    ours = ssim(x[None], y[None], data_range=255.0).item()
    reference = _reference(x.permute(1, 2, 0), y.permute(1, 2, 0), 255.0, channel_axis=2)
    assert ours == pytest.approx(reference, abs=1e-10)


def test_per_image_values_and_batch_mean() -> None:
    pairs = [_pair((16, 16), seed=s) for s in range(3)]
    x = torch.stack([p[0] for p in pairs])[:, None]
    y = torch.stack([p[1] for p in pairs])[:, None]
    per_image = ssim(x, y, reduction="none")
    expected = [_reference(p[0], p[1], 1.0) for p in pairs]
    np.testing.assert_allclose(per_image.numpy(), expected, atol=1e-10)
    torch.testing.assert_close(ssim(x, y), per_image.mean())


def test_identical_images_score_one_and_lose_nothing() -> None:
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))  # smaller than the 11×11 window
    torch.testing.assert_close(ssim(x, x), torch.tensor(1.0))
    torch.testing.assert_close(ssim_loss(x, x), torch.tensor(0.0))


def test_loss_is_differentiable_and_worse_for_stronger_noise() -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(2, 1, 16, 16, generator=generator)
    mild = (x + 0.05 * torch.randn(x.shape, generator=generator)).requires_grad_()
    strong = x + 0.3 * torch.randn(x.shape, generator=generator)
    loss = ssim_loss(mild, x)
    loss.backward()
    assert mild.grad is not None and mild.grad.abs().sum() > 0
    assert loss.item() < ssim_loss(strong, x).item()


def test_window_weights_and_errors() -> None:
    window = gaussian_window(11, 1.5, dtype=torch.float64)
    assert window.sum().item() == pytest.approx(1.0)
    assert torch.equal(window, window.flip(0))
    with pytest.raises(ConfigError, match="window_size must be a positive odd int; got 4"):
        gaussian_window(4, 1.5)
    with pytest.raises(ShapeError, match="x and y must have the same shape"):
        ssim(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 9))
    with pytest.raises(ConfigError, match="data_range must be > 0"):
        ssim(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8), data_range=0.0)
