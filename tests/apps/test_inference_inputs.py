"""The inference functions take NumPy arrays and nested lists as they take tensors, and refuse NaN codes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.apps.inference import decode_codes, encode_dataset, reconstruct_dataset
from aekit.errors import DataError


def test_arrays_and_lists_give_the_tensor_results(mlp_bundle, raw_digits) -> None:
    x = raw_digits.x[:5]
    codes = encode_dataset(mlp_bundle, x)
    torch.testing.assert_close(encode_dataset(mlp_bundle, x.numpy()), codes)
    torch.testing.assert_close(encode_dataset(mlp_bundle, x.numpy().astype(np.float64).tolist()), codes)
    torch.testing.assert_close(reconstruct_dataset(mlp_bundle, x.numpy()), reconstruct_dataset(mlp_bundle, x))
    with pytest.raises(DataError, match="codes contain NaN or infinite values"):
        decode_codes(mlp_bundle, np.full((1, codes.shape[1]), np.nan))
