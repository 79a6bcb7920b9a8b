"""The command line, run in-process with Typer's CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aekit import __version__
from aekit.cli import app

runner = CliRunner()


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0  # type: ignore[attr-defined]
    assert result.stdout.strip() == f"aekit {__version__}"  # type: ignore[attr-defined]


def test_help_is_instant_because_nothing_heavy_is_imported() -> None:
    code = (
        "import sys, aekit.cli; "
        "print(sorted(m for m in ('torch', 'matplotlib', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    "command", ["train", "demo", "evaluate", "encode", "decode", "reconstruct", "models", "plan"]
)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0  # type: ignore[attr-defined]
    assert "Example" in result.stdout  # type: ignore[attr-defined]


def test_models_lists_the_registry() -> None:
    result = invoke("--json", "models")
    rows = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert {"conv", "mlp", "pca"} <= set(rows)


def test_plan_prints_shapes_for_odd_sizes() -> None:
    result = invoke("plan", "--model", "conv", "--input-shape", "1,13,11", "--set", "latent_dim=5")
    assert result.exit_code == 0  # type: ignore[attr-defined]
    assert "output padding" not in result.stdout  # type: ignore[attr-defined]
    assert "output_padding (0, 0): (7, 6) → (13, 11)" in result.stdout  # type: ignore[attr-defined]
    assert "latent (5,), output (1, 13, 11)" in result.stdout  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("run")
    result = invoke(
        "--quiet",
        "train",
        "--dataset",
        "digits",
        "--model",
        "conv",
        "--latent-dim",
        "4",
        "--epochs",
        "2",
        "--max-samples",
        "300",
        "--set",
        "channels=[8,16]",
        "-o",
        str(run_dir),
    )
    assert result.exit_code == 0, result.stdout  # type: ignore[attr-defined]
    return run_dir


def test_train_writes_the_run_folder(trained_run: Path) -> None:
    for name in (
        "model/config.json",
        "model/model.safetensors",
        "losses.csv",
        "metrics.json",
        "reconstructions.png",
        "loss_curve.png",
        "latent_map.png",
        "checkpoint/checkpoint.pt",
    ):
        assert (trained_run / name).is_file(), name
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert 0 < metrics["test_mse_per_pixel"] < 0.2
    assert metrics["test_psnr_db"] > 5


def test_evaluate_encode_decode_reconstruct(trained_run: Path, tmp_path: Path) -> None:
    model = str(trained_run / "model")
    metrics = json.loads(invoke("--json", "evaluate", "--model", model, "--dataset", "digits").stdout)  # type: ignore[attr-defined]
    assert metrics["n_samples"] == 1797
    assert invoke("encode", "digits", "--model", model, "-o", str(tmp_path / "z.npy")).exit_code == 0  # type: ignore[attr-defined]
    codes = np.load(tmp_path / "z.npy")
    assert codes.shape == (1797, 4)
    assert invoke("encode", "digits", "--model", model, "-o", str(tmp_path / "z.csv")).exit_code == 0  # type: ignore[attr-defined]
    assert (tmp_path / "z.csv").read_text().splitlines()[0] == "z0,z1,z2,z3"
    assert (
        invoke("decode", str(tmp_path / "z.npy"), "--model", model, "-o", str(tmp_path / "x.npy")).exit_code
        == 0
    )  # type: ignore[attr-defined]
    decoded = np.load(tmp_path / "x.npy")
    assert decoded.shape == (1797, 1, 8, 8)
    assert decoded.min() >= 0 and decoded.max() <= 16.0 + 1e-4  # back in the raw 0..16 scale
    assert invoke("reconstruct", "digits", "--model", model, "-o", str(tmp_path / "r.npy")).exit_code == 0  # type: ignore[attr-defined]
    np.testing.assert_allclose(np.load(tmp_path / "r.npy"), decoded, atol=1e-4)


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--dataset", "mnst"], "did you mean 'mnist'"),
        (["train", "--model", "cnov"], "did you mean 'conv'"),
        (["train", "--set", "latnt_dim=3"], "did you mean 'latent_dim'"),
        (["train", "--epochs", "0"], "epochs must be > 0; got 0"),
        (["evaluate", "--model", "/nonexistent/folder"], "config.json is missing"),
        (["plan", "--input-shape", "1,x"], "comma-separated integers"),
    ],
)
def test_user_errors_are_one_line_with_exit_status_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr  # type: ignore[attr-defined]


def test_demo_writes_pictures_and_metrics(tmp_path: Path) -> None:
    result = invoke("--json", "--quiet", "demo", "--epochs", "2", "-o", str(tmp_path))
    payload = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert Path(payload["files"]["reconstructions"]).is_file()
    assert Path(payload["files"]["latent_map"]).is_file()
    assert payload["metrics"]["test_mse_per_pixel"] > 0


def test_train_with_augmentation_records_it(tmp_path: Path) -> None:
    result = invoke(
        "--quiet",
        "train",
        "--epochs",
        "1",
        "--max-samples",
        "200",
        "--set",
        "channels=[4]",
        "--augment",
        "max_shift=1",
        "--augment",
        "max_rotation=10",
        "--no-report",
        "-o",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.stdout  # type: ignore[attr-defined]
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["run"]["augmentation"] == {"max_shift": 1, "max_rotation": 10}
    bad = runner.invoke(app, ["train", "--augment", "max_shift=-1", "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2
    assert "max_shift must be a whole number of pixels >= 0" in bad.stderr


def test_encode_takes_one_image_file_as_well_as_its_folder(tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(12):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(folder / f"{index:02}.png")
    run = tmp_path / "run"
    trained = invoke("train", "--dataset", str(folder), "--model", "mlp", "--epochs", "1", "-o", str(run))
    assert trained.exit_code == 0  # type: ignore[attr-defined]
    model = str(run / "model")
    for source, output in ((folder, "all.npy"), (folder / "02.png", "one.npy")):
        encoded = invoke("encode", str(source), "--model", model, "-o", str(tmp_path / output))
        assert encoded.exit_code == 0  # type: ignore[attr-defined]
    one, every = np.load(tmp_path / "one.npy"), np.load(tmp_path / "all.npy")
    assert one.shape == (1, every.shape[1])
    np.testing.assert_allclose(one[0], every[2], atol=1e-5)


def test_a_stack_of_grey_images_trains_an_image_family(tmp_path: Path) -> None:
    """An ``(N, H, W)`` array (the usual form of grey images in NumPy) trains a convolutional model and
    goes through encode/reconstruct, also with a model trained on it as ``(H, W)`` samples before."""
    from aekit.apps.inference import encode_dataset, reconstruct_dataset
    from aekit.models import create
    from aekit.models.files import save_model

    stack = np.random.default_rng(0).random((24, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", stack)
    run = tmp_path / "run"
    trained = invoke("train", str(tmp_path / "x.npy"), "--model", "conv", "--epochs", "1", "-o", str(run))
    assert trained.exit_code == 0, trained.stdout  # type: ignore[attr-defined]
    older = create("mlp", input_shape=(8, 8), latent_dim=3, seed=0)
    save_model(older, tmp_path / "older")
    for model, width in ((run / "model", 32), (tmp_path / "older", 3)):
        for command, output in (("encode", "codes.npy"), ("reconstruct", "recon.npy")):
            result = invoke(
                command, str(tmp_path / "x.npy"), "--model", str(model), "-o", str(tmp_path / output)
            )
            assert result.exit_code == 0, result.stdout  # type: ignore[attr-defined]
        assert np.load(tmp_path / "codes.npy").shape == (24, width)
        assert np.load(tmp_path / "recon.npy").shape == (24, 1, 8, 8)
    np.testing.assert_allclose(
        encode_dataset(older, stack[:, None]).numpy(), encode_dataset(older, stack).numpy(), rtol=1e-6
    )
    assert reconstruct_dataset(older, stack[:, None]).shape == (24, 1, 8, 8)


@pytest.mark.parametrize(
    ("command", "what"),
    [
        (["train", "--epochs", "1"], "a training run"),
        (["demo", "--epochs", "1"], "a training run"),
        (["index", "digits", "--model", "MODEL"], "an index"),
        (["fit-detector", "TABLE"], "a model"),
    ],
)
def test_an_output_folder_that_is_a_file_is_one_line(
    tmp_path: Path, mlp_bundle, command: list[str], what: str
) -> None:
    """``-o`` naming an existing file where a folder is written: one line, exit 2, the file untouched."""
    existing = tmp_path / "afile"
    existing.write_text("keep me")
    table = tmp_path / "t.csv"
    table.write_text("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(40)))
    args = [{"MODEL": str(mlp_bundle.path), "TABLE": str(table)}.get(arg, arg) for arg in command]
    result = CliRunner().invoke(
        app, [*args, "-o", str(existing / "sub" if command[0] == "demo" else existing)]
    )
    assert result.exit_code == 2, result.output
    assert f"afile is a file; {what} is written as a folder" in result.output
    assert existing.read_text() == "keep me"


def test_demo_resumes_as_its_refusal_suggests(tmp_path: Path) -> None:
    """A second demo into the same folder is refused with '--resume to continue it', which demo accepts."""
    run = str(tmp_path / "demo")
    assert CliRunner().invoke(app, ["-q", "demo", "-o", run, "--epochs", "1"]).exit_code == 0
    again = CliRunner().invoke(app, ["-q", "demo", "-o", run, "--epochs", "1"])
    assert again.exit_code == 2 and "--resume to continue it" in again.output
    resumed = CliRunner().invoke(app, ["-q", "demo", "-o", run, "--epochs", "2", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert (tmp_path / "demo" / "losses.csv").read_text().count("\n") == 3  # header and epochs 1, 2
