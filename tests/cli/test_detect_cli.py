"""``aekit detect`` and the streaming function behind it: streamed scores equal in-memory ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aekit.apps import anomaly
from aekit.cli import app
from aekit.errors import ConfigError, DataError
from aekit.models.files import ModelBundle

runner = CliRunner()


def _table(x: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(x, columns=list("abcde"))
    frame.insert(0, "row_id", [f"r{i}" for i in range(len(x))])
    return frame


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_streamed_result_equals_in_memory(
    tmp_path: Path, pca_bundle: ModelBundle, labelled: tuple[np.ndarray, np.ndarray], suffix: str
) -> None:
    x, _ = labelled
    source = tmp_path / f"data{suffix}"
    frame = _table(x)
    frame.to_parquet(source, index=False) if suffix == ".parquet" else frame.to_csv(source, index=False)
    anomaly.save_threshold(pca_bundle.path, anomaly.DetectionSettings(threshold=0.2))
    output = tmp_path / f"scores{suffix}"
    result = runner.invoke(
        app,
        [
            "--json",
            "detect",
            "--model",
            str(pca_bundle.path),
            "--input",
            str(source),
            "--output",
            str(output),
            "--batch-size",
            "7",
        ],
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(output) if suffix == ".parquet" else pd.read_csv(output)
    in_memory = anomaly.score(pca_bundle, x, threshold=0.2)
    assert list(scored.columns) == ["row_id", *"abcde", "anomaly_score", "is_anomaly"]
    assert scored["row_id"].tolist() == frame["row_id"].tolist()
    # batches of 7 vs one batch: float32 matrix products round differently (seen: 2e-9 on a 2e-4 score)
    np.testing.assert_allclose(scored["anomaly_score"].to_numpy(), in_memory.scores, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(scored["is_anomaly"].to_numpy(), in_memory.labels)
    assert '"n_rows": 100' in result.stdout and f'"n_anomalies": {in_memory.n_anomalies}' in result.stdout


def test_reads_in_batches(
    tmp_path: Path, pca_bundle: ModelBundle, labelled: tuple[np.ndarray, np.ndarray]
) -> None:
    x, _ = labelled
    source = tmp_path / "data.parquet"
    _table(x).to_parquet(source, index=False)
    summary = anomaly.detect_file(pca_bundle, source, tmp_path / "out.parquet", threshold=1.0, batch_size=16)
    assert summary.n_batches == 7 and summary.n_rows == 100
    summary = anomaly.detect_file(pca_bundle, source, tmp_path / "out.csv", threshold=1.0, batch_size=1000)
    assert summary.n_batches == 1


def test_threshold_option_and_errors(
    tmp_path: Path, pca_bundle: ModelBundle, labelled: tuple[np.ndarray, np.ndarray]
) -> None:
    x, _ = labelled
    source = tmp_path / "data.csv"
    _table(x).to_csv(source, index=False)
    base = [
        "detect",
        "--model",
        str(pca_bundle.path),
        "--input",
        str(source),
        "--output",
        str(tmp_path / "o.csv"),
    ]
    missing = runner.invoke(app, base)
    assert missing.exit_code == 2 and "no threshold" in missing.output
    given = runner.invoke(app, [*base, "--threshold", "1e9"])
    assert given.exit_code == 0, given.output
    assert not pd.read_csv(tmp_path / "o.csv")["is_anomaly"].any()
    wrong = runner.invoke(app, [*base, "--threshold", "1", "--columns", "a,b,zz"])
    assert wrong.exit_code == 2 and "lacks the feature column(s) ['zz']" in wrong.output
    with pytest.raises(ConfigError, match="already has a column 'row_id'"):
        anomaly.detect_file(pca_bundle, source, tmp_path / "o.csv", threshold=1.0, score_column="row_id")
    with pytest.raises(DataError, match="must end with one of"):
        anomaly.detect_file(pca_bundle, source, tmp_path / "o.json", threshold=1.0)
    holes = _table(x)
    holes.loc[42, "c"] = np.nan
    holes.to_csv(tmp_path / "holes.csv", index=False)
    with pytest.raises(DataError, match="NaN or infinite feature values, first in data row 43"):
        anomaly.detect_file(
            pca_bundle, tmp_path / "holes.csv", tmp_path / "o2.csv", threshold=1.0, batch_size=10
        )
    assert not (tmp_path / "o2.csv").exists()  # nothing partial is left behind


def test_detector_saved_by_the_estimator_works_with_the_cli(
    tmp_path: Path, labelled: tuple[np.ndarray, np.ndarray]
) -> None:
    from aekit.estimators import AutoencoderOutlierDetector

    x, _ = labelled
    frame = pd.DataFrame(x, columns=list("abcde"))
    detector = AutoencoderOutlierDetector(
        hidden_dims=(8,), latent_dim=2, epochs=5, random_state=0, device="cpu", score_method="mahalanobis"
    )
    detector.fit(frame).save(tmp_path / "detector")
    _table(x).to_parquet(tmp_path / "data.parquet", index=False)
    result = runner.invoke(
        app,
        [
            "detect",
            "--model",
            str(tmp_path / "detector"),
            "-i",
            str(tmp_path / "data.parquet"),
            "-o",
            str(tmp_path / "out.parquet"),
        ],
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(tmp_path / "out.parquet")
    # the CLI runs the saved float32 model, the estimator infers in float64 (subset invariance)
    np.testing.assert_allclose(scored["anomaly_score"], -detector.score_samples(frame), rtol=1e-5)
    np.testing.assert_array_equal(scored["is_anomaly"], detector.predict(frame) == -1)


def test_memory_does_not_grow_with_the_input(tmp_path: Path, pca_bundle: ModelBundle) -> None:
    import tracemalloc

    peaks = []
    for n_rows in (1_000, 10_000):
        values = np.random.default_rng(n_rows).normal(size=(n_rows, 5))
        pd.DataFrame(values, columns=list("abcde")).to_csv(tmp_path / f"in{n_rows}.csv", index=False)
        tracemalloc.start()
        anomaly.detect_file(
            pca_bundle,
            tmp_path / f"in{n_rows}.csv",
            tmp_path / f"out{n_rows}.csv",
            threshold=1.0,
            batch_size=250,
        )
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0]  # ten times the rows, about the same peak
