"""The one encoder/decoder builder: the conv-bottleneck rule in every conv family, old folders still load."""

from __future__ import annotations

import json

import pytest
import torch

from aekit.models import create
from aekit.models.files import load, save_model
from aekit.nn.backbone import DENSE_SQUEEZE, BackboneSpec, bottleneck_dims
from aekit.nn.heads import GaussianHead

MNIST = (1, 28, 28)


def test_bottleneck_rule_by_the_squeeze() -> None:
    assert bottleneck_dims(2048, 32) == ()  # squeeze 64
    assert bottleneck_dims(2048, 8) == (512, 256)  # squeeze 256 = DENSE_SQUEEZE
    assert bottleneck_dims(DENSE_SQUEEZE * 4 - 1, 4) == ()
    assert bottleneck_dims(2048, 8, dense_dims=()) == ()
    spec = BackboneSpec(input_shape=MNIST, latent_dim=2, architecture="conv", channels=(32, 64, 128))
    assert spec.feature_map_shape == (128, 4, 4)
    assert spec.code_dims == (512, 256)


@pytest.mark.parametrize("name", ["conv", "vae", "cvae", "aae", "caae", "multi_decoder"])
def test_every_conv_family_takes_dense_steps_at_a_large_squeeze(name: str) -> None:
    config = {"latent_dim": 2, "channels": (8, 16)}
    if name != "conv":
        config["architecture"] = "conv"
    small = create(name, input_shape=MNIST, seed=0, **config)
    # 16 × 7 × 7 = 784 values squeezed into 2: steps through a quarter and an eighth of the map.
    assert small.config.used_dense_dims == (196, 98)
    linear_shapes = [tuple(p.shape) for p in small.parameters() if p.dim() == 2]
    assert (196, 784) in linear_shapes and (98, 196) in linear_shapes
    wide = create(name, input_shape=MNIST, seed=0, **{**config, "latent_dim": 16})
    assert wide.config.used_dense_dims == ()


def test_mlp_backbones_keep_their_layers() -> None:
    """The MLP families build the same layers as before the builder was shared."""
    shapes = {
        "mlp": [(64, 64), (4, 64), (64, 4), (64, 64)],
        "vae": [(64, 64), (8, 64), (64, 4), (64, 64)],
        "aae": [(64, 64), (4, 64), (64, 4), (64, 64)],
    }
    for name, expected in shapes.items():
        model = create(name, input_shape=(1, 8, 8), latent_dim=4, hidden_dims=(64,), seed=0)
        autoencoder = [
            tuple(p.shape)
            for key, p in model.named_parameters()
            if p.dim() == 2 and "discriminator" not in key
        ]
        assert autoencoder == expected, name


@pytest.mark.parametrize("name", ["vae", "aae"])
def test_conv_folders_saved_before_dense_dims_load_with_one_linear_layer(tmp_path, name: str) -> None:
    config = {"input_shape": MNIST, "latent_dim": 2, "architecture": "conv", "channels": (8, 16)}
    old = create(name, dense_dims=(), seed=0, **config)
    folder = save_model(old, tmp_path / name)
    document = json.loads((folder / "config.json").read_text())
    del document["config"]["dense_dims"]  # what a folder written before the field existed holds
    (folder / "config.json").write_text(json.dumps(document))
    loaded = load(folder).model
    assert loaded.config.dense_dims == ()
    x = torch.rand(3, *MNIST, generator=torch.Generator().manual_seed(0))
    old.eval()
    torch.testing.assert_close(loaded.encode(x), old.encode(x))
    # A new folder keeps the choice it was built with.
    new = create(name, seed=0, **config)
    assert load(save_model(new, tmp_path / "new")).model.config.used_dense_dims == (196, 98)


def test_gaussian_head_keeps_the_saved_vae_layout() -> None:
    head = GaussianHead(6, 2)
    assert sorted(head.state_dict()) == ["linear.bias", "linear.weight"]
    mu, logvar = head(torch.rand(4, 6))
    assert mu.shape == logvar.shape == (4, 2)
    vae = create("vae", input_shape=(5,), latent_dim=2, hidden_dims=(6,), seed=0)
    assert isinstance(vae.head, GaussianHead)
    assert tuple(vae.state_dict()["head.linear.weight"].shape) == (4, 6)


def test_a_conv_autoencoder_on_vectors_points_at_the_mlp_family() -> None:
    from aekit.errors import ConfigError

    with pytest.raises(ConfigError, match=r"got \(5,\) \(vectors such as table rows: use the 'mlp' family\)"):
        create("conv", input_shape=(5,))
    with pytest.raises(ConfigError, match=r"got \(8, 8\)$"):
        create("conv", input_shape=(8, 8))
