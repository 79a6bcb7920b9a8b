"""Images larger than one tile are coded tile by tile (format 2), exactly as whole-image coding would."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from aekit.apps.compression import compress_image, decompress_image, read_header
from aekit.apps.compression.bitstream import TILE
from aekit.models import create


def _whole_image(codec, image: np.ndarray, level: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The reference: the whole padded image through the transforms at once (the pre-tiling code path)."""
    height, width = image.shape[:2]
    factor = codec.config.downsampling
    with torch.no_grad():
        x = torch.from_numpy(np.array(image, dtype=np.float32)).permute(2, 0, 1)[None] / 255
        x = F.pad(x, (0, -width % factor, 0, -height % factor), mode="replicate")
        symbols = codec.quantize_symbols(codec.encode_latent(x), level)
        x_hat = codec.decode_latent(codec.dequantize_symbols(symbols, level))[0, :, :height, :width]
        return torch.round(x_hat.clamp(0, 1) * 255).to(torch.uint8).permute(1, 2, 0).numpy()


def test_tiled_coding_matches_whole_image_coding() -> None:
    codec = create("codec", input_shape=(3, 64, 64), hidden_channels=8, latent_channels=8, seed=0)
    codec.update_tables()
    codec.eval()
    rows, cols = np.mgrid[0:1100, 0:300]
    image = np.stack([128 + 100 * np.sin(cols / (30 + 7 * c)) * np.cos(rows / 45) for c in range(3)], -1)
    image = np.clip(image + np.random.default_rng(0).normal(0, 8, image.shape), 0, 255).astype(np.uint8)
    data = compress_image(codec, image, level=1)
    header = read_header(data)
    assert header.format_version == 2  # 1100 pixels high: 2 tiles of 1024 pixels
    assert TILE < -(-1100 // 16)
    decoded = decompress_image(codec, data)
    np.testing.assert_array_equal(decoded, _whole_image(codec, image, level=1))


def test_one_tile_images_keep_the_single_stream_format() -> None:
    codec = create("codec", input_shape=(3, 64, 64), hidden_channels=8, latent_channels=8, seed=0)
    codec.update_tables()
    image = np.random.default_rng(1).integers(0, 255, (100, 130, 3), dtype=np.uint8)
    assert read_header(compress_image(codec, image)).format_version == 1
