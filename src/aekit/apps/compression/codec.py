"""Compress images into ``.aek`` bytes and back with a trained :class:`~aekit.models.compression.Codec`.

Images of any size are padded (edge replication) to a multiple of the codec's downsampling factor and
cropped back after decoding. A grey image through an RGB codec is replicated to three equal channels,
coded, and decoded back to one channel as the mean of the three reconstructed channels; the file records
``channels = 1`` so the decoder returns ``(H, W)``. An RGB image through a grey codec is refused.
Alpha channels are not coded: pass RGB (the file helpers drop alpha and say so in the docs).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from aekit.apps.compression.bitstream import MAX_PIXELS, CodecFileError, CodecHeader, pack, unpack
from aekit.apps.compression.coder import PayloadError, decode_symbols, encode_symbols, tables_for_level
from aekit.errors import AekitError, DataError, ShapeError
from aekit.models.compression import Codec

__all__ = [
    "DEFAULT_CODEC_PATH",
    "SHIPPED_CODECS",
    "CodecStateError",
    "CompressionReport",
    "ModelOrLoader",
    "bits_per_pixel",
    "compress_file",
    "compress_image",
    "decompress_file",
    "decompress_image",
    "load_default_codec",
    "model_fingerprint",
    "read_header",
    "shipped_codec_for",
]

DEFAULT_CODEC_PATH = Path(__file__).resolve().parents[2] / "assets" / "codec_default"
"""Folder of the codec shipped with aekit (``config.json`` + ``model.safetensors``)."""

SHIPPED_CODECS: dict[str, Path] = {
    "mse": DEFAULT_CODEC_PATH,
    "ms_ssim": DEFAULT_CODEC_PATH.parent / "codec_msssim",
}
"""The codecs shipped with aekit by the distortion they were trained for: ``mse`` (the default, best
PSNR) and ``ms_ssim`` (fine-tuned from it for MS-SSIM: sharper textures, fewer bits for the same MS-SSIM)."""

ModelOrLoader = Codec | Callable[[CodecHeader], Codec] | str | os.PathLike | None
"""A codec; a function from a file's header to the codec; a model folder; or ``None`` (the shipped codec
that made the file, found by fingerprint; see :func:`shipped_codec_for`)."""


class CodecStateError(AekitError, RuntimeError):
    """The codec cannot code yet: its integer probability tables are missing or stale."""


@dataclasses.dataclass(frozen=True)
class CompressionReport:
    """What a file-level call did.

    Attributes:
        source, destination: Input and output paths.
        height, width, channels: Image size and channels (1 grey, 3 RGB).
        level: Quality level used.
        n_bytes: Size of the ``.aek`` file.
        bpp: Bits per pixel of the ``.aek`` file, ``8 · n_bytes / (H · W)``.
    """

    source: Path
    destination: Path
    height: int
    width: int
    channels: int
    level: int
    n_bytes: int
    bpp: float


def model_fingerprint(model: torch.nn.Module) -> bytes:
    """SHA-256 of a model's state (names, dtypes, shapes and bytes of every tensor, sorted by name).

    It identifies the exact weights *and* probability tables a file was made with, so a file is never
    decoded with a model that would silently give a different image.
    """
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        array = tensor.detach().to("cpu").contiguous().numpy()
        digest.update(f"{name}|{array.dtype.str}|{tuple(array.shape)}\n".encode())
        digest.update(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
    return digest.digest()


def load_default_codec(distortion: str = "mse") -> Codec:
    """Load a codec shipped with aekit: ``mse`` (the default) or ``ms_ssim`` (see ``docs/compression.md``).

    Raises:
        DataError: ``distortion`` names no shipped codec.
        ModelFileError: The asset folder is missing or damaged.
    """
    from aekit.io import load_model

    if distortion not in SHIPPED_CODECS:
        choices = ", ".join(SHIPPED_CODECS)
        raise DataError(f"no shipped codec for distortion {distortion!r}; choose one of {choices}")
    folder = SHIPPED_CODECS[distortion]
    model = load_model(folder)
    if not isinstance(model, Codec):  # pragma: no cover - the asset is a codec
        raise CodecStateError(f"{folder} does not hold a codec")
    return model


def shipped_codec_for(header: CodecHeader) -> Codec:
    """The shipped codec that made a file (matched by its weights fingerprint), else the default codec
    (whose decoder then refuses the file, naming the fingerprint it holds)."""
    codecs = (load_default_codec(distortion) for distortion in SHIPPED_CODECS)  # the default comes first
    default = next(codecs)
    if model_fingerprint(default) == header.fingerprint:
        return default
    matching = (codec for codec in codecs if model_fingerprint(codec) == header.fingerprint)
    return next(matching, default)


def _check_codec(model: object) -> Codec:
    if not isinstance(model, Codec):
        raise TypeError(f"model must be an aekit Codec (registry name 'codec'); got {type(model).__name__}")
    if not model.tables_ready:
        raise CodecStateError(
            "the codec's probability tables are missing or out of date; call model.update_tables() after "
            "training (and before saving) so encoder and decoder share them"
        )
    return model


def _image_tensor(image: np.ndarray, codec_channels: int) -> tuple[torch.Tensor, int]:
    """``(1, C, H, W)`` float32 in [0, 1] for the codec, and the image's own channel count (1 or 3)."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array; got {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ShapeError(f"image must have shape (H, W), (H, W, 1) or (H, W, 3); got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise DataError(f"image is empty: shape {image.shape}")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise DataError(
            f"image has {image.shape[0] * image.shape[1]} pixels; at most {MAX_PIXELS} are supported"
        )
    if image.dtype == np.uint8:
        values = torch.from_numpy(np.array(image, dtype=np.float32)) / 255
    elif np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all():
            raise DataError("image contains NaN or infinite values")
        if image.min() < 0 or image.max() > 1:
            raise DataError(f"float images must be in [0, 1]; got [{image.min():.4g}, {image.max():.4g}]")
        values = torch.from_numpy(np.array(image, dtype=np.float32))
    else:
        raise TypeError(f"image must be uint8, or float in [0, 1]; got dtype {image.dtype}")
    channels = 1 if values.dim() == 2 else 3
    values = values.unsqueeze(0) if channels == 1 else values.permute(2, 0, 1)
    if channels != codec_channels:
        if channels == 3:
            raise ShapeError("this codec codes grey images (1 channel); got an RGB image (H, W, 3)")
        values = values.expand(codec_channels, -1, -1)
    return values.unsqueeze(0), channels


