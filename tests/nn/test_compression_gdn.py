"""GDN / IGDN maths and the non-negative reparameterisation."""

from __future__ import annotations

import pytest
import torch

from aekit.errors import ConfigError, ShapeError
from aekit.nn.gdn import GDN, NonNegativeParameter, lower_bound


def test_gdn_matches_the_formula() -> None:
    gdn = GDN(3)
    with torch.no_grad():
        gdn.beta.raw.copy_(torch.sqrt(torch.tensor([0.5, 1.0, 2.0]) + gdn.beta.pedestal))
        gamma = torch.tensor([[0.1, 0.2, 0.0], [0.3, 0.1, 0.4], [0.0, 0.5, 0.2]])
        gdn.gamma.raw.copy_(torch.sqrt(gamma + gdn.gamma.pedestal))
    x = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    norm = torch.einsum("ij,bjhw->bihw", gamma, x**2) + torch.tensor([0.5, 1.0, 2.0]).view(1, 3, 1, 1)
    torch.testing.assert_close(gdn(x), x / torch.sqrt(norm), rtol=1e-5, atol=1e-6)
    igdn = GDN(3, inverse=True)
    igdn.load_state_dict(gdn.state_dict())
    torch.testing.assert_close(igdn(x), x * torch.sqrt(norm), rtol=1e-5, atol=1e-6)


def test_parameters_stay_non_negative_under_adversarial_steps() -> None:
    gdn = GDN(4)
    optimizer = torch.optim.SGD(gdn.parameters(), lr=10.0)
    x = torch.randn(2, 4, 3, 3, generator=torch.Generator().manual_seed(1))
    for _ in range(5):  # maximising the output norm pushes β and γ down as hard as possible
        optimizer.zero_grad()
        (-gdn(x).pow(2).sum()).backward()
        optimizer.step()
    assert bool((gdn.beta() >= 1e-6 - 1e-12).all())
    assert bool((gdn.gamma() >= 0).all())
    assert torch.isfinite(gdn(x)).all()


def test_lower_bound_gradient_lets_values_recover() -> None:
    x = torch.tensor([-1.0, 2.0], requires_grad=True)
    lower_bound(x, 0.5).sum().backward()  # gradient +1 would push both down: only the free one gets it
    assert x.grad.tolist() == [0.0, 1.0]
    x.grad = None
    (-lower_bound(x, 0.5)).sum().backward()  # gradient −1 pushes up: the clipped one may recover
    assert x.grad.tolist() == [-1.0, -1.0]


def test_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match="channels must be a positive int; got 0"):
        GDN(0)
    with pytest.raises(ShapeError, match=r"x must have shape \(B, 3, H, W\); got \(2, 4, 5, 5\)"):
        GDN(3)(torch.zeros(2, 4, 5, 5))
    with pytest.raises(ConfigError, match="initial values must all be ≥ minimum"):
        NonNegativeParameter(torch.tensor([-1.0]))
