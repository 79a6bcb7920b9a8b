"""``aekit train``, ``aekit evaluate`` and ``aekit demo``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aekit.cli._console import STATE, data_out, guarded, message
from aekit.cli.options import DataArgument, one_source, parse_assignments, parse_size

if TYPE_CHECKING:
    from aekit.workflows.run import RunResult, RunSpec

__all__ = ["register"]

DEMO_MODEL_OPTIONS: dict[str, Any] = {"latent_dim": 8, "channels": [32, 64], "activation": "gelu"}
DEMO_EPOCHS = 30


def _print_result(result: Any, report: bool = True) -> None:
    """Write the run's HTML report (unless told not to), then print where everything is (rank 0 only)."""
    from aekit.training.distributed import is_main_process

    if not is_main_process():
        return
    metrics = result.metrics
    files = {name: str(path) for name, path in result.files.items()}
    if report:
        from aekit.report.html import write_report

        files["report"] = str(write_report(result.run_dir))
        message(f"report: {files['report']}")
    human = "\n".join(
        [
            f"run folder: {result.run_dir}",
            f"test {headline_metrics(metrics)}",
            *(f"  {name:16s} {path}" for name, path in files.items()),
        ]
    )
    data_out({"run_dir": str(result.run_dir), "metrics": metrics, "files": files}, human)


def headline_metrics(metrics: dict[str, float]) -> str:
    """The figures a family is judged by, in one phrase (MSE and PSNR, per-feature MSE, accuracy)."""
    names = {
        "mse_per_pixel": "per-pixel MSE {:.5f}",
        "psnr_db": "PSNR {:.2f} dB",
        "mse_per_feature": "per-feature MSE {:.5f}",
        "accuracy": "accuracy {:.4f}",
        "pixel_accuracy": "pixel accuracy {:.4f}",
    }
    shown = [
        text.format(metrics[key])
        for name, text in names.items()
        for key in (name, f"test_{name}")
        if key in metrics
    ]
    loss = metrics.get("test_loss_loss", metrics.get("loss_loss", float("nan")))
    return ", ".join(shown) or f"loss {loss:.5g}"


LabelColumnOption = Annotated[
    str | None,
    typer.Option(help="Table column of class labels or domains (cvae, caae, multi_decoder, ...)."),
]
MasksOption = Annotated[
    Path | None,
    typer.Option(help="Folder of mask PNGs, one per image in file-name order (segmentation)."),
]
TargetsOption = Annotated[
    Path | None,
    typer.Option(
        help="Folder of clean images named like the --dataset folder's noisy ones (paired training)."
    ),
]


def train(
    source: DataArgument = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            help="digits (default), mnist, fashion-mnist, or a path (.npy/.npz/.csv/.parquet/image folder)."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Registered model name, default conv (see `aekit models`).")
    ] = None,
    latent_dim: Annotated[int | None, typer.Option(help="Size of the latent code.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Training epochs.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Samples per step.")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Adam learning rate.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for weights, data order and noise.")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:1, mps.")] = None,
    precision: Annotated[str | None, typer.Option(help="32, bf16-mixed or 16-mixed.")] = None,
    run_dir: Annotated[Path | None, typer.Option("--run-dir", "-o", help="Folder for the results.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder of the MNIST/Fashion-MNIST .gz files (or set AEKIT_DATA).")
    ] = None,
    image_size: Annotated[str | None, typer.Option(help="Resize images, e.g. 28 or 32x48.")] = None,
    max_samples: Annotated[int | None, typer.Option(help="Train on at most this many samples.")] = None,
    augment: Annotated[
        list[str] | None,
        typer.Option(help="Image augmentation, KEY=VALUE (max_shift, max_rotation, ...), repeatable."),
    ] = None,
    set_option: Annotated[
        list[str] | None,
        typer.Option("--set", help="Model config field, KEY=VALUE (JSON values), repeatable."),
    ] = None,
    train_option: Annotated[
        list[str] | None, typer.Option("--train-set", help="Training config field, KEY=VALUE, repeatable.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML file with the same settings (flags override it).")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the run folder's checkpoint.")] = False,
    overwrite: Annotated[
        bool, typer.Option(help="Replace the run already in the run folder (else such a folder is refused).")
    ] = False,
    tensorboard: Annotated[
        Path | None,
        typer.Option(
            "--tensorboard",
            metavar="DIR",
            help="Also log losses per epoch and reconstructions to TensorBoard event files in DIR.",
        ),
    ] = None,
    report: Annotated[
        bool, typer.Option(help="Write RUN_DIR/report.html (see `aekit report`) at the end.")
    ] = True,
    label_column: LabelColumnOption = None,
    masks: MasksOption = None,
    targets: TargetsOption = None,
) -> None:
    """Train a model and write a run folder (model files, losses.csv, metrics.json, pictures).

    Every registered family trains here. What a family needs beyond the inputs comes from the data:
    class labels for conditional families (digits/MNIST labels, class sub-folders, an .npz's y, or
    --label-column), domains for multi_decoder (the same sources), masks for segmentation (--masks or
    an .npz's y). PCA is fitted in closed form; stacked is pretrained layer by layer, then fine-tuned.

    Examples:

      aekit train --dataset digits --model conv --latent-dim 8 --epochs 20 -o runs/digits

      aekit train table.csv --model mlp --latent-dim 4 -o runs/table

      aekit train --dataset mnist --data-dir ~/data/mnist --model mlp --set hidden_dims=[512,256]

      aekit train --config run.toml --resume

      aekit train --epochs 5 --tensorboard runs/tb -o runs/digits

      aekit train --dataset digits --model cvae --epochs 10 -o runs/cvae
    """
    from aekit.workflows.run import RunSpec, read_run_settings

    dataset = one_source(source, dataset)
    model_options = parse_assignments(set_option)
    if latent_dim is not None:
        model_options["latent_dim"] = latent_dim
    flags = {
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "seed": seed,
        "device": device,
        "precision": precision,
    }
    train_values = {**parse_assignments(train_option), **{k: v for k, v in flags.items() if v is not None}}
    train_values.update(progress=not STATE.quiet)
    if resume:
        train_values["resume"] = True
    spec = RunSpec.from_settings(
        read_run_settings(config) if config else {},
        model_options=model_options,
        train=train_values,
        augmentation=parse_assignments(augment),
        dataset=dataset,
        model=model,
        run_dir=str(run_dir) if run_dir else None,
        data_dir=str(data_dir) if data_dir else None,
        image_size=parse_size(image_size),
        max_samples=max_samples,
        tensorboard_dir=str(tensorboard) if tensorboard else None,
        label_column=label_column,
        masks=str(masks) if masks else None,
        targets=str(targets) if targets else None,
        overwrite=overwrite or None,
    )
    _announce(f"training {spec.model!r} on {spec.dataset!r} → {spec.run_dir}")
    _print_result(_interruptible(spec), report=report)


