"""A model trained on a table takes new tables by column name: reordered or extra columns give the same
codes, a missing column is one line naming it, and a model without names checks the column count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aekit.cli import app
from aekit.models.files import load

COLUMNS = ["a", "b", "c", "d", "e"]


def _train(data: Path, run: Path) -> None:
    command = ["-q", "train", "--dataset", str(data), "--model", "mlp", "--latent-dim", "2", "--epochs", "1"]
    result = CliRunner().invoke(app, [*command, "-o", str(run), "--no-report"])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def table_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("columns")
    random = np.random.RandomState(0)
    frame = pd.DataFrame(random.randn(120, 5) * [1, 2, 3, 4, 5] + [0, 10, 20, 30, 40], columns=COLUMNS)
    frame.to_csv(folder / "train.csv", index=False)
    _train(folder / "train.csv", folder / "run")
    return folder, frame


def test_training_on_a_table_stores_its_column_names(table_run) -> None:
    folder, _ = table_run
    assert load(folder / "run" / "model").feature_names == tuple(COLUMNS)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])  # CSV is read whole, Parquet streamed
def test_encode_takes_columns_by_name(table_run, tmp_path: Path, suffix: str) -> None:
    folder, frame = table_run
    model = str(folder / "run" / "model")
    codes = {}
    for name, table in {
        "same": frame,
        "reversed": frame[COLUMNS[::-1]],
        "extra": frame.assign(note=1.0),
    }.items():
        path = tmp_path / f"{name}{suffix}"
        table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
        result = CliRunner().invoke(
            app, ["-q", "encode", str(path), "--model", model, "-o", str(tmp_path / f"{name}.npy")]
        )
        assert result.exit_code == 0, result.output
        codes[name] = np.load(tmp_path / f"{name}.npy")
    np.testing.assert_array_equal(codes["reversed"], codes["same"])
    np.testing.assert_array_equal(codes["extra"], codes["same"])


@pytest.mark.parametrize("command", ["encode", "cluster", "map"])
def test_a_missing_column_is_one_line_naming_it(table_run, tmp_path: Path, command: str) -> None:
    folder, frame = table_run
    frame.drop(columns="c").to_csv(tmp_path / "less.csv", index=False)
    output = {"encode": "codes.npy", "cluster": "clusters.csv", "map": "map.png"}[command]
    result = CliRunner().invoke(
        app,
        [
            command,
            str(tmp_path / "less.csv"),
            "--model",
            str(folder / "run" / "model"),
            "-o",
            str(tmp_path / output),
        ],
    )
    assert result.exit_code == 2
    assert "less.csv has no column(s) ['c']" in result.output
    assert not (tmp_path / output).exists()


def test_cluster_matches_reordered_columns(table_run, tmp_path: Path) -> None:
    folder, frame = table_run
    frame.to_csv(tmp_path / "same.csv", index=False)
    frame[COLUMNS[::-1]].to_csv(tmp_path / "reversed.csv", index=False)
    assignments = []
    for name in ("same", "reversed"):
        result = CliRunner().invoke(
            app,
            [
                *("-q", "cluster", str(tmp_path / f"{name}.csv"), "--model", str(folder / "run" / "model")),
                *("-k", "3", "--method", "kmeans", "-o", str(tmp_path / f"{name}-clusters.csv")),
            ],
        )
        assert result.exit_code == 0, result.output
        assignments.append(pd.read_csv(tmp_path / f"{name}-clusters.csv")["cluster"].to_numpy())
    np.testing.assert_array_equal(assignments[0], assignments[1])


def test_a_model_without_names_checks_the_column_count(table_run, tmp_path: Path) -> None:
    _, frame = table_run
    np.save(tmp_path / "train.npy", frame.to_numpy(dtype=np.float32))
    _train(tmp_path / "train.npy", tmp_path / "run")
    frame.assign(note=1.0).to_csv(tmp_path / "extra.csv", index=False)
    for command, output in (("cluster", "clusters.csv"), ("encode", "codes.npy")):
        result = CliRunner().invoke(
            app,
            [
                command,
                str(tmp_path / "extra.csv"),
                "--model",
                str(tmp_path / "run" / "model"),
                "-o",
                str(tmp_path / output),
            ],
        )
        assert result.exit_code == 2, result.output
        assert "6" in result.output and "5" in result.output and "Traceback" not in result.output


def test_train_and_evaluate_take_the_data_as_their_argument(table_run, tmp_path: Path) -> None:
    """Like every other command, ``train`` and ``evaluate`` take the data as the argument (or --dataset)."""
    folder, _ = table_run
    data = str(folder / "train.csv")
    command = ["-q", "train", data, "--model", "mlp", "--latent-dim", "2", "--epochs", "1", "--no-report"]
    result = CliRunner().invoke(app, [*command, "-o", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert load(tmp_path / "run" / "model").feature_names == tuple(
        COLUMNS
    )  # trained on the table, not digits
    result = CliRunner().invoke(app, ["--json", "evaluate", data, "--model", str(tmp_path / "run" / "model")])
    assert result.exit_code == 0 and '"n_samples": 120' in result.output, result.output
    both = CliRunner().invoke(
        app, ["evaluate", data, "--dataset", "digits", "--model", str(tmp_path / "run" / "model")]
    )
    assert both.exit_code == 2 and "give the data once" in both.output
