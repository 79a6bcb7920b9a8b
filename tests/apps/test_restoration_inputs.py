"""The Python restoration functions take images in the unit range, channels first: 8-bit pixels, a σ on
the 8-bit scale or a channels-last photo are named in one line instead of restored badly."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.apps.denoise import denoise
from aekit.apps.inpaint import inpaint
from aekit.errors import ConfigError, DataError, ShapeError

IMAGE = np.random.default_rng(0).random((24, 32)).astype(np.float32)


def test_eight_bit_pixels_are_refused_with_the_fix() -> None:
    with pytest.raises(DataError, match=r"integer values \(torch.uint8\).*/ 255"):
        denoise(None, (IMAGE * 255).astype(np.uint8))
    with pytest.raises(DataError, match=r"values from .* to 25\d.*unit range \[0, 1\]"):
        denoise(None, IMAGE * 255)
    hole = np.zeros(IMAGE.shape, dtype=bool)
    hole[8:12, 8:12] = True
    with pytest.raises(DataError, match=r"unit range \[0, 1\]"):
        inpaint(None, IMAGE * 255, hole)


def test_a_sigma_on_the_eight_bit_scale_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"at most 1; got 25 .*pass 25/255"):
        denoise(None, IMAGE, sigma=25)


def test_noise_beyond_the_unit_range_is_still_taken() -> None:
    noisy = IMAGE + np.random.default_rng(1).normal(0, 55 / 255, IMAGE.shape).astype(np.float32)
    assert noisy.min() < 0 < 1 < noisy.max()
    assert denoise(None, noisy, sigma=55 / 255).image.shape == (1, 24, 32)


def test_a_channels_last_image_is_named() -> None:
    colour = np.stack([IMAGE] * 3, axis=-1)  # (H, W, 3)
    with pytest.raises(ShapeError, match=r"looks like \(H, W, C\).*transpose\(2, 0, 1\)"):
        inpaint(None, colour, np.zeros((24, 32), dtype=bool))
