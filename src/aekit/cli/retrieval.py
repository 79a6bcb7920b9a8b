"""Nearest-neighbour search over codes from the command line: ``aekit index`` and ``aekit search``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aekit.cli._console import data_out, guarded, message, save_picture
from aekit.cli.options import (
    DataDirOption,
    LabelColumnOption,
    MaxSamplesOption,
    ModelOption,
    SeedOption,
    SourceArgument,
    SplitOption,
)

__all__ = ["register"]


def index(
    source: SourceArgument,
    model_dir: ModelOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="Index folder to write.")],
    kind: Annotated[
        str, typer.Option(help="exact (default) or ivf (approximate, for large collections).")
    ] = "exact",
    metric: Annotated[str, typer.Option(help="euclidean or cosine.")] = "euclidean",
    lists: Annotated[int, typer.Option(help="IVF cells (about the square root of the item count).")] = 64,
    probe: Annotated[int, typer.Option(help="IVF cells scanned per query.")] = 8,
    split: SplitOption = "train",
    data_dir: DataDirOption = None,
    max_samples: MaxSamplesOption = None,
    seed: SeedOption = 0,
    label_column: LabelColumnOption = None,
) -> None:
    """Encode a collection and save a nearest-neighbour index of its codes (safetensors + JSON).

    Examples:

      aekit index images/ --model runs/demo/model -o runs/demo/index

      aekit index mnist --model runs/mnist/model -o mnist-index --kind ivf --lists 256 --probe 16
    """
    from aekit.apps.retrieval import index_dataset, save_index
    from aekit.cli.latent import check_written_paths
    from aekit.cli.options import check_positive_option
    from aekit.data.sources import load_named_samples
    from aekit.models.files import load

    check_written_paths({"--output": output}, [source, model_dir, data_dir])
    bundle = load(model_dir)
    check_positive_option("max_samples", max_samples)
    inputs = load_named_samples(
        source,
        bundle.model.input_shape,
        split=split,
        data_dir=data_dir,
        max_samples=max_samples,
        seed=seed,
        label_column=label_column,
        columns=bundle.feature_names,
        normalizer=bundle.normalizer,
    )
    options = {"n_lists": lists, "n_probe": probe, "random_state": seed} if kind == "ivf" else {}
    built = index_dataset(
        bundle,
        inputs.x,
        kind=kind,  # type: ignore[arg-type]
        labels=inputs.labels,
        names=inputs.names,
        metric=metric,  # type: ignore[arg-type]
        source=None if inputs.image_folder is None else str(inputs.image_folder),
        class_names=inputs.class_names,
        **options,
    )
    save_index(built, output)
    message(f"indexed {len(built)} items ({built.kind}, {built.metric}) in {output}")
    data_out({"index": str(output), "n_items": len(built), "kind": built.kind}, str(output))


def _label_name(label: int, class_names: tuple[str, ...] | None) -> str:
    return class_names[label] if class_names is not None and 0 <= label < len(class_names) else str(label)


def search(
    queries: Annotated[
        list[Path], typer.Argument(help="Query images (.png/.jpg), or with --codes a .npy/.csv of codes.")
    ],
    model_dir: ModelOption,
    index_dir: Annotated[Path, typer.Option("--index", help="Index folder written by `aekit index`.")],
    k: Annotated[int, typer.Option("-k", help="Neighbours per query.")] = 5,
    codes: Annotated[bool, typer.Option("--codes", help="The query files hold codes, not images.")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Picture of each image query and its neighbours (image queries).")
    ] = None,
) -> None:
    """Print the indexed items nearest to each query image (or code).

    Examples:

      aekit search query.png --model runs/demo/model --index runs/demo/index -k 5

      aekit search codes.npy --codes --model runs/demo/model --index runs/demo/index
    """
    import torch

    from aekit.apps.retrieval import load_index, load_query_images, neighbour_images, search_images
    from aekit.cli.latent import check_written_paths
    from aekit.formats.matrices import read_matrix
    from aekit.models.files import load

    check_written_paths({"--plot": plot}, [*queries, model_dir, index_dir], pictures=("--plot",))
    bundle = load(model_dir)
    built = load_index(index_dir)
    if codes:
        query_codes = torch.cat([torch.as_tensor(read_matrix(path)).float() for path in queries])
        result = built.search(query_codes, k)
        query_names = [f"{path}:{i}" for path in queries for i in range(len(read_matrix(path)))]
    else:
        images = load_query_images(queries, bundle.model.input_shape, bundle.normalizer)
        result = search_images(bundle, built, images, k)
        query_names = [str(path) for path in queries]
    payload = []
    lines = []
    for row, name in enumerate(query_names):
        hits = []
        lines.append(f"{name}:")
        for rank, (item, distance) in enumerate(
            zip(result.indices[row].tolist(), result.distances[row].tolist(), strict=True), start=1
        ):
            if item < 0:
                continue
            hit = {
                "rank": rank,
                "item": built.names[item] if built.names is not None else str(item),
                "position": item,
                "distance": distance,
                "label": None if built.labels is None else int(built.labels[item]),
            }
            if hit["label"] is not None and built.class_names is not None:
                hit["label_name"] = _label_name(int(hit["label"]), built.class_names)
            hits.append(hit)
            label = "" if hit["label"] is None else f"  label {hit.get('label_name', hit['label'])}"
            lines.append(f"  {rank:>2}. {hit['item']}  distance {distance:.4f}{label}")
        payload.append({"query": name, "neighbours": hits})
    if plot is not None and not codes:
        from aekit.report.latent_plots import search_results_figure

        found = result.indices.clamp_min(0)
        neighbours, shown = neighbour_images(bundle, built, found)
        captions = [
            [
                "" if built.labels is None else _label_name(int(built.labels[i]), built.class_names)
                for i in row.tolist()
            ]
            for row in found
        ]
        figure = search_results_figure(
            images.numpy(),
            neighbours.reshape(*found.shape, *images.shape[1:]).numpy(),
            captions=captions if built.labels is not None else None,
            value_range=bundle.normalizer.unit_range(),
            title=f"query and {shown} of its nearest items",
        )
        save_picture(figure, plot)
    data_out(payload, "\n".join(lines))


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(index))
    app.command()(guarded(search))
