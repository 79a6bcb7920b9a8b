"""Clustering codes: k-means, Gaussian mixtures, HDBSCAN, and the same after a UMAP made for clustering.

The lecture recipe for unsupervised analysis (and N2D, McConville et al. 2020) is: train an autoencoder,
embed its codes with UMAP into a few dimensions with settings suited to clustering rather than display, and
fit a Gaussian mixture there (``umap-gmm``) or let HDBSCAN find the clusters (``umap-hdbscan``). UMAP
needs the optional ``umap-learn`` package (``pip install 'aekit[umap]'``).

Everything works on ``(N, d)`` arrays, so codes of images, table rows and sounds (and raw features) are
treated alike. Scores against labels come from :mod:`aekit.metrics.clustering`.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any, Literal

import numpy as np
from torch import Tensor

from aekit.apps._arrays import ArrayLike, checked_labels, checked_points
from aekit.config import check_choice
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.metrics.clustering import ClusterScores, cluster_scores
from aekit.models.files import ModelBundle

__all__ = [
    "CLUSTER_METHODS",
    "COVARIANCES",
    "UMAP_MIN_PER_CLUSTER",
    "ClusterMethod",
    "ClusteringResult",
    "Covariance",
    "auto_method",
    "cluster_codes",
    "cluster_dataset",
    "cluster_profile",
    "clustering_neighbors",
    "ensemble_codes",
    "typical_members",
    "umap_embedding",
]

ClusterMethod = Literal["auto", "kmeans", "gmm", "hdbscan", "umap-gmm", "umap-hdbscan"]
CLUSTER_METHODS: tuple[str, ...] = ("auto", "kmeans", "gmm", "hdbscan", "umap-gmm", "umap-hdbscan")
Covariance = Literal["auto", "full", "tied", "diag", "spherical"]
COVARIANCES: tuple[str, ...] = ("auto", "full", "tied", "diag", "spherical")
UMAP_MIN_PER_CLUSTER = 100
"""``method="auto"`` embeds with UMAP only when there are at least this many points per cluster."""

# ------------------------------------------------------------------------------------------------- UMAP


def umap_module(method: str) -> Any:
    """The ``umap`` module of umap-learn, or a one-line ConfigError naming the extra to install."""
    try:
        # umap-learn warns at import when TensorFlow (for its ParametricUMAP) is absent
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ImportWarning)
            import umap
    except ImportError:
        raise ConfigError(
            f"method {method!r} needs the optional umap-learn package: pip install 'aekit[umap]'"
        ) from None
    return umap


def _has_umap() -> bool:
    try:
        umap_module("umap")
    except ConfigError:
        return False
    return True


def clustering_neighbors(n_samples: int) -> int:
    """UMAP's neighbourhood size for clustering ``n_samples`` points: ``√N / 10`` within [10, 30].

    Small sets keep 10 neighbours (enough to connect a class); large ones get more, so that each class
    stays one connected piece of the graph (20 for 40 000 points, 26 for MNIST's 70 000).
    """
    return int(min(30, max(10, round(math.sqrt(n_samples) / 10))))


def umap_embedding(
    points: ArrayLike,
    n_components: int = 10,
    *,
    n_neighbors: int | None = None,
    min_dist: float = 0.0,
    random_state: int = 0,
    method: str = "umap",
) -> np.ndarray:
    """Embed ``points`` ``(N, d)`` with UMAP for clustering: ``n_components`` dimensions, ``min_dist`` 0.

    A display map uses 2 components and spreads points out (``min_dist`` 0.1); for clustering, more
    components keep more of the neighbourhood structure and ``min_dist`` 0 packs each cluster densely,
    which is what a mixture or HDBSCAN needs. Seeded: the same ``random_state`` gives the same embedding
    (umap-learn then runs single-threaded).

    Args:
        points: The points (codes or raw features).
        n_components: Output dimensions (at most ``N − 2``; lowered for tiny sets).
        n_neighbors: Neighbourhood size; default :func:`clustering_neighbors` of ``N`` (at most ``N − 1``).
        min_dist: UMAP's ``min_dist``.
        random_state: Seed.
        method: The method named in the error when umap-learn is missing.

    Raises:
        ConfigError: umap-learn is not installed, or a bad setting.
        DataError: Fewer than 4 points.
    """
    umap = umap_module(method)
    data = checked_points(points)
    if len(data) < 4:
        raise DataError(f"UMAP needs at least 4 points; got {len(data)}")
    if isinstance(n_components, bool) or not isinstance(n_components, int) or n_components < 1:
        raise ConfigError(f"n_components must be an integer ≥ 1; got {n_components!r}")
    if n_neighbors is not None and (isinstance(n_neighbors, bool) or n_neighbors < 2):
        raise ConfigError(f"n_neighbors must be an integer ≥ 2; got {n_neighbors!r}")
    if min_dist < 0:
        raise ConfigError(f"min_dist must be ≥ 0; got {min_dist!r}")
    neighbours = min(n_neighbors or clustering_neighbors(len(data)), len(data) - 1)
    reducer = umap.UMAP(
        n_components=min(n_components, len(data) - 2),
        n_neighbors=neighbours,
        min_dist=min_dist,
        random_state=random_state,
        n_jobs=1,
    )
    return np.asarray(reducer.fit_transform(data), dtype=np.float64)


# ------------------------------------------------------------------------------------------- clustering


@dataclasses.dataclass(frozen=True)
class ClusteringResult:
    """Cluster assignments of codes.

    Attributes:
        assignments: Cluster index of each code ``(N,)``; ``−1`` marks HDBSCAN's noise points.
        n_clusters: Number of clusters found (noise excluded).
        method: One of :data:`CLUSTER_METHODS`.
        centers: Cluster centres in the clustered space, row ``c`` for cluster ``c``: the fitted means
            (k-means, GMM; a component that won no point keeps its row) or the mean point of each
            cluster's members (HDBSCAN).
        scores: Agreement with labels when labels were given, else None.
        space: The points that were clustered ``(N, dimensions)``: the (standardised) codes, or their UMAP
            embedding for the ``umap-*`` methods.
        seconds: Wall-clock seconds of each step (``umap``, ``cluster``).
        covariance: The Gaussian mixture's covariance type (None for the other methods).
    """

    assignments: np.ndarray
    n_clusters: int
    method: str
    centers: np.ndarray
    scores: ClusterScores | None = None
    space: np.ndarray | None = None
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    covariance: str | None = None

    @property
    def n_noise(self) -> int:
        """Points left out as noise (HDBSCAN; 0 for the other methods)."""
        return int((self.assignments < 0).sum())

    @property
    def noise_share(self) -> float:
        """Share of points left out as noise."""
        return self.n_noise / max(1, len(self.assignments))

    def cluster_sizes(self) -> tuple[np.ndarray, np.ndarray]:
        """The ids of the clusters found (noise excluded, ascending) and their member counts."""
        ids, counts = np.unique(self.assignments[self.assignments >= 0], return_counts=True)
        return ids, counts

    def to_dict(self) -> dict[str, object]:
        """A JSON-able summary (cluster sizes, noise, scores, timings), without the per-sample assignments."""
        sizes = np.bincount(self.assignments[self.assignments >= 0], minlength=self.n_clusters)
        return {
            "method": self.method,
            "covariance": self.covariance,
            "n_clusters": self.n_clusters,
            "cluster_sizes": [int(s) for s in sizes],
            "n_noise": self.n_noise,
            "noise_share": self.noise_share,
            "scores": None if self.scores is None else self.scores.to_dict(),
            "seconds": dict(self.seconds),
        }


def cluster_codes(
    codes: ArrayLike,
    n_clusters: int = 10,
    *,
    method: ClusterMethod = "auto",
    labels: ArrayLike | None = None,
    standardize: bool = False,
    min_cluster_size: int | None = None,
    n_init: int = 4,
    umap_components: int | None = None,
    n_neighbors: int | None = None,
    covariance: Covariance | None = None,
    random_state: int = 0,
) -> ClusteringResult:
    """Cluster codes ``(N, d)`` and score the clusters against ``labels`` when given.

    Args:
        codes: The codes (or any numeric features).
        n_clusters: Number of clusters (k-means, GMM, and the UMAP dimensions by default); HDBSCAN finds
            its own number.
        method: ``auto`` (the default): :func:`auto_method` picks ``umap-gmm`` when there are at least
            :data:`UMAP_MIN_PER_CLUSTER` points per cluster, else ``gmm`` with the covariance chosen by
            BIC; ``kmeans``; ``gmm`` (Gaussian mixture); ``hdbscan`` (``sklearn.cluster.HDBSCAN``; noise
            points get ``−1``); ``umap-gmm`` and ``umap-hdbscan``: the same after :func:`umap_embedding`
            (needs umap-learn; without it ``auto`` warns and fits the mixture without UMAP).
        labels: True classes ``(N,)`` to score against.
        standardize: Scale each dimension to unit variance first.
        min_cluster_size: HDBSCAN's smallest cluster; default 10, or ``N / (4·n_clusters)`` (at least 10)
            after UMAP, where clusters are dense and small groups are fragments of a class.
        n_init: Restarts of k-means and the GMM (the best is kept).
        umap_components: UMAP output dimensions; default ``n_clusters`` (at least 2).
        n_neighbors: UMAP neighbourhood size; default :func:`clustering_neighbors`.
        covariance: The mixture's covariance: ``full``, ``tied``, ``diag``, ``spherical``, or ``auto``
            (each is fitted and the lowest BIC is kept; no labels involved). Default ``full``, and
            ``auto`` for ``gmm`` chosen by ``method="auto"``.
        random_state: Seed of UMAP and the initialisations: the same seed gives the same clusters.

    The result's ``method`` is the method run (``auto`` resolved), and ``covariance`` the mixture's.
    """
    import time

    check_choice("method", method, CLUSTER_METHODS)
    if covariance is not None:
        check_choice("covariance", covariance, COVARIANCES)
    points = checked_points(codes)
    label_array = checked_labels(labels, len(points))
    if method == "auto":
        method = auto_method(len(points), n_clusters)
        if method == "umap-gmm" and not _has_umap():
            warnings.warn(
                "umap-learn is not installed, so method 'auto' fits a Gaussian mixture without UMAP; "
                "pip install 'aekit[umap]' for UMAP + GMM",
                stacklevel=2,
            )
            method = "gmm"
        if method == "gmm" and covariance is None:
            covariance = "auto"
    uses_k = not method.endswith("hdbscan")
    if (uses_k or method.startswith("umap")) and (
        isinstance(n_clusters, bool) or not isinstance(n_clusters, int) or not 1 <= n_clusters <= len(points)
    ):
        raise ConfigError(
            f"n_clusters must be an integer in [1, {len(points)}] (the number of codes); got {n_clusters!r}"
        )
    if len(points) < 2 and method != "kmeans":
        raise DataError(f"method {method!r} needs at least 2 codes to cluster; got {len(points)}")
    if min_cluster_size is not None and (isinstance(min_cluster_size, bool) or min_cluster_size < 2):
        raise ConfigError(f"min_cluster_size must be an integer ≥ 2; got {min_cluster_size!r}")
    if standardize:
        spread = points.std(0)
        points = (points - points.mean(0)) / np.where(spread > 0, spread, 1.0)
    seconds: dict[str, float] = {}
    if method.startswith("umap"):
        started = time.perf_counter()
        points = umap_embedding(
            points,
            umap_components or max(2, n_clusters),
            n_neighbors=n_neighbors,
            random_state=random_state,
            method=method,
        )
        seconds["umap"] = time.perf_counter() - started
    started = time.perf_counter()
    used_covariance: str | None = None
    if method == "kmeans":
        from sklearn.cluster import KMeans

        estimator = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state).fit(points)
        assignments, centers = estimator.labels_, estimator.cluster_centers_
    elif method in ("gmm", "umap-gmm"):
        mixture = fit_mixture(points, n_clusters, covariance or "full", n_init, random_state)
        assignments, centers = mixture.predict(points), mixture.means_
        used_covariance = str(mixture.covariance_type)
    else:
        from sklearn.cluster import HDBSCAN

        if min_cluster_size is None:
            dense = method == "umap-hdbscan"
            min_cluster_size = max(10, len(points) // (4 * n_clusters)) if dense else 10
        hdbscan = HDBSCAN(min_cluster_size=min(min_cluster_size, len(points)), copy=True)
        assignments = hdbscan.fit(points).labels_
        found = [c for c in np.unique(assignments) if c >= 0]
        centers = (
            np.stack([points[assignments == c].mean(0) for c in found])
            if found
            else np.zeros((0, points.shape[1]))
        )
    seconds["cluster"] = time.perf_counter() - started
    assignments = np.asarray(assignments, dtype=np.int64)
    n_found = len(np.unique(assignments[assignments >= 0]))
    scores = None if label_array is None else cluster_scores(label_array, assignments)
    return ClusteringResult(
        assignments,
        n_found,
        method,
        np.asarray(centers, dtype=np.float32),
        scores,
        points.astype(np.float32),
        seconds,
        used_covariance,
    )


def auto_method(n_samples: int, n_clusters: int) -> ClusterMethod:
    """The clustering method ``method="auto"`` runs: ``umap-gmm`` for many points per cluster, else ``gmm``.

    UMAP's neighbour graph describes a cluster well when the cluster has many more points than the
    neighbourhood (10 to 30); below :data:`UMAP_MIN_PER_CLUSTER` points per cluster (tables of a few
    hundred rows) the graph is noisy and a Gaussian mixture on the points themselves is better.
    """
    per_cluster = n_samples / max(1, n_clusters)
    return "umap-gmm" if per_cluster >= UMAP_MIN_PER_CLUSTER else "gmm"


def fit_mixture(points: np.ndarray, n_clusters: int, covariance: str, n_init: int, random_state: int) -> Any:
    """A fitted Gaussian mixture; ``covariance="auto"`` fits each covariance type and keeps the lowest BIC."""
    from sklearn.mixture import GaussianMixture

    types = ("full", "tied", "diag", "spherical") if covariance == "auto" else (covariance,)
    best, best_bic = None, math.inf
    for kind in types:
        mixture = GaussianMixture(
            n_components=n_clusters,
            covariance_type=kind,
            n_init=n_init,
            random_state=random_state,
            reg_covar=1e-5,
        ).fit(points)
        bic = mixture.bic(points) if len(types) > 1 else 0.0
        if best is None or bic < best_bic:
            best, best_bic = mixture, bic
    return best


# ------------------------------------------------------------------------------------ the whole recipe


def ensemble_codes(codes: list[ArrayLike]) -> np.ndarray:
    """Concatenate the codes of several autoencoders ``[(N, d_i), ...]``, each dimension standardised."""
    if not codes:
        raise ConfigError("ensemble_codes needs the codes of at least one autoencoder")
    parts = []
    for part in codes:
        points = checked_points(part)
        spread = points.std(0)
        parts.append((points - points.mean(0)) / np.where(spread > 0, spread, 1.0))
    if len({len(p) for p in parts}) != 1:
        raise ShapeError(f"the codes have different numbers of rows: {[len(p) for p in parts]}")
    return np.concatenate(parts, axis=1)


def cluster_dataset(
    bundle: ModelBundle,
    x: Tensor,
    n_clusters: int = 10,
    *,
    labels: ArrayLike | None = None,
    method: ClusterMethod = "auto",
    random_state: int = 0,
    batch_size: int = 1024,
    **options: Any,
) -> tuple[ClusteringResult, Tensor]:
    """Encode raw inputs with a saved model and cluster the codes; returns the result and the codes.

    ``labels`` score the clusters, and go beside the inputs of a model that encodes with labels (CVAE).

    ``options`` are any other :func:`cluster_codes` argument (``umap_components``, ``min_cluster_size`` …).
    """
    from aekit.apps.inference import encode_with_labels

    codes = encode_with_labels(bundle, x, labels, batch_size=batch_size)
    result = cluster_codes(
        codes, n_clusters, method=method, labels=labels, random_state=random_state, **options
    )
    return result, codes


# ---------------------------------------------------------------------------------------------- reports


def typical_members(result: ClusteringResult, n_per_cluster: int = 8) -> list[np.ndarray]:
    """Indices of each cluster's most typical members: those nearest its centre in the clustered space.

    Returns one array per cluster (in cluster order, noise excluded), nearest first; a cluster with
    fewer members returns all of them.
    """
    if n_per_cluster < 1:
        raise ConfigError(f"n_per_cluster must be ≥ 1; got {n_per_cluster!r}")
    if result.space is None:
        raise DataError("this clustering result keeps no clustered points (space is None)")
    chosen = []
    for cluster in result.cluster_sizes()[0]:
        members = np.flatnonzero(result.assignments == cluster)
        distance = np.linalg.norm(result.space[members] - result.centers[cluster], axis=1)
        chosen.append(members[np.argsort(distance, kind="stable")[:n_per_cluster]])
    return chosen


def cluster_profile(features: ArrayLike, assignments: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Each cluster's feature profile: the mean of every feature over its members, in standard units.

    Args:
        features: Raw features ``(N, n_features)`` (table rows, or flattened images).
        assignments: Cluster of each row ``(N,)``; noise (``−1``) is left out.

    Returns:
        ``(clusters, profile)``: the cluster ids, and ``(n_clusters, n_features)`` means of the
        standardised features (0 = the data's mean, 1 = one standard deviation above it).
    """
    data = checked_points(features, "features")
    found = np.asarray(assignments).ravel()
    if found.shape != (len(data),):
        raise ShapeError(f"assignments must have shape ({len(data)},); got {found.shape}")
    spread = data.std(0)
    standard = (data - data.mean(0)) / np.where(spread > 0, spread, 1.0)
    clusters = np.unique(found[found >= 0])
    if len(clusters) == 0:
        return clusters, np.zeros((0, data.shape[1]))
    profile = np.stack([standard[found == c].mean(0) for c in clusters])
    return clusters, profile
