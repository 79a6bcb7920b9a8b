"""The square's symmetries on images and the self-ensemble over them."""

from __future__ import annotations

import pytest
import torch

from aekit.models import create
from aekit.nn.dihedral import dihedral, self_ensemble, undo_dihedral


def test_the_eight_views_are_distinct_and_each_is_undone() -> None:
    x = torch.arange(2 * 3 * 3, dtype=torch.float32).reshape(2, 3, 3)
    views = [dihedral(x, view) for view in range(8)]
    assert len({tuple(v.flatten().tolist()) for v in views}) == 8
    for view, seen in enumerate(views):
        torch.testing.assert_close(undo_dihedral(seen, view), x)
    torch.testing.assert_close(dihedral(x, 4), x.flip(-1))
    torch.testing.assert_close(dihedral(x, 1), torch.rot90(x, 1, (-2, -1)))


def test_self_ensemble_averages_what_is_not_equivariant_and_keeps_what_is() -> None:
    x = torch.rand(1, 1, 4, 6, generator=torch.Generator().manual_seed(0))

    def ramp(image: torch.Tensor) -> torch.Tensor:  # adds a left-to-right ramp: not mirror-equivariant
        return image + torch.linspace(0, 1, image.shape[-1])

    torch.testing.assert_close(self_ensemble(torch.sqrt, x, views=8), torch.sqrt(x))  # pointwise: equivariant
    torch.testing.assert_close(self_ensemble(ramp, x, views=1), ramp(x))
    torch.testing.assert_close(self_ensemble(ramp, x, views=2), x + 0.5)  # the ramp and its mirror cancel
    two_inputs = self_ensemble(lambda a, b: a * b, x, 2 * x, views=4)
    torch.testing.assert_close(two_inputs, 2 * x * x)
    with pytest.raises(ValueError, match="views"):
        self_ensemble(torch.sqrt, x, views=3)


def test_the_denoiser_averages_its_views() -> None:
    one = create("photo_denoiser", input_shape=(1, 16, 16), channels=(4, 8), seed=0).eval()
    eight = create("photo_denoiser", input_shape=(1, 16, 16), channels=(4, 8), self_ensemble=8).eval()
    eight.load_state_dict(one.state_dict())
    noisy = torch.rand(2, 1, 13, 19, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        by_hand = torch.stack([undo_dihedral(one.denoise(dihedral(noisy, v)), v) for v in range(8)]).mean(0)
        torch.testing.assert_close(eight.denoise(noisy), by_hand)
        assert not torch.allclose(one.denoise(noisy), by_hand)
