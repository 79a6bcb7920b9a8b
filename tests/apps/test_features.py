"""Latent maps, decoded grids and clustering on codes."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from aekit.apps.features import (
    cluster_codes,
    cluster_dataset,
    cluster_scores,
    clustering_accuracy,
    decoded_grid,
    latent_map,
    match_clusters,
    project_codes,
)
from aekit.errors import ConfigError, DataError, ShapeError
from fixtures.toy import blobs


def test_hungarian_accuracy_is_one_for_any_renaming_of_the_clusters() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 6, size=300)
    permutation = rng.permutation(6)
    assert clustering_accuracy(labels, permutation[labels]) == 1.0
    assert match_clusters(labels, permutation[labels]) == {int(permutation[c]): c for c in range(6)}


def test_hungarian_accuracy_counts_the_best_one_to_one_match() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    clusters = np.array([5, 5, 7, 7, 7, 7, 9, 9])  # cluster 7 mixes classes 0 and 1
    # best match 5→0, 7→1, 9→2: 2 + 3 + 2 = 7 right
    assert clustering_accuracy(labels, clusters) == pytest.approx(7 / 8)
    # one cluster for everything: only the largest class can be matched
    assert clustering_accuracy(labels, np.zeros(8, dtype=int)) == pytest.approx(3 / 8)
    # noise points (-1) never count as right
    assert clustering_accuracy(labels, np.full(8, -1)) == 0.0


def test_cluster_scores_match_scikit_learn_and_are_perfect_for_a_renaming() -> None:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    labels = np.array([0, 0, 1, 1, 2, 2, 2])
    found = np.array([1, 1, 0, 2, 2, 2, 2])
    scores = cluster_scores(labels, found)
    assert scores.nmi == pytest.approx(normalized_mutual_info_score(labels, found))
    assert scores.ari == pytest.approx(adjusted_rand_score(labels, found))
    perfect = cluster_scores(labels, (labels + 1) % 3)
    assert (perfect.accuracy, perfect.nmi, perfect.ari) == pytest.approx((1.0, 1.0, 1.0))


@pytest.mark.parametrize("method", ["kmeans", "gmm", "hdbscan"])
def test_separated_blobs_are_recovered_by_every_method(method: str) -> None:
    codes, labels = blobs()
    result = cluster_codes(codes, 3, method=method, labels=labels)
    assert result.n_clusters == 3
    assert (
        result.scores is not None
        and result.scores.accuracy == 1.0
        and result.scores.nmi == pytest.approx(1.0)
    )
    assert result.centers.shape == (3, 4)
    summary = result.to_dict()
    assert sorted(summary["cluster_sizes"]) == [60, 60, 60] and summary["n_noise"] == 0


def test_hdbscan_marks_isolated_points_as_noise() -> None:
    codes, _ = blobs()
    outliers = torch.tensor([[40.0, 40.0, 40.0, 40.0], [-40.0, 40.0, -40.0, 40.0]])
    result = cluster_codes(torch.cat([codes, outliers]), method="hdbscan")
    assert (result.assignments[-2:] == -1).all()
    assert result.to_dict()["n_noise"] >= 2


def test_clustering_rejects_bad_input() -> None:
    with pytest.raises(ConfigError, match="n_clusters must be an integer in"):
        cluster_codes(np.zeros((5, 2)), 6)
    with pytest.raises(ConfigError, match="method must be one of"):
        cluster_codes(np.zeros((5, 2)), 2, method="dbscan")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="NaN or infinite"):
        cluster_codes(np.array([[0.0, np.nan], [1.0, 1.0]]), 1)
    with pytest.raises(ShapeError, match=r"labels must have shape \(3,\)"):
        cluster_codes(np.zeros((3, 2)), 1, labels=np.zeros(4))


def test_projections() -> None:
    codes, labels = blobs(n_per_class=20, dim=6)
    pca = project_codes(codes, "auto", labels=labels)
    assert pca.method == "pca" and pca.points.shape == (60, 2)
    assert pca.explained_variance is not None and 0.9 < sum(pca.explained_variance) <= 1.0 + 1e-9
    # the PCA plane keeps the distances between the three blob centres
    centres = np.stack([pca.points[labels.numpy() == c].mean(0) for c in range(3)])
    assert np.linalg.norm(centres[0] - centres[1]) == pytest.approx(5 * np.sqrt(2), rel=0.05)
    two = project_codes(codes[:, :2], "auto")
    assert two.method == "latent" and np.allclose(two.points, codes[:, :2].numpy())
    tsne = project_codes(codes, "tsne", random_state=0)
    assert tsne.points.shape == (60, 2)
    with pytest.raises(ConfigError, match="at most 2 dimensions"):
        project_codes(codes, "latent")


def test_umap_without_the_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(ConfigError, match=r"pip install 'aekit\[umap\]'"):
        project_codes(np.random.default_rng(0).normal(size=(20, 3)), "umap")


def test_latent_map_and_clusters_of_digit_codes(mlp_bundle, raw_digits) -> None:
    subset = raw_digits.subset(torch.arange(600))
    mapped = latent_map(mlp_bundle, subset.x, subset.y)
    assert mapped.codes.shape == (600, 8) and mapped.points.shape == (600, 2)
    result, codes = cluster_dataset(mlp_bundle, subset.x, 10, labels=subset.y)
    assert codes.shape == (600, 8)
    # a briefly trained 8-D code of 8×8 digits clusters far above chance (0.1 with 10 classes)
    assert result.scores is not None and result.scores.accuracy > 0.45 and result.scores.nmi > 0.4


def test_decoded_grid_over_a_2d_latent_decodes_the_grid_points(vae_bundle) -> None:
    grid = decoded_grid(vae_bundle, n_per_side=5, extent=2.0)
    assert grid.plane == "latent" and grid.images.shape == (5, 5, 1, 8, 8)
    assert np.allclose(grid.codes[0, 0], [-2.0, 2.0]) and np.allclose(grid.codes[-1, -1], [2.0, -2.0])
    decoded = vae_bundle.normalizer.inverse_transform(vae_bundle.model.decode(torch.tensor([[-2.0, 2.0]])))
    assert torch.allclose(torch.from_numpy(grid.images[0, 0]), decoded[0].detach(), atol=1e-5)
    assert grid.images.min() >= 0.0 and grid.images.max() <= 16.0  # the data's scale


def test_decoded_grid_over_a_larger_latent_uses_the_codes_principal_plane(mlp_bundle, raw_digits) -> None:
    from aekit.apps.inference import encode_dataset

    codes = encode_dataset(mlp_bundle, raw_digits.x[:300])
    grid = decoded_grid(mlp_bundle, codes=codes, n_per_side=4)
    assert grid.plane == "pca" and grid.images.shape == (4, 4, 1, 8, 8)
    # every grid code lies in the plane through the codes' mean
    centred = grid.codes.reshape(-1, 8) - codes.numpy().mean(0)
    assert np.linalg.matrix_rank(centred, tol=1e-4) == 2
    with pytest.raises(ConfigError, match="pass codes"):
        decoded_grid(mlp_bundle)


def test_tsne_of_identical_codes_gives_finite_points() -> None:
    # PCA initialisation of identical codes divided by zero, and scikit-learn's t-SNE then crashed the
    # process (segmentation fault) on `aekit map --method tsne` of a table of duplicate rows
    mapped = project_codes(np.ones((12, 4)), "tsne", random_state=0)
    assert mapped.points.shape == (12, 2) and np.isfinite(mapped.points).all()


def test_decoded_grid_of_a_conditional_model_takes_its_label(cvae_bundle, mlp_bundle) -> None:
    codes = np.random.default_rng(0).normal(size=(30, cvae_bundle.model.latent_dim))
    with pytest.raises(ConfigError, match="decodes with a label"):
        decoded_grid(cvae_bundle, codes=codes, n_per_side=3)
    threes = decoded_grid(cvae_bundle, codes=codes, n_per_side=3, label=3)
    sevens = decoded_grid(cvae_bundle, codes=codes, n_per_side=3, label=7)
    assert threes.images.shape == (3, 3, 1, 8, 8) and not np.allclose(threes.images, sevens.images)
    with pytest.raises(ConfigError, match="without a label"):
        decoded_grid(mlp_bundle, codes=np.zeros((4, 8)), label=3)
