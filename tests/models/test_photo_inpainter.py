"""The photo inpainter: the smooth fill it corrects, any image size, known pixels kept, the any-size app."""

from __future__ import annotations

import pytest
import torch

from aekit.apps.inpaint import inpaint
from aekit.models import create
from aekit.models.files import ModelBundle, load, save_model
from aekit.models.photo_inpainter import PhotoInpainter, smooth_fill


def _model(channels: int = 3, seed: int = 0) -> PhotoInpainter:
    return create("photo_inpainter", input_shape=(channels, 16, 16), channels=(4, 8), seed=seed)  # type: ignore[return-value]


def _holes(height: int, width: int) -> torch.Tensor:
    mask = torch.zeros(1, 1, height, width)
    mask[..., height // 4 : height // 2, width // 3 : width // 2 + 3] = 1
    return mask


def test_smooth_fill_keeps_known_pixels_and_fills_a_constant_image_with_its_constant() -> None:
    image = torch.rand(2, 3, 37, 53)
    mask = _holes(37, 53).expand(2, 1, -1, -1)
    filled = smooth_fill(image, mask)
    known = mask.expand_as(image) < 0.5
    assert torch.equal(filled[known], image[known])
    constant = torch.full((1, 3, 37, 53), 0.3)
    assert torch.allclose(smooth_fill(constant, mask[:1]), constant, atol=1e-6)


def test_smooth_fill_interpolates_between_the_borders_of_a_hole() -> None:
    ramp = torch.linspace(0, 1, 64).expand(1, 1, 32, 64).contiguous()  # left to right
    mask = torch.zeros(1, 1, 32, 64)
    mask[..., 8:24, 24:40] = 1
    filled = smooth_fill(ramp, mask)[0, 0, 16, 24:40]
    assert (filled.diff() >= -1e-3).all()  # no reversal across the hole
    assert 0.3 < float(filled.mean()) < 0.7
    assert float(filled[0]) < float(filled[-1])


def test_fill_takes_any_size_and_keeps_known_pixels() -> None:
    model = _model().eval()
    for height, width in ((16, 16), (37, 53), (5, 9)):
        image = torch.rand(1, 3, height, width)
        mask = _holes(height, width)
        with torch.no_grad():
            filled = model.fill(image, mask)
        assert filled.shape == image.shape
        known = mask.expand_as(image) < 0.5
        assert torch.equal(filled[known], image[known])


def test_the_hole_contents_never_reach_the_output() -> None:
    model = _model().eval()
    image = torch.rand(1, 3, 16, 16)
    mask = _holes(16, 16)
    other = torch.where(mask > 0.5, torch.rand_like(image), image)
    with torch.no_grad():
        assert torch.equal(model.fill(image, mask), model.fill(other, mask))
        assert torch.equal(model(image, mask).x_hat, model(other, mask).x_hat)


def test_loss_counts_the_hole_pixels_only() -> None:
    model = _model()
    image = torch.rand(2, 3, 16, 16)
    mask = _holes(16, 16).expand(2, 1, -1, -1)
    output = model(image, mask)
    target = image.clone()
    target[mask.expand_as(image) < 0.5] += 1.0  # changing known pixels of the target changes nothing
    assert torch.equal(model.loss(output, image)["loss"], model.loss(output, target)["loss"])
    expected = (output.x_hat - image).square()[mask.expand_as(image) > 0.5].mean()
    assert torch.allclose(model.loss(output, image)["loss"], expected)


def test_prepare_batch_draws_holes_or_uses_given_masks() -> None:
    model = _model()
    image = torch.rand(4, 3, 16, 16)
    inputs, target, mask = model.prepare_batch((image, None), torch.Generator().manual_seed(0))
    assert torch.equal(inputs, image) and torch.equal(target, image)
    assert mask is not None and mask.shape == (4, 1, 16, 16) and 0 < float(mask.mean()) < 1
    given = _holes(16, 16).expand(4, 1, -1, -1)
    assert torch.equal(model.prepare_batch((image, given[:, 0]))[2], given)


@pytest.fixture
def saved(tmp_path) -> ModelBundle:  # type: ignore[no-untyped-def]
    save_model(_model(seed=1), tmp_path / "inpainter")
    return load(tmp_path / "inpainter")


def test_app_fills_a_large_colour_image_in_one_tile_and_a_grey_one_through_the_colour_model(
    saved: ModelBundle,
) -> None:
    image = torch.rand(3, 70, 90)
    holes = torch.zeros(70, 90, dtype=torch.bool)
    holes[10:60, 20:80] = True  # far larger than the 16-pixel training patches
    result = inpaint(saved, image, holes)
    assert result.method == "mask_aware" and result.n_tiles == 1
    assert torch.equal(result.image[:, ~holes], image[:, ~holes])
    assert torch.isfinite(result.image).all()
    grey = inpaint(saved, image[0], holes)
    assert grey.image.shape == (1, 70, 90)
    assert torch.equal(grey.image[0, ~holes], image[0, ~holes])


def test_app_fills_a_colour_image_channel_by_channel_with_a_grey_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    save_model(_model(channels=1), tmp_path / "grey")
    image = torch.rand(3, 20, 24)
    holes = torch.zeros(20, 24, dtype=torch.bool)
    holes[5:15, 6:18] = True
    result = inpaint(load(tmp_path / "grey"), image, holes)
    assert result.image.shape == (3, 20, 24)
    assert torch.equal(result.image[:, ~holes], image[:, ~holes])
    assert not torch.equal(result.image[0, holes], result.image[1, holes])


def test_the_self_ensemble_makes_fill_equivariant_to_turns_and_mirrors() -> None:
    model = create("photo_inpainter", input_shape=(3, 16, 16), channels=(4, 8), seed=2).eval()
    image = torch.rand(1, 3, 21, 30)
    mask = _holes(21, 30)
    with torch.no_grad():
        filled = model.fill(image, mask)
        turned = model.fill(torch.rot90(image, 1, (-2, -1)), torch.rot90(mask, 1, (-2, -1)))
        mirrored = model.fill(image.flip(-1), mask.flip(-1))
    assert torch.allclose(torch.rot90(filled, 1, (-2, -1)), turned, atol=1e-5)
    assert torch.allclose(filled.flip(-1), mirrored, atol=1e-5)
    single = create("photo_inpainter", input_shape=(3, 16, 16), channels=(4, 8), seed=2, self_ensemble=1)
    with torch.no_grad():
        alone = single.eval().fill(image, mask)
    known = mask.expand_as(image) < 0.5
    assert torch.equal(alone[known], filled[known]) and not torch.allclose(alone, filled)
