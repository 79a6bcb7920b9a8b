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


def test_an_unlabelled_latent_map_draws_without_warnings() -> None:
    """Every unlabelled run warned 'No data for colormapping provided via c' (an error under pytest)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = latent_map_figure(np.random.default_rng(0).normal(size=(20, 4)))
    assert figure.axes[0].collections[0].get_offsets().shape == (20, 2)
    assert figure.axes[0].get_legend() is None
