"""Random training patches: seeded, shared among distributed ranks, flips, uint8 photographs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.apps.compression.images import photo_patches
from aekit.data.patches import RandomPatches
from aekit.errors import ConfigError


def _ramp(channels: int = 1, height: int = 12, width: int = 16) -> torch.Tensor:
    """An image whose every pixel value is unique, so a crop tells where it came from."""
    return torch.arange(channels * height * width, dtype=torch.float32).reshape(channels, height, width)


def _all(source: RandomPatches, batch_size: int, **kwargs) -> torch.Tensor:
    batches = list(source.batches(batch_size, generator=torch.Generator().manual_seed(0), **kwargs))
    assert len(batches) == source.n_batches(batch_size, world_size=kwargs.get("world_size", 1))
    return torch.cat([x for x, _ in batches])


def test_ranks_get_disjoint_shares_of_the_same_pass() -> None:
    source = RandomPatches([_ramp(), _ramp() + 1000], 4, 12)
    whole = _all(source, 3)
    shares = [_all(source, 2, rank=rank, world_size=2) for rank in (0, 1)]
    assert [len(share) for share in shares] == [6, 6]
    torch.testing.assert_close(shares[0], whole[0::2])
    torch.testing.assert_close(shares[1], whole[1::2])
    assert not torch.equal(shares[0], shares[1])


def test_horizontal_flips_keep_rows_and_mirror_or_keep_columns() -> None:
    image = _ramp(height=6, width=6)
    crops = _all(RandomPatches([image], 6, 40, flips="horizontal"), 8)
    mirrored = [bool(torch.equal(crop, image.flip(-1))) for crop in crops]
    kept = [bool(torch.equal(crop, image)) for crop in crops]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert any(mirrored) and any(kept)
    dihedral = _all(RandomPatches([image], 6, 40), 8)
    assert any(not torch.equal(crop, image) and not torch.equal(crop, image.flip(-1)) for crop in dihedral)


def test_uint8_photographs_give_unit_range_float_crops() -> None:
    photo = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    crops = _all(photo_patches([photo], 8, 5), 5)
    assert crops.dtype == torch.float32 and crops.shape == (5, 3, 8, 8)
    assert float(crops.min()) >= 0 and float(crops.max()) <= 1
    values = set((torch.from_numpy(photo).float() / 255).flatten().tolist())
    assert set(crops.flatten().tolist()) <= values


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="flips"):
        RandomPatches([_ramp()], 4, 8, flips="vertical")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="patches_per_pass"):
        RandomPatches([_ramp()], 4, 0)
