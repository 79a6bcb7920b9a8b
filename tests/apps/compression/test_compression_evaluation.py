"""Metrics, classical baselines and the Bjøntegaard delta rate."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from aekit.apps.compression import bd_rate, image_ms_ssim, image_psnr, ms_ssim
from aekit.apps.compression.baselines import decode_with_pillow, jpeg, jpeg2000, jpeg_at_rate
from aekit.apps.compression.images import HOLDOUT_IMAGES, natural_images, random_crops
from aekit.errors import DataError, ShapeError
from aekit.losses.ssim import ssim_components


def _pair(seed: int = 0, shape: tuple[int, ...] = (48, 40, 3)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    clean = np.stack([rows * 3 + cols, 200 - rows * 2, cols * 4], axis=-1)[..., : shape[2]].astype(np.float64)
    clean = np.clip(clean, 0, 255).astype(np.uint8)
    noisy = np.clip(clean + rng.normal(0, 10, clean.shape), 0, 255).astype(np.uint8)
    return clean, noisy


def test_psnr_known_value() -> None:
    a = np.zeros((4, 4), dtype=np.uint8)
    b = a.copy()
    b[0, 0] = 16  # MSE = 16² / 16 = 16
    assert image_psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 16))
    assert image_psnr(a, a) == math.inf


def test_single_scale_ssim_matches_scikit_image() -> None:
    structural_similarity = pytest.importorskip("skimage.metrics").structural_similarity
    clean, noisy = _pair()
    expected = structural_similarity(
        clean,
        noisy,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
        channel_axis=2,
    )
    as_tensor = lambda a: torch.from_numpy(a.astype(np.float64).transpose(2, 0, 1))[None]  # noqa: E731
    ssim, _ = ssim_components(as_tensor(clean), as_tensor(noisy), 255.0)
    assert float(ssim.mean()) == pytest.approx(expected, abs=1e-6)


def test_ms_ssim_properties() -> None:
    clean, noisy = _pair(shape=(64, 64, 3))
    assert image_ms_ssim(clean, clean) == pytest.approx(1.0)
    score = image_ms_ssim(clean, noisy)
    worse = image_ms_ssim(clean, np.clip(noisy.astype(int) * 2 - clean, 0, 255).astype(np.uint8))
    assert 0 < worse < score < 1
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert ms_ssim(x, x).shape == (2,)
    with pytest.raises(ShapeError, match="same shape"):
        ms_ssim(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 9))
    with pytest.raises(ShapeError, match="same shape"):
        image_ms_ssim(clean, clean[:10])


def test_jpeg_and_jpeg2000_baselines() -> None:
    clean, _ = _pair(shape=(64, 96, 3))
    data = jpeg(clean, 50)
    assert decode_with_pillow(data).shape == clean.shape
    coded = jpeg_at_rate(clean, 1.0)
    assert coded.bpp <= 1.0 and coded.codec == "jpeg" and 1 <= coded.setting <= 95
    j2k = jpeg2000(clean, 1.0)
    assert decode_with_pillow(j2k).shape == clean.shape
    assert 8 * len(j2k) / (64 * 96) == pytest.approx(1.0, rel=0.25)
    with pytest.raises(DataError, match="quality must be in"):
        jpeg(clean, 0)


def test_bd_rate() -> None:
    rates = [0.1, 0.2, 0.4, 0.8, 1.6]
    quality = [26.0, 28.5, 31.0, 33.5, 36.0]
    assert bd_rate(rates, quality, rates, quality) == pytest.approx(0.0, abs=1e-9)
    assert bd_rate(rates, quality, [r / 2 for r in rates], quality) == pytest.approx(-50.0)
    assert bd_rate(rates, quality, rates, [q + 1 for q in quality]) < 0
    with pytest.raises(DataError, match="at least 4"):
        bd_rate(rates[:3], quality[:3], rates, quality)
    with pytest.raises(DataError, match="do not overlap"):
        bd_rate(rates, quality, rates, [q + 20 for q in quality])


def test_random_crops_are_seeded() -> None:
    images = [np.arange(30 * 40 * 3, dtype=np.uint8).reshape(30, 40, 3) % 251]
    first = random_crops(images, 4, 16, generator=torch.Generator().manual_seed(0))
    again = random_crops(images, 4, 16, generator=torch.Generator().manual_seed(0))
    assert first.shape == (4, 3, 16, 16) and torch.equal(first, again)
    assert float(first.min()) >= 0 and float(first.max()) <= 1
    assert len(HOLDOUT_IMAGES) == 5
    with pytest.raises(ShapeError, match="smaller than the patch size 64"):
        random_crops(images, 1, 64, generator=torch.Generator())


def test_jpeg2000_baseline_uses_the_colour_transform() -> None:
    """Coding R, G, B separately (OpenJPEG's default) is a weak baseline: ours must beat it clearly."""
    photo = natural_images("holdout")["astronaut"][:256, :256]
    ours = decode_with_pillow(jpeg2000(photo, 0.25))
    buffer = io.BytesIO()
    Image.fromarray(photo).save(
        buffer, format="JPEG2000", quality_mode="rates", quality_layers=[96.0], irreversible=True, mct=0
    )
    separate = decode_with_pillow(buffer.getvalue())
    assert image_psnr(photo, ours) > image_psnr(photo, separate) + 0.5
