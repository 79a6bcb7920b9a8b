"""Clustering after UMAP (umap-gmm, umap-hdbscan), typical members, profiles, and the scores they report."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from aekit.apps.clustering import (
    cluster_codes,
    cluster_profile,
    clustering_neighbors,
    typical_members,
    umap_embedding,
)
from aekit.errors import ConfigError, DataError
from aekit.metrics.clustering import cluster_scores, clustering_accuracy
from fixtures.toy import blobs


def test_hungarian_accuracy_of_a_permuted_labelling_is_one() -> None:
    labels = np.random.default_rng(0).integers(0, 7, size=300)
    renamed = np.array([3, 6, 0, 5, 1, 4, 2])[labels]
    assert clustering_accuracy(labels, renamed) == 1.0
    scores = cluster_scores(labels, renamed)
    assert scores.nmi == pytest.approx(1.0) and scores.ari == pytest.approx(1.0)


def test_neighbourhood_grows_with_the_data_within_bounds() -> None:
    assert clustering_neighbors(150) == 10 and clustering_neighbors(70_000) == 26
    assert clustering_neighbors(10**8) == 30


def test_umap_gmm_recovers_well_separated_blobs() -> None:
    pytest.importorskip("umap")
    codes, labels = blobs(n_per_class=40, n_classes=4, dim=6, spread=0.3)
    result = cluster_codes(codes, 4, method="umap-gmm", labels=labels, random_state=0)
    assert result.scores is not None and result.scores.accuracy == 1.0
    assert result.space is not None and result.space.shape == (160, 4)  # UMAP to n_clusters dimensions
    assert set(result.seconds) == {"umap", "cluster"}


def test_umap_clustering_is_reproducible_for_a_seed() -> None:
    pytest.importorskip("umap")
    codes, _ = blobs(n_per_class=30, n_classes=3, dim=5, spread=1.5, seed=1)
    first = umap_embedding(codes, 3, random_state=7)
    again = umap_embedding(codes, 3, random_state=7)
    np.testing.assert_array_equal(first, again)
    other = umap_embedding(codes, 3, random_state=8)
    assert not np.array_equal(first, other)
    a = cluster_codes(codes, 3, method="umap-gmm", random_state=7).assignments
    b = cluster_codes(codes, 3, method="umap-gmm", random_state=7).assignments
    np.testing.assert_array_equal(a, b)


def test_umap_hdbscan_reports_its_noise_share() -> None:
    pytest.importorskip("umap")
    codes, _ = blobs(n_per_class=50, n_classes=3, dim=4, spread=0.2)
    scattered = np.random.default_rng(0).uniform(-20, 20, size=(30, 4))
    points = np.concatenate([codes.numpy(), scattered])
    result = cluster_codes(points, 3, method="umap-hdbscan", random_state=0)
    summary = result.to_dict()
    assert result.n_clusters >= 3
    assert summary["n_noise"] == result.n_noise == int((result.assignments < 0).sum())
    assert summary["noise_share"] == pytest.approx(result.n_noise / 180)
    # the blob points are clustered, not thrown out as noise
    assert (result.assignments[:150] >= 0).mean() > 0.9


def test_plain_hdbscan_reports_noise_too() -> None:
    codes, _ = blobs(n_per_class=40, n_classes=2, dim=3, spread=0.2)
    outliers = np.array([[30.0, 30.0, 30.0], [-30.0, 30.0, -30.0]])
    result = cluster_codes(np.concatenate([codes.numpy(), outliers]), method="hdbscan")
    assert result.n_noise >= 2 and result.to_dict()["noise_share"] == pytest.approx(result.n_noise / 82)


def test_missing_umap_is_one_config_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "umap", None)  # import umap now raises ImportError
    codes, _ = blobs(n_per_class=10, n_classes=2)
    with pytest.raises(
        ConfigError, match=r"'umap-gmm' needs the optional umap-learn package: pip install 'aekit\[umap\]'"
    ):
        cluster_codes(codes, 2, method="umap-gmm")


def test_typical_members_are_nearest_their_centre_and_profiles_show_the_difference() -> None:
    codes, labels = blobs(n_per_class=20, n_classes=2, dim=3, spread=0.5)
    result = cluster_codes(codes, 2, method="kmeans", labels=labels)
    chosen = typical_members(result, 5)
    assert [len(c) for c in chosen] == [5, 5]
    for cluster, indices in enumerate(chosen):
        assert (result.assignments[indices] == cluster).all()
        assert result.space is not None
        distance = np.linalg.norm(result.space[indices] - result.centers[cluster], axis=1)
        assert (np.diff(distance) >= 0).all()
        others = np.flatnonzero(result.assignments == cluster)
        assert (
            distance[-1] <= np.sort(np.linalg.norm(result.space[others] - result.centers[cluster], axis=1))[4]
        )
    found, profile = cluster_profile(codes, result.assignments)
    assert list(found) == [0, 1] and profile.shape == (2, 3)
    # blob 0 sits at +5 on feature 0 and blob 1 at +5 on feature 1: each cluster is high on its own feature
    high = profile.argmax(1)
    assert sorted(high.tolist()) == [0, 1]


@pytest.mark.parametrize("method", ["auto", "gmm", "hdbscan"])
def test_one_code_is_refused_in_one_line_except_by_kmeans(method: str) -> None:
    # scikit-learn's mixture and HDBSCAN raised their own ValueError (an internal error in aekit cluster)
    with pytest.raises(DataError, match=f"method '{'gmm' if method == 'auto' else method}' needs at least 2"):
        cluster_codes(np.zeros((1, 3)), 1, method=method)  # type: ignore[arg-type]
    assert cluster_codes(np.zeros((1, 3)), 1, method="kmeans").assignments.tolist() == [0]
