"""Using the latent space: 2-D maps of codes and decoded grids over a plane of codes.

Codes come from a trained model (:func:`~aekit.apps.inference.encode_dataset`); everything here works on
``(N, latent_dim)`` arrays, so codes of images, table rows and sounds are treated alike.

* Maps: the code itself when it is 2-D, else PCA, t-SNE (scikit-learn) or UMAP (the optional
  ``umap-learn`` package, ``pip install aekit[umap]``).
* Decoded grid: codes laid on a regular grid over the 2-D latent (or the plane of the codes' first two
  principal axes) and decoded, to show what the model has learnt to draw where.

Clustering codes lives in :mod:`aekit.apps.clustering` and its scores in :mod:`aekit.metrics.clustering`;
both are re-exported here.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from aekit.apps._arrays import ArrayLike, checked_labels, checked_points
from aekit.apps.clustering import (
    CLUSTER_METHODS,
    ClusteringResult,
    ClusterMethod,
    cluster_codes,
    cluster_dataset,
    umap_embedding,
    umap_module,
)
from aekit.apps.inference import decode_codes, encode_with_labels, needs_condition
from aekit.config import check_choice
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.metrics.clustering import ClusterScores, cluster_scores, clustering_accuracy, match_clusters
from aekit.models.files import ModelBundle

__all__ = [
    "CLUSTER_METHODS",
    "PROJECTION_METHODS",
    "ClusterMethod",
    "ClusterScores",
    "ClusteringResult",
    "DecodedGrid",
    "LatentMap",
    "ProjectionMethod",
    "cluster_codes",
    "cluster_dataset",
    "cluster_scores",
    "clustering_accuracy",
    "decoded_grid",
    "latent_map",
    "match_clusters",
    "project_codes",
    "umap_embedding",
]

ProjectionMethod = Literal["auto", "latent", "pca", "tsne", "umap"]
PROJECTION_METHODS: tuple[str, ...] = ("auto", "latent", "pca", "tsne", "umap")

# ------------------------------------------------------------------------------------------------- maps


@dataclasses.dataclass(frozen=True)
class LatentMap:
    """Codes and their 2-D positions for a scatter plot.

    Attributes:
        codes: The codes ``(N, latent_dim)``.
        points: 2-D positions ``(N, 2)``.
        method: The projection used (``latent``, ``pca``, ``tsne`` or ``umap``).
        axis_names: Labels of the two axes.
        labels: Class labels ``(N,)`` when known, else None.
        explained_variance: Share of the codes' variance on each PCA axis; None for other methods.
    """

    codes: np.ndarray
    points: np.ndarray
    method: str
    axis_names: tuple[str, str]
    labels: np.ndarray | None = None
    explained_variance: tuple[float, float] | None = None


def project_codes(
    codes: ArrayLike,
    method: ProjectionMethod = "auto",
    *,
    labels: ArrayLike | None = None,
    perplexity: float = 30.0,
    n_neighbors: int = 15,
    random_state: int = 0,
) -> LatentMap:
    """Project codes ``(N, latent_dim)`` to 2-D.

    Args:
        codes: The codes.
        method: ``latent`` (the code itself; needs ``latent_dim ≤ 2``, a 1-D code gets a zero second
            axis), ``pca``, ``tsne``, ``umap``, or ``auto``: ``latent`` for codes of at most 2
            dimensions, else ``pca``.
        labels: Carried into the result for colouring.
        perplexity: t-SNE perplexity (lowered to ``(N − 1) / 3`` for tiny sets, as t-SNE requires).
        n_neighbors: UMAP neighbourhood size.
        random_state: Seed of t-SNE and UMAP.

    Raises:
        ConfigError: Unknown method, or ``latent`` for codes of more than 2 dimensions.
        ConfigError: also ``umap`` without the ``umap-learn`` package (one line naming the extra).
    """
    check_choice("method", method, PROJECTION_METHODS)
    points = checked_points(codes)
    label_array = checked_labels(labels, len(points))
    latent_dim = points.shape[1]
    if method == "auto":
        method = "latent" if latent_dim <= 2 else "pca"
    explained: tuple[float, float] | None = None
    if method == "latent":
        if latent_dim > 2:
            raise ConfigError(
                f"method 'latent' needs codes of at most 2 dimensions; got {latent_dim} "
                "(use pca, tsne or umap)"
            )
        projected = points if latent_dim == 2 else np.column_stack([points[:, 0], np.zeros(len(points))])
        names = ("z1", "z2")
    elif method == "pca":
        projected, explained = _pca_2d(points)
        names = ("PC 1 of codes", "PC 2 of codes")
    elif method == "tsne":
        from sklearn.manifold import TSNE

        if len(points) < 4:
            raise DataError(f"t-SNE needs at least 4 codes; got {len(points)}")
        # PCA initialisation divides by the spread of the first component, so identical codes would
        # hand scikit-learn NaN positions (and crash its Barnes-Hut code): start them at random instead.
        spread = bool(np.ptp(points, axis=0).any())
        projected = TSNE(
            n_components=2,
            perplexity=min(perplexity, (len(points) - 1) / 3),
            init="pca" if spread else "random",
            random_state=random_state,
        ).fit_transform(points)
        names = ("t-SNE 1", "t-SNE 2")
    else:
        projected = _umap(points, n_neighbors, random_state)
        names = ("UMAP 1", "UMAP 2")
    return LatentMap(
        points.astype(np.float32),
        np.asarray(projected, dtype=np.float32),
        method,
        names,
        label_array,
        explained,
    )


def _pca_2d(points: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    centred = points - points.mean(0)
    _, singular, vh = np.linalg.svd(centred, full_matrices=False)
    axes = vh[:2]
    projected = centred @ axes.T
    if projected.shape[1] < 2:
        projected = np.column_stack([projected, np.zeros(len(projected))])
    variance = singular**2
    total = float(variance.sum()) or 1.0
    shares = [float(v / total) for v in variance[:2]] + [0.0] * (2 - min(2, len(variance)))
    return projected, (shares[0], shares[1])


def _umap(points: np.ndarray, n_neighbors: int, random_state: int) -> np.ndarray:
    """A 2-D display map (umap-learn's defaults apart from the neighbourhood size and seed)."""
    reducer = umap_module("umap").UMAP(
        n_components=2, n_neighbors=n_neighbors, random_state=random_state, n_jobs=1
    )
    return np.asarray(reducer.fit_transform(points))


def latent_map(
    bundle: ModelBundle,
    x: Tensor,
    labels: ArrayLike | None = None,
    *,
    method: ProjectionMethod = "auto",
    random_state: int = 0,
    batch_size: int = 1024,
) -> LatentMap:
    """Encode raw inputs ``x`` ``(N, *input_shape)`` with a saved model and project the codes to 2-D
    (``labels`` colour the map, and go beside the inputs of a model that encodes with labels)."""
    codes = encode_with_labels(bundle, x, labels, batch_size=batch_size)
    return project_codes(codes, method, labels=labels, random_state=random_state)


@dataclasses.dataclass(frozen=True)
class DecodedGrid:
    """Decoded samples on a regular grid of codes.

    Attributes:
        images: Decoded samples in the data's scale ``(n_rows, n_columns, *input_shape)``; row 0 is the
            top of the plane (largest second coordinate).
        codes: The codes decoded ``(n_rows, n_columns, latent_dim)``.
        first_axis, second_axis: Grid coordinates along the plane's two axes.
        plane: ``latent`` (the 2-D latent itself) or ``pca`` (the codes' first two principal axes through
            their mean).
    """

    images: np.ndarray
    codes: np.ndarray
    first_axis: np.ndarray
    second_axis: np.ndarray
    plane: str


def decoded_grid(
    bundle: ModelBundle,
    *,
    codes: ArrayLike | None = None,
    n_per_side: int = 12,
    extent: float | None = None,
    quantile: float = 0.02,
    label: int | None = None,
) -> DecodedGrid:
    """Decode a ``n_per_side × n_per_side`` grid of codes laid over a 2-D plane of the latent space.

    A 2-D latent is gridded directly; a larger one over the plane spanned by the first two principal
    axes of ``codes`` through their mean (so the grid stays where the data are).

    Args:
        bundle: A loaded model.
        codes: Codes of data ``(N, latent_dim)``; the grid spans their ``quantile``..``1 − quantile``
            range (needed for latents of more than 2 dimensions).
        n_per_side: Grid points per axis.
        extent: Span ``[−extent, extent]`` on both axes instead of the codes' range (2-D latents; e.g. 2
            for a standard-normal prior).
        quantile: Share of codes left outside the grid at each end.
        label: The class (or domain) every grid point is decoded with, for a model that decodes with a
            label beside the code (CVAE, conditional AAE, multi-decoder).

    Raises:
        ConfigError: ``n_per_side < 2``, a bad ``quantile``, or neither ``codes`` nor ``extent`` for a
            2-D latent, or no ``codes`` for a larger one; no ``label`` for a model that needs one.
    """
    if isinstance(n_per_side, bool) or not isinstance(n_per_side, int) or n_per_side < 2:
        raise ConfigError(f"n_per_side must be an integer ≥ 2; got {n_per_side!r}")
    if not 0.0 <= quantile < 0.5:
        raise ConfigError(f"quantile must be in [0, 0.5); got {quantile!r}")
    latent_dim = bundle.model.latent_dim
    if needs_condition(bundle.model) and label is None:
        raise ConfigError(
            "this model decodes with a label; pass label=the class (or domain) to draw the grid with "
            "(--label on the command line)"
        )
    if not needs_condition(bundle.model) and label is not None:
        raise ConfigError(f"this model decodes without a label; label must be None; got {label!r}")
    data = None if codes is None else checked_points(codes)
    if data is not None and data.shape[1] != latent_dim:
        raise ShapeError(f"codes must have shape (N, {latent_dim}); got {tuple(data.shape)}")
    if latent_dim <= 2:
        origin, axes, plane = np.zeros(latent_dim), np.eye(latent_dim)[:2], "latent"
        if latent_dim == 1:
            raise ConfigError("a decoded grid needs a latent of at least 2 dimensions; this model has 1")
        coordinates = data
    else:
        if data is None:
            raise ConfigError(
                f"a {latent_dim}-D latent is gridded over the codes' principal plane; pass codes"
            )
        origin = data.mean(0)
        _, _, vh = np.linalg.svd(data - origin, full_matrices=False)
        axes, plane = vh[:2], "pca"
        coordinates = (data - origin) @ axes.T
    if extent is not None:
        if extent <= 0:
            raise ConfigError(f"extent must be > 0; got {extent!r}")
        low, high = np.array([-extent, -extent]), np.array([extent, extent])
    elif coordinates is not None:
        low, high = np.quantile(coordinates, quantile, axis=0), np.quantile(coordinates, 1 - quantile, axis=0)
    else:
        raise ConfigError("pass codes (to span their range) or extent (e.g. 2.0 for a N(0, I) prior)")
    first = np.linspace(low[0], high[0], n_per_side)
    second = np.linspace(high[1], low[1], n_per_side)  # top row = largest value, as on a plot
    grid_first, grid_second = np.meshgrid(first, second)  # (rows, columns)
    plane_points = np.stack([grid_first, grid_second], axis=-1).reshape(-1, 2)
    grid_codes = origin + plane_points @ axes
    condition = (
        None if label is None or not needs_condition(bundle.model) else torch.full((len(grid_codes),), label)
    )
    images = decode_codes(
        bundle, torch.from_numpy(grid_codes.astype(np.float32)), condition=condition
    ).numpy()
    return DecodedGrid(
        images.reshape(n_per_side, n_per_side, *images.shape[1:]),
        grid_codes.reshape(n_per_side, n_per_side, latent_dim).astype(np.float32),
        first,
        second,
        plane,
    )
