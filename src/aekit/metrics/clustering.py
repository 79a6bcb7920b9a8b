"""Agreement between found clusters and true classes: clustering accuracy, NMI and ARI.

Clustering accuracy is the share of samples whose cluster maps to their class under the best one-to-one
matching of clusters to classes (the Hungarian algorithm on the contingency table); NMI and ARI are
scikit-learn's. All three are 1 for a perfect clustering and unchanged by renaming the clusters.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from torch import Tensor

from aekit.errors import DataError, ShapeError

__all__ = ["ClusterScores", "cluster_scores", "clustering_accuracy", "match_clusters"]

ArrayLike = np.ndarray | Tensor


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


def _flat(values: ArrayLike) -> np.ndarray:
    return (values.detach().cpu().numpy() if isinstance(values, Tensor) else np.asarray(values)).ravel()


def match_clusters(labels: ArrayLike, assignments: ArrayLike) -> dict[int, int]:
    """The one-to-one map cluster → class that maximises the number of agreeing samples.

    Solved as a linear assignment problem on the contingency table (Hungarian algorithm,
    ``scipy.optimize.linear_sum_assignment``). Clusters left over when there are more clusters than
    classes (and HDBSCAN's noise, ``−1``) map to no class and count as errors.
    """
    from scipy.optimize import linear_sum_assignment

    true, found = _flat(labels), _flat(assignments)
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
    true, found = _flat(labels), _flat(assignments)
    if len(true) == 0:
        raise DataError("labels are empty")
    mapping = match_clusters(true, found)
    hits = sum(int(((found == cluster) & (true == label)).sum()) for cluster, label in mapping.items())
    return hits / len(true)


def cluster_scores(labels: ArrayLike, assignments: ArrayLike) -> ClusterScores:
    """Clustering accuracy, NMI and ARI of ``assignments`` against ``labels``.

    Noise points (``−1``) count as errors in the accuracy and as one more group in NMI and ARI.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    true, found = _flat(labels), _flat(assignments)
    return ClusterScores(
        accuracy=clustering_accuracy(true, found),
        nmi=float(normalized_mutual_info_score(true, found)),
        ari=float(adjusted_rand_score(true, found)),
    )
