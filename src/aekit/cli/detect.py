"""``aekit detect``: flag anomalous rows of a CSV/Parquet table with a saved model, batch by batch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aekit.cli._console import data_out, guarded, message

__all__ = ["register"]


def detect(
    model_dir: Annotated[
        Path, typer.Option("--model", help="Model folder (config.json + model.safetensors).")
    ],
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="Table to score: .parquet, .pq, .csv or .csv.gz.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Scored table: .parquet, .pq or .csv.")],
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
) -> None:
    """Add an anomaly score and flag to every row of a table; memory stays bounded by --batch-size.

    Example:

      aekit detect --model runs/detector --input data.parquet --output scores.parquet
    """
    from aekit.apps.anomaly import detect_file
    from aekit.errors import ConfigError
    from aekit.io import load

    if batch_size < 1:
        raise ConfigError(f"--batch-size must be ≥ 1; got {batch_size}")
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    summary = detect_file(
        load(model_dir),
        input_path,
        output,
        threshold=threshold,
        columns=names,
        batch_size=batch_size,
        score_column=score_column,
        flag_column=flag_column,
    )
    message(f"scored {summary.n_rows} rows in {summary.n_batches} batches; {summary.n_anomalies} flagged")
    payload = {
        "output": str(summary.output),
        "n_rows": summary.n_rows,
        "n_anomalies": summary.n_anomalies,
        "threshold": summary.threshold,
    }
    data_out(payload, str(summary.output))


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(detect))
