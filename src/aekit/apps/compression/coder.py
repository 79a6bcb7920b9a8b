"""Entropy coding of integer latent symbols with ``constriction``'s ANS coder and integer tables.

Each channel of a quality level has an integer frequency table (``2 ** precision`` in total, computed
once from the learned density by :meth:`aekit.models.compression.Codec.update_tables` and saved with the
weights). The coder sees those integers only (passed as exactly representable float64 values), so the
encoder and decoder build identical models on any machine.

Stream layout (decode order): for each channel ``c = 0 … M−1`` its ``n`` symbols (index into the table;
the last index is the *escape* symbol), then, for every escaped value in that order, its zig-zag coded
distance to the table range as two uniform 16-bit halves. ANS is a stack, so encoding runs backwards.
"""

from __future__ import annotations

import dataclasses

import constriction
import numpy as np
import torch

from aekit.errors import DataError, ShapeError
from aekit.models.compression import Codec
from aekit.models.hyperprior import HyperpriorCodec

__all__ = [
    "EntropyTables",
    "SegmentDecoder",
    "decode_symbols",
    "encode_segments",
    "encode_symbols",
    "hyperprior_tables",
    "ideal_code_length",
    "tables_for_level",
]

_ESCAPE_LIMIT = 1 << 31
_HALF = 1 << 16


@dataclasses.dataclass(frozen=True)
class EntropyTables:
    """Integer probability tables of one quality level.

    Attributes:
        frequencies: ``(M, L)`` int64; row ``c`` uses its first ``lengths[c] + 1`` entries (the last one is
            the escape symbol), each ≥ 1, summing to ``2 ** precision``.
        offsets: ``(M,)`` symbol value of table index 0.
        lengths: ``(M,)`` number of regular (non-escape) symbols.
        precision: Bits of the tables.
    """

    frequencies: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    precision: int
    _models: list = dataclasses.field(default_factory=list, repr=False, compare=False)

    @property
    def channels(self) -> int:
        """Number of channels ``M``."""
        return int(self.frequencies.shape[0])

    def model(self, channel: int) -> constriction.stream.model.Categorical:
        """The constriction model of ``channel`` (built once, then cached)."""
        if not self._models:
            for row, length in zip(self.frequencies, self.lengths.tolist(), strict=True):
                probabilities = row[: length + 1].astype(np.float64)
                self._models.append(constriction.stream.model.Categorical(probabilities, perfect=False))
        return self._models[channel]


def tables_for_level(model: Codec, level: int) -> EntropyTables:
    """Read the integer tables of ``level`` from a :class:`~aekit.models.compression.Codec`."""
    frequencies = model.cdf_tables[level].to(torch.int64).numpy()
    return EntropyTables(
        frequencies=frequencies,
        offsets=model.cdf_offsets[level].to(torch.int64).numpy(),
        lengths=model.cdf_lengths[level].to(torch.int64).numpy(),
        precision=int(model.config.table_precision),
    )


def _split(symbols: np.ndarray, tables: EntropyTables) -> tuple[np.ndarray, np.ndarray]:
    """Table indices ``(M, n)`` and the zig-zag escape values (in decode order) of symbols ``(M, n)``."""
    offsets = tables.offsets.reshape(-1, 1)
    lengths = tables.lengths.reshape(-1, 1)
    index = symbols - offsets
    below = index < 0
    above = index >= lengths
    escaped = below | above
    # Distance beyond the range, zig-zag coded: 2e for below, 2e + 1 for above.
    distance = np.where(below, -index - 1, index - lengths)
    zigzag = 2 * distance + above
    index = np.where(escaped, lengths, index)
    return index.astype(np.int32), zigzag[escaped].astype(np.int64)


def encode_symbols(symbols: np.ndarray, tables: EntropyTables) -> bytes:
    """Entropy-code integer symbols ``(M, n)`` (channel-major) with ``tables``; returns the payload.

    Raises:
        ShapeError: ``symbols`` is not ``(M, n)`` with ``M = tables.channels``.
        DataError: A symbol lies more than ``2 ** 30`` steps outside its table (non-finite latents).
    """
    symbols = np.asarray(symbols)
    if symbols.ndim != 2 or symbols.shape[0] != tables.channels:
        raise ShapeError(f"symbols must have shape ({tables.channels}, n); got {symbols.shape}")
    index, zigzag = _split(symbols.astype(np.int64), tables)
    if zigzag.size and int(zigzag.max()) >= _ESCAPE_LIMIT:
        raise DataError("a latent value is too far outside the entropy model's range to code (|q| > 2**30)")
    coder = constriction.stream.stack.AnsCoder()
    if zigzag.size:
        halves = np.stack([zigzag & (_HALF - 1), zigzag >> 16], axis=1).reshape(-1).astype(np.int32)
        coder.encode_reverse(halves, constriction.stream.model.Uniform(_HALF))
    for channel in range(tables.channels - 1, -1, -1):
        coder.encode_reverse(index[channel], tables.model(channel))
    return coder.get_compressed().astype("<u4").tobytes()


