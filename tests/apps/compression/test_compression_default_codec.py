"""The codecs shipped in ``aekit/assets`` load, code and are small."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.apps.compression import (
    DEFAULT_CODEC_PATH,
    SHIPPED_CODECS,
    compress_image,
    decompress_image,
    image_psnr,
    load_default_codec,
)


def test_default_codec_is_small_and_codes_a_photograph() -> None:
    skimage_data = pytest.importorskip("skimage.data")
    assert (DEFAULT_CODEC_PATH / "config.json").is_file(), f"the package lost its codec: {DEFAULT_CODEC_PATH}"
    # every shipped codec together within the wheel's 16 MB budget for codecs
    shipped = [f for folder in SHIPPED_CODECS.values() for f in folder.iterdir()]
    assert sum(f.stat().st_size for f in shipped) < 16 * 1024 * 1024
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


def test_ms_ssim_codec_is_shipped_found_by_fingerprint_and_keeps_structure_better() -> None:
    """The MS-SSIM codec is stored in float16 (so both codecs fit the budget above), decodes with ``None``
    (found by fingerprint), and at a similar rate keeps more MS-SSIM than the MSE codec while the MSE codec
    keeps more PSNR (what each was trained for)."""
    from safetensors.torch import load_file

    from aekit.apps.compression import image_ms_ssim

    skimage_data = pytest.importorskip("skimage.data")
    stored = load_file(str(SHIPPED_CODECS["ms_ssim"] / "model.safetensors"))
    assert {t.dtype for t in stored.values() if t.is_floating_point()} == {torch.float16}
    perceptual, plain = load_default_codec("ms_ssim"), load_default_codec()
    assert perceptual.config.distortion == "ms_ssim" and plain.config.distortion == "mse"
    image = skimage_data.astronaut()[:128, 128:256]  # held-out image
    data = compress_image(perceptual, image, level=4)  # a middle level: both codecs have one of its size
    restored = decompress_image(None, data)  # None: the shipped codec whose fingerprint the file holds
    assert np.array_equal(restored, decompress_image(perceptual, data))
    # the MSE codec's level whose file is closest in size (its levels span another range of rates)
    files = [compress_image(plain, image, level=level) for level in range(plain.n_levels)]
    nearest = min(files, key=lambda candidate: abs(len(candidate) - len(data)))
    assert abs(len(nearest) - len(data)) < 0.1 * len(data)
    reference = decompress_image(None, nearest)
    assert image_ms_ssim(image, restored) > image_ms_ssim(image, reference)
    assert image_psnr(image, reference) > image_psnr(image, restored)
    with pytest.raises(ValueError, match="no shipped codec for distortion 'ssim'"):
        load_default_codec("ssim")
