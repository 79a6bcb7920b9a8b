"""The photo denoiser: residual and any size, noise estimate, paired training, shipped default, warnings."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

import aekit
from aekit.apps.denoise import (
    SHIPPED_CHROMA_DENOISER,
    SHIPPED_DENOISER,
    chroma_guide,
    default_chroma_denoiser,
    default_denoiser,
    denoise,
    estimate_noise_sigma,
    opponent_planes,
)
from aekit.apps.restoration import REFERENCE_KEY, familiarity_reference
from aekit.cli import app
from aekit.data import load_digits
from aekit.data.normalization import Normalizer
from aekit.data.patches import RandomPatches
from aekit.errors import ConfigError, ShapeError
from aekit.models import create
from aekit.models.files import ModelBundle, load, save_model
from aekit.models.photo_denoiser import PhotoDenoiser


def _tiny(seed: int = 0, channels: int = 1, guides: int = 0) -> PhotoDenoiser:
    return create(  # type: ignore[return-value]
        "photo_denoiser", input_shape=(channels, 16, 16), channels=(4, 8), seed=seed, guide_channels=guides
    )


def _silenced(model: PhotoDenoiser) -> PhotoDenoiser:
    """Zero the last layer: the predicted noise is 0, so a residual denoiser returns its input."""
    with torch.no_grad():
        model.net.tail.weight.zero_()
        model.net.tail.bias.zero_()
    return model


def test_the_denoiser_is_residual_and_takes_any_size() -> None:
    model = _silenced(_tiny())
    for height, width in ((13, 21), (1, 1), (40, 7)):
        noisy = torch.rand(2, 1, height, width)
        assert torch.equal(model.denoise(noisy), noisy)
    working = _tiny()
    out = working.denoise(torch.rand(1, 1, 37, 29))
    assert out.shape == (1, 1, 37, 29) and torch.isfinite(out).all()
    with pytest.raises(ShapeError):
        working.denoise(torch.rand(1, 3, 16, 16))


def test_a_guided_denoiser_cleans_its_planes_and_returns_the_guides_as_they_came() -> None:
    model = _tiny(channels=2, guides=1).eval()
    x = torch.rand(3, 2, 19, 23)
    out = model.denoise(x)
    assert torch.equal(out[:, 1], x[:, 1]) and not torch.allclose(out[:, 0], x[:, 0])
    patch = torch.rand(3, 2, 16, 16)
    assert torch.allclose(model.decode(model.encode(patch)), model(patch).x_hat, atol=1e-6)
    output = model(patch)
    target = patch.clone()
    moved = target.clone()
    moved[:, 1] += 5.0  # the guide's target does not count
    assert torch.equal(model.loss(output, target)["loss"], model.loss(output, moved)["loss"])
    noisy, clean, _ = model.prepare_batch((patch, None), torch.Generator().manual_seed(0))
    assert not torch.equal(noisy[:, 1], patch[:, 1]) and torch.equal(clean, patch)  # the guide is noisy too
    with pytest.raises(ConfigError, match="guide_channels"):
        _tiny(channels=2, guides=2)


def test_decode_of_encode_is_the_forward_pass() -> None:
    model = _tiny().eval()
    x = torch.rand(3, 1, 16, 16)
    out = model(x)
    assert out.z.shape == (3, model.latent_dim)
    assert torch.allclose(model.decode(model.encode(x)), out.x_hat, atol=1e-6)
    assert torch.allclose(model.denoise(x), out.x_hat, atol=1e-6)


def test_training_noise_is_drawn_per_image_inside_the_range_and_pairs_pass_through() -> None:
    model = create("photo_denoiser", input_shape=(1, 32, 32), channels=(4,), noise_range=(0.1, 0.2))
    clean = torch.full((64, 1, 32, 32), 0.5)
    noisy, target, _ = model.prepare_batch((clean, None), torch.Generator().manual_seed(0))
    levels = (noisy - clean).flatten(1).std(dim=1)
    assert torch.equal(target, clean)
    assert levels.min() > 0.08 and levels.max() < 0.22 and levels.std() > 0.01  # one level per image
    given = torch.rand(4, 1, 32, 32)
    inputs, targets, _ = model.prepare_batch((given, clean[:4]), None)
    assert torch.equal(inputs, given) and torch.equal(targets, clean[:4])
    with pytest.raises(ShapeError):
        model.prepare_batch((given, clean[:4, :, :16]), None)


def test_random_patches_are_seeded_and_pairs_are_cropped_alike() -> None:
    images = [torch.rand(1, 20, 30), torch.rand(1, 25, 19)]
    targets = [image * 2 for image in images]
    patches = RandomPatches(images, 8, 10, targets=targets)
    assert patches.sample_shape == (1, 8, 8) and patches.n_batches(4) == 3
    first = list(patches.batches(4, generator=torch.Generator().manual_seed(1)))
    again = list(patches.batches(4, generator=torch.Generator().manual_seed(1)))
    assert [len(x) for x, _ in first] == [4, 4, 2]
    for (x, y), (x2, _) in zip(first, again, strict=True):
        assert torch.equal(x, x2) and y is not None and torch.allclose(y, 2 * x)
    with pytest.raises(ShapeError):
        RandomPatches([torch.rand(1, 5, 5)], 8, 10)


@pytest.mark.parametrize("sigma", [5, 15, 25, 50])
def test_noise_estimate_is_close_on_synthetic_noise(sigma: int) -> None:
    rows, cols = np.mgrid[0:256, 0:256] / 256.0
    smooth = 0.5 + 0.3 * np.sin(6 * rows) * np.cos(4 * cols)  # a smooth "photo"
    noisy = smooth + np.random.default_rng(sigma).standard_normal(smooth.shape) * sigma / 255
    assert math.isclose(estimate_noise_sigma(noisy) * 255, sigma, rel_tol=0.08)
    assert estimate_noise_sigma(smooth) * 255 < 0.5


def test_fit_trains_on_noisy_clean_pairs() -> None:
    torch.manual_seed(0)
    clean = torch.rand(32, 1, 16, 16).clamp(0.2, 0.8)
    noisy = clean + 0.1 * torch.randn(clean.shape)
    model = _tiny()
    history = aekit.fit(model, noisy, y=clean, epochs=3, batch_size=8, learning_rate=3e-3)
    losses = [row["train_loss"] for row in history.rows]
    assert losses[-1] < losses[0]
    assert math.isclose(losses[0], float((noisy - clean).square().mean()), rel_tol=0.5)  # pairs, not noise


def test_a_grey_denoiser_cleans_colour_through_decorrelated_planes(tmp_path: Path) -> None:
    bundle = ModelBundle(_silenced(_tiny()), Normalizer.range(0, 255), {}, tmp_path)
    colour = torch.rand(3, 19, 23)
    result = denoise(bundle, colour, sigma=0.1)
    assert torch.allclose(result.image, colour, atol=1e-5)  # identity model → the transform inverts exactly
    assert result.sigma == 0.1 and result.warnings == ()
    grey = denoise(bundle, colour[0])
    assert grey.image.shape == (1, 19, 23) and grey.sigma is not None


def test_colour_with_a_chroma_model_cleans_each_colour_plane_with_the_luminance_as_guide(
    tmp_path: Path,
) -> None:
    grey = ModelBundle(_silenced(_tiny()), Normalizer.range(0, 255), {}, tmp_path)
    guided = _silenced(_tiny(channels=2, guides=1))
    seen: list[torch.Tensor] = []

    def identity(noisy: torch.Tensor) -> torch.Tensor:
        seen.append(noisy)
        return noisy

    guided.denoise = identity  # type: ignore[method-assign]
    chroma = ModelBundle(guided, Normalizer.range(0, 255), {}, tmp_path)
    colour = torch.rand(3, 19, 23)
    result = denoise(grey, colour, sigma=0.1, chroma=chroma)
    assert torch.allclose(result.image, colour, atol=1e-5)  # the transform inverts exactly
    planes = opponent_planes(colour)
    pairs = torch.cat(seen).reshape(-1, 2, 2, 19, 23)[0]  # one tile: plane 1 with its guide, plane 2 with its
    for index, plane in enumerate((1, 2)):
        assert torch.allclose(pairs[index, 0], planes[plane], atol=1e-6)
        assert torch.allclose(pairs[index, 1], chroma_guide(planes[0], plane), atol=1e-6)
    with pytest.raises(ConfigError, match="guided"):
        denoise(grey, colour, chroma=grey)


def test_noise_above_the_range_is_brought_into_it_and_says_so(tmp_path: Path) -> None:
    bundle = ModelBundle(_silenced(_tiny()), Normalizer.range(0, 255), {}, tmp_path)
    image = torch.rand(1, 16, 16)
    result = denoise(bundle, image, sigma=100 / 255)
    assert torch.allclose(result.image, image, atol=1e-5)  # contrast reduced, then restored
    assert "above" in result.warnings[0]


def test_the_shipped_denoiser_cleans_a_photo_from_the_command_line(tmp_path: Path) -> None:
    weights = [folder / "model.safetensors" for folder in (SHIPPED_DENOISER, SHIPPED_CHROMA_DENOISER)]
    assert sum(file.stat().st_size for file in weights) <= 10 * 10**6  # at most 10 MB of weights
    rows, cols = np.mgrid[0:45, 0:61]
    clean = (128 + 60 * np.sin(rows / 5.0) * np.cos(cols / 7.0)).astype(np.float64)
    noisy = clean + np.random.default_rng(0).standard_normal(clean.shape) * 25
    Image.fromarray(np.clip(noisy, 0, 255).round().astype(np.uint8)).save(tmp_path / "noisy.png")
    result = CliRunner().invoke(
        app, ["--json", "denoise", str(tmp_path / "noisy.png"), "-o", str(tmp_path / "clean.png")]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert 15 < payload["files"][0]["sigma"] < 35
    with Image.open(tmp_path / "clean.png") as image:
        cleaned = np.asarray(image, dtype=np.float64)
    assert cleaned.shape == clean.shape
    error_before = np.sqrt(np.mean((np.clip(noisy, 0, 255) - clean) ** 2))
    assert np.sqrt(np.mean((cleaned - clean) ** 2)) < 0.5 * error_before
    assert isinstance(default_denoiser().model, PhotoDenoiser)


def test_the_shipped_chroma_denoiser_cleans_colour_better_than_the_grey_model_alone(tmp_path: Path) -> None:
    from skimage import data as skimage_data

    clean = skimage_data.astronaut()[:128, :128].astype(np.float64)  # never trained on; bright colours
    noisy = clean + np.random.default_rng(0).standard_normal(clean.shape) * 25
    Image.fromarray(np.clip(noisy, 0, 255).round().astype(np.uint8)).save(tmp_path / "noisy.png")
    errors = {}
    for name, options in (("pair", []), ("grey", ["--model", str(SHIPPED_DENOISER)])):
        out = tmp_path / f"{name}.png"
        result = CliRunner().invoke(
            app, ["denoise", str(tmp_path / "noisy.png"), "-o", str(out), "--sigma", "25", *options]
        )
        assert result.exit_code == 0, result.output
        with Image.open(out) as image:
            errors[name] = float(np.mean((np.asarray(image, dtype=np.float64) - clean) ** 2))
    assert errors["pair"] < 0.98 * errors["grey"]  # 0.96 when measured
    assert default_chroma_denoiser().model.guide_channels == 1  # type: ignore[attr-defined]


def test_a_digit_denoiser_warns_on_a_photograph(tmp_path: Path) -> None:
    digits = load_digits().data.x / 16.0
    model = create("conv", input_shape=(1, 8, 8), latent_dim=8, channels=(8,), corruption="gaussian", seed=0)
    aekit.fit(model, digits[:512], epochs=1, batch_size=64)
    metadata = {REFERENCE_KEY: familiarity_reference(model, digits[512:1024])}
    save_model(model, tmp_path / "digits", normalizer=Normalizer.range(0, 16), metadata=metadata)
    bundle = load(tmp_path / "digits")
    photo = 0.6 + 0.2 * torch.rand(1, 40, 48)  # bright, low-contrast: nothing like the digits
    assert "unlike the data" in denoise(bundle, photo).warnings[0]
    page = torch.cat([torch.cat(list(digits[i : i + 6, 0]), dim=1) for i in range(1100, 1130, 6)])
    assert denoise(bundle, page).warnings == ()


def _pair_folders(root: Path, n: int = 12) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    noisy, clean = root / "noisy", root / "clean"
    noisy.mkdir()
    clean.mkdir()
    for index in range(n):
        pixels = rng.integers(60, 200, (24, 20)).astype(np.float64)
        Image.fromarray(pixels.astype(np.uint8)).save(clean / f"img{index}.png")
        dirty = np.clip(pixels + rng.standard_normal(pixels.shape) * 20, 0, 255)
        Image.fromarray(dirty.astype(np.uint8)).save(noisy / f"img{index}.png")
    return noisy, clean


def test_train_command_takes_noisy_and_clean_folders_or_an_npz(tmp_path: Path) -> None:
    noisy, clean = _pair_folders(tmp_path)
    options = ["--model", "photo_denoiser", "--set", "channels=[4,8]", "--epochs", "1", "--batch-size", "2"]
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "train",
            "--dataset",
            str(noisy),
            "--targets",
            str(clean),
            *options,
            "-o",
            str(tmp_path / "run"),
            "--no-report",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()

    (clean / "img0.png").rename(clean / "other.png")
    result = runner.invoke(
        app,
        [
            "train",
            "--dataset",
            str(noisy),
            "--targets",
            str(clean),
            *options,
            "-o",
            str(tmp_path / "bad"),
            "--no-report",
        ],
    )
    assert result.exit_code == 2 and "same file names" in result.output

    x = np.random.default_rng(1).integers(0, 256, (8, 1, 16, 16)).astype(np.uint8)
    np.savez(tmp_path / "pairs.npz", x=x, y=np.clip(x.astype(int) // 2 + 60, 0, 255).astype(np.uint8))
    result = runner.invoke(
        app,
        [
            "train",
            "--dataset",
            str(tmp_path / "pairs.npz"),
            *options,
            "-o",
            str(tmp_path / "npz"),
            "--no-report",
        ],
    )
    assert result.exit_code == 0, result.output


def test_fit_refuses_clean_targets_for_a_model_that_ignores_them() -> None:
    model = create("conv", input_shape=(1, 8, 8), latent_dim=4, channels=(4,))
    x = torch.rand(8, 1, 8, 8)
    with pytest.raises(ConfigError, match="does not train on \\(noisy, clean\\) pairs"):
        aekit.fit(model, x, y=x, epochs=1)


def test_a_chroma_model_that_is_not_guided_is_refused_in_one_line(tmp_path: Path) -> None:
    Image.fromarray(np.full((20, 24, 3), 120, dtype=np.uint8)).save(tmp_path / "colour.png")
    command = ["denoise", str(tmp_path / "colour.png"), "-o", str(tmp_path / "out.png")]
    result = CliRunner().invoke(app, [*command, "--chroma-model", str(SHIPPED_DENOISER)])
    assert result.exit_code == 2
    assert "guide_channels=1" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.png").exists()
