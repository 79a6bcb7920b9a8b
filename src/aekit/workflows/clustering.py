"""The whole clustering recipe on raw data: train autoencoders sized for the data, then cluster their codes.

:func:`clustering_recipe` says what to train for a data set's size and kind (measured on MNIST, its 8×8
reductions, scikit-learn's digits and small tables; ``docs/latent.md``), :func:`fit_clustering_autoencoders`
trains it, and :func:`cluster_inputs` runs everything, clustering with
:func:`aekit.apps.clustering.cluster_codes` (``method="auto"``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from aekit.apps._arrays import ArrayLike, checked_points
from aekit.apps.clustering import UMAP_MIN_PER_CLUSTER, ClusteringResult, cluster_codes, ensemble_codes
from aekit.apps.inference import encode_dataset
from aekit.config import check_choice
from aekit.errors import ShapeError
from aekit.models import create
from aekit.training.fit import fit

__all__ = [
    "LARGE_DATA",
    "ClusteringRecipe",
    "cluster_inputs",
    "clustering_recipe",
    "fit_clustering_autoencoders",
]

LARGE_DATA = 10_000
"""From this many samples on, :func:`clustering_recipe` trains one N2D-sized autoencoder."""


@dataclasses.dataclass(frozen=True)
class ClusteringRecipe:
    """Which autoencoders :func:`cluster_inputs` trains before clustering (see :func:`clustering_recipe`).

    Attributes:
        use_autoencoder: False for small tables: their standardised rows are clustered directly.
        hidden_dims: Widths of the MLP encoder (the decoder mirrors them), or of the dense layers
            between a convolutional encoder's feature maps and the code.
        latent_dim: Code size of each member.
        members: Autoencoders trained with different seeds; their standardised codes are concatenated.
        epochs: Training epochs of each member (MSE, Adam).
        batch_size: Minibatch size.
        learning_rate: Adam's learning rate.
    """

    use_autoencoder: bool
    hidden_dims: tuple[int, ...] = (500, 500, 2000)
    latent_dim: int = 10
    members: int = 1
    epochs: int = 15
    batch_size: int = 256
    learning_rate: float = 1e-3
    conv_channels: tuple[int, ...] = ()
    """Channels of a convolutional encoder's stages (family ``conv``); empty: an MLP (family ``mlp``)."""


def clustering_recipe(n_samples: int, n_clusters: int, kind: Literal["images", "table"]) -> ClusteringRecipe:
    """aekit's measured recipe for clustering ``n_samples`` images or table rows into ``n_clusters``.

    - **Large data** (at least :data:`LARGE_DATA` samples): one N2D autoencoder, MLP 500-500-2000 with
      an ``n_clusters``-D code, batch 256, about 4 000 updates (15 epochs of 70 000 MNIST images).
    - **Small image sets**: three small convolutional autoencoders (stages of 32 and 64 channels, a
      256-wide dense layer, ``n_clusters``-D codes, seeds ``s, s+1, s+2``), batch 32, about 5 700
      updates each (100 epochs of 1 797 images); their codes are standardised and concatenated. One
      small-data autoencoder's codes change with its training seed; the concatenation of three is
      steadier and clusters better, and convolutions kept more of the classes than MLPs of 256-256-1024
      did on the 8×8 MNIST selection set.
    - **Tables below** :data:`LARGE_DATA` **rows** with enough rows per cluster: three MLPs of
      256-256-1024, otherwise as above.
    - **Small tables** (fewer than :data:`UMAP_MIN_PER_CLUSTER` rows per cluster): no autoencoder; the
      standardised rows go to a Gaussian mixture whose covariance is chosen by BIC (``method="auto"``).
      On a few hundred rows an autoencoder's codes kept less of the classes than the table itself.

    The clustering step is ``method="auto"`` in every case (:func:`auto_method`).
    """
    check_choice("kind", kind, ("images", "table"))
    if kind == "table" and n_samples / max(1, n_clusters) < UMAP_MIN_PER_CLUSTER:
        return ClusteringRecipe(use_autoencoder=False)
    if n_samples >= LARGE_DATA:
        epochs = max(1, round(4_000 * 256 / n_samples))
        return ClusteringRecipe(True, (500, 500, 2000), n_clusters, 1, epochs, 256)
    epochs = max(1, round(5_700 * 32 / n_samples))
    if kind == "images":
        return ClusteringRecipe(True, (256,), n_clusters, 3, epochs, 32, conv_channels=(32, 64))
    return ClusteringRecipe(True, (256, 256, 1024), n_clusters, 3, epochs, 32)


