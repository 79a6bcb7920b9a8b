"""One way to run a model over data: device and dtype lookup, batched encoding and per-sample errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from aekit.apps.inference import (
    encode_dataset,
    error_map,
    model_device,
    model_dtype,
    reconstruct_dataset,
    reconstruction_errors,
    run_batches,
)
from aekit.data.normalization import Normalizer
from aekit.errors import ConfigError, DataError
from aekit.models import create
from aekit.models.files import load, save_model

SOURCE = Path(__file__).resolve().parents[2] / "src" / "aekit"


def test_device_and_dtype_of_models_with_and_without_weights() -> None:
    assert model_device(torch.nn.Identity()) == torch.device("cpu")
    assert model_dtype(torch.nn.Linear(2, 2).double()) == torch.float64


def test_bundle_and_bare_model_encode_alike_whatever_the_batching(tmp_path: Path) -> None:
    model = create("mlp", input_shape=(6,), latent_dim=2, hidden_dims=(8,), seed=0)
    normalizer = Normalizer.range(0.0, 10.0)
    bundle = load(save_model(model, tmp_path / "m", normalizer=normalizer))
    x = torch.rand(10, 6) * 10
    codes = encode_dataset(bundle, x, batch_size=3)
    torch.testing.assert_close(codes, encode_dataset(bundle.model, normalizer.transform(x), batch_size=10))
    assert codes.device == torch.device("cpu") and not bundle.model.training


def test_reconstruction_errors_are_the_mean_of_the_error_map() -> None:
    model = create("mlp", input_shape=(1, 4, 4), latent_dim=2, hidden_dims=(8,), seed=0).eval()
    x = torch.rand(5, 1, 4, 4)
    expected = error_map(model.reconstruct(x), x, "l1").flatten(1).mean(1)
    torch.testing.assert_close(reconstruction_errors(model, x, kind="l1", batch_size=2), expected.detach())
    with pytest.raises(DataError, match=r"needs inputs scaled to \[0, 1\]"):
        error_map(x, x + 2, "bce")
    with pytest.raises(ConfigError):
        run_batches(model, model.encode, x, batch_size=0)


def test_no_other_device_lookup_or_batch_loop_in_apps_cli_estimators_workflows() -> None:
    pattern = re.compile(r"next\(\s*(iter\()?[^)]*\.parameters\(\)|next\(\(p\.device for p in")
    offenders = [
        f"{path.relative_to(SOURCE)}"
        for folder in ("apps", "cli", "estimators", "workflows")
        for path in (SOURCE / folder).rglob("*.py")
        if path.name != "inference.py"
        and "compression" not in path.parts
        and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


@pytest.mark.parametrize("name", ["mlp", "codec", "hvae"])
def test_no_samples_give_empty_results_of_the_right_shape(name: str) -> None:
    """Zero rows give ``(0, latent_dim)`` codes and ``(0, *input_shape)`` reconstructions (a batch of
    none broke the codec's and the hierarchical VAE's reshapes, and came back as shape ``(0,)``)."""
    shape = (3, 16, 16) if name == "codec" else (1, 8, 8)
    model = create(name, input_shape=shape, seed=0)
    nothing = torch.zeros((0, *shape))
    codes = encode_dataset(model, nothing)
    one_code = encode_dataset(model, torch.zeros((1, *shape)))
    assert codes.shape == (0, *one_code.shape[1:])
    assert reconstruct_dataset(model, nothing).shape == (0, *shape)
