"""Pictures of the latent space: code scatter plots, image mosaics (decoded grids, samples, paths,
search results) and the latent-size sweep.

Every function takes plain arrays and returns a matplotlib ``Figure`` (Agg backend); save it with
:func:`aekit.report.plots.save_figure`. Mosaics are drawn as one image (tiles joined with thin gaps), so a
30 × 30 grid costs one ``imshow``, not 900 axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from aekit.errors import ShapeError

__all__ = [
    "cluster_members_figure",
    "image_mosaic",
    "latent_scatter_figure",
    "mosaic_figure",
    "search_results_figure",
    "sweep_figure",
]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _tile(sample: np.ndarray) -> np.ndarray:
    """One sample as ``(H, W)`` grey or ``(H, W, 3)`` colour; vectors become the smallest square."""
    sample = np.asarray(sample, dtype=np.float32)
    if sample.ndim == 3 and sample.shape[0] in (3, 4):
        return np.moveaxis(sample[:3], 0, -1)
    if sample.ndim == 3:
        return sample[0]
    if sample.ndim == 2:
        return sample
    flat = sample.ravel()
    side = int(np.ceil(np.sqrt(flat.size)))
    padded = np.zeros(side * side, dtype=np.float32)
    padded[: flat.size] = flat
    return padded.reshape(side, side)


def image_mosaic(
    images: np.ndarray, *, gap: int = 1, value_range: tuple[float, float] | None = None
) -> np.ndarray:
    """Join samples ``(R, C, *sample_shape)`` into one picture, scaled to [0, 1].

    Args:
        images: A grid of samples (images ``(C, H, W)``, or vectors shown as squares).
        gap: Pixels of white between tiles.
        value_range: The data range mapped to [0, 1]; default the images' own min and max.

    Returns:
        ``(R·H + (R − 1)·gap, C·W + (C − 1)·gap)`` grey or ``(…, …, 3)`` colour values in [0, 1].
    """
    grid = np.asarray(images, dtype=np.float32)
    if grid.ndim < 3:
        raise ShapeError(f"images must have shape (rows, columns, *sample_shape); got {grid.shape}")
    rows, columns = grid.shape[:2]
    low, high = value_range if value_range is not None else (float(grid.min()), float(grid.max()))
    scale = (high - low) or 1.0
    tiles = [[np.clip((_tile(grid[r, c]) - low) / scale, 0, 1) for c in range(columns)] for r in range(rows)]
    height, width = tiles[0][0].shape[:2]
    colour = tiles[0][0].ndim == 3
    shape: tuple[int, ...] = (rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap)
    canvas = np.ones((*shape, 3) if colour else shape, dtype=np.float32)
    for r in range(rows):
        for c in range(columns):
            top, left = r * (height + gap), c * (width + gap)
            canvas[top : top + height, left : left + width] = tiles[r][c]
    return canvas


def mosaic_figure(
    images: np.ndarray,
    *,
    title: str | None = None,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    value_range: tuple[float, float] | None = None,
    tile_inches: float = 0.45,
    axis_labels: tuple[str, str] | None = None,
):
    """A mosaic of samples ``(R, C, *sample_shape)`` with optional row and column captions."""
    plt = _pyplot()
    grid = np.asarray(images)
    rows, columns = grid.shape[:2]
    canvas = image_mosaic(grid, value_range=value_range)
    width = max(3.0, columns * tile_inches + (1.2 if row_labels else 0.4))
    height = max(2.0, rows * tile_inches + (0.8 if title or column_labels else 0.4))
    figure, axis = plt.subplots(figsize=(width, height))
    axis.imshow(canvas, cmap=None if canvas.ndim == 3 else "gray", vmin=0, vmax=1, interpolation="nearest")
    tile_h = (canvas.shape[0] + 1) / rows
    tile_w = (canvas.shape[1] + 1) / columns
    axis.set_xticks([tile_w * (c + 0.5) - 0.5 for c in range(columns)] if column_labels else [])
    axis.set_yticks([tile_h * (r + 0.5) - 0.5 for r in range(rows)] if row_labels else [])
    if column_labels:
        axis.set_xticklabels(list(column_labels), fontsize=7)
        axis.xaxis.tick_top()
    if row_labels:
        axis.set_yticklabels(list(row_labels), fontsize=7)
    if axis_labels is not None:
        axis.set_xlabel(axis_labels[0])
        axis.set_ylabel(axis_labels[1])
    for spine in axis.spines.values():
        spine.set_visible(False)
    axis.tick_params(length=0)
    if title:
        axis.set_title(title, fontsize=9)
    figure.tight_layout()
    return figure


def latent_scatter_figure(
    points: np.ndarray,
    colours: np.ndarray | None = None,
    *,
    title: str = "latent space",
    axis_names: tuple[str, str] = ("z1", "z2"),
    legend_title: str = "label",
    class_names: Sequence[str] | None = None,
):
    """Scatter of 2-D points ``(N, 2)`` coloured by integer labels or clusters ``(N,)`` (−1 = noise, grey)."""
    plt = _pyplot()
    xy = np.asarray(points, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ShapeError(f"points must have shape (N, 2); got {xy.shape}")
    figure, axis = plt.subplots(figsize=(6, 5.2))
    size = 6 if len(xy) > 2000 else 12
    if colours is None:
        axis.scatter(xy[:, 0], xy[:, 1], s=size, alpha=0.7, color="tab:blue", linewidths=0)
    else:
        values = np.asarray(colours)
        if values.shape != (len(xy),):
            raise ShapeError(f"colours must have shape ({len(xy)},); got {values.shape}")
        groups = [v for v in np.unique(values)]
        cmap = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
        for index, value in enumerate(groups):
            member = values == value
            noise = bool(np.issubdtype(values.dtype, np.integer) and value < 0)
            name = "noise" if noise else _name(value, class_names)
            axis.scatter(
                xy[member, 0],
                xy[member, 1],
                s=size,
                alpha=0.75,
                linewidths=0,
                color="lightgrey" if noise else cmap(index % cmap.N),
                label=name,
            )
        if len(groups) <= 20:
            axis.legend(title=legend_title, fontsize=7, markerscale=2, loc="best", framealpha=0.8)
    axis.set_xlabel(axis_names[0])
    axis.set_ylabel(axis_names[1])
    axis.set_title(title)
    axis.grid(alpha=0.2)
    figure.tight_layout()
    return figure


def _name(value: Any, class_names: Sequence[str] | None) -> str:
    if class_names is not None and isinstance(value, int | np.integer) and 0 <= int(value) < len(class_names):
        return str(class_names[int(value)])
    return str(value)


def sweep_figure(rows: Sequence[dict[str, Any]]):
    """Test MSE (log scale) and PSNR against latent size, one line per model (``model`` key of each row)."""
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for model in dict.fromkeys(row["model"] for row in rows):
        curve = sorted((r for r in rows if r["model"] == model), key=lambda r: r["latent_dim"])
        dims = [r["latent_dim"] for r in curve]
        style = "--" if model == "pca" else "-"
        left.plot(dims, [r["test_mse"] for r in curve], style, marker="o", label=model)
        right.plot(dims, [r["test_psnr_db"] for r in curve], style, marker="o", label=model)
    for axis, name in ((left, "test MSE per element"), (right, "test PSNR (dB)")):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("latent size")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    left.set_yscale("log")
    figure.suptitle("reconstruction error against latent size")
    figure.tight_layout()
    return figure


def search_results_figure(
    queries: np.ndarray,
    neighbours: np.ndarray,
    *,
    captions: Sequence[Sequence[str]] | None = None,
    value_range: tuple[float, float] | None = None,
    title: str | None = None,
):
    """Each query ``(Q, *shape)`` followed by its neighbours ``(Q, k, *shape)``, one row per query.

    ``captions[q][j]`` is written under neighbour ``j`` of query ``q`` (e.g. its label's name).
    """
    grid = np.concatenate([np.asarray(queries)[:, None], np.asarray(neighbours)], axis=1)
    columns = ["query"] + [f"#{i + 1}" for i in range(grid.shape[1] - 1)]
    figure = mosaic_figure(grid, column_labels=columns, value_range=value_range, tile_inches=0.8, title=title)
    if captions is not None:
        axis = figure.axes[0]
        height, width = axis.images[0].get_array().shape[:2]
        tile_h, tile_w = (height + 1) / grid.shape[0], (width + 1) / grid.shape[1]
        for row, row_captions in enumerate(captions):
            for column, caption in enumerate(row_captions, start=1):
                axis.text(
                    tile_w * (column + 0.5) - 0.5,
                    tile_h * (row + 1) - 1.5,
                    caption,
                    ha="center",
                    va="bottom",
                    fontsize=6,
                    color="black",
                    bbox={"facecolor": "white", "alpha": 0.7, "pad": 0.5, "linewidth": 0},
                )
    return figure


def cluster_members_figure(
    members: Sequence[np.ndarray],
    cluster_names: Sequence[str],
    *,
    value_range: tuple[float, float] | None = None,
    title: str = "most typical members of each cluster (row: cluster, its size)",
):
    """One row per cluster: its most typical members ``(n_i, *sample_shape)``, left to right.

    Rows with fewer members than the longest are padded with blank tiles.
    """
    if len(members) != len(cluster_names):
        raise ShapeError(f"got {len(members)} member arrays for {len(cluster_names)} cluster names")
    if not members:
        raise ShapeError("no clusters to draw")
    columns = max(len(m) for m in members)
    sample_shape = np.asarray(members[0]).shape[1:]
    low = value_range[0] if value_range is not None else min(float(np.min(m)) for m in members if len(m))
    grid = np.full((len(members), columns, *sample_shape), low, dtype=np.float32)
    for row, chosen in enumerate(members):
        grid[row, : len(chosen)] = np.asarray(chosen, dtype=np.float32)
    return mosaic_figure(
        grid,
        title=title,
        row_labels=list(cluster_names),
        value_range=value_range,
    )