class PayloadError(DataError):
    """The payload cannot be decoded with these tables (the caller turns it into its file error)."""


def decode_symbols(payload: bytes, tables: EntropyTables, n_symbols: int) -> np.ndarray:
    """Decode ``n_symbols`` symbols per channel; returns ``(M, n_symbols)`` int64.

    Raises:
        PayloadError: The payload length is not a whole number of 32-bit words, the coder rejects it,
            or words are left over (the payload does not belong to these tables and this shape).
    """
    if len(payload) % 4:
        raise PayloadError(f"payload length {len(payload)} is not a multiple of 4 bytes")
    words = np.frombuffer(payload, dtype="<u4").astype(np.uint32)
    try:
        coder = constriction.stream.stack.AnsCoder(words)
        index = np.empty((tables.channels, n_symbols), dtype=np.int64)
        for channel in range(tables.channels):
            index[channel] = coder.decode(tables.model(channel), n_symbols)
        escaped = index == tables.lengths.reshape(-1, 1)
        n_escaped = int(escaped.sum())
        zigzag = np.zeros(0, dtype=np.int64)
        if n_escaped:
            halves = coder.decode(constriction.stream.model.Uniform(_HALF), 2 * n_escaped).astype(np.int64)
            zigzag = halves[0::2] | (halves[1::2] << 16)
        empty = coder.is_empty()
    except (ValueError, RuntimeError, OverflowError, AssertionError) as error:
        raise PayloadError(f"the entropy coder rejected the payload ({error})") from None
    if not empty:
        raise PayloadError("the payload holds more data than the image needs (wrong model or corrupt file)")
    symbols = index + tables.offsets.reshape(-1, 1)
    if n_escaped:
        rows, cols = np.nonzero(escaped)
        distance = zigzag >> 1
        above = (zigzag & 1).astype(bool)
        lengths, offsets = tables.lengths[rows], tables.offsets[rows]
        symbols[rows, cols] = np.where(above, offsets + lengths + distance, offsets - 1 - distance)
    return symbols


def ideal_code_length(symbols: np.ndarray, tables: EntropyTables) -> float:
    """Bits an ideal coder needs for ``symbols`` ``(M, n)`` with these tables (escapes: table + 32 bits)."""
    index, zigzag = _split(np.asarray(symbols).astype(np.int64), tables)
    rows = np.arange(tables.channels).reshape(-1, 1)
    frequencies = tables.frequencies[rows, index].astype(np.float64)
    return float(-np.log2(frequencies / (1 << tables.precision)).sum() + 32 * zigzag.size)


def hyperprior_tables(model: HyperpriorCodec) -> EntropyTables:
    """The integer tables of a :class:`~aekit.models.hyperprior.HyperpriorCodec` as one set of rows:
    rows ``0 … Mz−1`` code the hyper-latent channels, rows ``Mz + j`` the latent elements whose scale
    index is ``j``."""
    z_tables = model.z_tables.to(torch.int64).cpu()
    scale_tables = model.scale_tables.to(torch.int64).cpu()
    width = max(z_tables.shape[1], scale_tables.shape[1])
    frequencies = torch.cat(
        [
            torch.nn.functional.pad(z_tables, (0, width - z_tables.shape[1])),
            torch.nn.functional.pad(scale_tables, (0, width - scale_tables.shape[1])),
        ]
    )
    return EntropyTables(
        frequencies=frequencies.numpy(),
        offsets=torch.cat([model.z_offsets, model.scale_offsets]).to(torch.int64).cpu().numpy(),
        lengths=torch.cat([model.z_lengths, model.scale_lengths]).to(torch.int64).cpu().numpy(),
        precision=int(model.config.table_precision),
    )


Segment = list[tuple[int, np.ndarray]]
"""Rows and 1-D symbol arrays coded one after the other, then the segment's escaped values."""


