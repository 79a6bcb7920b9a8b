"""The latent-space commands, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from aekit.apps.inference import encode_dataset, reconstruct_dataset
from aekit.cli import app
from aekit.cli._console import STATE


@pytest.fixture
def runner() -> CliRunner:
    STATE.quiet = STATE.verbose = STATE.json = STATE.debug = False
    return CliRunner()


def _digit_pngs(folder: Path, raw_digits, count: int = 6) -> list[Path]:
    """The first digits as 8×8 PNG files (0..16 → 0..255), in class sub-folders."""
    paths = []
    for index in range(count):
        label = int(raw_digits.y[index])
        path = folder / str(label) / f"digit{index}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = (raw_digits.x[index, 0].numpy() * 255 / 16).round().astype(np.uint8)
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def test_map_writes_a_scatter_and_a_decoded_grid(runner, mlp_bundle, tmp_path) -> None:
    result = runner.invoke(
        app,
        [
            "--json",
            "map",
            "digits",
            "--model",
            str(mlp_bundle.path),
            "-o",
            str(tmp_path / "map.png"),
            "--grid",
            str(tmp_path / "grid.png"),
            "--grid-size",
            "5",
            "--max-samples",
            "300",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["method"] == "pca" and payload["n_samples"] == 300
    assert (tmp_path / "map.png").stat().st_size > 1000 and (tmp_path / "grid.png").stat().st_size > 1000


def test_cluster_prints_scores_and_writes_assignments(runner, mlp_bundle, tmp_path) -> None:
    output = tmp_path / "clusters.csv"
    result = runner.invoke(
        app,
        [
            "cluster",
            "digits",
            "--model",
            str(mlp_bundle.path),
            "-k",
            "10",
            "-o",
            str(output),
            "--plot",
            str(tmp_path / "clusters.png"),
            "--max-samples",
            "400",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.stdout and "NMI" in result.stdout
    lines = output.read_text().splitlines()
    assert lines[0] == "item,cluster,label" and len(lines) == 401
    bad = runner.invoke(app, ["cluster", "digits", "--model", str(mlp_bundle.path), "--method", "spectral"])
    assert bad.exit_code == 2 and "method must be one of" in bad.output


def test_index_then_search_by_image_and_by_code(runner, mlp_bundle, raw_digits, tmp_path) -> None:
    images = _digit_pngs(tmp_path / "images", raw_digits)
    index_dir = tmp_path / "index"
    built = runner.invoke(
        app, ["index", str(tmp_path / "images"), "--model", str(mlp_bundle.path), "-o", str(index_dir)]
    )
    assert built.exit_code == 0, built.output
    assert (index_dir / "index.json").is_file() and (index_dir / "index.safetensors").is_file()
    found = runner.invoke(
        app,
        [
            "--json",
            "search",
            str(images[2]),
            "--model",
            str(mlp_bundle.path),
            "--index",
            str(index_dir),
            "-k",
            "3",
            "--plot",
            str(tmp_path / "hits.png"),
        ],
    )
    assert found.exit_code == 0, found.output
    neighbours = json.loads(found.stdout)[0]["neighbours"]
    assert neighbours[0]["item"] == str(images[2].relative_to(tmp_path / "images"))
    assert neighbours[0]["distance"] == pytest.approx(0.0, abs=1e-4) and len(neighbours) == 3
    assert (tmp_path / "hits.png").is_file()
    codes = tmp_path / "codes.npy"
    np.save(codes, np.zeros((2, 8), dtype=np.float32))
    by_code = runner.invoke(
        app,
        [
            "search",
            str(codes),
            "--codes",
            "--model",
            str(mlp_bundle.path),
            "--index",
            str(index_dir),
            "-k",
            "2",
        ],
    )
    assert by_code.exit_code == 0, by_code.output
    assert by_code.stdout.count("distance") == 4
    missing = runner.invoke(
        app, ["search", str(images[0]), "--model", str(mlp_bundle.path), "--index", str(tmp_path)]
    )
    assert missing.exit_code == 2 and "not an aekit index folder" in missing.output


def test_ivf_index_from_the_command_line(runner, mlp_bundle, tmp_path) -> None:
    result = runner.invoke(
        app,
        [
            "--json",
            "index",
            "digits",
            "--model",
            str(mlp_bundle.path),
            "-o",
            str(tmp_path / "ivf"),
            "--kind",
            "ivf",
            "--lists",
            "8",
            "--probe",
            "2",
            "--max-samples",
            "500",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kind"] == "ivf"
    assert json.loads((tmp_path / "ivf" / "index.json").read_text())["settings"]["n_lists"] == 8


def test_sample_and_interpolate(runner, vae_bundle, cvae_bundle, mlp_bundle, raw_digits, tmp_path) -> None:
    samples = runner.invoke(
        app,
        [
            "sample",
            "--model",
            str(vae_bundle.path),
            "-n",
            "12",
            "--columns",
            "4",
            "--temperature",
            "0.8",
            "-o",
            str(tmp_path / "samples.png"),
            "--array",
            str(tmp_path / "samples.npy"),
        ],
    )
    assert samples.exit_code == 0, samples.output
    assert np.load(tmp_path / "samples.npy").shape == (12, 1, 8, 8)
    per_class = runner.invoke(
        app,
        [
            "sample",
            "--model",
            str(cvae_bundle.path),
            "--label",
            "1",
            "--label",
            "7",
            "-n",
            "8",
            "-o",
            str(tmp_path / "classes.png"),
        ],
    )
    assert per_class.exit_code == 0, per_class.output
    refused = runner.invoke(app, ["sample", "--model", str(mlp_bundle.path), "-o", str(tmp_path / "x.png")])
    assert refused.exit_code == 2 and "has no prior to sample" in refused.output
    path = runner.invoke(
        app,
        [
            "interpolate",
            "--data",
            "digits",
            "--pair",
            "0,10",
            "--model",
            str(vae_bundle.path),
            "--method",
            "spherical",
            "--steps",
            "5",
            "-o",
            str(tmp_path / "path.png"),
        ],
    )
    assert path.exit_code == 0, path.output and (tmp_path / "path.png").is_file()
    pngs = _digit_pngs(tmp_path / "images", raw_digits, count=2)
    from_files = runner.invoke(
        app,
        [
            "interpolate",
            str(pngs[0]),
            str(pngs[1]),
            "--model",
            str(mlp_bundle.path),
            "-o",
            str(tmp_path / "p.png"),
        ],
    )
    assert from_files.exit_code == 0, from_files.output
    both = [
        *map(str, pngs),
        "--data",
        "digits",
        "--model",
        str(mlp_bundle.path),
        "-o",
        str(tmp_path / "b.png"),
    ]
    refused = runner.invoke(app, ["interpolate", *both])
    assert refused.exit_code == 2  # the files were silently ignored for --data
    assert refused.stderr == "error: give two image files or --data with --pair, not both\n"


def test_sweep_writes_table_plot_and_models(runner, tmp_path) -> None:
    run_dir = tmp_path / "sweep"
    result = runner.invoke(
        app,
        [
            "--json",
            "sweep",
            "digits",
            "--latent-dims",
            "2,8",
            "--epochs",
            "2",
            "--max-samples",
            "400",
            "--set",
            "hidden_dims=[32]",
            "--device",
            "cpu",
            "-o",
            str(run_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [(r["model"], r["latent_dim"]) for r in payload["rows"]] == [
        ("mlp", 2),
        ("mlp", 8),
        ("pca", 2),
        ("pca", 8),
    ]
    for name in (
        "sweep.csv",
        "sweep.json",
        "sweep.png",
        "mlp_latent_8/config.json",
        "pca_latent_2/config.json",
    ):
        assert (run_dir / name).is_file(), name
    bad = runner.invoke(app, ["sweep", "digits", "--latent-dims", "2,x"])
    assert bad.exit_code == 2 and "--latent-dims must be integers" in bad.output
    # a second sweep into the same folder is refused and leaves the first one as it was
    (run_dir / "notes.txt").write_text("mine")
    table = (run_dir / "sweep.csv").read_bytes()
    again = ["sweep", "digits", "--latent-dims", "4", "--epochs", "1", "--max-samples", "200", "--no-pca"]
    refused = runner.invoke(app, [*again, "-o", str(run_dir)])
    assert refused.exit_code == 2 and "already holds a sweep" in refused.output
    assert (run_dir / "sweep.csv").read_bytes() == table
    replaced = runner.invoke(app, [*again, "-o", str(run_dir), "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert sorted(p.name for p in run_dir.iterdir() if not p.name.startswith(".")) == [
        "mlp_latent_4",
        "notes.txt",
        "sweep.csv",
        "sweep.json",
        "sweep.png",
    ]


def test_table_rows_cluster_like_images(runner, tmp_path) -> None:
    """Codes of table rows: two groups of rows in a CSV come out as two clusters."""
    from aekit.data import Normalizer, load_table
    from aekit.models import create
    from aekit.models.files import save_model
    from aekit.training.fit import fit

    rng = np.random.default_rng(0)
    group = np.repeat([0, 1], 40)
    rows = rng.normal(size=(80, 6)) * 0.3 + np.where(group[:, None] == 1, 3.0, -3.0) * np.array(
        [1, -1, 1, 0, 0, 1]
    )
    lines = ["a,b,c,d,e,f,label"] + [
        ",".join(f"{v:.4f}" for v in row) + f",{g}" for row, g in zip(rows, group, strict=True)
    ]
    (tmp_path / "rows.csv").write_text("\n".join(lines) + "\n")
    table = load_table(tmp_path / "rows.csv", label_column="label")
    normalizer = Normalizer.fit(table.data.x, "standardize")
    model = create("mlp", input_shape=(6,), latent_dim=2, hidden_dims=(16,), seed=0)
    fit(model, normalizer.transform(table.data.x), epochs=20, batch_size=16, learning_rate=5e-3, device="cpu")
    save_model(model, tmp_path / "model", normalizer=normalizer)
    result = runner.invoke(
        app,
        [
            "--json",
            "cluster",
            str(tmp_path / "rows.csv"),
            "--model",
            str(tmp_path / "model"),
            "-k",
            "2",
            "--label-column",
            "label",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scores"]["accuracy"] == 1.0


def test_png_files_go_through_a_digits_model_in_its_own_scale(
    runner, mlp_bundle, raw_digits, tmp_path
) -> None:
    """8-bit PNGs (0..255) through a model trained on the 8×8 digits (0..16) are moved onto 0..16 first, so
    their codes and reconstructions are those of the digits they show (they were 16× too bright)."""
    folder = tmp_path / "pngs"
    _digit_pngs(folder, raw_digits, count=4)
    model = str(mlp_bundle.path)
    result = runner.invoke(app, ["encode", str(folder), "--model", model, "-o", str(tmp_path / "z.npy")])
    assert result.exit_code == 0, result.output
    reference = encode_dataset(mlp_bundle, raw_digits.x[:4]).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "z.npy"), reference, atol=0.05 * np.abs(reference).max())
    png = sorted(folder.rglob("digit0.png"))[0]
    result = runner.invoke(app, ["reconstruct", str(png), "--model", model, "-o", str(tmp_path / "r.npy")])
    assert result.exit_code == 0, result.output
    expected = reconstruct_dataset(mlp_bundle, raw_digits.x[:1]).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "r.npy"), expected, atol=0.5)  # of 0..16


def test_colour_images_of_any_size_go_through_a_grey_model(runner, mlp_bundle, raw_digits, tmp_path) -> None:
    """A colour folder of other sizes through a grey 8×8 model: resized, turned grey (luminance), encoded
    as the grey 8×8 picture would be; the same for index, map and a single file to reconstruct."""
    grey = (raw_digits.x[0, 0].numpy() * 255 / 16).round().astype(np.uint8)
    folder = tmp_path / "colour"
    folder.mkdir()
    Image.fromarray(np.stack([grey] * 3, axis=-1)).save(folder / "a.png")  # grey, stored as RGB
    Image.fromarray(np.full((27, 11, 3), (200, 40, 90), dtype=np.uint8)).save(
        folder / "b.png"
    )  # another size
    Image.fromarray(grey).save(tmp_path / "grey.png")
    model = str(mlp_bundle.path)
    for command, source, output in [
        ("encode", folder, "z.npy"),
        ("encode", tmp_path / "grey.png", "zg.npy"),
        ("reconstruct", folder / "a.png", "r.npy"),
        ("index", folder, "index"),
        ("map", folder, "map.png"),
    ]:
        result = runner.invoke(app, [command, str(source), "--model", model, "-o", str(tmp_path / output)])
        assert result.exit_code == 0, (command, result.output)
    np.testing.assert_allclose(np.load(tmp_path / "z.npy")[:1], np.load(tmp_path / "zg.npy"), atol=1e-4)
    assert np.load(tmp_path / "r.npy").shape == (1, 1, 8, 8)


def test_a_conditional_model_maps_clusters_and_indexes_labelled_data(runner, cvae_bundle, tmp_path) -> None:
    # the codes of a CVAE need the labels beside the inputs: the digits have them, yet map, cluster and
    # index encoded without them and said "the data have none"
    model = str(cvae_bundle.path)
    common = ["digits", "--model", model, "--max-samples", "120"]
    clustered = runner.invoke(app, ["cluster", *common, "-k", "3", "--method", "kmeans"])
    assert clustered.exit_code == 0, clustered.output
    indexed = runner.invoke(app, ["index", *common, "-o", str(tmp_path / "index")])
    assert indexed.exit_code == 0, indexed.output
    map_path, grid_path = tmp_path / "map.png", tmp_path / "grid.png"
    unlabelled = runner.invoke(app, ["map", *common, "-o", str(map_path), "--grid", str(grid_path)])
    assert unlabelled.exit_code == 2 and "--label" in unlabelled.output
    assert not map_path.exists()  # the grid is refused before the map is written
    mapped = runner.invoke(
        app, ["map", *common, "-o", str(map_path), "--grid", str(grid_path), "--label", "3"]
    )
    assert mapped.exit_code == 0, mapped.output
    assert map_path.is_file() and grid_path.is_file()


def test_sample_refuses_a_bad_array_name_before_writing_the_picture(runner, vae_bundle, tmp_path) -> None:
    # the grid was written, then --array refused: exit status 2 with a picture left behind
    picture = tmp_path / "samples.png"
    args = ["sample", "--model", str(vae_bundle.path), "-n", "4", "-o", str(picture)]
    result = runner.invoke(app, [*args, "--array", str(tmp_path / "samples.txt")])
    assert result.exit_code == 2 and "arrays are written as .npy" in result.output
    assert not picture.exists()
