"""Learned lossy image compression with a real bitstream (see ``docs/compression.md``).

>>> from aekit.apps.compression import compress_image, decompress_image, load_default_codec
>>> codec = load_default_codec()
>>> data = compress_image(codec, image, level=2)      # bytes of a .aek file  # doctest: +SKIP
>>> restored = decompress_image(codec, data)          # uint8 (H, W, 3)       # doctest: +SKIP
"""

from __future__ import annotations

from aekit.apps.compression.bdrate import bd_rate
from aekit.apps.compression.bitstream import FORMAT_VERSION, MAGIC, CodecFileError, CodecHeader
from aekit.apps.compression.codec import (
    DEFAULT_CODEC_PATH,
    SHIPPED_CODECS,
    CodecStateError,
    CompressionReport,
    ShippedCodecs,
    bits_per_pixel,
    compress_file,
    compress_image,
    decompress_file,
    decompress_image,
    load_default_codec,
    model_fingerprint,
    read_header,
    shipped_codec_for,
)
from aekit.apps.compression.metrics import image_ms_ssim, image_psnr, ms_ssim

__all__ = [
    "DEFAULT_CODEC_PATH",
    "FORMAT_VERSION",
    "MAGIC",
    "SHIPPED_CODECS",
    "CodecFileError",
    "CodecHeader",
    "CodecStateError",
    "CompressionReport",
    "ShippedCodecs",
    "bd_rate",
    "bits_per_pixel",
    "compress_file",
    "compress_image",
    "decompress_file",
    "decompress_image",
    "image_ms_ssim",
    "image_psnr",
    "load_default_codec",
    "model_fingerprint",
    "ms_ssim",
    "read_header",
    "shipped_codec_for",
]
