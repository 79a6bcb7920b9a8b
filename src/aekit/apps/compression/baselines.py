"""Classical codecs to compare against, all through Pillow: JPEG (libjpeg), JPEG 2000 (OpenJPEG), WebP
(libwebp) and AVIF (libavif, when Pillow was built with it: ``PIL.features.check("avif")``).

JPEG has no rate control, so :func:`jpeg_at_rate` searches the quality setting for the largest file
not above the target rate; JPEG 2000 is rate-controlled by OpenJPEG itself (``quality_mode="rates"``,
irreversible 9/7 wavelet, colour transform on). Both report the *measured* size of the complete file,
headers included, exactly like the ``.aek`` files they are compared with.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
from PIL import Image

from aekit.apps.compression.metrics import image_ms_ssim, image_psnr
from aekit.errors import DataError, ShapeError

__all__ = [
    "CodedImage",
    "avif",
    "codec_versions",
    "decode_with_pillow",
    "jpeg",
    "jpeg2000",
    "jpeg_at_rate",
    "measure",
    "webp",
]


@dataclasses.dataclass(frozen=True)
class CodedImage:
    """One image through one codec setting.

    Attributes:
        codec: ``jpeg``, ``jpeg2000`` or ``aekit``.
        setting: The knob used (JPEG quality, JPEG 2000 target bpp, aekit level).
        n_bytes: Size of the complete file.
        bpp: Bits per pixel, ``8 · n_bytes / (H · W)``.
        psnr: PSNR in dB against the original (RGB, 8-bit).
        ms_ssim: MS-SSIM against the original (per channel, averaged).
    """

    codec: str
    setting: float
    n_bytes: int
    bpp: float
    psnr: float
    ms_ssim: float


def _check(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if (
        image.dtype != np.uint8
        or image.ndim not in (2, 3)
        or (image.ndim == 3 and image.shape[2] not in (1, 3))
    ):
        raise ShapeError(f"image must be uint8 (H, W) or (H, W, 1|3); got {image.dtype} {image.shape}")
    return image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image


def decode_with_pillow(data: bytes) -> np.ndarray:
    """Decode JPEG / JPEG 2000 bytes to a uint8 array."""
    with Image.open(io.BytesIO(data)) as decoded:
        return np.asarray(decoded.convert("RGB" if decoded.mode not in ("L",) else "L"))


def jpeg(image: np.ndarray, quality: int) -> bytes:
    """Encode with libjpeg at ``quality`` (1–95), 4:2:0 chroma subsampling, optimised Huffman tables."""
    image = _check(image)
    if not 1 <= quality <= 95:
        raise DataError(f"quality must be in [1, 95]; got {quality}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(
        buffer, format="JPEG", quality=int(quality), optimize=True, subsampling="4:2:0"
    )
    return buffer.getvalue()


def jpeg2000(image: np.ndarray, bpp: float) -> bytes:
    """Encode with OpenJPEG, rate-controlled to about ``bpp`` bits per pixel.

    Irreversible 9/7 wavelet and, for RGB, the multiple-component (YCbCr-like) transform: without
    ``mct=1`` OpenJPEG codes R, G and B independently and loses about 2 dB at 0.25 bpp.
    """
    image = _check(image)
    if not bpp > 0:
        raise DataError(f"bpp must be > 0; got {bpp}")
    channels = 1 if image.ndim == 2 else 3
    ratio = 8 * channels / bpp
    buffer = io.BytesIO()
    Image.fromarray(image).save(
        buffer,
        format="JPEG2000",
        quality_mode="rates",
        quality_layers=[ratio],
        irreversible=True,
        mct=1 if channels == 3 else 0,
    )
    return buffer.getvalue()


def webp(image: np.ndarray, quality: int) -> bytes:
    """Encode with libwebp (lossy) at ``quality`` (0–100), ``method=6`` (slowest, smallest files)."""
    image = _check(image)
    if not 0 <= quality <= 100:
        raise DataError(f"quality must be in [0, 100]; got {quality}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="WEBP", quality=int(quality), method=6)
    return buffer.getvalue()


def avif(image: np.ndarray, quality: int, speed: int = 6) -> bytes:
    """Encode with libavif (AV1 intra, 4:2:0) at ``quality`` (0–100) and encoder ``speed`` (0 slowest–10).

    Raises:
        DataError: Pillow was built without AVIF support.
    """
    from PIL import features

    image = _check(image)
    if not features.check("avif"):
        raise DataError("this Pillow has no AVIF support (PIL.features.check('avif') is False)")
    if not 0 <= quality <= 100:
        raise DataError(f"quality must be in [0, 100]; got {quality}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="AVIF", quality=int(quality), speed=int(speed))
    return buffer.getvalue()


def codec_versions() -> dict[str, str | None]:
    """Versions of Pillow and of the libraries behind each codec (``None``: not available)."""
    import PIL
    from PIL import features

    versions: dict[str, str | None] = {"pillow": PIL.__version__}
    for name, feature in (
        ("libjpeg", "jpg"),
        ("openjpeg", "jpg_2000"),
        ("libwebp", "webp"),
        ("libavif", "avif"),
    ):
        try:
            versions[name] = features.version(feature)
        except ValueError:  # pragma: no cover - unknown feature in an old Pillow
            versions[name] = None
    return versions


def measure(image: np.ndarray, data: bytes, decoded: np.ndarray, codec: str, setting: float) -> CodedImage:
    """Rate and quality of one coded image (``decoded`` must have ``image``'s shape)."""
    height, width = image.shape[:2]
    return CodedImage(
        codec=codec,
        setting=float(setting),
        n_bytes=len(data),
        bpp=8 * len(data) / (height * width),
        psnr=image_psnr(image, decoded),
        ms_ssim=image_ms_ssim(image, decoded),
    )


def jpeg_at_rate(image: np.ndarray, bpp: float) -> CodedImage:
    """JPEG at the highest quality whose file is at most ``bpp`` (quality 1 if even that is larger)."""
    image = _check(image)
    height, width = image.shape[:2]
    budget = bpp * height * width / 8
    low, high = 1, 95
    while low < high:  # file size grows with quality: binary search the last quality within budget
        middle = (low + high + 1) // 2
        if len(jpeg(image, middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    data = jpeg(image, low)
    return measure(image, data, decode_with_pillow(data), "jpeg", low)