def compress_image(model: Codec, image: np.ndarray, *, level: int | None = None) -> bytes:
    """Compress one image into ``.aek`` bytes.

    Args:
        model: A trained codec whose tables are up to date (:meth:`Codec.update_tables`).
        image: ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``, uint8 or float in [0, 1]; any size.
        level: Quality level, ``0`` (fewest bits) to ``model.n_levels − 1`` (best); default the best.

    Returns:
        The complete file (header, payload, CRC-32); ``8 · len / (H · W)`` is its bits per pixel.

    Raises:
        TypeError, ShapeError, DataError: Bad image or level.
        CodecStateError: The model's tables are missing or stale.
    """
    codec = _check_codec(model)
    level = codec.n_levels - 1 if level is None else level
    if isinstance(level, bool) or not isinstance(level, int | np.integer) or not 0 <= level < codec.n_levels:
        raise DataError(f"level must be an int in [0, {codec.n_levels - 1}]; got {level!r}")
    level = int(level)
    x, channels = _image_tensor(image, codec.input_shape[0])
    height, width = x.shape[-2:]
    factor = codec.config.downsampling
    pad_h, pad_w = -height % factor, -width % factor
    device = codec.log_steps.device
    was_training = codec.training
    codec.eval()
    try:
        with torch.no_grad():
            x = F.pad(x.to(device), (0, pad_w, 0, pad_h), mode="replicate")
            symbols = codec.quantize_symbols(codec.encode_latent(x), level)[0]
    finally:
        codec.train(was_training)
    payload = encode_symbols(
        symbols.reshape(symbols.shape[0], -1).cpu().numpy(), tables_for_level(codec, level)
    )
    header = CodecHeader(
        height=height,
        width=width,
        channels=channels,
        level=level,
        model_name=codec.registry_name,
        fingerprint=model_fingerprint(codec),
    )
    return pack(header, payload)


def read_header(data: bytes) -> CodecHeader:
    """Verify a file (magic, version, length, CRC-32) and return its header.

    Raises:
        CodecFileError: See :func:`aekit.apps.compression.bitstream.unpack`.
    """
    return unpack(data)[0]


def bits_per_pixel(data: bytes) -> float:
    """Bits per pixel of a compressed file: ``8 · len(data) / (H · W)``."""
    header = read_header(data)
    return 8 * len(data) / (header.height * header.width)


def _resolve(model_or_loader: ModelOrLoader, header: CodecHeader) -> Codec:
    model: object
    if model_or_loader is None:
        model = shipped_codec_for(header)
    elif isinstance(model_or_loader, Codec):
        model = model_or_loader
    elif isinstance(model_or_loader, str | os.PathLike):
        from aekit.io import load_model

        model = load_model(model_or_loader)
    elif callable(model_or_loader):
        model = model_or_loader(header)
    else:
        raise TypeError(
            f"model_or_loader must be a Codec, a callable(header) -> Codec, a model folder or None; "
            f"got {type(model_or_loader).__name__}"
        )
    return _check_codec(model)


