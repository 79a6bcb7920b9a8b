from __future__ import annotations

import pytest
import torch

from aekit.data import (
    CORRUPTIONS,
    apply_corruption,
    gaussian_noise,
    mask_pixels,
    occlusion_bars,
    pixel_mask,
    salt_and_pepper,
)
from aekit.errors import ConfigError, ShapeError


def _batch() -> torch.Tensor:
    return torch.rand(8, 3, 10, 12, generator=torch.Generator().manual_seed(9)) * 0.8 + 0.1


def test_mask_fraction_is_exact_per_image_and_shared_across_channels(generator):
    x = _batch()
    out = mask_pixels(x, 0.3, generator)
    masked = out.eq(0).all(dim=1)  # (B, H, W): every channel of a masked pixel is 0
    assert masked.sum(dim=(1, 2)).tolist() == [36] * 8  # round(0.3 * 120)
    assert torch.equal(out[~masked[:, None].expand_as(x)], x[~masked[:, None].expand_as(x)])


def test_mask_on_flat_samples_and_custom_value(generator):
    x = torch.full((4, 50), 0.5)
    out = mask_pixels(x, 0.5, generator, value=1.0)
    assert out.eq(1.0).sum(dim=1).tolist() == [25] * 4


def test_pixel_mask_shapes_and_extremes(generator):
    assert pixel_mask(_batch(), 0.0, generator).sum() == 0
    assert pixel_mask(_batch(), 1.0, generator).all()
    assert pixel_mask(_batch(), 0.5, generator).shape == (8, 1, 10, 12)


def test_gaussian_noise_has_the_requested_std(generator):
    x = torch.full((64, 1, 32, 32), 0.5)
    noisy = gaussian_noise(x, 0.1, generator)
    assert abs((noisy - x).std().item() - 0.1) < 0.005
    assert abs((noisy - x).mean().item()) < 0.005
    clipped = gaussian_noise(x, 2.0, generator)
    assert clipped.min() >= 0 and clipped.max() <= 1
    unclipped = gaussian_noise(x, 2.0, generator, clip=False)
    assert unclipped.min() < 0 and unclipped.max() > 1
    assert torch.equal(gaussian_noise(x, 0.0, generator), x)


def test_salt_and_pepper_sets_exact_count_to_black_or_white(generator):
    x = _batch()  # values in [0.1, 0.9], so 0 and 1 only come from the corruption
    out = salt_and_pepper(x, 0.25, generator)
    changed = (out != x).any(dim=1)
    assert changed.sum(dim=(1, 2)).tolist() == [30] * 8
    values = out.permute(0, 2, 3, 1)[changed]
    assert set(values.unique().tolist()) == {0.0, 1.0}
    assert (values == values[:, :1]).all()  # a pixel is black or white in every channel


def test_occlusion_bars_cover_two_full_white_rows(generator):
    x = _batch()
    out = occlusion_bars(x, generator)
    white_rows = out.eq(1.0).all(dim=(1, 3))  # (B, H)
    assert white_rows.sum(dim=1).tolist() == [2] * 8
    tops = white_rows.float().argmax(dim=1)
    assert all(white_rows[i, top + 1] for i, top in enumerate(tops.tolist()))  # contiguous band
    assert torch.equal(
        out[~white_rows[:, None, :, None].expand_as(x)], x[~white_rows[:, None, :, None].expand_as(x)]
    )
    assert len(set(tops.tolist())) > 1
    assert occlusion_bars(torch.zeros(2, 5, 5), generator, height=5).eq(1).all()


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_same_seed_same_output(name):
    x = _batch()
    a = apply_corruption(name, x, torch.Generator().manual_seed(7), 0.3)
    b = apply_corruption(name, x, torch.Generator().manual_seed(7), 0.3)
    c = apply_corruption(name, x, torch.Generator().manual_seed(8), 0.3)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == x.shape and not torch.equal(a, x)


def test_input_is_not_modified(generator):
    x = _batch()
    copy = x.clone()
    for name in CORRUPTIONS:
        apply_corruption(name, x, generator, 0.5)
    assert torch.equal(x, copy)


def test_registry_is_read_only_and_names_are_checked(generator):
    assert set(CORRUPTIONS) == {"gaussian", "mask", "salt_pepper", "occlusion"}
    with pytest.raises(TypeError):
        CORRUPTIONS["new"] = gaussian_noise  # type: ignore[index]
    with pytest.raises(ConfigError, match="unknown corruption 'gausian'; did you mean 'gaussian'"):
        apply_corruption("gausian", _batch(), generator, 0.1)


def test_arguments_are_validated(generator):
    x = _batch()
    with pytest.raises(ConfigError, match=r"fraction must be in \[0, 1\]; got 1.5"):
        mask_pixels(x, 1.5, generator)
    with pytest.raises(ConfigError, match=r"fraction must be in \[0, 1\]; got -0.1"):
        apply_corruption("salt_pepper", x, generator, -0.1)
    with pytest.raises(ConfigError, match="std must be a finite number >= 0; got -1"):
        gaussian_noise(x, -1, generator)
    with pytest.raises(ConfigError, match=r"height must be an integer in 1\.\.10"):
        occlusion_bars(x, generator, height=11)
    with pytest.raises(ShapeError, match=r"occlusion_bars needs images"):
        occlusion_bars(torch.zeros(4, 9), generator)
    with pytest.raises(ShapeError, match="x must be a floating-point batch"):
        mask_pixels(torch.zeros(4, 9, dtype=torch.uint8), 0.5, generator)
