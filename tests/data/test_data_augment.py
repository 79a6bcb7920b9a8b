from __future__ import annotations

import pytest
import torch

from aekit.data import Augmentation
from aekit.errors import ConfigError, ShapeError


def _images(batch: int = 6, height: int = 9, width: int = 7) -> torch.Tensor:
    return torch.rand(batch, 2, height, width, generator=torch.Generator().manual_seed(5))


def _shifted(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``image`` (C, H, W) moved by (dy, dx) pixels with zeros filling in."""
    out = torch.zeros_like(image)
    height, width = image.shape[-2:]
    out[:, max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = image[
        :, max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)
    ]
    return out


def test_all_zero_is_identity():
    x = _images()
    augmentation = Augmentation()
    assert augmentation.is_identity
    assert augmentation.apply(x, torch.Generator().manual_seed(0)) is x


def test_same_generator_state_same_output():
    augmentation = Augmentation(max_shift=2, horizontal_flip_probability=0.5, max_rotation=20)
    x = _images()
    a = augmentation.apply(x, torch.Generator().manual_seed(1))
    b = augmentation.apply(x, torch.Generator().manual_seed(1))
    c = augmentation.apply(x, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == x.shape and a.dtype == x.dtype


def test_flips_with_probability_one():
    x = _images()
    generator = torch.Generator().manual_seed(0)
    assert torch.equal(Augmentation(horizontal_flip_probability=1.0).apply(x, generator), x.flip(-1))
    assert torch.equal(Augmentation(vertical_flip_probability=1.0).apply(x, generator), x.flip(-2))


def test_shifts_are_whole_pixel_translations_within_range():
    x = _images(batch=12)
    out = Augmentation(max_shift=2).apply(x, torch.Generator().manual_seed(3))
    offsets = set()
    for image, moved in zip(x, out, strict=True):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.allclose(moved, _shifted(image, dy, dx), atol=1e-5)
        ]
        assert len(matches) == 1
        offsets.add(matches[0])
    assert len(offsets) > 1


def test_rotation_keeps_a_centred_disc_round_on_non_square_images():
    # A rotation about the centre maps a round blob onto itself; wrong aspect handling on a
    # non-square image would squash it into an ellipse (errors near 0.2 instead of 0.02).
    rows, cols = torch.arange(15.0) - 7, torch.arange(25.0) - 12
    radius2 = rows[:, None] ** 2 + cols[None, :] ** 2
    disc = torch.exp(-radius2 / 18)[None, None].repeat(8, 1, 1, 1)
    out = Augmentation(max_rotation=45).apply(disc, torch.Generator().manual_seed(0))
    inside = radius2 <= 36  # away from the edges, where zero padding comes in
    assert torch.allclose(out[..., inside], disc[..., inside], atol=0.03)  # up to interpolation error
    assert not torch.equal(out, disc)


def test_invalid_config_and_input():
    with pytest.raises(ConfigError, match=r"max_shift must be a whole number of pixels >= 0; got 1\.5"):
        Augmentation(max_shift=1.5)
    with pytest.raises(ConfigError, match=r"horizontal_flip_probability must be a probability in \[0, 1\]"):
        Augmentation(horizontal_flip_probability=2)
    with pytest.raises(ConfigError, match=r"max_rotation must be in \[0, 180\] degrees"):
        Augmentation(max_rotation=-5)
    with pytest.raises(ShapeError, match=r"x must be a floating-point image batch \(B, C, H, W\)"):
        Augmentation(max_shift=1).apply(torch.zeros(2, 8, 8), torch.Generator())


def test_config_round_trips_through_dict():
    augmentation = Augmentation(max_shift=1, vertical_flip_probability=0.25, padding="border")
    assert Augmentation.from_dict(augmentation.to_dict()) == augmentation
