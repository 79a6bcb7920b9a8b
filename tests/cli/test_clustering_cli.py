"""``aekit cluster`` with the UMAP methods, cluster reports, and the message when umap-learn is missing."""

from __future__ import annotations

import csv
import json
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from aekit.cli import app
from aekit.cli._console import STATE


@pytest.fixture
def runner() -> CliRunner:
    STATE.quiet = STATE.verbose = STATE.json = STATE.debug = False
    return CliRunner()


def test_umap_gmm_from_the_command_line_scores_and_draws_the_report(runner, mlp_bundle, tmp_path) -> None:
    pytest.importorskip("umap")
    files = {name: tmp_path / name for name in ("map.png", "members.png", "profile.csv")}
    args = ["cluster", "digits", "--model", str(mlp_bundle.path), "-k", "10", "--method", "umap-gmm"]
    args += ["--max-samples", "500", "--plot", str(files["map.png"]), "--members", str(files["members.png"])]
    args += ["--profile", str(files["profile.csv"])]
    result = runner.invoke(app, ["--json", *args])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["method"] == "umap-gmm" and sum(summary["cluster_sizes"]) == 500
    # 8-D codes of a briefly trained model, clustered after UMAP: far above chance (0.1)
    assert summary["scores"]["accuracy"] > 0.5 and set(summary["seconds"]) == {"umap", "cluster"}
    assert files["map.png"].stat().st_size > 1000 and files["members.png"].stat().st_size > 1000
    with files["profile.csv"].open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["cluster", "size", "feature_0"] and len(rows[0]) == 2 + 64
    assert sum(int(row[1]) for row in rows[1:]) == 500


def test_hdbscan_prints_how_much_is_noise(runner, mlp_bundle) -> None:
    args = [
        "cluster",
        "digits",
        "--model",
        str(mlp_bundle.path),
        "--method",
        "hdbscan",
        "--max-samples",
        "300",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("noise:"))
    assert "of 300 points" in line and "%" in line


def test_more_clusters_than_samples_names_the_option(runner, mlp_bundle) -> None:
    args = ["cluster", "digits", "--model", str(mlp_bundle.path), "--max-samples", "30", "-k", "40"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == "error: --clusters (-k) 40 must be in [1, 30]: digits holds 30 samples\n"


@pytest.mark.parametrize("command", ["cluster", "map"])
def test_missing_umap_is_one_line_and_exit_2(runner, mlp_bundle, tmp_path, monkeypatch, command) -> None:
    monkeypatch.setitem(sys.modules, "umap", None)
    args = [command, "digits", "--model", str(mlp_bundle.path), "--max-samples", "50"]
    args += (
        ["--method", "umap-gmm"]
        if command == "cluster"
        else ["--method", "umap", "-o", str(tmp_path / "m.png")]
    )
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install 'aekit[umap]'" in lines[0] and "Traceback" not in result.output


def test_members_need_images(runner, tmp_path) -> None:
    from aekit.models import create
    from aekit.models.files import save_model

    save_model(create("mlp", input_shape=(5,), latent_dim=2, hidden_dims=(8,), seed=0), tmp_path / "model")
    np.save(tmp_path / "rows.npy", np.random.default_rng(0).normal(size=(20, 5)).astype(np.float32))
    args = ["cluster", str(tmp_path / "rows.npy"), "--model", str(tmp_path / "model"), "-k", "2"]
    result = runner.invoke(app, [*args, "--members", str(tmp_path / "m.png")])
    assert result.exit_code == 2 and "--members draws images" in result.output


def test_written_files_never_replace_or_join_the_inputs(runner, tmp_path) -> None:
    # --profile, --plot and --members were not checked: `--profile rows.csv` replaced the table it
    # clustered, and `--plot images/a/x.png` an image of the folder it clustered
    from PIL import Image

    from aekit.models import create
    from aekit.models.files import save_model

    save_model(create("mlp", input_shape=(5,), latent_dim=2, hidden_dims=(8,), seed=0), tmp_path / "model")
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b,c,d,e\n" + "\n".join(",".join(["1", "2", "3", "4", str(i)]) for i in range(12)))
    before = rows.read_bytes()
    args = ["cluster", str(rows), "--model", str(tmp_path / "model"), "-k", "2"]
    for option in ("--profile", "-o"):
        result = runner.invoke(app, [*args, option, str(rows)])
        assert result.exit_code == 2 and "is also an input" in result.output, (option, result.output)
    assert rows.read_bytes() == before
    image = tmp_path / "images" / "a" / "x.png"
    image.parent.mkdir(parents=True)
    Image.new("L", (5, 1)).save(image)
    pixels = image.read_bytes()
    args = ["cluster", str(tmp_path / "images"), "--model", str(tmp_path / "model"), "-k", "1"]
    for option in ("--plot", "-o"):
        result = runner.invoke(app, [*args, option, str(image)])
        assert result.exit_code == 2 and "inside the input folder" in result.output, (option, result.output)
    assert image.read_bytes() == pixels


def test_a_refused_picture_name_leaves_no_table_behind(runner, tmp_path) -> None:
    # -o was written, then --plot map.jpg refused: exit status 2 with the CSV left behind
    from aekit.models import create
    from aekit.models.files import save_model

    save_model(create("mlp", input_shape=(5,), latent_dim=2, hidden_dims=(8,), seed=0), tmp_path / "model")
    np.save(tmp_path / "rows.npy", np.random.default_rng(0).normal(size=(20, 5)).astype(np.float32))
    table = tmp_path / "clusters.csv"
    args = ["cluster", str(tmp_path / "rows.npy"), "--model", str(tmp_path / "model"), "-k", "2"]
    result = runner.invoke(app, [*args, "-o", str(table), "--plot", str(tmp_path / "map.jpg")])
    assert result.exit_code == 2 and "pictures are written as .png" in result.output
    assert not table.exists()
