"""The latent space from the command line: ``aekit map``, ``cluster``, ``index``, ``search``, ``sample``,
``interpolate`` and ``sweep``.

Data sources are what ``aekit encode`` takes (dataset names, .npy/.npz/.csv/.parquet files, image folders)
plus folders of audio files, which become log-spectrogram images sized to the model's input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from aekit.cli._console import data_out, guarded, message

__all__ = ["register"]

ModelOption = Annotated[Path, typer.Option("--model", help="Model folder (config.json + model.safetensors).")]
SourceArgument = Annotated[
    str,
    typer.Argument(help="Dataset name or path (.npy/.npz/.csv/.parquet, image folder, audio folder)."),
]
SplitOption = Annotated[str, typer.Option(help="train or test (MNIST/Fashion-MNIST).")]
DataDirOption = Annotated[Path | None, typer.Option(help="Folder of the MNIST/Fashion-MNIST files.")]
MaxSamplesOption = Annotated[
    int | None, typer.Option(help="Use at most this many samples (a seeded random subset).")
]
SeedOption = Annotated[int, typer.Option(help="Seed of every random choice.")]
LabelColumnOption = Annotated[
    str | None, typer.Option(help="Tables: the column holding labels (left out of the features).")
]


class _Inputs:
    """Raw inputs, integer labels (or None), item names, class names and table column names of a source,
    and the image folder the names are paths in (None for other sources)."""

    def __init__(
        self,
        x: Any,
        labels: Any,
        names: list[str],
        class_names: tuple[str, ...] | None,
        columns: tuple[str, ...] | None = None,
        image_folder: Path | None = None,
    ) -> None:
        self.x, self.labels, self.names, self.class_names = x, labels, names, class_names
        self.columns, self.image_folder = columns, image_folder


MAX_PATH_STEPS = 1000
"""Most points `aekit interpolate` draws in its one picture."""

def _load_inputs(
    source: str,
    input_shape: tuple[int, ...],
    *,
    split: str = "train",
    data_dir: Path | None = None,
    max_samples: int | None = None,
    seed: int = 0,
    label_column: str | None = None,
) -> _Inputs:
    """Raw inputs sized for the model, labels when the source has them, and a name per item."""
    import torch

    from aekit.cli.options import check_positive_option

    check_positive_option("max_samples", max_samples)

    from aekit.data.audio import load_audio_folder
    from aekit.data.datasets import load_dataset
    from aekit.data.tables import load_table
    from aekit.errors import ConfigError
    from aekit.formats.folders import labelled_files  # the file order the loaders use
    from aekit.formats.suffixes import kind_of, suffixes

    path = Path(source)
    image_size = tuple(input_shape[1:]) if len(input_shape) == 3 else None
    names: list[str]
    image_folder = None
    if path.is_dir() and labelled_files(path, "audio")[0]:
        loaded = load_audio_folder(path, image_size=image_size)  # type: ignore[arg-type]
        names = [str(p.relative_to(path)) for p in labelled_files(path, "audio")[0]]
    elif path.is_dir():
        loaded = load_dataset(source, image_size=image_size)  # type: ignore[arg-type]
        names = [str(p.relative_to(path)) for p in labelled_files(path, "image")[0]]
        image_folder = path.resolve()
    elif label_column is not None:
        if kind_of(path) != "table":
            tables = ", ".join(suffixes("table"))
            raise ConfigError(f"--label-column applies to tables ({tables}); got {source}")
        loaded = load_table(path, label_column=label_column)
        names = [f"{path.name}:{i}" for i in range(len(loaded.data))]
    else:
        loaded = load_dataset(source, split=split, data_dir=data_dir)  # type: ignore[arg-type]
        prefix = f"{path.name}" if path.exists() else f"{source}-{split}"  # a file, or a dataset name
        names = [f"{prefix}:{i}" for i in range(len(loaded.data))]
    data = loaded.data
    if max_samples is not None and max_samples < len(data):
        chosen = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:max_samples]
        chosen = chosen.sort().values
        data = data.subset(chosen)
        names = [names[int(i)] for i in chosen]
    labels = data.y if data.y is not None and data.y.dim() == 1 and not data.y.is_floating_point() else None
    return _Inputs(data.x, labels, names, loaded.class_names, loaded.columns, image_folder)


def _save(figure: Any, path: Path) -> None:
    from aekit.report.plots import save_figure

    save_figure(figure, path)
    message(f"wrote {path}")


def _display_range(bundle: Any) -> tuple[float, float] | None:
    """The data's range for pictures: the normaliser's fixed range, else None (each picture's own)."""
    normalizer = bundle.normalizer
    if normalizer.kind == "scale":
        low = normalizer.offset[0]
        return low, low + normalizer.scale[0]
    return (0.0, 1.0) if normalizer.kind == "identity" else None


# ------------------------------------------------------------------------------------------------ map


def map_command(
    source: SourceArgument,
    model_dir: ModelOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="Scatter plot (.png) of the codes.")],
    method: Annotated[
        str, typer.Option(help="auto, latent, pca, tsne or umap (needs aekit[umap]).")
    ] = "auto",
    grid: Annotated[
        Path | None, typer.Option(help="Also write decoded images on a grid over the latent plane (.png).")
    ] = None,
    grid_size: Annotated[int, typer.Option(help="Grid points per side of --grid.")] = 15,
    split: SplitOption = "train",
    data_dir: DataDirOption = None,
    max_samples: MaxSamplesOption = 2000,
    seed: SeedOption = 0,
    label_column: LabelColumnOption = None,
) -> None:
    """Draw a 2-D map of the codes of a dataset, coloured by label, and optionally a decoded grid.

    Examples:

      aekit map digits --model runs/demo/model -o map.png --method tsne

      aekit map mnist --split test --model runs/mnist/model -o map.png --grid grid.png
    """
    from aekit.apps.features import decoded_grid, project_codes
    from aekit.apps.inference import encode_dataset
    from aekit.models.files import load
    from aekit.report.latent_plots import latent_scatter_figure, mosaic_figure

    bundle = load(model_dir)
    inputs = _load_inputs(
        source,
        bundle.model.input_shape,
        split=split,
        data_dir=data_dir,
        max_samples=max_samples,
        seed=seed,
        label_column=label_column,
    )
    codes = encode_dataset(bundle, inputs.x)
    projected = project_codes(codes, method, labels=inputs.labels, random_state=seed)  # type: ignore[arg-type]
    title = f"{bundle.model.latent_dim}-D codes of {len(codes)} samples ({projected.method})"
    _save(
        latent_scatter_figure(
            projected.points,
            projected.labels,
            title=title,
            axis_names=projected.axis_names,
            class_names=inputs.class_names,
        ),
        output,
    )
    payload: dict[str, Any] = {"map": str(output), "method": projected.method, "n_samples": len(codes)}
    if grid is not None:
        decoded = decoded_grid(bundle, codes=codes, n_per_side=grid_size)
        axes = ("z1", "z2") if decoded.plane == "latent" else ("PC 1 of codes", "PC 2 of codes")
        plane_name = "latent" if decoded.plane == "latent" else "codes' principal"
        figure = mosaic_figure(
            decoded.images,
            title=f"decoded grid over the {plane_name} plane",
            value_range=_display_range(bundle),
            axis_labels=axes,
        )
        _save(figure, grid)
        payload["grid"] = str(grid)
    data_out(payload, str(output))


