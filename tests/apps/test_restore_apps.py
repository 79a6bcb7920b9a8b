"""Denoising and inpainting apps: exact identity paths, known pixels kept, files and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aekit.apps.denoise import denoise, denoise_file
from aekit.apps.inpaint import inpaint, inpaint_file, rectangle_mask
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.formats.images import RasterImage, read_image, write_image
from aekit.models.files import ModelBundle


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def _image(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed))


def test_denoise_through_an_identity_model_returns_the_input_at_any_size(identity_grey: ModelBundle) -> None:
    image = _image((1, 29, 45))
    result = denoise(identity_grey, image)
    assert torch.equal(result.image, image)
    assert result.n_tiles == 7 * 11  # 4-px stride, last tile flush: rows 0, 4, ..., 20, 21
    assert torch.equal(denoise(identity_grey, image[0]).image, image)  # (H, W) is one grey image


def test_denoise_refuses_another_channel_count(identity_grey: ModelBundle) -> None:
    with pytest.raises(
        ShapeError, match=r"trained on 1-channel \(grey\) images; image has 3 channels \(colour\)"
    ):
        denoise(identity_grey, _image((3, 16, 16)))


def test_a_16_bit_png_through_the_identity_path_keeps_its_values(
    identity_grey: ModelBundle, tmp_path: Path
) -> None:
    raw = np.arange(0, 65536, 97, dtype=np.uint16)[: 20 * 30].reshape(1, 20, 30)
    raw[0, 0, 0], raw[0, -1, -1] = 0, 65535
    write_image(tmp_path / "deep.png", RasterImage.from_array(raw))
    result = denoise_file(identity_grey, tmp_path / "deep.png", tmp_path / "out.png")
    again = read_image(tmp_path / "out.png")
    assert again.bit_depth == 16 and result.n_clipped == 0
    np.testing.assert_array_equal(again.raw, raw)


def test_an_8_bit_colour_png_through_the_identity_path_keeps_its_values(
    identity_rgb: ModelBundle, tmp_path: Path
) -> None:
    rgb = (np.arange(3 * 12 * 17) % 256).astype(np.uint8).reshape(12, 17, 3)
    Image.fromarray(rgb).save(tmp_path / "colour.png")
    denoise_file(identity_rgb, tmp_path / "colour.png", tmp_path / "out.png")
    np.testing.assert_array_equal(_pixels(tmp_path / "out.png"), rgb)


def test_denoise_file_refuses_a_model_trained_on_another_channel_count(
    identity_grey: ModelBundle, tmp_path: Path
) -> None:
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(tmp_path / "colour.png")
    with pytest.raises(ShapeError, match="trained on 1-channel"):
        denoise_file(identity_grey, tmp_path / "colour.png", tmp_path / "out.png")
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("method", ["reconstruct", "mask_aware"])
def test_inpaint_changes_only_the_holes(
    conv_bundle: ModelBundle, inpainter_bundle: ModelBundle, method: str
) -> None:
    bundle = conv_bundle if method == "reconstruct" else inpainter_bundle
    image = _image((1, 21, 30))
    holes = torch.zeros(21, 30, dtype=torch.bool)
    holes[5:9, 3:20] = True
    holes[15, :] = True
    result = inpaint(bundle, image, holes, method="auto", iterations=3)
    assert result.method == method
    assert torch.equal(result.image[:, ~holes], image[:, ~holes])
    assert not torch.equal(result.image[:, holes], image[:, holes])


def test_the_mask_aware_method_gives_the_model_the_mask(mask_aware_grey: ModelBundle) -> None:
    image = _image((1, 12, 12))
    holes = rectangle_mask((12, 12), 2, 3, 5, 4)
    result = inpaint(mask_aware_grey, image, holes)
    assert torch.equal(result.image[:, holes], torch.full((1, int(holes.sum())), 0.25))
    assert torch.equal(result.image[:, ~holes], image[:, ~holes])


def test_numeric_masks_mark_holes_from_one_half_as_mask_files_do(mask_aware_grey: ModelBundle) -> None:
    image = _image((1, 12, 12))
    soft = torch.zeros(12, 12)
    soft[2:5, 3:7] = 0.5  # an anti-aliased brush's half-covered pixels
    soft[8, 8] = 0.49
    result = inpaint(mask_aware_grey, image, soft)
    assert torch.equal(result.mask, soft >= 0.5) and int(result.mask.sum()) == 12
    assert torch.equal(inpaint(mask_aware_grey, image, (soft >= 0.5).to(torch.uint8) * 255).mask, result.mask)
    soft[0, 0] = float("nan")
    with pytest.raises(DataError, match="the mask holds NaN or infinite values"):
        inpaint(mask_aware_grey, image, soft)


def test_reconstruct_starts_from_the_known_mean_and_iterates(identity_grey: ModelBundle) -> None:
    image = torch.zeros(1, 10, 10)
    image[:, :5] = 1.0
    holes = torch.zeros(10, 10, dtype=torch.bool)
    holes[0, 0] = True
    mean = image[:, ~holes].mean()
    result = inpaint(identity_grey, image, holes, iterations=2)
    assert result.image[0, 0, 0].item() == pytest.approx(mean.item())
    zero = inpaint(identity_grey, image, holes, initial_fill="zero")
    assert zero.image[0, 0, 0].item() == 0.0


def test_inpaint_errors_are_named(identity_grey: ModelBundle, conv_bundle: ModelBundle) -> None:
    image = _image((1, 10, 10))
    with pytest.raises(
        ShapeError, match=r"the mask must have the image's size \(H, W\) = \(10, 10\); got shape \(10, 12\)"
    ):
        inpaint(identity_grey, image, torch.zeros(10, 12, dtype=torch.bool))
    with pytest.raises(ConfigError, match="method='mask_aware' needs a model trained with hole masks"):
        inpaint(conv_bundle, image, torch.ones(10, 10, dtype=torch.bool), method="mask_aware")
    with pytest.raises(DataError, match="every pixel is missing"):
        inpaint(identity_grey, image, torch.ones(10, 10, dtype=torch.bool))
    with pytest.raises(ShapeError, match=r"does not fit the 10x10 \(WxH\) image"):
        rectangle_mask((10, 10), 5, 5, 6, 2)


def test_inpaint_file_keeps_known_8_bit_pixels_and_reads_png_masks(
    conv_bundle: ModelBundle, tmp_path: Path
) -> None:
    grey = (np.arange(19 * 23) * 7 % 256).astype(np.uint8).reshape(19, 23)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    mask = np.zeros((19, 23), np.uint8)
    mask[4:10, 6:15] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    result = inpaint_file(
        conv_bundle,
        tmp_path / "grey.png",
        tmp_path / "out.png",
        mask=tmp_path / "mask.png",
        rectangle=(0, 0, 2, 2),
    )
    out = _pixels(tmp_path / "out.png")
    holes = mask == 255
    holes[:2, :2] = True
    np.testing.assert_array_equal(out[~holes], grey[~holes])
    assert result.n_filled == int(holes.sum()) and result.method == "reconstruct"


def test_inpaint_file_refuses_a_mask_of_another_size(conv_bundle: ModelBundle, tmp_path: Path) -> None:
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(tmp_path / "image.png")
    Image.fromarray(np.zeros((10, 11), np.uint8)).save(tmp_path / "mask.png")
    with pytest.raises(ShapeError, match=r"mask .*mask\.png is 11x10 \(WxH\) but the image is 12x10"):
        inpaint_file(conv_bundle, tmp_path / "image.png", tmp_path / "out.png", mask=tmp_path / "mask.png")
    with pytest.raises(DataError, match="nothing to fill"):
        inpaint_file(conv_bundle, tmp_path / "image.png", tmp_path / "out.png")


def test_a_float_array_with_a_nan_gap_is_filled_in_its_own_range(
    identity_grey: ModelBundle, tmp_path: Path
) -> None:
    rows, cols = np.meshgrid(np.arange(16.0), np.arange(20.0), indexing="ij")
    elevation = 1200.0 + 35.0 * rows - 12.5 * cols
    gap = (rows >= 6) & (rows < 9) & (cols >= 5) & (cols < 12)
    damaged = np.where(gap, np.nan, elevation).astype(np.float32)
    np.save(tmp_path / "dem.npy", damaged)
    result = inpaint_file(identity_grey, tmp_path / "dem.npy", tmp_path / "filled.npy")
    filled = np.load(tmp_path / "filled.npy")
    assert filled.dtype == np.float32 and np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[~gap], damaged[~gap])  # known values bit for bit
    # The identity model keeps the initial fill, the known values' mean, mapped back to metres.
    np.testing.assert_allclose(filled[gap], np.nanmean(damaged), rtol=1e-5)
    assert result.n_filled == int(gap.sum())


def test_denoise_keeps_missing_values_missing(identity_grey: ModelBundle, tmp_path: Path) -> None:
    array = np.linspace(0.0, 5.0, 144).reshape(12, 12)
    array[3, 4] = np.nan
    np.save(tmp_path / "a.npy", array)
    denoise_file(identity_grey, tmp_path / "a.npy", tmp_path / "b.npy")
    out = np.load(tmp_path / "b.npy")
    assert np.isnan(out[3, 4]) and np.isfinite(np.delete(out.ravel(), 3 * 12 + 4)).all()
    np.testing.assert_allclose(out, array, rtol=0, atol=1e-6)


def test_denoise_refuses_a_batch_size_below_1_with_an_any_size_model() -> None:
    with pytest.raises(ConfigError, match="batch_size must be a positive int; got 0"):
        denoise(None, torch.rand(1, 12, 15), batch_size=0)
