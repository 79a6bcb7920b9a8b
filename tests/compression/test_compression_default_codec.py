"""The codec shipped in ``aekit/assets/codec_default`` loads, codes and is small."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.apps.compression import (
    DEFAULT_CODEC_PATH,
    compress_image,
    decompress_image,
    image_psnr,
    load_default_codec,
)


def test_default_codec_is_small_and_codes_a_photograph() -> None:
    skimage_data = pytest.importorskip("skimage.data")
    if not (DEFAULT_CODEC_PATH / "config.json").is_file():
        pytest.skip(
            f"no default codec shipped in {DEFAULT_CODEC_PATH} yet (issue 7: train it with "
            "benchmarks/compression_rd.py train and copy the model folder there)"
        )
    assert sum(f.stat().st_size for f in DEFAULT_CODEC_PATH.iterdir()) < 5 * 1024 * 1024
    codec = load_default_codec()
    assert codec.tables_ready and codec.n_levels >= 4
    image = skimage_data.astronaut()[:96, 160:272]  # held-out image: never seen in training
    sizes = []
    for level in (0, codec.n_levels - 1):
        data = compress_image(codec, image, level=level)
        restored = decompress_image(None, data)  # None: the default codec
        assert restored.shape == image.shape
        sizes.append(len(data))
    assert sizes[0] < sizes[1]
    assert image_psnr(image, restored) > 26.0
    assert np.array_equal(decompress_image(codec, data), restored)
