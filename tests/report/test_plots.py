"""The run folder's figures draw from any number of codes, including a test split of one sample."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.report.plots import latent_map_figure


@pytest.mark.parametrize(("n_codes", "latent_dim"), [(1, 8), (1, 2), (1, 1), (2, 8), (50, 1), (50, 8)])
def test_latent_map_draws_every_code(n_codes: int, latent_dim: int) -> None:
    codes = np.random.default_rng(0).normal(size=(n_codes, latent_dim))
    figure = latent_map_figure(codes, labels=np.arange(n_codes) % 3)
    offsets = figure.axes[0].collections[0].get_offsets()
    assert offsets.shape == (n_codes, 2)
    assert np.isfinite(np.asarray(offsets)).all()
