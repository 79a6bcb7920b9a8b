"""``aekit fit-detector`` then ``aekit detect``: tables and image folders end to end, attributions, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from typer.testing import CliRunner

from aekit.cli import app
from aekit.estimators import AutoencoderOutlierDetector

runner = CliRunner()


def rows(n_rows: int, seed: int) -> np.ndarray:
    """``(n, 5)`` rows near a 2-D plane, on scales far from 1."""
    rng = np.random.default_rng(seed)
    basis = np.array([[1.0, 0.5, -0.5, 0.2, 0.0], [0.0, 1.0, 0.5, -1.0, 0.8]])
    return (rng.normal(size=(n_rows, 2)) @ basis + 0.05 * rng.normal(size=(n_rows, 5))) * 10 + 50


def _fit(tmp_path: Path, source: Path, *extra: str) -> Path:
    folder = tmp_path / "detector"
    result = runner.invoke(
        app,
        ["fit-detector", "-i", str(source), "-o", str(folder), "--steps", "40", "--device", "cpu", *extra],
    )
    assert result.exit_code == 0, result.output
    return folder


def test_table_round_trip_with_attribution(tmp_path: Path) -> None:
    x = rows(400, seed=0)
    pd.DataFrame(x, columns=list("abcde")).to_csv(tmp_path / "train.csv", index=False)
    folder = _fit(tmp_path, tmp_path / "train.csv")
    detector = AutoencoderOutlierDetector.load(folder)
    assert list(detector.feature_names_in_) == list("abcde") and detector.n_calibration_rows_ == 80
    new = rows(50, seed=1)
    new[7, 3] += 400.0  # one row broken in column d
    frame = pd.DataFrame(new, columns=list("abcde"))
    frame.insert(0, "id", range(50))  # extra columns are carried through, not scored
    frame[["d", "id", "b", "a", "e", "c"]].to_parquet(tmp_path / "new.parquet", index=False)  # any order
    result = runner.invoke(
        app,
        [
            "--json",
            "detect",
            "--model",
            str(folder),
            "-i",
            str(tmp_path / "new.parquet"),
            "-o",
            str(tmp_path / "o.csv"),
            "--explain",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    top = payload["top_rows"][0]
    assert top["row"] == 7 and max(top["features"], key=top["features"].get) == "d"
    scored = pd.read_csv(tmp_path / "o.csv")
    assert bool(scored.loc[7, "is_anomaly"]) and scored["anomaly_score"].idxmax() == 7
    np.testing.assert_allclose(
        scored["anomaly_score"], -detector.score_samples(pd.DataFrame(new, columns=list("abcde"))), rtol=1e-5
    )


def test_column_mismatch_is_one_line_and_exit_2(tmp_path: Path) -> None:
    x = rows(200, seed=0)
    np.save(tmp_path / "train.npy", x)  # an array: no column names are stored
    folder = _fit(tmp_path, tmp_path / "train.npy")
    pd.DataFrame(x[:, :4], columns=list("abcd")).to_csv(tmp_path / "narrow.csv", index=False)
    narrow = runner.invoke(
        app,
        ["detect", "--model", str(folder), "-i", str(tmp_path / "narrow.csv"), "-o", str(tmp_path / "o.csv")],
    )
    assert narrow.exit_code == 2
    assert "narrow.csv has 4 columns but the model takes 5 features" in narrow.output
    assert len(narrow.output.strip().splitlines()) == 1 and not (tmp_path / "o.csv").exists()
    pd.DataFrame(x, columns=list("abcde")).to_csv(tmp_path / "named.csv", index=False)
    named = _fit(tmp_path / "n", tmp_path / "named.csv")
    renamed = pd.DataFrame(x, columns=list("abcdz"))
    renamed.to_csv(tmp_path / "renamed.csv", index=False)
    wrong = runner.invoke(
        app,
        ["detect", "--model", str(named), "-i", str(tmp_path / "renamed.csv"), "-o", str(tmp_path / "o.csv")],
    )
    assert wrong.exit_code == 2 and "lacks the feature column(s) ['e']" in wrong.output
    bad = runner.invoke(
        app,
        [
            "fit-detector",
            "-i",
            str(tmp_path / "named.csv"),
            "-o",
            str(tmp_path / "x"),
            "--contamination",
            "0.9",
        ],
    )
    assert bad.exit_code == 2 and "--contamination must be 'auto' or a number in (0, 0.5]" in bad.output


def test_image_folder_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    normal = tmp_path / "normal"
    normal.mkdir()
    for i in range(40):  # horizontal gradients with noise
        image = np.tile(np.linspace(0, 200, 8), (8, 1)) + rng.normal(0, 5, (8, 8))
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(normal / f"n{i:02d}.png")
    folder = _fit(tmp_path, normal)
    new = tmp_path / "new"
    new.mkdir()
    Image.fromarray(np.tile(np.linspace(0, 200, 8), (8, 1)).astype(np.uint8)).save(new / "a_normal.png")
    Image.fromarray(np.tile(np.linspace(200, 0, 8), (8, 1)).astype(np.uint8)).save(new / "b_flipped.png")
    result = runner.invoke(
        app, ["detect", "--model", str(folder), "-i", str(new), "-o", str(tmp_path / "s.csv")]
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(tmp_path / "s.csv")
    assert scored["file"].tolist() == ["a_normal.png", "b_flipped.png"]
    assert scored["is_anomaly"].tolist() == [False, True]


def test_the_input_may_be_the_argument_like_every_other_command(tmp_path: Path) -> None:
    pd.DataFrame(rows(200, seed=0), columns=list("abcde")).to_csv(tmp_path / "train.csv", index=False)
    fitted = runner.invoke(
        app, ["fit-detector", str(tmp_path / "train.csv"), "-o", str(tmp_path / "d"), "--steps", "20"]
    )
    assert fitted.exit_code == 0, fitted.output
    scored = runner.invoke(
        app,
        [
            "detect",
            str(tmp_path / "train.csv"),
            "--model",
            str(tmp_path / "d"),
            "-o",
            str(tmp_path / "s.csv"),
        ],
    )
    assert scored.exit_code == 0, scored.output
    assert len(pd.read_csv(tmp_path / "s.csv")) == 200
    both = ["detect", str(tmp_path / "train.csv"), "-i", str(tmp_path / "other.csv")]
    for args, problem in [
        ([*both, "--model", str(tmp_path / "d"), "-o", str(tmp_path / "t.csv")], "give the input once"),
        (["detect", "--model", str(tmp_path / "d"), "-o", str(tmp_path / "t.csv")], "missing input"),
        (["fit-detector", "-o", str(tmp_path / "e")], "missing input"),
    ]:
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and problem in result.output, result.output
    assert not (tmp_path / "t.csv").exists() and not (tmp_path / "e").exists()


def test_too_few_rows_the_output_folder_and_column_names_are_checked(tmp_path: Path) -> None:
    """Two rows are no picture of normal data; a detector never lands in a folder of other files; the
    score and the flag need two columns."""
    pd.DataFrame(rows(2, seed=0), columns=list("abcde")).to_csv(tmp_path / "two.csv", index=False)
    result = runner.invoke(app, ["fit-detector", str(tmp_path / "two.csv"), "-o", str(tmp_path / "d2")])
    assert result.exit_code == 2 and "at least 10 rows" in result.output and "got 2 samples" in result.output
    assert not (tmp_path / "d2").exists()
    pd.DataFrame(rows(200, seed=0), columns=list("abcde")).to_csv(tmp_path / "train.csv", index=False)
    data_folder = tmp_path / "images"
    data_folder.mkdir()
    (data_folder / "keep.png").write_bytes(b"a user's file")
    for output in (data_folder, tmp_path / "two.csv"):
        result = runner.invoke(
            app, ["fit-detector", str(tmp_path / "train.csv"), "-o", str(output), "--steps", "5"]
        )
        assert result.exit_code == 2, result.output
        assert ("holds other files (keep.png)" if output.is_dir() else "is a file") in result.output
    assert (data_folder / "keep.png").read_bytes() == b"a user's file" and len(
        list(data_folder.iterdir())
    ) == 1
    folder = _fit(tmp_path, tmp_path / "train.csv")
    _fit(tmp_path, tmp_path / "train.csv")  # a saved detector's folder may be replaced by a new fit
    result = runner.invoke(
        app,
        [
            *("detect", str(tmp_path / "train.csv"), "--model", str(folder), "-o", str(tmp_path / "s.csv")),
            *("--score-column", "s", "--flag-column", "s"),
        ],
    )
    assert result.exit_code == 2 and "different names" in result.output
    assert not (tmp_path / "s.csv").exists()
    result = runner.invoke(
        app,
        [
            "detect",
            str(tmp_path / "train.csv"),
            "--model",
            str(folder),
            "--columns",
            "b,a",
            "-o",
            str(tmp_path / "c.csv"),
        ],
    )
    assert result.exit_code == 2 and "--columns names 2 columns; the model takes 5 features" in result.output
