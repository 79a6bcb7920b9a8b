"""Shared encoder, one decoder per domain: per-domain reconstruction and a real style swap."""

from __future__ import annotations

import pytest
import torch

from aekit.data.tensors import TensorData
from aekit.errors import DataError
from aekit.models import create
from aekit.models.multi_decoder import MultiDecoderAutoencoder
from aekit.training import TrainConfig, Trainer


def test_swap_renders_domain_a_digits_in_domain_b_style(digits01: TensorData) -> None:
    # Domain A: digits; domain B: other digits, inverted (bright background, dark strokes).
    order = torch.randperm(len(digits01), generator=torch.Generator().manual_seed(0))
    half = len(order) // 2
    digits_a, digits_b = digits01.x[order[:half]], 1.0 - digits01.x[order[half:]]
    domains = torch.cat(
        [torch.zeros(half, dtype=torch.long), torch.ones(len(order) - half, dtype=torch.long)]
    )
    model = create("multi_decoder", input_shape=(1, 8, 8), latent_dim=8, hidden_dims=(128, 64), seed=0)
    assert isinstance(model, MultiDecoderAutoencoder)
    data = TensorData(torch.cat([digits_a, digits_b]), domains)
    Trainer(TrainConfig(epochs=10, batch_size=64, device="cpu", seed=0)).fit(model, data)
    model.eval()
    x_a, x_b = digits_a[:300], digits_b[:300]
    with torch.no_grad():
        swapped = model.swap(x_a, 1)
        recon_a = model(x_a, torch.zeros(300, dtype=torch.long)).x_hat
        recon_b = model(x_b, torch.ones(300, dtype=torch.long)).x_hat

    # Reconstruction works in each domain (clearly better than each domain's mean image).
    for x, recon in ((x_a, recon_a), (x_b, recon_b)):
        assert (recon - x).square().mean() < 0.7 * (x - x.mean(0)).square().mean()
    # The swap takes domain B's style: B's brightness, bright background where A's is dark ...
    mean_a, mean_b, mean_swapped = x_a.mean().item(), x_b.mean().item(), swapped.mean().item()
    assert abs(mean_swapped - mean_b) < abs(mean_swapped - mean_a), (mean_a, mean_b, mean_swapped)
    background = x_a < 0.05
    assert swapped[background].mean() > 0.45 > recon_a[background].mean() + 0.3
    # ... and keeps the content: it is closer to the inverted input than to the input itself.
    assert (swapped - (1 - x_a)).square().mean() < 0.8 * (swapped - x_a).square().mean()


def test_each_sample_is_decoded_by_its_own_domains_decoder() -> None:
    model = create(
        "multi_decoder", input_shape=(1, 8, 8), latent_dim=3, n_domains=3, hidden_dims=(16,), seed=0
    )
    z = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    domains = torch.tensor([2, 0, 1, 1, 0, 2])
    mixed = model.decode(z, domains)
    for row, domain in enumerate(domains.tolist()):
        torch.testing.assert_close(mixed[row], model.decoders[domain](z[row : row + 1])[0])
    x = torch.rand(6, 1, 8, 8)
    torch.testing.assert_close(
        model.swap(x, 1), model.decode(model.encode(x), torch.ones(6, dtype=torch.long))
    )


def test_domain_labels_are_required_and_checked() -> None:
    model = create("multi_decoder", input_shape=(1, 8, 8), latent_dim=3)
    x = torch.rand(3, 1, 8, 8)
    with pytest.raises(DataError, match="multi_decoder needs domain labels"):
        model.prepare_batch((x, None))
    with pytest.raises(DataError, match=r"must lie in \[0, 2\); got values from 0 to 2"):
        model.prepare_batch((x, torch.tensor([0, 1, 2])))
    with pytest.raises(DataError, match="integer class indices"):
        model.prepare_batch((x, torch.zeros(3)))
    with pytest.raises(DataError, match="domain labels"):
        model(x)
