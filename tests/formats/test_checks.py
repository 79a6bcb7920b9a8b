"""all_finite: the fast finiteness check run on every training batch."""

from __future__ import annotations

import pytest
import torch

from aekit.formats.arrays import all_finite


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_single_non_finite_element_is_found(bad: float) -> None:
    x = torch.rand(64, 784)
    x[17, 300] = bad
    assert not all_finite(x)


def test_finite_values_whose_sum_overflows_are_still_finite() -> None:
    huge = torch.full((1000,), 3e38)  # each finite; the float32 sum is inf
    assert torch.isinf(huge.sum())
    assert all_finite(huge)


def test_plus_and_minus_infinity_that_cancel_to_nan_are_found() -> None:
    assert not all_finite(torch.tensor([float("inf"), float("-inf"), 1.0]))


def test_empty_and_integer_tensors_are_finite() -> None:
    assert all_finite(torch.empty(0, 3))
    assert all_finite(torch.arange(10))
