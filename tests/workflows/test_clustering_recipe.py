"""The default clustering (method "auto"), BIC-chosen mixtures, and the whole recipe (cluster_inputs)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from aekit.apps.clustering import UMAP_MIN_PER_CLUSTER, auto_method, cluster_codes, ensemble_codes
from aekit.errors import ConfigError, ShapeError
from aekit.workflows.clustering import LARGE_DATA, ClusteringRecipe, cluster_inputs, clustering_recipe
from fixtures.toy import blobs


def test_auto_uses_umap_only_with_enough_points_per_cluster() -> None:
    assert auto_method(UMAP_MIN_PER_CLUSTER * 3, 3) == "umap-gmm"
    assert auto_method(UMAP_MIN_PER_CLUSTER * 3 - 1, 3) == "gmm"
    assert auto_method(178, 3) == "gmm" and auto_method(1797, 10) == "umap-gmm"


def test_default_on_a_small_set_is_a_mixture_with_the_bic_covariance() -> None:
    codes, labels = blobs(n_per_class=30, n_classes=3, dim=4, spread=0.5)
    result = cluster_codes(codes, 3, labels=labels)  # 30 per cluster: no UMAP
    assert result.method == "gmm" and result.covariance in ("full", "tied", "diag", "spherical")
    assert result.scores is not None and result.scores.accuracy == 1.0
    assert result.to_dict()["covariance"] == result.covariance and set(result.seconds) == {"cluster"}


def test_bic_prefers_the_simplest_covariance_that_fits() -> None:
    # round blobs of equal size: the 4-parameter spherical model wins BIC over full covariances
    codes, _ = blobs(n_per_class=80, n_classes=3, dim=6, spread=0.5)
    assert cluster_codes(codes, 3, method="gmm", covariance="auto").covariance == "spherical"
    # stretched along one axis, differently per blob: full covariances win
    rng = np.random.default_rng(0)
    parts = []
    for c in range(3):
        axis = np.zeros(3)
        axis[c] = 1.0
        parts.append(
            10.0 * np.eye(3)[c] + rng.normal(size=(150, 1)) * 3 * axis + 0.2 * rng.normal(size=(150, 3))
        )
    stretched = np.concatenate(parts) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.5], [0.5, 0.0, 1.0]])
    assert cluster_codes(stretched, 3, method="gmm", covariance="auto").covariance == "full"
    assert cluster_codes(codes, 3, method="gmm").covariance == "full"  # explicit gmm keeps full
    assert cluster_codes(codes, 3, method="kmeans").covariance is None
    with pytest.raises(ConfigError, match="covariance must be one of"):
        cluster_codes(codes, 3, method="gmm", covariance="round")  # type: ignore[arg-type]


def test_recipe_by_data_size_and_kind() -> None:
    assert clustering_recipe(178, 3, "table") == ClusteringRecipe(use_autoencoder=False)
    small = clustering_recipe(1797, 10, "images")
    assert small.use_autoencoder and small.members == 3
    assert (small.conv_channels, small.hidden_dims) == ((32, 64), (256,))  # convolutional members
    assert small.latent_dim == 10 and small.batch_size == 32 and small.epochs == 102  # ≈ 5 700 updates
    large = clustering_recipe(70_000, 10, "images")
    assert (large.members, large.hidden_dims, large.batch_size, large.epochs) == (
        1,
        (500, 500, 2000),
        256,
        15,
    )
    assert clustering_recipe(LARGE_DATA, 5, "table").members == 1
    mid_table = clustering_recipe(5_000, 5, "table")  # 1 000 rows per cluster: autoencoders
    assert (
        mid_table.members == 3 and not mid_table.conv_channels and mid_table.hidden_dims == (256, 256, 1024)
    )
    with pytest.raises(ConfigError, match="kind must be one of"):
        clustering_recipe(100, 2, "sounds")  # type: ignore[arg-type]


def test_ensemble_codes_standardise_each_dimension_then_concatenate() -> None:
    rng = np.random.default_rng(0)
    first, second = rng.normal(5.0, 3.0, size=(50, 2)), rng.normal(-1.0, 0.1, size=(50, 3))
    joined = ensemble_codes([first, torch.from_numpy(second)])
    assert joined.shape == (50, 5)
    np.testing.assert_allclose(joined.mean(0), 0.0, atol=1e-9)
    np.testing.assert_allclose(joined.std(0), 1.0, atol=1e-9)
    with pytest.raises(ShapeError, match="different numbers of rows"):
        ensemble_codes([first, second[:10]])
    with pytest.raises(ConfigError):
        ensemble_codes([])


def test_a_small_table_is_clustered_without_an_autoencoder() -> None:
    codes, labels = blobs(n_per_class=20, n_classes=3, dim=4, spread=0.5)
    table = codes.numpy() * np.array([1.0, 100.0, 0.01, 3.0]) + 7.0  # columns on different scales
    result, features = cluster_inputs(table, 3, labels=labels)
    assert result.method == "gmm" and result.scores is not None and result.scores.accuracy == 1.0
    np.testing.assert_allclose(features.std(0), 1.0, atol=1e-9)  # the standardised table was clustered


def test_images_train_the_recipes_autoencoders_and_cluster_their_codes() -> None:
    torch.manual_seed(0)
    images = torch.zeros(60, 1, 6, 6)
    images[:30, :, :3] = 1.0  # top half lit
    images[30:, :, 3:] = 1.0  # bottom half lit
    images += 0.05 * torch.rand(images.shape)
    labels = np.repeat([0, 1], 30)
    recipe = ClusteringRecipe(True, (16,), 2, members=2, epochs=20, batch_size=16, learning_rate=1e-2)
    result, features = cluster_inputs(images, 2, labels=labels, recipe=recipe, method="kmeans")
    assert features.shape == (60, 4)  # two members × 2-D codes
    assert result.scores is not None and result.scores.accuracy == 1.0
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        cluster_inputs(images[:, 0], 2, kind="images", recipe=recipe)
    convolutional = dataclasses.replace(recipe, hidden_dims=(8,), conv_channels=(4, 8))
    result, features = cluster_inputs(images, 2, labels=labels, recipe=convolutional, method="kmeans")
    assert features.shape == (60, 4) and result.scores is not None and result.scores.accuracy == 1.0


def test_convolutional_members_take_colour_images_of_odd_sizes() -> None:
    torch.manual_seed(0)
    images = 0.05 * torch.rand(40, 3, 9, 7)
    images[:20, 0] += 1.0  # red
    images[20:, 2] += 1.0  # blue
    labels = np.repeat([0, 1], 20)
    recipe = ClusteringRecipe(True, (8,), 2, 1, 20, 8, 1e-2, conv_channels=(4, 8))
    result, features = cluster_inputs(images, 2, labels=labels, recipe=recipe, method="kmeans")
    assert features.shape == (40, 2) and result.scores is not None and result.scores.accuracy == 1.0


def test_auto_without_umap_learn_warns_and_fits_the_mixture(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "umap", None)  # import umap now raises ImportError
    codes, labels = blobs(n_per_class=UMAP_MIN_PER_CLUSTER, n_classes=2, dim=3, spread=0.3)
    with pytest.warns(UserWarning, match=r"pip install 'aekit\[umap\]'"):
        result = cluster_codes(codes, 2, labels=labels)
    assert result.method == "gmm" and result.scores is not None and result.scores.accuracy == 1.0