def fit_clustering_autoencoders(
    x: Tensor, recipe: ClusteringRecipe, *, random_state: int = 0, verbose: int = 0
) -> list[Any]:
    """Train the recipe's autoencoders on ``x`` ``(N, *sample_shape)`` (scaled as they should see it)."""
    inputs = torch.as_tensor(x, dtype=torch.float32)
    models = []
    for member in range(recipe.members):
        layers: dict[str, Any] = (
            {"channels": recipe.conv_channels, "dense_dims": recipe.hidden_dims}
            if recipe.conv_channels
            else {"hidden_dims": recipe.hidden_dims}
        )
        model = create(
            "conv" if recipe.conv_channels else "mlp",
            input_shape=tuple(inputs.shape[1:]),
            latent_dim=recipe.latent_dim,
            seed=random_state + member,
            **layers,
        )
        fit(
            model,
            inputs,
            epochs=recipe.epochs,
            batch_size=recipe.batch_size,
            learning_rate=recipe.learning_rate,
            seed=random_state + member,
            device="cpu",
            verbose=verbose,  # type: ignore[arg-type]
        )
        models.append(model.eval())
    return models


def cluster_inputs(
    x: ArrayLike,
    n_clusters: int = 10,
    *,
    labels: ArrayLike | None = None,
    kind: Literal["auto", "images", "table"] = "auto",
    recipe: ClusteringRecipe | None = None,
    random_state: int = 0,
    **options: Any,
) -> tuple[ClusteringResult, np.ndarray]:
    """The whole clustering recipe on raw data: train autoencoders, take their codes, cluster them.

    Args:
        x: Images ``(N, C, H, W)`` scaled as a model should see them (e.g. [0, 1]), or a table ``(N, d)``
            (standardised here, column by column).
        n_clusters: Number of clusters.
        labels: True classes to score against.
        kind: ``images`` or ``table``; ``auto`` reads it from the shape (4-D: images).
        recipe: The autoencoders; default :func:`clustering_recipe` for the data's size and kind.
        random_state: Seed of the autoencoders (members ``s, s+1, …``), UMAP and the mixture.
        options: Any other :func:`cluster_codes` argument (``method`` defaults to ``auto``).

    Returns:
        The clustering and the features that were clustered (concatenated standardised codes, or the
        standardised table when the recipe trains no autoencoder).
    """
    data = x.detach().cpu() if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))
    if kind == "auto":
        kind = "images" if data.dim() == 4 else "table"
    check_choice("kind", kind, ("images", "table"))
    if kind == "table":
        table = checked_points(data.numpy(), "x")
        spread = table.std(0)
        data = torch.as_tensor((table - table.mean(0)) / np.where(spread > 0, spread, 1.0))
    elif data.dim() != 4:
        raise ShapeError(f"images must have shape (N, C, H, W); got {tuple(data.shape)}")
    if recipe is None:
        recipe = clustering_recipe(len(data), n_clusters, kind)
    if recipe.use_autoencoder:
        models = fit_clustering_autoencoders(data.float(), recipe, random_state=random_state)
        features = ensemble_codes([encode_dataset(model, data.float(), batch_size=4096) for model in models])
    else:
        features = data.reshape(len(data), -1).double().numpy()
    result = cluster_codes(features, n_clusters, labels=labels, random_state=random_state, **options)
    return result, features