# -------------------------------------------------------------------------------------------- cluster


def cluster(
    source: SourceArgument,
    model_dir: ModelOption,
    clusters: Annotated[
        int,
        typer.Option(
            "--clusters", "-k", help="Number of clusters (k-means, GMMs; UMAP dimensions by default)."
        ),
    ] = 10,
    method: Annotated[
        str,
        typer.Option(help="kmeans, gmm, hdbscan, umap-gmm or umap-hdbscan (the umap ones need aekit[umap])."),
    ] = "kmeans",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="CSV of item, cluster (and label) per sample.")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="2-D map of the codes coloured by cluster (a 2-D UMAP for the umap methods)."),
    ] = None,
    members: Annotated[
        Path | None, typer.Option(help="Images: picture of each cluster's most typical members (.png).")
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option(help="CSV of each cluster's mean input features, in standard units (tables)."),
    ] = None,
    umap_components: Annotated[
        int | None, typer.Option(help="UMAP dimensions before clustering (default: --clusters).")
    ] = None,
    neighbors: Annotated[
        int | None, typer.Option(help="UMAP neighbours (default: √N/10 within 10..30).")
    ] = None,
    min_cluster_size: Annotated[
        int | None, typer.Option(help="HDBSCAN's smallest cluster (default 10; N/(4k) after UMAP).")
    ] = None,
    split: SplitOption = "train",
    data_dir: DataDirOption = None,
    max_samples: MaxSamplesOption = None,
    seed: SeedOption = 0,
    label_column: LabelColumnOption = None,
) -> None:
    """Cluster the codes of a dataset; with labels, print clustering accuracy, NMI and ARI.

    umap-gmm embeds the codes with UMAP (min_dist 0, --umap-components dimensions) and fits a Gaussian
    mixture there; umap-hdbscan lets HDBSCAN find the clusters and reports the share left as noise.

    Examples:

      aekit cluster digits --model runs/demo/model -k 10

      aekit cluster mnist --model runs/n2d/model --method umap-gmm -k 10 --members members.png --plot map.png

      aekit cluster sounds/ --model runs/sounds/model -k 2 -o clusters.csv --plot clusters.png
    """
    import csv

    from aekit.apps.clustering import cluster_codes, cluster_profile, typical_members
    from aekit.apps.features import project_codes
    from aekit.apps.inference import encode_dataset
    from aekit.errors import ConfigError
    from aekit.formats.files import atomic_path
    from aekit.models.files import load
    from aekit.report.latent_plots import cluster_members_figure, latent_scatter_figure

    bundle = load(model_dir)
    is_image = len(bundle.model.input_shape) == 3
    if members is not None and not is_image:
        raise ConfigError("--members draws images; this model's inputs are not images (use --profile)")
    inputs = _load_inputs(
        source,
        bundle.model.input_shape,
        split=split,
        data_dir=data_dir,
        max_samples=max_samples,
        seed=seed,
        label_column=label_column,
    )
    codes = encode_dataset(bundle, inputs.x)
    result = cluster_codes(
        codes,
        clusters,
        method=method,  # type: ignore[arg-type]
        labels=inputs.labels,
        umap_components=umap_components,
        n_neighbors=neighbors,
        min_cluster_size=min_cluster_size,
        random_state=seed,
    )
    if output is not None:
        with atomic_path(output) as temp, open(temp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["item", "cluster", *(["label"] if inputs.labels is not None else [])])
            for index, (name, assigned) in enumerate(zip(inputs.names, result.assignments, strict=True)):
                label = [int(inputs.labels[index])] if inputs.labels is not None else []
                writer.writerow([name, int(assigned), *label])
        message(f"wrote {output}")
    if plot is not None:
        map_method = "umap" if method.startswith("umap") else "auto"
        projected = project_codes(codes, map_method, n_neighbors=neighbors or 15, random_state=seed)  # type: ignore[arg-type]
        noise = f", {result.noise_share:.1%} noise" if result.n_noise else ""
        _save(
            latent_scatter_figure(
                projected.points,
                result.assignments,
                title=f"{result.method}: {result.n_clusters} clusters{noise}",
                axis_names=projected.axis_names,
                legend_title="cluster",
            ),
            plot,
        )
    if members is not None:
        chosen = typical_members(result, 10)
        images = inputs.x.float().numpy()
        names = [f"{c} ({size})" for c, size in zip(*result.cluster_sizes(), strict=True)]  # id (size)
        _save(
            cluster_members_figure(
                [images[indices] for indices in chosen], names, value_range=_display_range(bundle)
            ),
            members,
        )
    if profile is not None:
        found, means = cluster_profile(inputs.x.reshape(len(inputs.x), -1).float(), result.assignments)
        names = list(inputs.columns or [f"feature_{i}" for i in range(means.shape[1])])
        with atomic_path(profile) as temp, open(temp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["cluster", "size", *names])
            for cluster_id, row in zip(found, means, strict=True):
                size = int((result.assignments == cluster_id).sum())
                writer.writerow([int(cluster_id), size, *(f"{v:.4f}" for v in row)])
        message(f"wrote {profile}")
    summary = result.to_dict()
    lines = [f"{result.method}: {result.n_clusters} clusters, sizes {summary['cluster_sizes']}"]
    if method.endswith("hdbscan"):
        lines.append(
            f"noise: {result.n_noise} of {len(result.assignments)} points ({result.noise_share:.1%}) "
            "in no cluster"
        )
    if result.scores is not None:
        scores = result.scores
        lines.append(f"accuracy {scores.accuracy:.4f}  NMI {scores.nmi:.4f}  ARI {scores.ari:.4f}")
    data_out(summary, "\n".join(lines))


