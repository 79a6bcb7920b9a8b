"""ONNX export runs in onnxruntime and matches PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from aekit.apps.export import export_onnx
from aekit.models import create
from aekit.models.files import save_model

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra (aekit[export])")


@pytest.mark.timeout(240)
def test_onnx_files_match_pytorch_outputs(tmp_path: Path) -> None:
    model = create("conv", input_shape=(1, 9, 7), latent_dim=3, channels=[4, 8], seed=0).eval()
    files = export_onnx(model, tmp_path)
    x = torch.rand(5, 1, 9, 7)  # a batch size other than the example's: the batch axis is dynamic
    z = model.encode(x).detach()
    expected = {
        "encoder": (x, z),
        "decoder": (z, model.decode(z).detach()),
        "autoencoder": (x, model.reconstruct(x).detach()),
    }
    for part, (inputs, outputs) in expected.items():
        session = ort.InferenceSession(str(files[part]))
        result = session.run(None, {session.get_inputs()[0].name: inputs.numpy()})[0]
        np.testing.assert_allclose(result, outputs.numpy(), rtol=1e-4, atol=1e-5, err_msg=part)


def test_cli_export(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from aekit.cli import app

    save_model(create("mlp", input_shape=(6,), latent_dim=2, hidden_dims=[8], seed=0), tmp_path / "m")
    result = CliRunner().invoke(app, ["export", "--model", str(tmp_path / "m"), "-o", str(tmp_path / "onnx")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "onnx").iterdir()) == [
        "autoencoder.onnx",
        "decoder.onnx",
        "encoder.onnx",
    ]
    bad = CliRunner().invoke(
        app, ["export", "--model", str(tmp_path / "m"), "--format", "tflite", "-o", str(tmp_path)]
    )
    assert bad.exit_code == 2
    assert "--format must be onnx" in bad.stderr


def _batch_axes(path: Path) -> list[str | int]:
    onnx = pytest.importorskip("onnx")
    graph = onnx.load(str(path)).graph
    return [
        d.dim_param or d.dim_value
        for v in (*graph.input, *graph.output)
        for d in v.type.tensor_type.shape.dim[:1]
    ]


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("family", "shape", "layers"),
    [("aae", (1, 6, 6), {"hidden_dims": [8]}), ("inpainting", (1, 8, 8), {"channels": [4, 8]})],
)
def test_encoders_that_once_fixed_the_batch_export_with_a_dynamic_one(
    tmp_path: Path, family: str, shape: tuple[int, ...], layers: dict
) -> None:
    """``len(x)`` in an encoder made ``torch.export`` fix the batch at 2 (aae, inpainting's mask check)."""
    model = create(family, input_shape=shape, latent_dim=2, seed=0, **layers).eval()
    files = export_onnx(model, tmp_path, ("encoder", "autoencoder"))
    x = torch.rand(5, *shape)
    for part, expected in {"encoder": model.encode(x), "autoencoder": model.reconstruct(x)}.items():
        assert _batch_axes(files[part]) == ["batch", "batch"], part
        session = ort.InferenceSession(str(files[part]))
        result = session.run(None, {"x": x.numpy()})[0]
        np.testing.assert_allclose(result, expected.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=part)


def test_an_encoder_that_fixes_the_batch_size_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    from aekit.apps.export import check_exportable
    from aekit.errors import AekitError

    model = create("mlp", input_shape=(6,), latent_dim=2, hidden_dims=[8], seed=0).eval()
    encode = model.encode
    model.encode = lambda x, condition=None: encode(x) * (len(x) / len(x))  # type: ignore[method-assign]
    with pytest.raises(AekitError, match="could not export the encoder of MLPAutoencoder"):
        check_exportable(model, ("encoder",))
    with pytest.raises(AekitError, match="could not export the encoder of MLPAutoencoder"):
        export_onnx(model, tmp_path / "onnx", ("decoder", "encoder"))
    assert not (tmp_path / "onnx").exists()
