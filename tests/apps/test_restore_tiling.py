"""Tiling: exact for an identity model, seamless blending, tiles only where asked."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from aekit.apps.tiling import random_patches, tile_apply, tile_starts, tile_weights
from aekit.errors import ConfigError, ShapeError


def _identity(tiles: Tensor) -> Tensor:
    return tiles.clone()


@pytest.mark.parametrize("window", ["hann", "triangular", "flat"])
@pytest.mark.parametrize(("size", "overlap"), [((37, 53), None), ((8, 8), 3), ((5, 11), 2), ((20, 9), 0)])
def test_identity_model_returns_the_input_exactly(
    window: str, size: tuple[int, int], overlap: int | None
) -> None:
    image = torch.rand(3, *size, generator=torch.Generator().manual_seed(0))
    result = tile_apply(image, _identity, (8, 8), overlap=overlap, window=window, batch_size=5)  # type: ignore[arg-type]
    assert torch.equal(result.image, image)
    assert result.covered.all()


def test_tiles_cover_the_axis_and_hann_ramps_sum_to_one() -> None:
    assert tile_starts(28, 8, 4) == [0, 4, 8, 12, 16, 20]
    assert tile_starts(30, 8, 4) == [0, 4, 8, 12, 16, 20, 22]
    assert tile_starts(5, 8, 4) == [0]
    left = tile_weights(8, 4, "hann", taper_start=True, taper_end=True)
    right = tile_weights(8, 4, "hann", taper_start=True, taper_end=True)
    torch.testing.assert_close(left[4:] + right[:4], torch.ones(4, dtype=torch.float64))
    assert (left > 0).all()
    edge = tile_weights(8, 4, "hann", taper_start=False, taper_end=True)
    assert torch.equal(edge[:4], torch.ones(4, dtype=torch.float64))


def _offset_per_tile(tiles: Tensor) -> Tensor:
    """A model whose output for each tile is shifted by its own constant: the worst case for seams."""
    offsets = torch.rand(len(tiles), 1, 1, 1, generator=torch.Generator().manual_seed(len(tiles)))
    return tiles + (offsets - 0.5) * 0.2


def _largest_step(image: Tensor) -> float:
    return max(image.diff(dim=-1).abs().max().item(), image.diff(dim=-2).abs().max().item())


def test_a_constant_image_shows_no_seams() -> None:
    image = torch.full((1, 64, 64), 0.5)
    butted = tile_apply(image, _offset_per_tile, 16, overlap=0).image
    blended = tile_apply(image, _offset_per_tile, 16, overlap=8, window="hann").image
    assert _largest_step(butted) > 0.02  # tiles butted together: visible steps at every border
    # Blended: neighbouring offsets (spread ≤ 0.2) cross-fade along sin² ramps over 8 pixels, whose
    # steepest step is π/16 of the difference, instead of jumping by all of it.
    assert _largest_step(blended) <= 0.2 * torch.pi / 16
    assert _largest_step(blended) < 0.25 * _largest_step(butted)


def test_a_smooth_image_through_a_pointwise_model_is_unchanged_by_tiling() -> None:
    rows, cols = torch.meshgrid(torch.linspace(0, 1, 45), torch.linspace(0, 1, 70), indexing="ij")
    smooth = (0.5 + 0.4 * torch.sin(3 * rows) * torch.cos(2 * cols))[None]
    result = tile_apply(smooth, lambda tiles: tiles.square(), (12, 10), overlap=(5, 4))
    torch.testing.assert_close(result.image, smooth.square(), rtol=0, atol=1e-6)
    assert _largest_step(result.image) <= _largest_step(smooth.square()) + 1e-6


def test_only_processes_tiles_that_touch_the_region() -> None:
    image = torch.rand(1, 32, 32)
    only = torch.zeros(32, 32, dtype=torch.bool)
    only[3, 3] = True
    result = tile_apply(image, _identity, 8, overlap=4, only=only)
    assert result.n_tiles == 1
    assert result.covered[3, 3] and not result.covered[20, 20]
    assert torch.equal(result.image[:, :8, :8], image[:, :8, :8])
    assert tile_apply(image, _identity, 8, only=torch.zeros(32, 32, dtype=torch.bool)).n_tiles == 0


def test_bad_arguments_are_named() -> None:
    image = torch.rand(1, 16, 16)
    with pytest.raises(ShapeError, match=r"image must have shape \(C, H, W\); got \(16, 16\)"):
        tile_apply(image[0], _identity, 8)
    with pytest.raises(ConfigError, match="overlap must be in"):
        tile_apply(image, _identity, 8, overlap=8)
    with pytest.raises(ConfigError, match="window"):
        tile_apply(image, _identity, 8, window="gauss")  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match="the model must return tiles"):
        tile_apply(image, lambda tiles: tiles[:, :, :4], 8)
    with pytest.raises(ShapeError, match=r"only must have shape \(16, 16\)"):
        tile_apply(image, _identity, 8, only=torch.ones(8, 8, dtype=torch.bool))


def test_random_patches_are_crops_of_the_images() -> None:
    images = torch.arange(2 * 3 * 10 * 12, dtype=torch.float32).reshape(2, 3, 10, 12)
    patches = random_patches(images, (4, 5), 50, torch.Generator().manual_seed(0))
    assert patches.shape == (50, 3, 4, 5)
    for patch in patches:
        flat = int(patch[0, 0, 0])
        image, rest = divmod(flat, 3 * 10 * 12)
        top, left = divmod(rest, 12)
        assert torch.equal(patch, images[image, :, top : top + 4, left : left + 5])
    with pytest.raises(ShapeError, match="do not fit images of 10x12"):
        random_patches(images, 11, 1, torch.Generator())


def test_random_patches_take_images_of_different_sizes() -> None:
    """Photographs come in many sizes: every patch is a crop of one of them, and every image is drawn."""
    sizes = [(10, 12), (16, 9), (7, 7)]
    images, start = [], 0
    for height, width in sizes:
        count = 2 * height * width
        images.append(torch.arange(start, start + count, dtype=torch.float32).reshape(2, height, width))
        start += count
    patches = random_patches(images, (4, 5), 60, torch.Generator().manual_seed(0))
    assert patches.shape == (60, 2, 4, 5)
    drawn = set()
    for patch in patches:
        value = int(patch[0, 0, 0])
        index = max(i for i in range(len(images)) if images[i].flatten()[0] <= value)
        drawn.add(index)
        top, left = divmod(value - int(images[index].flatten()[0]), sizes[index][1])
        assert torch.equal(patch, images[index][:, top : top + 4, left : left + 5])
    assert drawn == {0, 1, 2}
    with pytest.raises(ShapeError, match="do not fit image 2 of 7x7"):
        random_patches(images, 8, 1, torch.Generator())
    with pytest.raises(ShapeError, match="must all have 2 channels"):
        random_patches([images[0], torch.zeros(3, 9, 9)], 4, 1, torch.Generator())
