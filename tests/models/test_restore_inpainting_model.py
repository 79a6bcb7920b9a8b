"""The mask-aware inpainting model: hole masks, batches, loss terms, the perceptual option."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from aekit.errors import ConfigError, ShapeError
from aekit.losses.perceptual import EncoderFeatures
from aekit.models import create
from aekit.models.inpainting import hole_masks, rectangle_masks, stroke_masks


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("kind", ["strokes", "rectangles", "mixed"])
def test_hole_masks_are_binary_seeded_and_never_empty(kind: str) -> None:
    masks = hole_masks(kind, 32, (20, 28), _generator())  # type: ignore[arg-type]
    assert masks.shape == (32, 1, 20, 28) and masks.dtype == torch.float32
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    assert (masks.flatten(1).sum(1) > 0).all()
    assert torch.equal(masks, hole_masks(kind, 32, (20, 28), _generator()))  # type: ignore[arg-type]
    assert not torch.equal(masks, hole_masks(kind, 32, (20, 28), _generator(1)))  # type: ignore[arg-type]


def test_rectangles_have_sides_in_the_asked_range_and_strokes_stay_thin() -> None:
    masks = rectangle_masks(64, (40, 50), _generator(), side_fraction=(0.2, 0.4))
    heights = masks.amax(dim=3).sum(dim=(1, 2))
    widths = masks.amax(dim=2).sum(dim=(1, 2))
    assert heights.min() >= 8 and heights.max() <= 16 and widths.min() >= 10 and widths.max() <= 20
    assert masks.flatten(1).sum(1).equal(heights * widths)  # one solid rectangle each
    strokes = stroke_masks(64, (40, 50), _generator(), max_strokes=1, max_width_fraction=0.1)
    assert strokes.mean() < 0.2


def test_prepare_batch_blanks_the_holes_and_keeps_the_clean_target() -> None:
    model = create("inpainting", seed=0, input_shape=(1, 12, 12), fill_value=0.5, holes="rectangles")
    x = torch.rand(6, 1, 12, 12, generator=_generator())
    inputs, target, mask = model.prepare_batch((x, torch.arange(6)), _generator())  # labels are ignored
    assert torch.equal(target, x) and mask is not None and mask.shape == (6, 1, 12, 12)
    assert torch.equal(inputs, torch.where(mask > 0.5, torch.full_like(x, 0.5), x))
    given = torch.zeros(6, 12, 12)
    given[:, 2:4, 2:4] = 1
    _, _, used = model.prepare_batch((x, given), None)
    assert used is not None and torch.equal(used[:, 0], given)
    with pytest.raises(TypeError, match=r"generator must be a torch\.Generator to draw hole masks"):
        model.prepare_batch((x, None), None)


def test_the_model_sees_the_mask_and_not_the_hidden_pixels() -> None:
    model = create("inpainting", seed=0, input_shape=(1, 12, 12), channels=(8, 16)).eval()
    x = torch.rand(2, 1, 12, 12, generator=_generator())
    mask = torch.zeros(2, 1, 12, 12)
    mask[:, :, 3:7, 3:7] = 1
    scrambled = torch.where(mask > 0.5, torch.rand_like(x), x)
    with torch.no_grad():
        torch.testing.assert_close(model(x, mask).x_hat, model(scrambled, mask).x_hat)  # hidden pixels unseen
        assert not torch.allclose(model(x, mask).x_hat, model(x, None).x_hat)  # the mask channel matters
    with pytest.raises(ShapeError, match=r"the mask \(condition\) must have shape \(2, 1, 12, 12\)"):
        model(x, torch.zeros(2, 1, 12, 11))


def test_loss_terms_follow_their_formulas() -> None:
    model = create(
        "inpainting", seed=0, input_shape=(1, 12, 12), reconstruction="mse", hole_weight=2.0, ssim_weight=0.5
    )
    x = torch.rand(3, 1, 12, 12, generator=_generator())
    inputs, target, mask = model.prepare_batch((x, None), _generator())
    output = model(inputs, mask)
    terms = model.loss(output, target)
    squared = (output.x_hat - target).square()
    torch.testing.assert_close(terms["recon"], squared.mean())
    torch.testing.assert_close(terms["hole"], (squared * mask).sum() / mask.sum())
    expected = terms["recon"] + 2.0 * terms["hole"] + 0.5 * terms["ssim"]
    torch.testing.assert_close(terms["loss"], expected)
    assert terms["perceptual"].item() == 0.0 and 0 < terms["ssim"].item() < 1
    no_holes = model.loss(model(x, torch.zeros(3, 1, 12, 12)), x)
    assert no_holes["hole"].item() == 0.0 and no_holes["ssim"].item() == pytest.approx(0.0, abs=1e-6)


def test_the_perceptual_term_needs_a_feature_network_which_is_not_saved() -> None:
    model = create("inpainting", seed=0, input_shape=(1, 8, 8), channels=(4, 8), perceptual_weight=1.0)
    x = torch.rand(4, 1, 8, 8, generator=_generator())
    inputs, target, mask = model.prepare_batch((x, None), _generator())
    with pytest.raises(ConfigError, match="perceptual_weight > 0 needs a feature network"):
        model.loss(model(inputs, mask), target)
    features = create("conv", seed=1, input_shape=(1, 8, 8), latent_dim=4, channels=(8,))
    keys = set(model.state_dict())
    model.use_feature_network(EncoderFeatures(features))
    terms = model.loss(model(inputs, mask), target)
    assert terms["perceptual"].item() > 0
    assert set(model.state_dict()) == keys and not any(
        isinstance(m, EncoderFeatures) for m in model.modules()
    )
    terms["loss"].backward()
    assert all(p.grad is None for p in features.parameters())


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match="holes"):
        create("inpainting", input_shape=(1, 8, 8), holes="circles")
    with pytest.raises(ConfigError, match=r"input_shape must be \(C, H, W\) for inpainting"):
        create("inpainting", input_shape=(64,))
    with pytest.raises(ConfigError, match="hole_size"):
        create("inpainting", input_shape=(1, 8, 8), hole_size=(0.6, 0.3))


def test_mask_aware_training_beats_blind_filling_on_a_smooth_pattern() -> None:
    """A few steps on stripes are enough for the model to use the mask: hole error falls."""
    from aekit.training.fit import fit

    rows = torch.arange(12.0).reshape(1, 1, 12, 1).expand(64, 1, 12, 12)
    phase = torch.rand(64, 1, 1, 1, generator=_generator()) * 6.28
    stripes = 0.5 + 0.4 * torch.sin(rows * 0.6 + phase)
    model = create(
        "inpainting", seed=0, input_shape=(1, 12, 12), channels=(8, 16), latent_dim=8, holes="rectangles"
    )
    generator = _generator(5)
    _, target, mask = model.prepare_batch((stripes[:16], None), generator)

    def hole_error() -> float:
        model.eval()
        with torch.no_grad():
            return model.loss(model(target, mask), target)["hole"].item()

    before = hole_error()
    fit(model, stripes, epochs=15, batch_size=16, device="cpu", learning_rate=3e-3)
    assert isinstance(model, nn.Module) and hole_error() < 0.5 * before