def encode_segments(segments: list[Segment], tables: EntropyTables) -> bytes:
    """Entropy-code segments in decode order: each segment's ``(row, symbols)`` parts with table ``row``,
    then the segment's escapes (zig-zag distance beyond the table, two uniform 16-bit halves each).

    A decoder can act on one segment before reading the next (the hyperprior decodes ``z``, computes the
    scales of ``y``, then decodes ``y``).

    Raises:
        DataError: A symbol lies more than ``2 ** 30`` steps outside its table (non-finite latents).
    """
    coder = constriction.stream.stack.AnsCoder()
    for segment in reversed(segments):
        parts = []
        escapes = []
        for row, symbols in segment:
            symbols = np.asarray(symbols, dtype=np.int64).reshape(-1)
            index = symbols - tables.offsets[row]
            below, above = index < 0, index >= tables.lengths[row]
            escaped = below | above
            distance = np.where(below, -index - 1, index - tables.lengths[row])
            escapes.append((2 * distance + above)[escaped])
            parts.append((row, np.where(escaped, tables.lengths[row], index).astype(np.int32)))
        zigzag = np.concatenate(escapes) if escapes else np.zeros(0, np.int64)
        if zigzag.size and int(zigzag.max()) >= _ESCAPE_LIMIT:
            raise DataError(
                "a latent value is too far outside the entropy model's range to code (|q| > 2**30)"
            )
        if zigzag.size:
            halves = np.stack([zigzag & (_HALF - 1), zigzag >> 16], axis=1).reshape(-1).astype(np.int32)
            coder.encode_reverse(halves, constriction.stream.model.Uniform(_HALF))
        for row, index in reversed(parts):
            if index.size:
                coder.encode_reverse(index, tables.model(row))
    return coder.get_compressed().astype("<u4").tobytes()


class SegmentDecoder:
    """Decodes what :func:`encode_segments` wrote, one segment at a time.

    Raises (from every method):
        PayloadError: The coder rejects the payload, or (:meth:`finish`) words are left over, or the
            symbols need more bits than the payload holds (truncated or crafted file).
    """

    def __init__(self, payload: bytes, tables: EntropyTables) -> None:
        if len(payload) % 4:
            raise PayloadError(f"payload length {len(payload)} is not a multiple of 4 bytes")
        self.tables = tables
        self.available_bits = 8 * len(payload)
        self.used_bits = 0.0
        words = np.frombuffer(payload, dtype="<u4").astype(np.uint32)
        try:
            self.coder = constriction.stream.stack.AnsCoder(words)
        except (ValueError, RuntimeError, OverflowError, AssertionError) as error:
            raise PayloadError(f"the entropy coder rejected the payload ({error})") from None

    def segment(self, parts: list[tuple[int, int]]) -> list[np.ndarray]:
        """Decode one segment: ``count`` symbols with table ``row`` for each ``(row, count)``."""
        tables = self.tables
        try:
            indices = [
                self.coder.decode(tables.model(row), count).astype(np.int64)
                if count
                else np.zeros(0, np.int64)
                for row, count in parts
            ]
            escaped = [index == tables.lengths[row] for (row, _), index in zip(parts, indices, strict=True)]
            n_escaped = int(sum(int(e.sum()) for e in escaped))
            zigzag = np.zeros(0, dtype=np.int64)
            if n_escaped:
                halves = self.coder.decode(constriction.stream.model.Uniform(_HALF), 2 * n_escaped)
                halves = halves.astype(np.int64)
                zigzag = halves[0::2] | (halves[1::2] << 16)
        except (ValueError, RuntimeError, OverflowError, AssertionError) as error:
            raise PayloadError(f"the entropy coder rejected the payload ({error})") from None
        symbols = []
        position = 0
        for (row, _), index, escape in zip(parts, indices, escaped, strict=True):
            frequencies = tables.frequencies[row, index].astype(np.float64)
            self.used_bits += float(-np.log2(frequencies / (1 << tables.precision)).sum())
            values = index + tables.offsets[row]
            n = int(escape.sum())
            if n:
                code = zigzag[position : position + n]
                position += n
                distance, above = code >> 1, (code & 1).astype(bool)
                offset, length = tables.offsets[row], tables.lengths[row]
                values[escape] = np.where(above, offset + length + distance, offset - 1 - distance)
            symbols.append(values)
        self.used_bits += 32 * n_escaped
        # constriction re-quantises the tables slightly differently from these integers, so the ideal
        # length may exceed the real one a little; a stream that ran out needs far more.
        if self.used_bits > 1.05 * self.available_bits + 1024:
            raise PayloadError(
                "the entropy-coded stream runs out before the image does (truncated or crafted)"
            )
        return symbols

    def finish(self) -> None:
        """Check that every word of the payload was used."""
        if not self.coder.is_empty():
            raise PayloadError(
                "the payload holds more data than the image needs (wrong model or corrupt file)"
            )
