"""Model files: round trip, tamper detection, strict loading, atomic writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from aekit.data.normalization import Normalizer
from aekit.errors import ModelFileError
from aekit.formats.files import atomic_write_bytes
from aekit.models import create
from aekit.models.files import load, load_model, save_model


@pytest.mark.parametrize("name,shape", [("conv", (1, 9, 7)), ("mlp", (5,)), ("pca", (6,))])
def test_save_load_gives_identical_outputs(name: str, shape: tuple[int, ...], tmp_path: Path) -> None:
    model = create(name, input_shape=shape, latent_dim=3, seed=0).eval()
    x = torch.rand(4, *shape)
    if name == "pca":
        model.fit_closed_form(torch.rand(20, *shape))  # type: ignore[operator]
    normalizer = Normalizer.range(0, 255)
    save_model(model, tmp_path / "m", normalizer=normalizer, metadata={"note": "hi"})
    bundle = load(tmp_path / "m")
    torch.testing.assert_close(bundle.model(x).x_hat, model(x).x_hat, rtol=0, atol=0)
    assert bundle.normalizer == normalizer
    assert bundle.metadata == {"note": "hi"}
    assert bundle.model.config == model.config


def test_float16_storage_halves_the_weights_and_keeps_integer_tensors(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    model = create(
        "codec_hyperprior",
        seed=0,
        input_shape=(3, 64, 64),
        hidden_channels=8,
        latent_channels=4,
        hyper_channels=4,
        n_stages=2,
        kernel_size=3,
        lmbda=(0.01, 0.02),
    ).eval()
    model.update_tables()  # type: ignore[operator]
    with torch.no_grad():  # weights float16 holds exactly come back unchanged
        for parameter in model.parameters():
            parameter.copy_(parameter.half().float())
    save_model(model, tmp_path / "full")
    save_model(model, tmp_path / "half", float16=True)
    stored = load_file(str(tmp_path / "half" / "model.safetensors"))
    integer = [name for name, tensor in model.state_dict().items() if not tensor.is_floating_point()]
    assert integer and all(stored[name].dtype == model.state_dict()[name].dtype for name in integer)
    assert {t.dtype for t in stored.values() if t.is_floating_point()} == {torch.float16}
    full = load_file(str(tmp_path / "full" / "model.safetensors"))

    def float_bytes(state: dict[str, torch.Tensor]) -> int:
        return sum(t.numel() * t.element_size() for t in state.values() if t.is_floating_point())

    assert float_bytes(stored) * 2 == float_bytes(full) > 0
    loaded = load_model(tmp_path / "half")
    for name, tensor in model.state_dict().items():
        assert loaded.state_dict()[name].dtype == tensor.dtype
        assert torch.equal(loaded.state_dict()[name], tensor), name


def test_float16_storage_refuses_a_weight_beyond_its_range(tmp_path: Path) -> None:
    model = create("mlp", input_shape=(4,), latent_dim=2, seed=0)
    with torch.no_grad():
        next(model.parameters())[0, 0] = 1e6
    with pytest.raises(ModelFileError, match="exceeds float16's range"):
        save_model(model, tmp_path / "m", float16=True)
    assert not (tmp_path / "m").exists()


def test_config_json_is_plain_and_versioned(tmp_path: Path) -> None:
    save_model(create("mlp", input_shape=(4,), latent_dim=2), tmp_path)
    document = json.loads((tmp_path / "config.json").read_text())
    assert document["format_version"] == 1
    assert document["model"] == "mlp"
    assert document["config"]["hidden_dims"] == [512, 256]
    assert len(document["weights_sha256"]) == 64


def test_metadata_arrays_go_to_their_own_checked_file(tmp_path: Path) -> None:
    model = create("mlp", input_shape=(4,), latent_dim=2)
    codes = np.arange(12, dtype=np.float32).reshape(4, 3) / 7
    precision = np.eye(3) / 3  # float64 stays float64
    metadata = {"stats": {"codes": codes, "parts": [precision, None], "scale": 0.5}, "note": "hi"}
    save_model(model, tmp_path, metadata=metadata)
    document = json.loads((tmp_path / "config.json").read_text())
    assert document["format_version"] == 2 and len(document["arrays_sha256"]) == 64
    assert document["metadata"]["stats"]["codes"] == {"$array": "metadata/stats/codes"}
    loaded = load(tmp_path).metadata
    assert loaded["stats"]["codes"].dtype == np.float32 and np.array_equal(loaded["stats"]["codes"], codes)
    assert np.array_equal(loaded["stats"]["parts"][0], precision) and loaded["stats"]["parts"][1] is None
    assert loaded["stats"]["scale"] == 0.5 and loaded["note"] == "hi"

    arrays = tmp_path / "arrays.safetensors"
    data = bytearray(arrays.read_bytes())
    data[-1] ^= 0xFF
    arrays.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"arrays\.safetensors does not match the checksum"):
        load(tmp_path)
    arrays.unlink()
    with pytest.raises(ModelFileError, match=r"lacks arrays\.safetensors"):
        load(tmp_path)
    # saved again without arrays: format 1 (older readers), and the stale arrays file is gone
    save_model(model, tmp_path, metadata=metadata)
    save_model(model, tmp_path, metadata={"note": "hi"})
    assert json.loads((tmp_path / "config.json").read_text())["format_version"] == 1
    assert not arrays.exists() and load(tmp_path).metadata == {"note": "hi"}


def test_an_array_placeholder_without_its_array_is_refused(tmp_path: Path) -> None:
    save_model(create("mlp", input_shape=(4,), latent_dim=2), tmp_path, metadata={"a": np.ones(2)})
    document = json.loads((tmp_path / "config.json").read_text())
    document["metadata"]["b"] = {"$array": "metadata/missing"}
    (tmp_path / "config.json").write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match="lacks the array 'metadata/missing'"):
        load(tmp_path)


def test_deeply_nested_metadata_beside_arrays_is_refused_in_one_line(tmp_path: Path) -> None:
    save_model(create("mlp", input_shape=(4,), latent_dim=2), tmp_path, metadata={"a": np.ones(2)})
    text = (tmp_path / "config.json").read_text()
    deep = "[" * 950 + "1" + "]" * 950  # within what json reads, beyond what a recursive walk survives
    (tmp_path / "config.json").write_text(
        text.replace('"metadata": {', '"metadata": {"deep": ' + deep + ", ", 1)
    )
    with pytest.raises(ModelFileError, match="nested too deeply"):
        load(tmp_path)


def test_tampered_weights_are_refused(tmp_path: Path) -> None:
    save_model(create("mlp", input_shape=(4,), latent_dim=2), tmp_path)
    weights = tmp_path / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="does not match the checksum"):
        load_model(tmp_path)


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path: Path) -> None:
    save_model(create("mlp", input_shape=(4,), latent_dim=2), tmp_path)
    document = json.loads((tmp_path / "config.json").read_text())
    document["config"]["latent_dim"] = 3
    (tmp_path / "config.json").write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match="do not fit the 'mlp' config"):
        load_model(tmp_path)


@pytest.mark.parametrize(
    "mutation,message",
    [
        (lambda d: d.update(format_version=99), "format_version 99; this aekit reads up to 2"),
        (lambda d: d.update(model="no_such_model"), "unknown model 'no_such_model'"),
        (lambda d: d.update(format="something-else"), "is not an aekit model config"),
        (lambda d: d["config"].update(latnt_dim=2), "did you mean 'latent_dim'"),
    ],
)
def test_bad_config_json_is_refused(tmp_path: Path, mutation, message: str) -> None:  # type: ignore[no-untyped-def]
    save_model(create("mlp", input_shape=(4,), latent_dim=2), tmp_path)
    document = json.loads((tmp_path / "config.json").read_text())
    mutation(document)
    (tmp_path / "config.json").write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match=message):
        load_model(tmp_path)


def test_missing_or_broken_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"config\.json is missing"):
        load_model(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="is not valid JSON"):
        load_model(tmp_path)


def test_failed_save_leaves_the_previous_model_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = create("mlp", input_shape=(4,), latent_dim=2, seed=0)
    save_model(first, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("aekit.models.files.save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        save_model(create("mlp", input_shape=(4,), latent_dim=2, seed=1), tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    load_model(tmp_path)


def test_a_killed_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    atomic_write_bytes(target, b"old content")
    script = (
        "import sys, time\n"
        "from aekit.formats.files import atomic_path\n"
        f"with atomic_path({str(target)!r}) as temp, open(temp, 'wb') as handle:\n"
        "    handle.write(b'new partial'); handle.flush()\n"
        "    print('writing', flush=True); time.sleep(30)\n"
    )
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"writing"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    time.sleep(0.05)
    assert target.read_bytes() == b"old content"


def test_written_files_get_normal_permissions(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "shared.bin", b"x")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "shared.bin").stat().st_mode & 0o777 == 0o666 & ~mask


def test_saving_something_else_than_an_aekit_model_is_a_type_error(tmp_path) -> None:
    import torch

    with pytest.raises(TypeError, match="save_model saves aekit models"):
        save_model(torch.nn.Linear(2, 2), tmp_path / "linear")  # type: ignore[arg-type]
    assert not (tmp_path / "linear").exists()
