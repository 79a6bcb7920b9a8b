"""Fixtures of the restoration tests: an identity "model", tiny saved models and image files."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
import torch
from torch import Tensor, nn
from typer.testing import CliRunner

from aekit.cli._console import STATE
from aekit.data.normalization import Normalizer
from aekit.models import create
from aekit.models.files import ModelBundle, load, save_model


class IdentityImageModel(nn.Module):
    """Returns its input: restoration through it must give the input back exactly."""

    takes_mask: ClassVar[bool] = False

    def __init__(self, input_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.input_shape = input_shape

    def reconstruct(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        return x.clone()


class MaskAwareConstant(IdentityImageModel):
    """Fills every pixel with 0.25 where the mask (condition) is set, else copies."""

    takes_mask: ClassVar[bool] = True

    def reconstruct(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        assert condition is not None and condition.shape[1] == 1
        return torch.where(condition > 0.5, torch.full_like(x, 0.25), x)


def bundle_of(model: nn.Module, tmp_path: Path) -> ModelBundle:
    return ModelBundle(model, Normalizer.range(0, 255), {}, tmp_path)  # type: ignore[arg-type]


@pytest.fixture
def identity_grey(tmp_path: Path) -> ModelBundle:
    return bundle_of(IdentityImageModel((1, 8, 8)), tmp_path)


@pytest.fixture
def identity_rgb(tmp_path: Path) -> ModelBundle:
    return bundle_of(IdentityImageModel((3, 8, 8)), tmp_path)


@pytest.fixture
def mask_aware_grey(tmp_path: Path) -> ModelBundle:
    return bundle_of(MaskAwareConstant((1, 8, 8)), tmp_path)


@pytest.fixture(scope="session")
def saved_conv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained grey 8×8 conv autoencoder saved as a model folder (for file and CLI plumbing)."""
    model = create(
        "conv", seed=0, input_shape=(1, 8, 8), latent_dim=4, channels=(8,), output_activation="sigmoid"
    )
    return save_model(model, tmp_path_factory.mktemp("models") / "conv", normalizer=Normalizer.range(0, 255))


@pytest.fixture(scope="session")
def saved_inpainter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained grey 8×8 mask-aware inpainting model folder."""
    model = create("inpainting", seed=0, input_shape=(1, 8, 8), latent_dim=4, channels=(4, 8))
    return save_model(
        model, tmp_path_factory.mktemp("models") / "inpainter", normalizer=Normalizer.range(0, 255)
    )


@pytest.fixture
def conv_bundle(saved_conv: Path) -> ModelBundle:
    return load(saved_conv)


@pytest.fixture
def inpainter_bundle(saved_inpainter: Path) -> ModelBundle:
    return load(saved_inpainter)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def _fresh_cli_state() -> None:
    """The CLI's root callback sets global flags (--json, --quiet); start every test from the defaults."""
    STATE.quiet = STATE.verbose = STATE.json = STATE.debug = False
