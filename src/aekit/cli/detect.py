"""``aekit fit-detector`` and ``aekit detect``: fit an anomaly detector on a table or image folder, then
flag the anomalous rows of new tables batch by batch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from aekit.cli._console import data_out, guarded, message
from aekit.cli.options import InputOption, check_finite_option

__all__ = ["register"]


def detect(
    model_dir: Annotated[
        Path, typer.Option("--model", help="Model folder (config.json + model.safetensors).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Scored table: .parquet, .pq or .csv.")],
    source: Annotated[
        Path | None,
        typer.Argument(help="Table to score (.csv/.tsv, gzipped or not, .parquet) or image folder."),
    ] = None,
    input_path: InputOption = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Score above which a row is an anomaly (default: the one stored in the model folder)."
        ),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated feature columns in model order (default: stored names, else all)."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Rows read, scored and written at a time.")] = 10_000,
    score_column: Annotated[str, typer.Option(help="Name of the added score column.")] = "anomaly_score",
    flag_column: Annotated[
        str, typer.Option(help="Name of the added flag column (true = anomaly).")
    ] = "is_anomaly",
    explain: Annotated[
        int, typer.Option(help="Name the features behind this many highest-scoring rows (0: none).")
    ] = 5,
) -> None:
    """Add an anomaly score and flag to every row of a table; memory stays bounded by --batch-size.

    Example:

      aekit detect data.parquet --model runs/detector --output scores.parquet
    """
    from aekit.apps.anomaly import detect_file
    from aekit.cli.options import one_input
    from aekit.errors import ConfigError
    from aekit.models.files import load

    input_path = one_input(source, input_path)

    if batch_size < 1:
        raise ConfigError(f"--batch-size must be ≥ 1; got {batch_size}")
    check_finite_option("threshold", threshold)
    if explain < 0:
        raise ConfigError(f"--explain must be ≥ 0; got {explain}")
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if input_path.is_dir():
        from aekit.apps.anomaly import detect_images

        images = detect_images(load(model_dir), input_path, output, threshold=threshold)
        message(f"scored {images.n_rows} images; {images.n_anomalies} flagged")
        data_out(
            {
                "output": str(images.output),
                "n_rows": images.n_rows,
                "n_anomalies": images.n_anomalies,
                "threshold": images.threshold,
            },
            str(images.output),
        )
        return
    summary = detect_file(
        load(model_dir),
        input_path,
        output,
        threshold=threshold,
        columns=names,
        batch_size=batch_size,
        score_column=score_column,
        flag_column=flag_column,
        explain=explain,
    )
    message(f"scored {summary.n_rows} rows in {summary.n_batches} batches; {summary.n_anomalies} flagged")
    for row in summary.top_rows:
        shares = ", ".join(f"{name} {100 * share:.0f}%" for name, share in row.features)
        message(f"row {row.row}: score {row.score:.4g}; largest errors: {shares}")
    payload = {
        "output": str(summary.output),
        "n_rows": summary.n_rows,
        "n_anomalies": summary.n_anomalies,
        "threshold": summary.threshold,
        "top_rows": [row.to_dict() for row in summary.top_rows],
    }
    data_out(payload, str(summary.output))


def fit_detector(
    output: Annotated[Path, typer.Option("--output", "-o", help="Model folder to write.")],
    source: Annotated[
        Path | None,
        typer.Argument(help="Training data: a .csv/.tsv/.parquet table, .npy/.npz array or image folder."),
    ] = None,
    input_path: InputOption = None,
    columns: Annotated[
        str | None, typer.Option(help="Comma-separated feature columns of a table (default: all).")
    ] = None,
    contamination: Annotated[
        str,
        typer.Option(
            help="Expected anomaly share of the training data (0–0.5), or 'auto': flag the "
            "--threshold-percentile of held-out rows' scores."
        ),
    ] = "auto",
    threshold_percentile: Annotated[
        float, typer.Option(help="With --contamination auto: 99 targets a 1 % false-positive rate.")
    ] = 99.0,
    steps: Annotated[int, typer.Option(help="Optimiser steps of training.")] = 300,
    image_size: Annotated[
        str | None, typer.Option(help="Resize images to this size, e.g. 28 or 32x48.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, ...")] = "auto",
) -> None:
    """Fit the default anomaly detector and save it with its scaling, feature names and threshold.

    Example:

      aekit fit-detector normal.parquet --output runs/detector
    """
    import pandas as pd

    from aekit.cli.options import one_input, parse_size
    from aekit.data.datasets import load_dataset
    from aekit.data.tables import load_table
    from aekit.errors import ConfigError
    from aekit.estimators import AutoencoderOutlierDetector
    from aekit.formats.suffixes import kind_of

    input_path = one_input(source, input_path)
    share = _parse_contamination(contamination)
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    is_table = kind_of(input_path) == "table"
    if names is not None and not is_table:
        raise ConfigError(f"--columns applies to tables; {input_path} is not a table")
    size = parse_size(image_size)
    loaded = (
        load_table(input_path, columns=names)
        if is_table
        else load_dataset(input_path, image_size=size)  # folders, arrays
    )
    x = loaded.data.x.double().numpy()
    shape = tuple(x.shape[1:])
    rows = x.reshape(len(x), -1)
    data = pd.DataFrame(rows, columns=list(loaded.columns)) if loaded.columns else rows
    detector = AutoencoderOutlierDetector(
        input_shape=shape if len(shape) > 1 else None,
        contamination=share,
        threshold_percentile=threshold_percentile,
        steps=steps,
        random_state=seed,
        device=device,
    )
    detector.fit(data)
    detector.save(output)
    message(
        f"fitted on {len(rows)} {loaded.kind} rows of {rows.shape[1]} features; threshold "
        f"{detector.threshold_:.4g} (set on {detector.n_calibration_rows_ or len(rows)} rows); "
        f"saved to {output}"
    )
    data_out(
        {
            "output": str(output),
            "n_rows": len(rows),
            "n_features": rows.shape[1],
            "threshold": detector.threshold_,
        },
        str(output),
    )


def _parse_contamination(text: str) -> float | Literal["auto"]:
    from aekit.errors import ConfigError

    if text == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"--contamination must be 'auto' or a number in (0, 0.5]; got {text!r}") from None
    if not 0 < value <= 0.5:
        raise ConfigError(f"--contamination must be 'auto' or a number in (0, 0.5]; got {text!r}")
    return value


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(detect))
    app.command("fit-detector")(guarded(fit_detector))
