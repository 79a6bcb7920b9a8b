"""One namespace for model classes and presets: a name means one thing."""

from __future__ import annotations

import pytest

from aekit.models import create, names
from aekit.models.registry import MODELS, PRESETS, register_model, register_preset


def test_a_preset_cannot_take_a_model_class_name() -> None:
    with pytest.raises(ValueError, match="'mlp' is already registered as a model class"):
        register_preset("mlp", "vae")
    assert type(create("mlp", input_shape=(4,), latent_dim=2)).__name__ == "MLPAutoencoder"


def test_a_name_is_registered_once_whatever_its_kind() -> None:
    with pytest.raises(ValueError, match="'beta_vae' is already registered as a preset of 'vae'"):
        register_preset("beta_vae", "mlp")
    with pytest.raises(ValueError, match="'beta_vae' is already registered as a preset"):
        register_model("beta_vae")(type(create("vae", input_shape=(4,), latent_dim=2)))
    with pytest.raises(ValueError, match="'vae' is already registered as a model class"):
        register_model("vae")(type(create("vae", input_shape=(4,), latent_dim=2)))
    assert "beta_vae" in PRESETS and "beta_vae" not in MODELS


def test_a_preset_must_target_a_model_class() -> None:
    with pytest.raises(ValueError, match="targets 'beta_vae', which is not a registered model class"):
        register_preset("beta_vae_again", "beta_vae")
    with pytest.raises(ValueError, match="not a registered model class"):
        register_preset("nothing_here", "no_such_family")
    assert "beta_vae_again" not in names() and "nothing_here" not in names()
