"""Using the latent space: 2-D maps of codes, decoded grids over a plane of codes, and clustering.

Codes come from a trained model (:func:`~aekit.apps.inference.encode_dataset`); everything here works on
``(N, latent_dim)`` arrays, so codes of images, table rows and sounds are treated alike.

* Maps: the code itself when it is 2-D, else PCA, t-SNE (scikit-learn) or UMAP (the optional
  ``umap-learn`` package, ``pip install aekit[umap]``).
* Decoded grid: codes laid on a regular grid over the 2-D latent (or the plane of the codes' first two
  principal axes) and decoded, to show what the model has learnt to draw where.
* Clustering: k-means, Gaussian mixtures or HDBSCAN on codes, scored against labels when they exist with
  clustering accuracy (the best one-to-one match of clusters to classes, by the Hungarian algorithm),
  normalised mutual information and the adjusted Rand index.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from aekit.apps.inference import decode_codes, encode_dataset
from aekit.config import check_choice
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.io import ModelBundle

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
]

ProjectionMethod = Literal["auto", "latent", "pca", "tsne", "umap"]
ClusterMethod = Literal["kmeans", "gmm", "hdbscan"]
PROJECTION_METHODS: tuple[str, ...] = ("auto", "latent", "pca", "tsne", "umap")
CLUSTER_METHODS: tuple[str, ...] = ("kmeans", "gmm", "hdbscan")

ArrayLike = np.ndarray | Tensor


def _codes_array(codes: ArrayLike, name: str = "codes") -> np.ndarray:
    array = codes.detach().cpu().numpy() if isinstance(codes, Tensor) else np.asarray(codes)
    if array.ndim != 2:
        raise ShapeError(f"{name} must have shape (N, latent_dim); got {tuple(array.shape)}")
    if len(array) == 0:
        raise DataError(f"{name} is empty (0 rows)")
    if not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{name} must be numeric; got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise DataError(f"{name} contains NaN or infinite values")
    return array


def _labels_array(labels: ArrayLike | None, n_rows: int, name: str = "labels") -> np.ndarray | None:
    if labels is None:
        return None
    array = labels.detach().cpu().numpy() if isinstance(labels, Tensor) else np.asarray(labels)
    if array.shape != (n_rows,):
        raise ShapeError(f"{name} must have shape ({n_rows},); got {tuple(array.shape)}")
    return array


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
        ImportError: ``umap`` without the ``umap-learn`` package.
    """
    check_choice("method", method, PROJECTION_METHODS)
    points = _codes_array(codes)
    label_array = _labels_array(labels, len(points))
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
        projected = TSNE(
            n_components=2,
            perplexity=min(perplexity, (len(points) - 1) / 3),
            init="pca",
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
    try:
        import umap
    except ImportError:
        raise ImportError(
            "method 'umap' needs the optional umap-learn package: pip install 'aekit[umap]' "
            "(or use method 'tsne' or 'pca')"
        ) from None
    reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, random_state=random_state)
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
    """Encode raw inputs ``x`` ``(N, *input_shape)`` with a saved model and project the codes to 2-D."""
    codes = encode_dataset(bundle, x, batch_size=batch_size)
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

    Raises:
        ConfigError: ``n_per_side < 2``, a bad ``quantile``, or neither ``codes`` nor ``extent`` for a
            2-D latent, or no ``codes`` for a larger one.
    """
    if isinstance(n_per_side, bool) or not isinstance(n_per_side, int) or n_per_side < 2:
        raise ConfigError(f"n_per_side must be an integer ≥ 2; got {n_per_side!r}")
    if not 0.0 <= quantile < 0.5:
        raise ConfigError(f"quantile must be in [0, 0.5); got {quantile!r}")
    latent_dim = bundle.model.latent_dim
    data = None if codes is None else _codes_array(codes)
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
    images = decode_codes(bundle, torch.from_numpy(grid_codes.astype(np.float32))).numpy()
    return DecodedGrid(
        images.reshape(n_per_side, n_per_side, *images.shape[1:]),
        grid_codes.reshape(n_per_side, n_per_side, latent_dim).astype(np.float32),
        first,
        second,
        plane,
    )


# ------------------------------------------------------------------------------------------- clustering


@dataclasses.dataclass(frozen=True)
class ClusterScores:
    """Agreement between cluster assignments and true labels (each 1 for a perfect clustering).

    Attributes:
        accuracy: Share of samples whose cluster maps to their class under the best one-to-one matching.
        nmi: Normalised mutual information (arithmetic normalisation, scikit-learn's default).
        ari: Adjusted Rand index (0 for chance, can be negative).
    """

    accuracy: float
    nmi: float
    ari: float

    def to_dict(self) -> dict[str, float]:
        """Plain values for JSON."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ClusteringResult:
    """Cluster assignments of codes.

    Attributes:
        assignments: Cluster index of each code ``(N,)``; ``−1`` marks HDBSCAN's noise points.
        n_clusters: Number of clusters found (noise excluded).
        method: ``kmeans``, ``gmm`` or ``hdbscan``.
        centers: Cluster centres ``(n_clusters, latent_dim)``: the fitted means (k-means, GMM) or the
            mean code of each cluster's members (HDBSCAN).
        scores: Agreement with labels when labels were given, else None.
    """

    assignments: np.ndarray
    n_clusters: int
    method: str
    centers: np.ndarray
    scores: ClusterScores | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-able summary (cluster sizes, scores), without the per-sample assignments."""
        sizes = np.bincount(self.assignments[self.assignments >= 0], minlength=self.n_clusters)
        return {
            "method": self.method,
            "n_clusters": self.n_clusters,
            "cluster_sizes": [int(s) for s in sizes],
            "n_noise": int((self.assignments < 0).sum()),
            "scores": None if self.scores is None else self.scores.to_dict(),
        }


def match_clusters(labels: ArrayLike, assignments: ArrayLike) -> dict[int, int]:
    """The one-to-one map cluster → class that maximises the number of agreeing samples.

    Solved as a linear assignment problem on the contingency table (Hungarian algorithm,
    ``scipy.optimize.linear_sum_assignment``). Clusters left over when there are more clusters than
    classes (and HDBSCAN's noise, ``−1``) map to no class and count as errors.
    """
    from scipy.optimize import linear_sum_assignment

    true = np.asarray(labels).ravel()
    found = np.asarray(assignments).ravel()
    if true.shape != found.shape:
        raise ShapeError(
            f"labels and assignments must have the same shape; got {true.shape} and {found.shape}"
        )
    classes, true_index = np.unique(true, return_inverse=True)
    clusters = np.unique(found[found >= 0])
    if len(clusters) == 0:
        return {}
    cluster_index = np.searchsorted(clusters, found)
    kept = found >= 0
    table = np.zeros((len(clusters), len(classes)), dtype=np.int64)
    np.add.at(table, (cluster_index[kept], true_index[kept]), 1)
    rows, columns = linear_sum_assignment(table, maximize=True)
    return {int(clusters[r]): classes[c].item() for r, c in zip(rows, columns, strict=True)}


def clustering_accuracy(labels: ArrayLike, assignments: ArrayLike) -> float:
    """Share of samples whose cluster is matched to their class by :func:`match_clusters`.

    ``acc = max_m (1/N) Σ_i [y_i = m(c_i)]`` over one-to-one maps ``m`` (Xie et al., "Unsupervised deep
    embedding for clustering analysis", ICML 2016). Renaming the clusters leaves it unchanged.
    """
    true = np.asarray(labels).ravel()
    found = np.asarray(assignments).ravel()
    if len(true) == 0:
        raise DataError("labels are empty")
    mapping = match_clusters(true, found)
    hits = sum(int(((found == cluster) & (true == label)).sum()) for cluster, label in mapping.items())
    return hits / len(true)


def cluster_scores(labels: ArrayLike, assignments: ArrayLike) -> ClusterScores:
    """Clustering accuracy, NMI and ARI of ``assignments`` against ``labels``."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    true = np.asarray(labels).ravel()
    found = np.asarray(assignments).ravel()
    return ClusterScores(
        accuracy=clustering_accuracy(true, found),
        nmi=float(normalized_mutual_info_score(true, found)),
        ari=float(adjusted_rand_score(true, found)),
    )


def cluster_codes(
    codes: ArrayLike,
    n_clusters: int = 10,
    *,
    method: ClusterMethod = "kmeans",
    labels: ArrayLike | None = None,
    standardize: bool = False,
    min_cluster_size: int = 10,
    n_init: int = 4,
    random_state: int = 0,
) -> ClusteringResult:
    """Cluster codes ``(N, latent_dim)`` and score the clusters against ``labels`` when given.

    Args:
        codes: The codes.
        n_clusters: Number of clusters (k-means, GMM); HDBSCAN finds its own number.
        method: ``kmeans``, ``gmm`` (full-covariance Gaussian mixture) or ``hdbscan``
            (``sklearn.cluster.HDBSCAN``; noise points get ``−1``).
        labels: True classes ``(N,)`` to score against.
        standardize: Scale each code dimension to unit variance first.
        min_cluster_size: HDBSCAN's smallest cluster.
        n_init: Restarts of k-means and the GMM (the best is kept).
        random_state: Seed of the initialisations.
    """
    check_choice("method", method, CLUSTER_METHODS)
    points = _codes_array(codes)
    label_array = _labels_array(labels, len(points))
    if method != "hdbscan" and (
        isinstance(n_clusters, bool) or not isinstance(n_clusters, int) or not 1 <= n_clusters <= len(points)
    ):
        raise ConfigError(
            f"n_clusters must be an integer in [1, {len(points)}] (the number of codes); got {n_clusters!r}"
        )
    if standardize:
        spread = points.std(0)
        points = (points - points.mean(0)) / np.where(spread > 0, spread, 1.0)
    if method == "kmeans":
        from sklearn.cluster import KMeans

        estimator = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state).fit(points)
        assignments, centers = estimator.labels_, estimator.cluster_centers_
    elif method == "gmm":
        from sklearn.mixture import GaussianMixture

        mixture = GaussianMixture(
            n_components=n_clusters, n_init=n_init, random_state=random_state, reg_covar=1e-5
        ).fit(points)
        assignments, centers = mixture.predict(points), mixture.means_
    else:
        from sklearn.cluster import HDBSCAN

        assignments = HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit(points).labels_
        found = [c for c in np.unique(assignments) if c >= 0]
        centers = (
            np.stack([points[assignments == c].mean(0) for c in found])
            if found
            else np.zeros((0, points.shape[1]))
        )
    assignments = np.asarray(assignments, dtype=np.int64)
    n_found = len(np.unique(assignments[assignments >= 0]))
    scores = None if label_array is None else cluster_scores(label_array, assignments)
    return ClusteringResult(assignments, n_found, method, np.asarray(centers, dtype=np.float32), scores)


def cluster_dataset(
    bundle: ModelBundle,
    x: Tensor,
    n_clusters: int = 10,
    *,
    labels: ArrayLike | None = None,
    method: ClusterMethod = "kmeans",
    random_state: int = 0,
    batch_size: int = 1024,
) -> tuple[ClusteringResult, Tensor]:
    """Encode raw inputs with a saved model and cluster the codes; returns the result and the codes."""
    codes = encode_dataset(bundle, x, batch_size=batch_size)
    return cluster_codes(codes, n_clusters, method=method, labels=labels, random_state=random_state), codes
