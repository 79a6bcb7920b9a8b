"""Pictures of a training run: reconstruction grid, loss curves, latent map.

Every function returns a matplotlib ``Figure`` (Agg backend, no display needed); :func:`save_figure`
writes it atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from aekit.formats.files import atomic_path

__all__ = ["latent_map_figure", "loss_curve_figure", "reconstruction_grid_figure", "save_figure"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _as_image(sample: np.ndarray) -> tuple[np.ndarray, str | None]:
    """``(C, H, W)`` or ``(H, W)`` → something ``imshow`` shows, with a colour map for grey."""
    if sample.ndim == 3 and sample.shape[0] in (3, 4):
        return np.clip(np.moveaxis(sample, 0, -1), 0, 1), None
    if sample.ndim == 3:
        sample = sample[0]
    if sample.ndim == 1:
        side = int(np.ceil(np.sqrt(sample.size)))
        padded = np.zeros(side * side)
        padded[: sample.size] = sample
        sample = padded.reshape(side, side)
    return sample, "gray"


def reconstruction_grid_figure(inputs: np.ndarray, reconstructions: np.ndarray, n_columns: int = 10):
    """Top row inputs, bottom row their reconstructions (first ``n_columns`` samples), values in [0, 1].

    Drawn as one mosaic image (one axes), which is several times faster than a grid of subplots.
    """
    from aekit.report.latent_plots import mosaic_figure

    count = min(n_columns, len(inputs))
    rows = [np.asarray(source[:count], dtype=np.float32) for source in (inputs, reconstructions)]
    return mosaic_figure(
        np.stack(rows), row_labels=["input", "reconstruction"], value_range=(0.0, 1.0), tile_inches=0.9
    )


def restoration_figure(corrupted: np.ndarray, restored: np.ndarray, clean: np.ndarray, n_columns: int = 10):
    """Three rows: corrupted inputs, the model's restorations, the clean originals (values in [0, 1])."""
    from aekit.report.latent_plots import mosaic_figure

    count = min(n_columns, len(clean))
    rows = [np.asarray(source[:count], dtype=np.float32) for source in (corrupted, restored, clean)]
    return mosaic_figure(
        np.stack(rows),
        row_labels=["corrupted", "restored", "clean"],
        value_range=(0.0, 1.0),
        tile_inches=0.9,
    )


def loss_curve_figure(rows: Sequence[dict[str, float]]):
    """One line per ``train_*``/``val_*`` loss term against epoch (log scale when positive)."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 4))
    epochs = [row["epoch"] for row in rows]
    columns = [c for c in rows[-1] if c.startswith(("train_", "val_"))]
    for column in columns:
        values = [row.get(column, np.nan) for row in rows]
        axis.plot(
            epochs,
            values,
            marker="o",
            markersize=3,
            label=column,
            linestyle="--" if column.startswith("val_") else "-",
        )
    if all(row.get(c, 1.0) > 0 for row in rows for c in columns):
        axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    axis.legend(fontsize=8, loc="upper right")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def latent_map_figure(codes: np.ndarray, labels: np.ndarray | None = None, title: str = "latent space"):
    """Scatter of 2-D codes (projected by PCA when the latent has more dimensions), coloured by label."""
    plt = _pyplot()
    points = np.asarray(codes, dtype=np.float64)
    axis_names = ("z1", "z2")
    if points.shape[1] > 2:
        centred = points - points.mean(0)
        _, _, vh = np.linalg.svd(centred, full_matrices=False)
        points = centred @ vh[:2].T  # fewer than 2 columns when there are fewer than 2 codes
        axis_names = ("PC 1 of codes", "PC 2 of codes")
    if points.shape[1] < 2:
        points = np.column_stack([points, np.zeros((len(points), 2 - points.shape[1]))])
    figure, axis = plt.subplots(figsize=(5.5, 5))
    colours: dict[str, Any] = {"c": labels, "cmap": "tab10"} if labels is not None else {"color": "tab:blue"}
    scatter = axis.scatter(points[:, 0], points[:, 1], s=6, alpha=0.8, **colours)
    if labels is not None:
        handles, names = scatter.legend_elements()
        # outside the axes: loc="best" tests every point for overlap, most of the figure's drawing time
        axis.legend(
            handles,
            names,
            title="label",
            fontsize=7,
            markerscale=0.8,
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
        )
    axis.set_xlabel(axis_names[0])
    axis.set_ylabel(axis_names[1])
    axis.set_title(title)
    figure.tight_layout()
    return figure


def save_figure(figure, path: str | os.PathLike[str], dpi: int = 110) -> None:
    """Save ``figure`` as PNG atomically and release it; a path not ending in ``.png`` is refused."""
    from aekit.formats.files import check_output_suffix

    plt = _pyplot()
    try:
        check_output_suffix(path, (".png",), "pictures")
    except Exception:
        plt.close(figure)
        raise
    with atomic_path(path) as temp:
        figure.savefig(temp, dpi=dpi, format="png")
    plt.close(figure)
