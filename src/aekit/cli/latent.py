"""The latent space of a dataset from the command line: ``aekit map`` and ``aekit cluster``.

Data sources are what :func:`aekit.data.sources.load_named_samples` takes: dataset names, array and table
files, image folders, and folders of sounds (log-spectrogram images sized to the model's input).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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

__all__ = ["check_written_paths", "register"]


def check_written_paths(
    outputs: dict[str, Path | None], inputs: list[str | Path | None], pictures: tuple[str, ...] = ()
) -> None:
    """Refuse, before any work, an output (``{option: path}``) that lies inside an input folder (where it
    would replace a file that is read, or be read as data next time); the options named in ``pictures``
    must end in ``.png``, so that a refused picture does not come after the other files were written.

    The CLI's guard (:func:`~aekit.cli._console.guarded`) has already refused outputs that are inputs, model
    files or run files.
    """
    from aekit.errors import DataError
    from aekit.formats.files import check_output_suffix

    folders = [Path(item).resolve() for item in inputs if item is not None and Path(item).is_dir()]
    for option, path in outputs.items():
        if path is None:
            continue
        if option in pictures:
            check_output_suffix(path, (".png",), "pictures")
        target = path.resolve()
        for folder in folders:
            if target.is_relative_to(folder):
                raise DataError(
                    f"{option} {path} lies inside the input folder {folder}, where it would replace or "
                    "join the files read; choose a path outside it"
                )


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
    label: Annotated[
        int | None, typer.Option(help="Conditional models (cvae, caae): the class --grid decodes with.")
    ] = None,
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
    from aekit.apps.inference import encode_with_labels
    from aekit.cli.options import check_positive_option
    from aekit.data.sources import load_named_samples
    from aekit.errors import ConfigError
    from aekit.models.files import load
    from aekit.report.latent_plots import latent_scatter_figure, mosaic_figure

    if grid_size < 2:
        raise ConfigError(f"--grid-size must be an integer ≥ 2; got {grid_size}")
    check_written_paths(
        {"--output": output, "--grid": grid}, [source, model_dir, data_dir], pictures=("--output", "--grid")
    )
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
    codes = encode_with_labels(bundle, inputs.x, inputs.labels)
    projected = project_codes(codes, method, labels=inputs.labels, random_state=seed)  # type: ignore[arg-type]
    # the grid is decoded before anything is written, so that a refused grid leaves no map behind
    decoded = None if grid is None else decoded_grid(bundle, codes=codes, n_per_side=grid_size, label=label)
    title = f"{bundle.model.latent_dim}-D codes of {len(codes)} samples ({projected.method})"
    save_picture(
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
    if grid is not None and decoded is not None:
        axes = ("z1", "z2") if decoded.plane == "latent" else ("PC 1 of codes", "PC 2 of codes")
        plane_name = "latent" if decoded.plane == "latent" else "codes' principal"
        figure = mosaic_figure(
            decoded.images,
            title=f"decoded grid over the {plane_name} plane",
            value_range=bundle.normalizer.unit_range(),
            axis_labels=axes,
        )
        save_picture(figure, grid)
        payload["grid"] = str(grid)
    data_out(payload, str(output))


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
        typer.Option(
            help="auto (umap-gmm with ≥ 100 points per cluster, else gmm with the covariance chosen by "
            "BIC), kmeans, gmm, hdbscan, umap-gmm or umap-hdbscan (the umap ones need aekit[umap])."
        ),
    ] = "auto",
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
    The default, auto, runs umap-gmm when there are at least 100 codes per cluster and otherwise a
    Gaussian mixture on the codes with the covariance type of lowest BIC.

    Examples:

      aekit cluster digits --model runs/demo/model -k 10

      aekit cluster mnist --model runs/n2d/model --method umap-gmm -k 10 --members members.png --plot map.png

      aekit cluster sounds/ --model runs/sounds/model -k 2 -o clusters.csv --plot clusters.png
    """
    from aekit.apps.clustering import cluster_codes, cluster_profile, typical_members
    from aekit.apps.features import project_codes
    from aekit.apps.inference import encode_with_labels
    from aekit.cli.options import check_positive_option
    from aekit.data.sources import load_named_samples
    from aekit.errors import ConfigError
    from aekit.formats.tables import write_csv
    from aekit.models.files import load
    from aekit.report.latent_plots import cluster_members_figure, latent_scatter_figure

    check_written_paths(
        {"--output": output, "--plot": plot, "--members": members, "--profile": profile},
        [source, model_dir, data_dir],
        pictures=("--plot", "--members"),
    )
    bundle = load(model_dir)
    is_image = len(bundle.model.input_shape) == 3
    if members is not None and not is_image:
        raise ConfigError("--members draws images; this model's inputs are not images (use --profile)")
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
    if not 1 <= clusters <= len(inputs.x):
        raise ConfigError(
            f"--clusters (-k) {clusters} must be in [1, {len(inputs.x)}]: {source} holds "
            f"{len(inputs.x)} sample{'s' if len(inputs.x) != 1 else ''}"
        )
    codes = encode_with_labels(bundle, inputs.x, inputs.labels)
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
        labels = inputs.labels
        header = ["item", "cluster", *(["label"] if labels is not None else [])]
        rows = (
            [name, int(assigned), *([int(labels[i])] if labels is not None else [])]
            for i, (name, assigned) in enumerate(zip(inputs.names, result.assignments, strict=True))
        )
        message(f"wrote {write_csv(output, header, rows)}")
    if plot is not None:
        map_method = "umap" if result.method.startswith("umap") else "auto"
        projected = project_codes(codes, map_method, n_neighbors=neighbors or 15, random_state=seed)  # type: ignore[arg-type]
        noise = f", {result.noise_share:.1%} noise" if result.n_noise else ""
        save_picture(
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
        save_picture(
            cluster_members_figure(
                [images[indices] for indices in chosen], names, value_range=bundle.normalizer.unit_range()
            ),
            members,
        )
    if profile is not None:
        found, means = cluster_profile(inputs.x.reshape(len(inputs.x), -1).float(), result.assignments)
        names = list(inputs.columns or [f"feature_{i}" for i in range(means.shape[1])])
        sizes = [int((result.assignments == cluster_id).sum()) for cluster_id in found]
        table = (
            [int(c), size, *(f"{v:.4f}" for v in row)]
            for c, size, row in zip(found, sizes, means, strict=True)
        )
        message(f"wrote {write_csv(profile, ['cluster', 'size', *names], table)}")
    summary = result.to_dict()
    covariance = f" ({result.covariance} covariance)" if result.covariance else ""
    lines = [f"{result.method}{covariance}: {result.n_clusters} clusters, sizes {summary['cluster_sizes']}"]
    if method.endswith("hdbscan"):
        lines.append(
            f"noise: {result.n_noise} of {len(result.assignments)} points ({result.noise_share:.1%}) "
            "in no cluster"
        )
    if result.scores is not None:
        scores = result.scores
        lines.append(f"accuracy {scores.accuracy:.4f}  NMI {scores.nmi:.4f}  ARI {scores.ari:.4f}")
    data_out(summary, "\n".join(lines))


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command(name="map")(guarded(map_command))
    app.command()(guarded(cluster))
