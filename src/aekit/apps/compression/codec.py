"""Compress images into ``.aek`` bytes and back with a trained :class:`~aekit.models.compression.Codec`.

Images of any size are padded (edge replication) to a multiple of the codec's downsampling factor and
cropped back after decoding. Images whose latent exceeds one tile (``bitstream.TILE`` latent positions a
side, 1024 pixels with the shipped codecs) are encoded and decoded tile by tile, each tile with a margin
of :data:`HALO` latent positions of real neighbouring content that is computed and dropped, so the result
matches whole-image coding (up to float rounding) while memory stays bounded by one tile
(:data:`TILE_MEMORY` bytes at most beyond the output image).

A grey image through an RGB codec is replicated to three equal channels, coded, and decoded back to one
channel as the mean of the three reconstructed channels; the file records ``channels = 1`` so the
decoder returns ``(H, W)``. An RGB image through a grey codec is refused.
Alpha channels are not coded: pass RGB (the file helpers drop alpha and say so in the docs).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from aekit.apps.compression.bitstream import (
    MAX_PIXELS,
    TILE,
    CodecFileError,
    CodecHeader,
    pack,
    split_tiles,
    unpack,
)
from aekit.apps.compression.coder import (
    EntropyTables,
    PayloadError,
    SegmentDecoder,
    decode_symbols,
    encode_segments,
    encode_symbols,
    hyperprior_tables,
    ideal_code_length,
    tables_for_level,
)
from aekit.errors import AekitError, DataError, ShapeError
from aekit.formats.limits import check_allocation, check_pixels
from aekit.models.compression import Codec, LevelledCodec
from aekit.models.hyperprior import HyperpriorCodec

__all__ = [
    "DEFAULT_CODEC_PATH",
    "SHIPPED_CODECS",
    "AnyCodec",
    "CodecStateError",
    "CompressionReport",
    "ModelOrLoader",
    "ShippedCodecs",
    "bits_per_pixel",
    "check_codec",
    "check_level",
    "compress_file",
    "compress_image",
    "decompress_file",
    "decompress_image",
    "flat_image_file",
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
"""The codecs shipped with aekit by the distortion they were trained for: ``mse`` (the default, a mean-scale
hyperprior codec, best PSNR) and ``ms_ssim`` (the same hyperprior codec fine-tuned for MS-SSIM, stored in
float16: sharper textures, fewer bits for the same MS-SSIM)."""

AnyCodec = Codec | HyperpriorCodec
"""A learned image codec: the factorized :class:`~aekit.models.compression.Codec` (registry name
``codec``, files of format 1 and 2) or the mean-scale :class:`~aekit.models.hyperprior.HyperpriorCodec`
(``codec_hyperprior``, files of format 3)."""

ModelOrLoader = AnyCodec | Callable[[CodecHeader], AnyCodec] | str | os.PathLike | None
"""A codec; a function from a file's header to the codec; a model folder; or ``None`` (the shipped codec
that made the file, found by fingerprint; see :class:`ShippedCodecs`)."""


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

    @classmethod
    def of(cls, source: Path, destination: Path, data: bytes) -> CompressionReport:
        """The report of coding ``source`` to ``destination`` through the ``.aek`` bytes ``data``."""
        header = read_header(data)
        return cls(
            source=source,
            destination=destination,
            height=header.height,
            width=header.width,
            channels=header.channels,
            level=header.level,
            n_bytes=len(data),
            bpp=8 * len(data) / (header.height * header.width),
        )


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


def load_default_codec(distortion: str = "mse") -> AnyCodec:
    """Load a codec shipped with aekit: ``mse`` (the default) or ``ms_ssim`` (see ``docs/compression.md``).

    Raises:
        DataError: ``distortion`` names no shipped codec.
        ModelFileError: The asset folder is missing or damaged.
    """
    from aekit.models.files import load_model

    if distortion not in SHIPPED_CODECS:
        choices = ", ".join(SHIPPED_CODECS)
        raise DataError(f"no shipped codec for distortion {distortion!r}; choose one of {choices}")
    folder = SHIPPED_CODECS[distortion]
    model = load_model(folder)
    if not isinstance(model, Codec | HyperpriorCodec):  # pragma: no cover - the asset is a codec
        raise CodecStateError(f"{folder} does not hold a codec")
    return model


class ShippedCodecs:
    """The codecs shipped with aekit as a loader for :func:`decompress_image`: given a file's header, the one
    that made it (matched by its weights fingerprint), else the default codec (whose decoder then refuses
    the file, naming the fingerprint it holds).

    Each codec is loaded (and fingerprinted) once per instance, on first need: pass one instance to decode
    many files without reloading the codecs for each.
    """

    def __init__(self) -> None:
        self._loaded: dict[str, tuple[AnyCodec, bytes]] = {}

    def _codec(self, distortion: str) -> tuple[AnyCodec, bytes]:
        if distortion not in self._loaded:
            codec = load_default_codec(distortion)
            self._loaded[distortion] = codec, model_fingerprint(codec)
        return self._loaded[distortion]

    def __call__(self, header: CodecHeader) -> AnyCodec:
        """The shipped codec that made the file of ``header``, else the default codec."""
        for distortion in SHIPPED_CODECS:  # the default comes first
            codec, fingerprint = self._codec(distortion)
            if fingerprint == header.fingerprint:
                return codec
        return self._codec(next(iter(SHIPPED_CODECS)))[0]


def shipped_codec_for(header: CodecHeader) -> AnyCodec:
    """The shipped codec that made a file (matched by its weights fingerprint), else the default codec
    (whose decoder then refuses the file, naming the fingerprint it holds); see :class:`ShippedCodecs`."""
    return ShippedCodecs()(header)


def check_codec(model: object) -> AnyCodec:
    """``model`` if it is an image codec ready to code, else the error that says why.

    Raises:
        TypeError: Not a codec.
        CodecStateError: Its probability tables are missing or stale.
    """
    if not isinstance(model, Codec | HyperpriorCodec):
        raise TypeError(
            "model must be an aekit image codec (registry name 'codec' or 'codec_hyperprior'); "
            f"got {type(model).__name__}"
        )
    if not model.tables_ready:
        raise CodecStateError(
            "the codec's probability tables are missing or out of date; call model.update_tables() after "
            "training (and before saving) so encoder and decoder share them"
        )
    return model


def check_level(codec: AnyCodec, level: int | None) -> int:
    """The quality level to code at: ``level``, or the best one (``codec.n_levels − 1``) when None.

    Raises:
        DataError: ``level`` is not an int in ``[0, codec.n_levels − 1]``.
    """
    if level is None:
        return codec.n_levels - 1
    if isinstance(level, bool) or not isinstance(level, int | np.integer) or not 0 <= level < codec.n_levels:
        raise DataError(f"level must be an int in [0, {codec.n_levels - 1}]; got {level!r}")
    return int(level)


HALO = 4
"""Margin in latent positions computed around each tile and dropped (covers the transforms' reach)."""

MAX_FORMAT1_LATENT = 16 * TILE * TILE
"""Largest latent (positions) a format-1 file may declare: 16 tiles, a 4096 × 4096 image with the shipped
codecs. aekit writes format 1 only for one tile; older aekit wrote it for any size, so a margin is kept."""

TILE_MEMORY = 1 << 30
"""Bytes a tile may use at most while it is encoded or decoded (checked from its size before coding):
the documented bound on memory beyond the image itself."""


def _check_image(image: np.ndarray, codec_channels: int) -> tuple[np.ndarray, int]:
    """The image as ``(H, W)`` or ``(H, W, 3)`` after checks, and its own channel count (1 or 3)."""
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
        pass
    elif np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all():
            raise DataError("image contains NaN or infinite values")
        if image.min() < 0 or image.max() > 1:
            raise DataError(f"float images must be in [0, 1]; got [{image.min():.4g}, {image.max():.4g}]")
    else:
        raise TypeError(f"image must be uint8, or float in [0, 1]; got dtype {image.dtype}")
    channels = 1 if image.ndim == 2 else 3
    if channels != codec_channels and channels == 3:
        raise ShapeError("this codec codes grey images (1 channel); got an RGB image (H, W, 3)")
    return image, channels


def _window_tensor(image: np.ndarray, rows: slice, cols: slice, codec_channels: int) -> torch.Tensor:
    """``(1, C, h, w)`` float32 in [0, 1] of the pixels ``rows × cols``, replicating the edge pixels for
    positions past the image (the padding to a multiple of the downsampling factor)."""
    height, width = image.shape[:2]
    row_index = np.clip(np.arange(rows.start, rows.stop), 0, height - 1)
    col_index = np.clip(np.arange(cols.start, cols.stop), 0, width - 1)
    window = image[row_index[:, None], col_index[None, :]]
    if image.dtype == np.uint8:
        values = torch.from_numpy(np.array(window, dtype=np.float32)) / 255
    else:
        values = torch.from_numpy(np.array(window, dtype=np.float32))
    values = values.unsqueeze(0) if values.dim() == 2 else values.permute(2, 0, 1)
    if values.shape[0] != codec_channels:
        values = values.expand(codec_channels, -1, -1)
    return values.unsqueeze(0)


WindowT = TypeVar("WindowT", np.ndarray, torch.Tensor)
"""A latent window: symbols (``np.ndarray``) or dequantised values (``torch.Tensor``)."""


@dataclasses.dataclass(frozen=True)
class _TileGrid:
    """Tiles of ``TILE × TILE`` latent positions over a latent of ``latent_h × latent_w``."""

    latent_h: int
    latent_w: int

    @property
    def rows(self) -> int:
        return -(-self.latent_h // TILE)

    @property
    def cols(self) -> int:
        return -(-self.latent_w // TILE)

    @property
    def single(self) -> bool:
        return self.rows == 1 and self.cols == 1

    def core(self, row: int, col: int) -> tuple[slice, slice]:
        """Latent rows and columns of tile ``(row, col)``."""
        return (
            slice(row * TILE, min((row + 1) * TILE, self.latent_h)),
            slice(col * TILE, min((col + 1) * TILE, self.latent_w)),
        )

    def window(self, row: int, col: int) -> tuple[slice, slice]:
        """The tile's latent rows and columns with a margin of ``HALO``, clipped to the latent."""
        rows, cols = self.core(row, col)
        return (
            slice(max(rows.start - HALO, 0), min(rows.stop + HALO, self.latent_h)),
            slice(max(cols.start - HALO, 0), min(cols.stop + HALO, self.latent_w)),
        )

    def gather(self, out: WindowT, rows: slice, cols: slice, tile: Callable[[int, int], WindowT]) -> WindowT:
        """Fill ``out`` ``(M, len(rows), len(cols))`` (array or tensor) with the latent window ``rows ×
        cols``, copied from the tiles it overlaps; ``tile(row, col)`` gives a tile's core ``(M, h, w)``."""
        for row in range(rows.start // TILE, (rows.stop - 1) // TILE + 1):
            for col in range(cols.start // TILE, (cols.stop - 1) // TILE + 1):
                tile_rows, tile_cols = self.core(row, col)
                top, bottom = max(rows.start, tile_rows.start), min(rows.stop, tile_rows.stop)
                left, right = max(cols.start, tile_cols.start), min(cols.stop, tile_cols.stop)
                source = (
                    slice(top - tile_rows.start, bottom - tile_rows.start),
                    slice(left - tile_cols.start, right - tile_cols.start),
                )
                target = (
                    slice(top - rows.start, bottom - rows.start),
                    slice(left - cols.start, right - cols.start),
                )
                out[:, target[0], target[1]] = tile(row, col)[:, source[0], source[1]]
        return out


def _check_tile_memory(grid: _TileGrid, factor: int, codec: AnyCodec, what: str) -> None:
    """Refuse a tile whose transforms would need more than :data:`TILE_MEMORY` (a codec with huge
    channel counts); the estimate is the widest activation (hidden channels at half resolution, float32)
    times 8 live copies."""
    side = (min(TILE, max(grid.latent_h, grid.latent_w)) + 2 * HALO) * factor
    per_pixel = 8 * 4 * max(codec.config.hidden_channels / 4, codec.input_shape[0], 1)
    check_allocation(side * side * per_pixel, what, limit=TILE_MEMORY)


def compress_image(model: AnyCodec, image: np.ndarray, *, level: int | None = None) -> bytes:
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
    codec = check_codec(model)
    level = check_level(codec, level)
    image, channels = _check_image(image, codec.input_shape[0])
    height, width = image.shape[:2]
    factor = codec.config.downsampling
    grid = _TileGrid(-(-height // factor), -(-width // factor))
    _check_tile_memory(grid, factor, codec, f"compressing a {width}×{height} image")
    if isinstance(codec, HyperpriorCodec):
        return _compress_hyperprior(codec, image, channels, level, grid)
    tables = tables_for_level(codec, level)
    streams = []
    for latent in _tile_latents(codec, image, grid):
        symbols = codec.quantize_symbols(latent, level)[0]
        streams.append(encode_symbols(symbols.reshape(symbols.shape[0], -1).cpu().numpy(), tables))
    if grid.single:
        payload, version = streams[0], 1
    else:
        payload = b"".join(struct.pack("<I", len(stream)) + stream for stream in streams)
        version = 2
    header = CodecHeader(
        height=height,
        width=width,
        channels=channels,
        level=level,
        model_name=codec.registry_name,
        fingerprint=model_fingerprint(codec),
        format_version=version,
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


def _resolve(model_or_loader: ModelOrLoader, header: CodecHeader) -> AnyCodec:
    model: object
    if model_or_loader is None:
        model = ShippedCodecs()(header)
    elif isinstance(model_or_loader, Codec | HyperpriorCodec):
        model = model_or_loader
    elif isinstance(model_or_loader, str | os.PathLike):
        from aekit.models.files import load_model

        model = load_model(model_or_loader)
    elif callable(model_or_loader):
        model = model_or_loader(header)
    else:
        raise TypeError(
            f"model_or_loader must be a Codec, a callable(header) -> Codec, a model folder or None; "
            f"got {type(model_or_loader).__name__}"
        )
    return check_codec(model)


def decompress_image(
    model_or_loader: ModelOrLoader, data: bytes, *, max_pixels: int | None = None
) -> np.ndarray:
    """Decode ``.aek`` bytes into a uint8 image, tile by tile (memory bounded by the tile, see
    :data:`TILE_MEMORY`, beyond the output image).

    Args:
        model_or_loader: The codec that made the file; a callable given the file's
            :class:`CodecHeader` that returns it (e.g. to look a model up by fingerprint); a model folder;
            or ``None`` for the codec shipped with aekit that made the file (a :class:`ShippedCodecs`
            instance does the same and loads the shipped codecs once for many files).
        data: The file's bytes.
        max_pixels: Refuse files declaring a larger image (a decompression-bomb guard, like Pillow's);
            default :func:`aekit.formats.limits.max_pixels` (``AEKIT_MAX_PIXELS``, 2**27).

    Returns:
        ``(H, W)`` for grey files, ``(H, W, 3)`` for RGB files, uint8.

    Raises:
        CodecFileError: Not an aekit file, truncated, altered (CRC), a newer format version, made by
            a different model (registry name or weights fingerprint differ), too large, or its entropy-coded
            stream runs out before the image does.
    """
    header, payload = unpack(data)
    try:
        check_pixels(header.height, header.width, "the file's image", limit=max_pixels)
        check_allocation(header.height * header.width * header.channels, "the decoded image")
    except DataError as error:
        raise CodecFileError(str(error)) from None
    model = _resolve(model_or_loader, header)
    fingerprint = model_fingerprint(model)
    if header.model_name != model.registry_name or header.fingerprint != fingerprint:
        made_by = (
            f"the file was made by model {header.model_name!r} "
            f"with weights sha256 {header.fingerprint_hex[:16]}…"
        )
        if model_or_loader is None or isinstance(model_or_loader, ShippedCodecs):
            raise CodecFileError(
                f"{made_by}, which is none of the codecs shipped with this aekit; decode it with the model "
                "folder that made it (--model FOLDER) or the aekit version that made it"
            )
        raise CodecFileError(
            f"{made_by}, but the given model is {model.registry_name!r} {fingerprint.hex()[:16]}…; "
            "decode it with the model that made it"
        )
    hyperprior = isinstance(model, HyperpriorCodec)
    if hyperprior != (header.format_version == 3):
        raise CodecFileError(
            f"the file (format {header.format_version}, made by {header.model_name!r}) cannot be decoded "
            f"by a {model.registry_name!r} model"
        )
    if header.level >= model.n_levels:
        raise CodecFileError(f"the file uses quality level {header.level}; the model has {model.n_levels}")
    if header.channels == 3 and model.input_shape[0] != 3:
        raise CodecFileError("the file holds an RGB image but the model is a grey codec")
    factor = model.config.downsampling
    grid = _TileGrid(-(-header.height // factor), -(-header.width // factor))
    try:
        _check_tile_memory(grid, factor, model, "decoding a tile")
    except DataError as error:
        raise CodecFileError(str(error)) from None
    device = model.log_steps.device
    source: _SymbolSource | _HyperLatentSource
    if isinstance(model, HyperpriorCodec):
        source = _HyperLatentSource(model, header, payload, grid)
        latent_window = source.window
    else:
        source = _SymbolSource(header, payload, grid, tables_for_level(model, header.level))
        codec = model

        def latent_window(rows: slice, cols: slice) -> torch.Tensor:
            q = torch.from_numpy(np.ascontiguousarray(source.window(rows, cols))).unsqueeze(0).to(device)
            return codec.dequantize_symbols(q, header.level)

    pixels = np.empty(
        (header.height, header.width) if header.channels == 1 else (header.height, header.width, 3), np.uint8
    )
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for row in range(grid.rows):
                for col in range(grid.cols):
                    _decode_tile(model, header, grid, latent_window, row, col, pixels)
    finally:
        model.train(was_training)
    return pixels


class _SymbolSource:
    """Latent symbols of any window, decoded from the file's stream(s) tile by tile with a small cache.

    Format 1 holds one stream for the whole latent (at most one tile for files aekit writes; larger
    format-1 files are decoded whole after a memory check); format 2 one stream per tile, so a window
    needs the symbols of at most 3 × 3 tiles.
    """

    CACHE = 12

    def __init__(self, header: CodecHeader, payload: bytes, grid: _TileGrid, tables: EntropyTables):
        self.grid, self.tables, self.payload = grid, tables, payload
        self.channels = tables.channels
        self.cache: dict[tuple[int, int], np.ndarray] = {}
        if header.format_version == 1:
            n = grid.latent_h * grid.latent_w
            if n > MAX_FORMAT1_LATENT:
                raise CodecFileError(
                    f"the file declares a {header.width}×{header.height} image in format 1 (one stream), "
                    f"which aekit writes only for images up to {TILE * TILE} latent positions; refusing a "
                    "larger one (re-compress it with this aekit to get the tiled format 2)"
                )
            try:
                check_allocation(n * self.channels * 24, "decoding the symbols of a format-1 file")
            except DataError as error:
                raise CodecFileError(str(error)) from None
            self.whole: np.ndarray | None = self._decode(payload, n).reshape(
                self.channels, grid.latent_h, grid.latent_w
            )
            self.ranges: list[tuple[int, int]] = []
        else:
            self.whole = None
            self.ranges = split_tiles(payload, grid.rows * grid.cols)

    def _decode(self, stream: bytes, n_symbols: int) -> np.ndarray:
        if not stream:
            raise CodecFileError("the payload is empty: the entropy-coded stream runs out")
        try:
            symbols = decode_symbols(stream, self.tables, n_symbols)
        except PayloadError as error:
            raise CodecFileError(f"the payload cannot be decoded: {error}") from None
        available = 32 * (len(stream) // 4)
        if ideal_code_length(symbols, self.tables) > available + 64:
            raise CodecFileError(
                "the entropy-coded stream runs out before the image does (truncated or crafted file)"
            )
        return symbols

    def tile(self, row: int, col: int) -> np.ndarray:
        """Symbols ``(M, h, w)`` of tile ``(row, col)``."""
        rows, cols = self.grid.core(row, col)
        if self.whole is not None:
            return self.whole[:, rows, cols]
        key = (row, col)
        if key not in self.cache:
            if len(self.cache) >= self.CACHE:
                self.cache.pop(next(iter(self.cache)))
            start, stop = self.ranges[row * self.grid.cols + col]
            h, w = rows.stop - rows.start, cols.stop - cols.start
            self.cache[key] = self._decode(self.payload[start:stop], h * w).reshape(self.channels, h, w)
        return self.cache[key]

    def window(self, rows: slice, cols: slice) -> np.ndarray:
        """Symbols ``(M, len(rows), len(cols))`` of a latent window."""
        if self.whole is not None:
            return self.whole[:, rows, cols]
        out = np.empty((self.channels, rows.stop - rows.start, cols.stop - cols.start), np.int64)
        return self.grid.gather(out, rows, cols, self.tile)


def _decode_tile(
    model: AnyCodec,
    header: CodecHeader,
    grid: _TileGrid,
    latent_window: Callable[[slice, slice], torch.Tensor],
    row: int,
    col: int,
    pixels: np.ndarray,
) -> None:
    """Decode tile ``(row, col)`` with its margin; write its pixels (cropped to the image) into ``pixels``."""
    factor = model.config.downsampling
    (core_rows, core_cols), (rows, cols) = grid.core(row, col), grid.window(row, col)
    x_hat = model.decode_latent(latent_window(rows, cols))
    top, left = (core_rows.start - rows.start) * factor, (core_cols.start - cols.start) * factor
    y0, x0 = core_rows.start * factor, core_cols.start * factor
    y1, x1 = min(core_rows.stop * factor, header.height), min(core_cols.stop * factor, header.width)
    x_hat = x_hat[0, :, top : top + (y1 - y0), left : left + (x1 - x0)].float().cpu()
    if header.channels == 1:
        x_hat = x_hat.mean(dim=0, keepdim=True)
    x_hat = torch.nan_to_num(x_hat, nan=0.0).clamp(0, 1)
    tile = torch.round(x_hat * 255).to(torch.uint8).permute(1, 2, 0).numpy()
    pixels[y0:y1, x0:x1] = tile[..., 0] if header.channels == 1 else tile


def _read_image(path: Path, max_pixels: int | None = None) -> np.ndarray:
    """The image file as the codec codes it: 8-bit ``(H, W)`` grey or ``(H, W, 3)`` colour, alpha dropped,
    16-bit values rounded to 8 bits (:func:`~aekit.formats.images.read_image` reads every format)."""
    from aekit.formats.images import read_image

    image = read_image(path, max_pixels)
    if image.bit_depth is None:
        raise DataError(f"{path}: the codec codes 8- or 16-bit images; got a floating-point array")
    if image.channels not in (1, 3):
        raise ShapeError(
            f"{path}: an array must be (H, W) or (C, H, W) with C = 1 or 3, channels first; got shape "
            f"{image.raw.shape}"
        )
    values = image.raw
    if image.bit_depth == 16:
        values = (values.astype(np.uint32) + 128) // 257  # round(v / 257): 65535 → 255, 128 → 0, 129 → 1
    values = values.astype(np.uint8)
    return values[0] if image.channels == 1 else np.ascontiguousarray(values.transpose(1, 2, 0))


def _check_writable(destination: Path) -> None:
    """Refuse, before any work, an output the atomic write could not create: an existing folder, or a path
    below an existing file."""
    if destination.is_dir():
        raise DataError(f"cannot write {destination}: it is an existing folder; give the name of a file")
    blocking = next(
        (parent for parent in destination.parents if parent.exists() and not parent.is_dir()), None
    )
    if blocking is not None:
        raise DataError(f"cannot write {destination}: {blocking} is a file, not a folder")


def compress_file(
    model: AnyCodec,
    source: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    *,
    level: int | None = None,
    max_pixels: int | None = None,
) -> CompressionReport:
    """Compress an image file (PNG or anything Pillow reads; alpha dropped) into an ``.aek`` file.

    Grey modes (``L``, ``LA``, ``1``, 16-bit grey) are coded as grey; everything else as RGB. The codec
    codes 8 bits per channel: 16-bit images are rounded to 8 bits first (as Pillow reads 16-bit colour
    PNG). The output is written
    atomically; it must end in ``.aek`` and may not be the input. Images above ``max_pixels`` (default
    ``AEKIT_MAX_PIXELS``) are refused from their header, before any pixel is decoded.

    Returns:
        A :class:`CompressionReport` with the size and bits per pixel.
    """
    from aekit.formats.files import atomic_write_bytes, check_output_path, check_output_suffix

    source, destination = Path(source), Path(destination)
    check_output_suffix(destination, (".aek",), "compressed images")
    check_output_path(destination, [source])
    _check_writable(destination)
    image = _read_image(source, max_pixels)
    data = compress_image(model, image, level=level)
    atomic_write_bytes(destination, data)
    return CompressionReport.of(source, destination, data)


def decompress_file(
    model_or_loader: ModelOrLoader,
    source: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    *,
    max_pixels: int | None = None,
) -> CompressionReport:
    """Decode an ``.aek`` file into an image file (format from the extension, e.g. ``.png``), atomically.

    The output may not be the input; images above ``max_pixels`` (default ``AEKIT_MAX_PIXELS``) are
    refused from the file's header.

    Raises:
        CodecFileError: As :func:`decompress_image`.
        DataError: ``source`` does not exist.
    """
    from PIL import Image

    from aekit.formats.files import atomic_path, check_output_path

    source, destination = Path(source), Path(destination)
    file_format = Image.registered_extensions().get(destination.suffix.lower())
    if file_format is None or file_format not in Image.SAVE:
        raise DataError(f"cannot tell the image format of {destination} from its extension; use e.g. .png")
    check_output_path(destination, [source])
    _check_writable(destination)
    if source.is_dir():
        raise DataError(f"{source} is a folder, not an .aek file")
    if not source.is_file():
        raise DataError(f"{source} does not exist")
    check_allocation(source.stat().st_size, f"reading {source}")
    data = source.read_bytes()
    image = decompress_image(model_or_loader, data, max_pixels=max_pixels)
    with atomic_path(destination) as temp:
        try:
            Image.fromarray(image).save(temp, format=file_format)
        except (OSError, ValueError) as error:
            raise DataError(f"cannot write {destination} as {file_format}: {error}; use e.g. .png") from None
    return CompressionReport.of(source, destination, data)


def flat_image_file(codec: Codec, height: int, width: int) -> bytes:
    """A valid ``.aek`` file of a ``height × width`` RGB image whose latent is all zeros, written without
    running the analysis transform: large files in an instant, to measure decoding (one entropy-coded
    stream per tile, format 2, or one stream when a single tile holds the latent, format 1)."""
    factor = codec.config.downsampling
    latent_h, latent_w = -(-height // factor), -(-width // factor)
    tables = tables_for_level(codec, 0)
    streams = []
    for row in range(0, latent_h, TILE):
        for col in range(0, latent_w, TILE):
            count = min(TILE, latent_h - row) * min(TILE, latent_w - col)
            streams.append(encode_symbols(np.zeros((codec.latent_channels, count), np.int64), tables))
    if len(streams) == 1:
        payload, version = streams[0], 1
    else:
        payload, version = b"".join(struct.pack("<I", len(s)) + s for s in streams), 2
    header = CodecHeader(height, width, 3, 0, codec.registry_name, model_fingerprint(codec), version)
    return pack(header, payload)


def _hyperprior_segments(
    codec: HyperpriorCodec, latent: torch.Tensor, level: int
) -> tuple[list[list[tuple[int, np.ndarray]]], torch.Tensor]:
    """The two segments of one tile (hyper-latent symbols per channel; latent symbols grouped by scale
    table) and the tile's latent ``ŷ`` as the decoder will see it."""
    height, width = latent.shape[-2:]
    u, z_symbols = codec.hyper_encode(latent, level)
    means, indices = codec.hyper_decode(z_symbols, height, width)
    symbols = codec.quantize_latent(u, means)
    z_flat = z_symbols[0].reshape(z_symbols.shape[1], -1).cpu().numpy()
    first = [(channel, z_flat[channel]) for channel in range(z_flat.shape[0])]
    flat_symbols = symbols[0].cpu().numpy()
    flat_indices = indices[0].cpu().numpy()
    rows = codec.config.hyper_channels
    second = []
    for table in range(codec.config.n_scales):
        selected = flat_symbols[flat_indices == table]
        if selected.size:
            second.append((rows + table, selected))
    return [first, second], codec.dequantize_latent(symbols, means, level)


def _tile_latents(codec: LevelledCodec, image: np.ndarray, grid: _TileGrid) -> Iterator[torch.Tensor]:
    """The analysis latent of each tile's core, row by row: computed on the tile's window (the core and
    its halo) in eval mode without gradients, then cropped to the core."""
    factor = codec.config.downsampling
    device = codec.log_steps.device
    was_training = codec.training
    codec.eval()
    try:
        with torch.no_grad():
            for row in range(grid.rows):
                for col in range(grid.cols):
                    (core_rows, core_cols), (rows, cols) = grid.core(row, col), grid.window(row, col)
                    x = _window_tensor(
                        image,
                        slice(rows.start * factor, rows.stop * factor),
                        slice(cols.start * factor, cols.stop * factor),
                        codec.input_shape[0],
                    )
                    yield codec.encode_latent(x.to(device))[
                        :,
                        :,
                        core_rows.start - rows.start : core_rows.stop - rows.start,
                        core_cols.start - cols.start : core_cols.stop - cols.start,
                    ]
    finally:
        codec.train(was_training)


def _compress_hyperprior(
    codec: HyperpriorCodec, image: np.ndarray, channels: int, level: int, grid: _TileGrid
) -> bytes:
    """Format 3: one length-prefixed stream per tile, each holding the tile's hyper-latent and latent."""
    tables = hyperprior_tables(codec)
    streams = [
        encode_segments(_hyperprior_segments(codec, latent, level)[0], tables)
        for latent in _tile_latents(codec, image, grid)
    ]
    payload = b"".join(struct.pack("<I", len(stream)) + stream for stream in streams)
    header = CodecHeader(
        height=image.shape[0],
        width=image.shape[1],
        channels=channels,
        level=level,
        model_name=codec.registry_name,
        fingerprint=model_fingerprint(codec),
        format_version=3,
    )
    return pack(header, payload)


class _HyperLatentSource:
    """Decoded latents ``ŷ`` of any window of a format-3 file, tile by tile with a small cache.

    Each tile's stream holds its hyper-latent, from which the exact integer hyper-synthesis gives the
    means and scale tables of its latent symbols (see :mod:`aekit.models.hyperprior`).
    """

    CACHE = 12

    def __init__(self, model: HyperpriorCodec, header: CodecHeader, payload: bytes, grid: _TileGrid):
        self.model, self.header, self.grid, self.payload = model, header, grid, payload
        self.tables = hyperprior_tables(model)
        self.ranges = split_tiles(payload, grid.rows * grid.cols)
        self.cache: dict[tuple[int, int], torch.Tensor] = {}
        self.device = model.log_steps.device

    def _decode(self, row: int, col: int) -> torch.Tensor:
        model, config = self.model, self.model.config
        rows, cols = self.grid.core(row, col)
        height, width = rows.stop - rows.start, cols.stop - cols.start
        z_height, z_width = -(-height // 4), -(-width // 4)
        start, stop = self.ranges[row * self.grid.cols + col]
        try:
            decoder = SegmentDecoder(self.payload[start:stop], self.tables)
            z_parts = decoder.segment([(c, z_height * z_width) for c in range(config.hyper_channels)])
            z_symbols = torch.from_numpy(np.stack(z_parts)).view(1, config.hyper_channels, z_height, z_width)
            means, indices = model.hyper_decode(z_symbols.to(self.device), height, width)
            flat_indices = indices[0].cpu().numpy()
            counts = np.bincount(flat_indices.reshape(-1), minlength=config.n_scales)
            plan = [(config.hyper_channels + t, int(n)) for t, n in enumerate(counts.tolist()) if n]
            parts = decoder.segment(plan)
            decoder.finish()
        except PayloadError as error:
            raise CodecFileError(f"the payload of tile {row},{col} cannot be decoded: {error}") from None
        symbols = np.empty(flat_indices.shape, np.int64)
        for (table_row, _), values in zip(plan, parts, strict=True):
            symbols[flat_indices == table_row - config.hyper_channels] = values
        q = torch.from_numpy(symbols).unsqueeze(0).to(self.device)
        return model.dequantize_latent(q, means, self.header.level)[0]

    def tile(self, row: int, col: int) -> torch.Tensor:
        """Latent ``ŷ`` ``(M, h, w)`` of tile ``(row, col)``."""
        key = (row, col)
        if key not in self.cache:
            if len(self.cache) >= self.CACHE:
                self.cache.pop(next(iter(self.cache)))
            self.cache[key] = self._decode(row, col)
        return self.cache[key]

    def window(self, rows: slice, cols: slice) -> torch.Tensor:
        """Latent ``ŷ`` ``(1, M, len(rows), len(cols))`` of a latent window."""
        out = torch.empty(
            (self.model.latent_channels, rows.stop - rows.start, cols.stop - cols.start), device=self.device
        )
        return self.grid.gather(out, rows, cols, self.tile).unsqueeze(0)