# --------------------------------------------------------------------------------------- index, search


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
    from aekit.models.files import load

    bundle = load(model_dir)
    inputs = _load_inputs(
        source,
        bundle.model.input_shape,
        split=split,
        data_dir=data_dir,
        max_samples=max_samples,
        seed=seed,
        label_column=label_column,
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


def _neighbour_pictures(bundle: Any, built: Any, found: Any) -> tuple[Any, str]:
    """The found items as pictures: their own files when the index knows its image folder and the files
    are still there, else their decoded codes; and which of the two was drawn."""
    from aekit.apps.inference import decode_codes
    from aekit.apps.retrieval import load_query_images

    positions = found.reshape(-1).tolist()
    if built.source is not None and built.names is not None:
        files = [Path(built.source) / built.names[i] for i in positions]
        if all(path.is_file() for path in files):
            return load_query_images(files, bundle.model.input_shape), "the files"
    return decode_codes(bundle, built.codes[found.reshape(-1)]), "the decoded codes"


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

    from aekit.apps.retrieval import load_index, load_query_images, search_images
    from aekit.formats.matrices import read_matrix
    from aekit.models.files import load

    bundle = load(model_dir)
    built = load_index(index_dir)
    if codes:
        query_codes = torch.cat([torch.as_tensor(read_matrix(path)).float() for path in queries])
        result = built.search(query_codes, k)
        query_names = [f"{path}:{i}" for path in queries for i in range(len(read_matrix(path)))]
    else:
        images = load_query_images(queries, bundle.model.input_shape)
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
        neighbours, shown = _neighbour_pictures(bundle, built, found)
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
            value_range=_display_range(bundle),
            title=f"query and {shown} of its nearest items",
        )
        _save(figure, plot)
    data_out(payload, "\n".join(lines))


