"""Registry aliases for the classic autoencoder variants: each one is a model plus preset config values.

A preset is not a class: ``create("beta_vae", input_shape=(1, 28, 28))`` builds a
:class:`~aekit.models.vae.VAE` with ``beta=4.0``; any value passed to
:func:`~aekit.models.registry.create` overrides the preset's.

=========== ===========================================================================================
name        what it is
=========== ===========================================================================================
beta_vae    VAE with β = 4 (Higgins et al., ICLR 2017)
sparse      MLP autoencoder, ReLU code with an L1 penalty (most units exactly zero for each sample)
sparse_kl   MLP autoencoder, sigmoid code with the KL penalty toward a 5 % firing rate (Ng, 2011)
contractive MLP autoencoder with the exact Jacobian penalty (Rifai et al., ICML 2011)
denoising   convolutional autoencoder trained to undo 40 % pixel masking (Vincent et al., ICML 2008)
n2d         MLP 500-500-2000 with a 10-D code, for clustering codes after UMAP (McConville et al., 2020);
            set ``latent_dim`` to the number of clusters
=========== ===========================================================================================
"""

from __future__ import annotations

from aekit.models import ae, vae  # noqa: F401  (the preset targets must be registered first)
from aekit.models.registry import register_preset

__all__: list[str] = []

register_preset("beta_vae", "vae", beta=4.0)
register_preset("sparse", "mlp", latent_activation="relu", sparsity="l1", sparsity_weight=3e-3)
register_preset(
    "sparse_kl", "mlp", latent_activation="sigmoid", sparsity="kl", sparsity_target=0.05, sparsity_weight=1e-2
)
register_preset("contractive", "mlp", contractive_weight=1e-2, contractive_method="autograd")
register_preset("denoising", "conv", corruption="mask", corruption_strength=0.4, reconstruction="bce")
register_preset("n2d", "mlp", hidden_dims=(500, 500, 2000), latent_dim=10)
