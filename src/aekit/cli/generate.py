"""Generating from the latent space: ``aekit sample`` (prior draws) and ``aekit interpolate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from aekit.cli._console import data_out, guarded, save_picture
from aekit.cli.options import DataDirOption, ModelOption, SeedOption, SplitOption

__all__ = ["register"]


MAX_PATH_STEPS = 1000
"""Most points `aekit interpolate` draws in its one picture."""


def sample(
    model_dir: ModelOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="Grid of samples (.png).")],
    n_samples: Annotated[
        int, typer.Option("--samples", "-n", help="Number of samples (with --label: --columns per label).")
    ] = 64,
    temperature: Annotated[float, typer.Option(help="Spread of the prior draw (1 = the prior).")] = 1.0,
    label: Annotated[
        list[int] | None,
        typer.Option(help="Conditional models: class to draw (repeatable: one row of --columns per class)."),
    ] = None,
    columns: Annotated[int, typer.Option(help="Images per row (per label for conditional models).")] = 8,
    array: Annotated[Path | None, typer.Option(help="Also save the samples as .npy.")] = None,
    seed: SeedOption = 0,
) -> None:
    """Draw samples from the prior of a VAE/AAE (CVAE/conditional AAE: per class) and save a grid.

    Examples:

      aekit sample --model runs/vae/model -n 64 -o samples.png --temperature 0.8

      aekit sample --model runs/cvae/model --label 3 --label 7 -o threes-and-sevens.png
    """
    import torch

    from aekit.apps.generation import is_conditional, sample_rows
    from aekit.apps.generation import sample as draw
    from aekit.errors import ConfigError
    from aekit.formats.files import check_output_suffix
    from aekit.formats.matrices import write_array
    from aekit.models.files import load
    from aekit.report.latent_plots import mosaic_figure

    if columns < 1:
        raise ConfigError(f"--columns must be ≥ 1; got {columns}")
    if array is not None:  # checked before the picture is written, so a refused --array leaves nothing
        check_output_suffix(array, (".npy",), "arrays")
    bundle = load(model_dir)
    generator = torch.Generator().manual_seed(seed)
    row_labels = None
    if label and is_conditional(bundle):
        per_class = columns
        labels = torch.tensor([c for c in label for _ in range(per_class)])
        drawn = draw(bundle, len(labels), temperature=temperature, labels=labels, generator=generator)
        images = drawn.images.numpy().reshape(len(label), per_class, *drawn.images.shape[1:])
        row_labels = [f"label {c}" for c in label]
    else:
        if label:
            raise ConfigError("--label is for conditional models (cvae, caae); this model is not conditional")
        drawn = draw(bundle, n_samples, temperature=temperature, generator=generator)
        images = sample_rows(drawn.images, columns)
    title = f"{len(drawn.images)} samples, temperature {temperature:g}"
    value_range = bundle.normalizer.unit_range()
    save_picture(mosaic_figure(images, title=title, row_labels=row_labels, value_range=value_range), output)
    payload: dict[str, Any] = {"output": str(output), "n_samples": len(drawn.images)}
    if array is not None:
        write_array(array, drawn.images.numpy())
        payload["array"] = str(array)
    data_out(payload, str(output))


def interpolate(
    model_dir: ModelOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="Picture of the path (.png).")],
    images: Annotated[
        list[Path] | None, typer.Argument(help="Two image files to interpolate between.")
    ] = None,
    data: Annotated[str | None, typer.Option(help="Take the two inputs from this dataset instead.")] = None,
    pair: Annotated[str, typer.Option(help="Positions of the two inputs in --data, e.g. 0,1.")] = "0,1",
    steps: Annotated[int, typer.Option(help="Points on the path, endpoints included.")] = 10,
    method: Annotated[str, typer.Option(help="linear or spherical (for Gaussian latents).")] = "linear",
    label: Annotated[int | None, typer.Option(help="Class label for conditional models.")] = None,
    split: SplitOption = "train",
    data_dir: DataDirOption = None,
) -> None:
    """Decode the path between the codes of two inputs (two image files, or two items of a dataset).

    Examples:

      aekit interpolate a.png b.png --model runs/demo/model -o path.png

      aekit interpolate --data digits --pair 0,10 --model runs/vae/model --method spherical -o path.png
    """
    from aekit.apps.generation import interpolate as interpolate_path
    from aekit.apps.retrieval import load_query_images
    from aekit.data.sources import load_named_samples
    from aekit.errors import ConfigError
    from aekit.models.files import load
    from aekit.report.latent_plots import mosaic_figure

    if not 2 <= steps <= MAX_PATH_STEPS:
        raise ConfigError(f"--steps must be in [2, {MAX_PATH_STEPS}] (points of one picture); got {steps}")
    if data is not None and images:
        raise ConfigError("give two image files or --data with --pair, not both")
    bundle = load(model_dir)
    if data is not None:
        try:
            first, second = (int(p) for p in pair.split(","))
        except ValueError:
            raise ConfigError(f"--pair must be two positions like 0,1; got {pair!r}") from None
        inputs = load_named_samples(
            data,
            bundle.model.input_shape,
            split=split,
            data_dir=data_dir,
            columns=bundle.feature_names,
            normalizer=bundle.normalizer,
        )
        for position in (first, second):
            if not 0 <= position < len(inputs.x):
                raise ConfigError(f"--pair position {position} is outside 0..{len(inputs.x) - 1}")
        start, end = inputs.x[first], inputs.x[second]
    elif images is not None and len(images) == 2:
        loaded = load_query_images(images, bundle.model.input_shape, bundle.normalizer)
        start, end = loaded[0], loaded[1]
    else:
        raise ConfigError("give two image files, or --data with --pair")
    path = interpolate_path(bundle, start, end, n_steps=steps, method=method, label=label)  # type: ignore[arg-type]
    figure = mosaic_figure(
        path.images.numpy()[None],
        title=f"{method} interpolation in a {bundle.model.latent_dim}-D latent",
        column_labels=[f"{t:.2f}" for t in path.weights.tolist()],
        value_range=bundle.normalizer.unit_range(),
        tile_inches=0.8,
    )
    save_picture(figure, output)
    data_out({"output": str(output), "steps": steps, "method": method}, str(output))


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(sample))
    app.command()(guarded(interpolate))