# --------------------------------------------------------------------------------- sample, interpolate


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
    import numpy as np
    import torch

    from aekit.apps.generation import is_conditional
    from aekit.apps.generation import sample as draw
    from aekit.errors import ConfigError
    from aekit.formats.files import atomic_path
    from aekit.models.files import load
    from aekit.report.latent_plots import mosaic_figure

    if columns < 1:
        raise ConfigError(f"--columns must be ≥ 1; got {columns}")
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
        rows = -(-n_samples // columns)
        padded = np.full(
            (rows * columns, *drawn.images.shape[1:]), float(drawn.images.min()), dtype=np.float32
        )
        padded[:n_samples] = drawn.images.numpy()
        images = padded.reshape(rows, columns, *drawn.images.shape[1:])
    title = f"{len(drawn.images)} samples, temperature {temperature:g}"
    _save(
        mosaic_figure(images, title=title, row_labels=row_labels, value_range=_display_range(bundle)), output
    )
    payload: dict[str, Any] = {"output": str(output), "n_samples": len(drawn.images)}
    if array is not None:
        with atomic_path(array) as temp, open(temp, "wb") as handle:
            np.save(handle, drawn.images.numpy())
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
    from aekit.errors import ConfigError
    from aekit.models.files import load
    from aekit.report.latent_plots import mosaic_figure

    if not 2 <= steps <= MAX_PATH_STEPS:
        raise ConfigError(f"--steps must be in [2, {MAX_PATH_STEPS}] (points of one picture); got {steps}")
    bundle = load(model_dir)
    if data is not None:
        try:
            first, second = (int(p) for p in pair.split(","))
        except ValueError:
            raise ConfigError(f"--pair must be two positions like 0,1; got {pair!r}") from None
        inputs = _load_inputs(data, bundle.model.input_shape, split=split, data_dir=data_dir)
        for position in (first, second):
            if not 0 <= position < len(inputs.x):
                raise ConfigError(f"--pair position {position} is outside 0..{len(inputs.x) - 1}")
        start, end = inputs.x[first], inputs.x[second]
    elif images is not None and len(images) == 2:
        loaded = load_query_images(images, bundle.model.input_shape)
        start, end = loaded[0], loaded[1]
    else:
        raise ConfigError("give two image files, or --data with --pair")
    path = interpolate_path(bundle, start, end, n_steps=steps, method=method, label=label)  # type: ignore[arg-type]
    figure = mosaic_figure(
        path.images.numpy()[None],
        title=f"{method} interpolation in a {bundle.model.latent_dim}-D latent",
        column_labels=[f"{t:.2f}" for t in path.weights.tolist()],
        value_range=_display_range(bundle),
        tile_inches=0.8,
    )
    _save(figure, output)
    data_out({"output": str(output), "steps": steps, "method": method}, str(output))


# ------------------------------------------------------------------------------------------------ sweep


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
) -> None:
    """Train one model per latent size and plot test reconstruction error against size, beside PCA.

    Writes RUN_DIR/sweep.csv, sweep.json, sweep.png and one model folder per size.

    Examples:

      aekit sweep digits --latent-dims 2,4,8,16,32 --epochs 30 -o runs/sweep

      aekit sweep mnist --model conv --latent-dims 4,16,64 --epochs 5 --max-samples 20000
    """
    from aekit.cli.options import parse_assignments
    from aekit.errors import ConfigError
    from aekit.report.latent_plots import sweep_figure
    from aekit.training.config import TrainConfig
    from aekit.workflows.sweep import load_sweep_data, save_sweep, sweep_latent_dims

    try:
        dims = [int(d) for d in latent_dims.split(",") if d.strip()]
    except ValueError:
        raise ConfigError(
            f"--latent-dims must be integers separated by commas; got {latent_dims!r}"
        ) from None
    data = load_sweep_data(
        dataset, data_dir=data_dir, max_samples=max_samples, max_test_samples=max_test_samples, seed=seed
    )
    options = parse_assignments(set_option)
    if len(data.train.sample_shape) == 3:
        options.setdefault("output_activation", "sigmoid")
    config = TrainConfig(
        epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed, device=device
    )

    def report(row: Any) -> None:
        message(
            f"{row.model:>6} latent {row.latent_dim:>3}: "
            f"test MSE {row.test_mse:.5f}, PSNR {row.test_psnr_db:.2f} dB"
        )

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
    )
    files = {name: str(path) for name, path in save_sweep(result, run_dir).items()}
    files["plot"] = str(run_dir / "sweep.png")
    _save(sweep_figure(result.to_dict()["rows"]), run_dir / "sweep.png")
    header = f"{'model':>6} {'latent':>6} {'test MSE':>10} {'PSNR dB':>8}"
    body = [f"{r.model:>6} {r.latent_dim:>6} {r.test_mse:>10.5f} {r.test_psnr_db:>8.2f}" for r in result.rows]
    data_out({**result.to_dict(), "files": files}, "\n".join([header, *body]))


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command(name="map")(guarded(map_command))
    app.command()(guarded(cluster))
    app.command()(guarded(index))
    app.command()(guarded(search))
    app.command()(guarded(sample))
    app.command()(guarded(interpolate))
    app.command()(guarded(sweep))
