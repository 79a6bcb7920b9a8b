"""``aekit sweep``: one model trained per latent size, test error against size (beside PCA)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from aekit.cli._console import data_out, guarded, message, save_picture
from aekit.cli.options import DataDirOption, MaxSamplesOption, SeedOption

__all__ = ["register"]


def sweep(
    dataset: Annotated[str, typer.Argument(help="digits, mnist, fashion-mnist, or a path.")] = "digits",
    latent_dims: Annotated[str, typer.Option(help="Comma-separated latent sizes.")] = "2,4,8,16,32",
    model: Annotated[str, typer.Option(help="Registered model name.")] = "mlp",
    epochs: Annotated[int, typer.Option(help="Training epochs per model.")] = 20,
    batch_size: Annotated[int, typer.Option(help="Samples per step.")] = 128,
    learning_rate: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    run_dir: Annotated[
        Path, typer.Option("--run-dir", "-o", help="Folder for models, table and plot.")
    ] = Path("runs/sweep"),
    set_option: Annotated[
        list[str] | None,
        typer.Option("--set", help="Model config field KEY=VALUE (JSON values), repeatable."),
    ] = None,
    pca: Annotated[bool, typer.Option(help="Fit PCA at every size too.")] = True,
    max_samples: MaxSamplesOption = None,
    max_test_samples: Annotated[
        int | None, typer.Option(help="Evaluate on at most this many test samples.")
    ] = None,
    data_dir: DataDirOption = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda ...")] = "auto",
    seed: SeedOption = 0,
    overwrite: Annotated[
        bool, typer.Option(help="Replace the sweep already in the folder (else such a folder is refused).")
    ] = False,
) -> None:
    """Train one model per latent size and plot test reconstruction error against size, beside PCA.

    Writes RUN_DIR/sweep.csv, sweep.json, sweep.png and one model folder per size; a folder that already
    holds a sweep is refused unless --overwrite.

    Examples:

      aekit sweep digits --latent-dims 2,4,8,16,32 --epochs 30 -o runs/sweep

      aekit sweep mnist --model conv --latent-dims 4,16,64 --epochs 5 --max-samples 20000
    """
    from aekit.cli.options import parse_assignments
    from aekit.errors import ConfigError
    from aekit.formats.files import FolderLock
    from aekit.models.registry import get as get_model_class
    from aekit.report.latent_plots import sweep_figure
    from aekit.training.config import TrainConfig
    from aekit.workflows.run import options_from_labels
    from aekit.workflows.sweep import check_sweepable, load_sweep_data, save_sweep, sweep_latent_dims

    try:
        dims = [int(d) for d in latent_dims.split(",") if d.strip()]
    except ValueError:
        raise ConfigError(
            f"--latent-dims must be integers separated by commas; got {latent_dims!r}"
        ) from None
    check_sweepable(model)
    data = load_sweep_data(
        dataset, data_dir=data_dir, max_samples=max_samples, max_test_samples=max_test_samples, seed=seed
    )
    family = get_model_class(model)
    options = {**options_from_labels(family, data.training), **parse_assignments(set_option)}
    if len(data.train.sample_shape) == 3 and "output_activation" in family.config_class.field_names():
        options.setdefault("output_activation", "sigmoid")  # images scaled to [0, 1]
    config = TrainConfig(
        epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed, device=device
    )

    def report(row: Any) -> None:
        message(
            f"{row.model:>6} latent {row.latent_dim:>3}: "
            f"test MSE {row.test_mse:.5f}, PSNR {row.test_psnr_db:.2f} dB"
        )

    with FolderLock(run_dir, "latent sweep"):
        result = sweep_latent_dims(
            data.train,
            data.test,
            dims,
            model=model,
            model_options=options,
            train_config=config,
            include_pca=pca,
            output_dir=run_dir,
            normalizer=data.normalizer,
            on_row=report,
            overwrite=overwrite,
        )
        files = {name: str(path) for name, path in save_sweep(result, run_dir).items()}
        files["plot"] = str(run_dir / "sweep.png")
        save_picture(sweep_figure(result.to_dict()["rows"]), run_dir / "sweep.png")
    header = f"{'model':>6} {'latent':>6} {'test MSE':>10} {'PSNR dB':>8}"
    body = [f"{r.model:>6} {r.latent_dim:>6} {r.test_mse:>10.5f} {r.test_psnr_db:>8.2f}" for r in result.rows]
    data_out({**result.to_dict(), "files": files}, "\n".join([header, *body]))


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(sweep))
