"""``aekit report``: one self-contained HTML page for a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aekit.cli._console import data_out, guarded, message

__all__ = ["register"]


def report(
    run_dir: Annotated[
        Path,
        typer.Argument(
            metavar="RUN_DIR", help="Run folder written by `aekit train` or `aekit demo`.", show_default=False
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="HTML file to write (default: RUN_DIR/report.html)."),
    ] = None,
) -> None:
    """Write an HTML report of a run: settings, every loss term, test metrics, reconstructions, latent map,
    and the pictures and tables of every application that wrote into the run folder.

    The page is one file (images embedded, no scripts, nothing fetched), so it can be mailed or archived.

    Examples:

      aekit report runs/demo

      aekit report runs/mnist -o mnist-report.html
    """
    from aekit.report.html import write_report

    path = write_report(run_dir, output)
    message(f"report written: {path} ({path.stat().st_size / 1024:,.0f} KiB)")
    data_out({"report": str(path), "bytes": path.stat().st_size}, str(path))


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(report))