def _interruptible(spec: RunSpec) -> RunResult:
    """``run_training(spec)``; Ctrl-C ends it with exit status 130 and says how to continue."""
    from aekit.workflows.run import run_training

    try:
        return run_training(spec)
    except KeyboardInterrupt:
        _announce(
            f"interrupted; {spec.run_dir}/checkpoint keeps the last completed epoch: run the same command "
            "with --resume to continue"
        )
        raise typer.Exit(code=130) from None


def _announce(text: str) -> None:
    """A status line from rank 0 only: under ``torchrun`` every rank runs this command."""
    from aekit.training.distributed import is_main_process

    if is_main_process():
        message(text)


def demo(
    run_dir: Annotated[Path, typer.Option("--run-dir", "-o", help="Folder for the results.")] = Path(
        "runs/demo"
    ),
    epochs: Annotated[int, typer.Option(help="Training epochs.")] = DEMO_EPOCHS,
    seed: Annotated[int, typer.Option(help="Seed for weights, data order and noise.")] = 0,
    overwrite: Annotated[
        bool, typer.Option(help="Replace the run already in the run folder (else such a folder is refused).")
    ] = False,
    resume: Annotated[bool, typer.Option(help="Continue a stopped demo from its checkpoint.")] = False,
) -> None:
    """Train a convolutional autoencoder on scikit-learn's bundled 8×8 digits (offline, about a minute on
    2 CPU cores) and write model files, losses, metrics, pictures and an HTML report (report.html).

    Example:

      aekit demo -o runs/demo
    """
    from aekit.training.config import TrainConfig
    from aekit.workflows.run import RunSpec

    spec = RunSpec(
        dataset="digits",
        model="conv",
        run_dir=str(run_dir),
        model_options=dict(DEMO_MODEL_OPTIONS),
        train=TrainConfig(
            epochs=epochs,
            batch_size=32,
            learning_rate=2e-3,
            seed=seed,
            lr_schedule="cosine",
            progress=not STATE.quiet,
            resume=resume,
        ),
        overwrite=overwrite,
    )
    _announce(f"aekit demo: conv autoencoder on the 8×8 digits, {epochs} epochs → {run_dir}")
    _print_result(_interruptible(spec))


def evaluate(
    model_dir: Annotated[
        Path, typer.Option("--model", help="Model folder (config.json + model.safetensors).")
    ],
    source: DataArgument = None,
    dataset: Annotated[str | None, typer.Option(help="Dataset name or path (default digits).")] = None,
    split: Annotated[str, typer.Option(help="train or test (MNIST/Fashion-MNIST).")] = "train",
    data_dir: Annotated[Path | None, typer.Option(help="Folder of the MNIST/Fashion-MNIST files.")] = None,
    image_size: Annotated[str | None, typer.Option(help="Resize images, e.g. 28.")] = None,
    label_column: LabelColumnOption = None,
    masks: MasksOption = None,
) -> None:
    """Evaluate a saved model on a dataset: per-pixel MSE and PSNR (images), per-feature MSE (tables) or
    accuracy (segmentation), and every loss term. Conditional and multi-decoder models use the data's
    labels, as in training.

    Examples:

      aekit evaluate --model runs/demo/model --dataset digits

      aekit evaluate test.csv --model runs/table/model
    """
    from aekit.data.tensors import TensorData
    from aekit.models.files import load
    from aekit.workflows.run import RunSpec, evaluation_metrics, load_run_data, options_from_labels

    bundle = load(model_dir)
    spec = RunSpec(
        dataset=one_source(source, dataset) or "digits",
        data_dir=str(data_dir) if data_dir else None,
        image_size=parse_size(image_size),
        label_column=label_column,
        masks=str(masks) if masks else None,
    )
    loaded = load_run_data(spec, split=split)
    options_from_labels(type(bundle.model), loaded)  # refuses data without the labels the family needs
    data = TensorData(bundle.normalizer.transform(loaded.data.x), loaded.data.y)
    metrics = evaluation_metrics(bundle.model, data)
    human = "\n".join(f"{key:24s} {value:.6g}" for key, value in metrics.items())
    data_out(metrics, human)


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(train))
    app.command()(guarded(demo))
    app.command()(guarded(evaluate))
