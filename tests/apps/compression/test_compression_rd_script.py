"""``benchmarks/compression_rd.py``'s own pieces: a fresh (uncached) run codes every level and scores it, and
its BD-rates, on PSNR, MS-SSIM and MS-SSIM in decibels, measure a known rate saving."""

from __future__ import annotations

import functools
import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from aekit.models.compression import Codec

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "compression_rd.py"


@functools.cache
def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compression_rd_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_aekit_points_code_and_score_every_level(tiny_codec: Codec, smooth_image: np.ndarray) -> None:
    points = _script()._aekit_points(tiny_codec, smooth_image, 1)
    assert [row["setting"] for row in points["points"]] == list(range(tiny_codec.n_levels))
    for row in points["points"]:
        assert row["bpp"] > 0 and math.isfinite(row["psnr"]) and 0 < row["ms_ssim"] <= 1
    assert len(points["seconds"]) == tiny_codec.n_levels


def test_bd_rates_find_half_the_bits_on_every_quality_scale() -> None:
    script = _script()
    rates = [0.1, 0.2, 0.4, 0.8, 1.6]
    test = [
        {"bpp": r, "psnr": 25 + 3 * math.log2(r / 0.1), "ms_ssim": 1 - 0.2 * 0.6 ** math.log2(r / 0.1)}
        for r in rates
    ]
    anchor = [{**row, "bpp": 2 * row["bpp"]} for row in test]  # the same qualities at twice the bits
    for metric in script.BD_METRICS:
        assert script._bd(anchor, test, metric) == pytest.approx(-50.0, abs=1e-6), metric
    row = test[2]
    assert script._point_quality(row, "ms_ssim_db") == pytest.approx(-10 * math.log10(1 - row["ms_ssim"]))