def decompress_image(
    model_or_loader: ModelOrLoader, data: bytes, *, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """Decode ``.aek`` bytes into a uint8 image.

    Args:
        model_or_loader: The codec that made the file; a callable given the file's
            :class:`CodecHeader` that returns it (e.g. to look a model up by fingerprint); a model folder;
            or ``None`` for the codec shipped with aekit that made the file.
        data: The file's bytes.
        max_pixels: Refuse files declaring a larger image (a decompression-bomb guard, like Pillow's).

    Returns:
        ``(H, W)`` for grey files, ``(H, W, 3)`` for RGB files, uint8.

    Raises:
        CodecFileError: Not an aekit file, truncated, altered (CRC), a newer format version, made by
            a different model (registry name or weights fingerprint differ), or too large.
    """
    header, payload = unpack(data)
    if header.height * header.width > max_pixels:
        raise CodecFileError(
            f"the file declares a {header.height}×{header.width} image, more than max_pixels={max_pixels}"
        )
    model = _resolve(model_or_loader, header)
    fingerprint = model_fingerprint(model)
    if header.model_name != model.registry_name or header.fingerprint != fingerprint:
        raise CodecFileError(
            f"the file was made by model {header.model_name!r} with weights sha256 "
            f"{header.fingerprint_hex[:16]}…, but the given model is {model.registry_name!r} "
            f"{fingerprint.hex()[:16]}…; decode it with the model that made it"
        )
    if header.level >= model.n_levels:
        raise CodecFileError(f"the file uses quality level {header.level}; the model has {model.n_levels}")
    if header.channels == 3 and model.input_shape[0] != 3:
        raise CodecFileError("the file holds an RGB image but the model is a grey codec")
    factor = model.config.downsampling
    latent_h, latent_w = -(-header.height // factor), -(-header.width // factor)
    try:
        symbols = decode_symbols(payload, tables_for_level(model, header.level), latent_h * latent_w)
    except PayloadError as error:
        raise CodecFileError(f"the payload cannot be decoded: {error}") from None
    device = model.log_steps.device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            q = torch.from_numpy(symbols).view(1, -1, latent_h, latent_w).to(device)
            x_hat = model.decode_latent(model.dequantize_symbols(q, header.level))
    finally:
        model.train(was_training)
    x_hat = x_hat[0, :, : header.height, : header.width].float().cpu()
    if header.channels == 1:
        x_hat = x_hat.mean(dim=0, keepdim=True)
    x_hat = torch.nan_to_num(x_hat, nan=0.0).clamp(0, 1)
    pixels = torch.round(x_hat * 255).to(torch.uint8).permute(1, 2, 0).numpy()
    return np.ascontiguousarray(pixels[..., 0] if header.channels == 1 else pixels)


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            mode = opened.mode
            if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
                raise DataError(
                    f"{path}: {mode} images (16-bit or float) are not supported; convert to 8-bit"
                )
            return np.asarray(opened.convert("L" if mode in ("1", "L", "LA") else "RGB"))
    except FileNotFoundError:
        raise DataError(f"{path} does not exist") from None
    except (UnidentifiedImageError, OSError) as error:
        raise DataError(f"{path} is not a readable image: {error}") from None


def compress_file(
    model: Codec,
    source: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    *,
    level: int | None = None,
) -> CompressionReport:
    """Compress an image file (PNG or anything Pillow reads; alpha dropped) into an ``.aek`` file.

    Grey modes (``L``, ``LA``, ``1``) are coded as grey; everything else as RGB. The output is written
    atomically.

    Returns:
        A :class:`CompressionReport` with the size and bits per pixel.
    """
    from aekit.files import atomic_write_bytes

    source, destination = Path(source), Path(destination)
    image = _read_image(source)
    data = compress_image(model, image, level=level)
    atomic_write_bytes(destination, data)
    header = read_header(data)
    return CompressionReport(
        source=source,
        destination=destination,
        height=header.height,
        width=header.width,
        channels=header.channels,
        level=header.level,
        n_bytes=len(data),
        bpp=8 * len(data) / (header.height * header.width),
    )


def decompress_file(
    model_or_loader: ModelOrLoader, source: str | os.PathLike[str], destination: str | os.PathLike[str]
) -> CompressionReport:
    """Decode an ``.aek`` file into an image file (format from the extension, e.g. ``.png``), atomically.

    Raises:
        CodecFileError: As :func:`decompress_image`.
        DataError: ``source`` does not exist.
    """
    from PIL import Image

    from aekit.files import atomic_path

    source, destination = Path(source), Path(destination)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{source} does not exist") from None
    image = decompress_image(model_or_loader, data)
    header = read_header(data)
    file_format = Image.registered_extensions().get(destination.suffix.lower())
    if file_format is None:
        raise DataError(f"cannot tell the image format of {destination} from its extension; use e.g. .png")
    with atomic_path(destination) as temp:
        Image.fromarray(image).save(temp, format=file_format)
    return CompressionReport(
        source=source,
        destination=destination,
        height=header.height,
        width=header.width,
        channels=header.channels,
        level=header.level,
        n_bytes=len(data),
        bpp=8 * len(data) / (header.height * header.width),
    )
