"""One U-Net (aekit.nn.unet) behind the photo denoiser, segmentation and mask-aware inpainting models."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from aekit.models import create
from aekit.models.files import load, save_model
from aekit.nn.unet import UNet


@pytest.mark.parametrize("name", ["segmentation", "inpainting", "photo_denoiser"])
def test_families_use_the_one_unet(name: str) -> None:
    config = {"channels": (4, 8)} if name == "photo_denoiser" else {"channels": (4, 8, 16), "latent_dim": 3}
    if name == "segmentation":
        config["n_classes"] = 3
    model = create(name, input_shape=(1, 12, 10), seed=0, **config)
    assert isinstance(model.net, UNet)
    assert sum(isinstance(module, UNet) for module in model.modules()) == 1


def test_planned_unet_takes_odd_sizes_and_a_code() -> None:
    net = UNet(2, 3, (4, 8, 16), 1, 1, input_size=(13, 11), skip="concat", code_dim=5, encoder_convs=0)
    x = torch.rand(2, 2, 13, 11)
    levels = net.features(x)
    code = net.code(levels)
    assert code.shape == (2, 5)
    assert net(x).shape == (2, 3, 13, 11)
    assert net.output(None, code).shape == (2, 3, 13, 11)  # zeros stand in for the skips


def _old_names(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The weights under the names the family used before it held a UNet."""
    backwards = {new: old for old, new in type(model).legacy_state_names.items()}
    renamed = {}
    for key, value in model.state_dict().items():
        for new, old in backwards.items():
            if key.startswith(new):
                key = old + key[len(new) :]
                break
        renamed[key] = value
    return renamed


@pytest.mark.parametrize("name", ["segmentation", "inpainting"])
def test_weights_saved_under_the_old_layer_names_load(tmp_path, name: str) -> None:
    config = {"channels": (4, 8), "latent_dim": 3, **({"n_classes": 3} if name == "segmentation" else {})}
    model = create(name, input_shape=(1, 8, 8), seed=0, **config).eval()
    old = _old_names(model)
    assert not any(key.startswith("net.") for key in old)
    fresh = create(name, input_shape=(1, 8, 8), seed=1, **config).eval()
    fresh.load_state_dict(old)  # plain load_state_dict takes the old names too
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(fresh(x).x_hat, model(x).x_hat)
    # A model folder written before the change: old names in the weights file.
    folder = save_model(model, tmp_path / name)
    weights = folder / "model.safetensors"
    save_file({key: value.contiguous() for key, value in old.items()}, str(weights))
    document = json.loads((folder / "config.json").read_text())
    document["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    (folder / "config.json").write_text(json.dumps(document))
    assert set(load_file(str(weights))) == set(old)
    torch.testing.assert_close(load(folder).model(x).x_hat, model(x).x_hat)
