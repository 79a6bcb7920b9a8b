from __future__ import annotations

import pytest
import torch

from aekit.data import TensorData, train_val_split
from aekit.errors import ConfigError, DataError


def _data(n: int = 10) -> TensorData:
    return TensorData(torch.arange(n, dtype=torch.float32)[:, None], torch.arange(n))


def test_sizes_partition_and_order():
    train, val = train_val_split(_data(10), 0.3, seed=1)
    assert len(train) == 7 and len(val) == 3
    together = sorted(train.y.tolist() + val.y.tolist())
    assert together == list(range(10))
    assert train.y.tolist() == sorted(train.y.tolist()) and val.y.tolist() == sorted(val.y.tolist())
    assert torch.equal(train.x[:, 0].long(), train.y)  # x and y stay paired


def test_same_seed_same_split_other_seed_other_split():
    a = train_val_split(_data(50), 0.2, seed=3)[1].y
    b = train_val_split(_data(50), 0.2, seed=3)[1].y
    c = train_val_split(_data(50), 0.2, seed=4)[1].y
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_global_rng_is_untouched():
    state = torch.random.get_rng_state()
    train_val_split(_data(20), 0.5, seed=0)
    assert torch.equal(state, torch.random.get_rng_state())


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_fraction_outside_open_interval(fraction):
    with pytest.raises(ConfigError, match=r"val_fraction must be in \(0, 1\)"):
        train_val_split(_data(), fraction, seed=0)


def test_each_side_needs_a_sample():
    with pytest.raises(DataError, match="gives 0 validation and 3 training samples"):
        train_val_split(_data(3), 0.1, seed=0)
    with pytest.raises(DataError, match="gives 3 validation and 0 training samples"):
        train_val_split(_data(3), 0.9, seed=0)
