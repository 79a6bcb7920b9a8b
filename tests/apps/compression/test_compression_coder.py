"""Entropy coder: exact symbol round trips, escapes, and coded size against the model's rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aekit.apps.compression.coder import (
    EntropyTables,
    PayloadError,
    decode_symbols,
    encode_symbols,
    ideal_code_length,
    tables_for_level,
)
from aekit.errors import ShapeError
from aekit.models.compression import Codec


def _tables() -> EntropyTables:
    rng = np.random.default_rng(0)
    lengths = np.array([1, 7, 30])
    frequencies = np.zeros((3, 31), dtype=np.int64)
    for channel, length in enumerate(lengths):
        raw = rng.random(length + 1) + 0.01
        row = np.floor(raw / raw.sum() * (65536 - length - 1)).astype(np.int64) + 1
        row[0] += 65536 - row.sum()
        frequencies[channel, : length + 1] = row
    return EntropyTables(frequencies, np.array([0, -3, -15]), lengths, 16)


def test_round_trip_is_exact_including_escapes() -> None:
    tables = _tables()
    rng = np.random.default_rng(1)
    symbols = rng.integers(-20, 20, size=(3, 500))
    symbols[0, :3] = [-(2**30), 2**30 - 1, 5]  # far outside every table: escape path
    payload = encode_symbols(symbols, tables)
    assert np.array_equal(decode_symbols(payload, tables, 500), symbols)


def test_coded_size_matches_the_integer_tables() -> None:
    tables = _tables()
    rng = np.random.default_rng(2)
    # Draw symbols from the tables themselves so the ideal code length is the entropy.
    symbols = np.stack(
        [
            rng.choice(
                int(tables.lengths[c]) + 1,
                size=4000,
                p=tables.frequencies[c, : tables.lengths[c] + 1] / 65536,
            )
            + tables.offsets[c]
            for c in range(3)
        ]
    )
    bits = 8 * len(encode_symbols(symbols, tables))
    ideal = ideal_code_length(symbols, tables)
    assert ideal <= bits <= ideal * 1.001 + 64


def test_coded_size_is_close_to_the_models_estimated_rate(tiny_codec: Codec) -> None:
    x = torch.rand(16, 3, 16, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        output = tiny_codec(x, torch.zeros(16, dtype=torch.long))
        estimated_bits = float(-torch.log2(output.likelihoods).sum())
        symbols = tiny_codec.quantize_symbols(tiny_codec.analysis(x), 0)
    tables = tables_for_level(tiny_codec, 0)
    flat = symbols.transpose(0, 1).reshape(symbols.shape[1], -1).numpy()
    payload = encode_symbols(flat, tables)
    assert np.array_equal(decode_symbols(payload, tables, flat.shape[1]), flat)
    assert math.isclose(8 * len(payload), estimated_bits, rel_tol=0.02, abs_tol=64)


def test_payload_errors() -> None:
    tables = _tables()
    with pytest.raises(PayloadError, match="not a multiple of 4 bytes"):
        decode_symbols(b"abc", tables, 10)
    payload = encode_symbols(np.zeros((3, 10), dtype=np.int64), tables)
    with pytest.raises(PayloadError, match="more data than the image needs"):
        decode_symbols(payload + payload, tables, 10)
    with pytest.raises(ShapeError, match=r"symbols must have shape \(3, n\)"):
        encode_symbols(np.zeros((2, 10), dtype=np.int64), tables)
