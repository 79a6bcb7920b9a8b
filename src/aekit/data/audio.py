"""Sound as images: a folder of audio files becomes log-magnitude spectrograms the image models embed.

Each file is read with ``soundfile`` (the optional ``aekit[audio]`` extra), mixed to mono, optionally
resampled (``scipy.signal.resample_poly``), cut or padded to a fixed length, and turned into a power
spectrogram by a Hann-windowed short-time Fourier transform (``scipy.signal.ShortTimeFFT``). Power is
expressed in decibels relative to the clip's loudest bin and clipped to ``[−top_db, 0]``, so every
spectrogram shares the fixed range ``(−top_db, 0)`` that ``Normalizer.range`` maps to [0, 1]. Rows are
frequencies with the highest at the top (row 0), columns are time frames, as a spectrogram is drawn.

Sub-folders name classes, as for image folders.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch

from aekit.data.loaded import LoadedDataset, check_size
from aekit.data.tensors import TensorData
from aekit.errors import ConfigError, DataError
from aekit.formats.folders import labelled_files
from aekit.formats.suffixes import suffixes

__all__ = ["load_audio_folder", "log_spectrogram"]


def _soundfile():
    try:
        import soundfile
    except ImportError:
        raise ImportError(
            "reading audio needs the optional soundfile package: pip install 'aekit[audio]'"
        ) from None
    return soundfile


def log_spectrogram(
    signal: np.ndarray,
    sample_rate: float,
    *,
    n_fft: int = 256,
    hop_length: int | None = None,
    top_db: float = 80.0,
) -> np.ndarray:
    """Log-power spectrogram ``(n_fft // 2 + 1, n_frames)`` in dB relative to its peak, in ``[−top_db, 0]``.

    ``S_db = max(10 log10(P / max P), −top_db)`` with ``P = |STFT(x)|²`` (Hann window of ``n_fft``
    samples, hop ``hop_length``, default ``n_fft // 4``); row 0 is the highest frequency. A silent
    signal gives ``−top_db`` everywhere.
    """
    from scipy.signal import ShortTimeFFT
    from scipy.signal.windows import hann

    samples = np.asarray(signal, dtype=np.float64).ravel()
    hop = hop_length or max(1, n_fft // 4)
    if len(samples) < n_fft:
        samples = np.pad(samples, (0, n_fft - len(samples)))
    transform = ShortTimeFFT(hann(n_fft, sym=False), hop=hop, fs=float(sample_rate))
    power = transform.spectrogram(samples)
    peak = float(power.max())
    if peak <= 0 or not math.isfinite(peak):
        return np.full(power.shape, -top_db, dtype=np.float32)
    decibels = 10.0 * np.log10(np.maximum(power / peak, 10.0 ** (-top_db / 10.0)))
    return np.ascontiguousarray(decibels[::-1], dtype=np.float32)


def _read(path: Path, sample_rate: int | None) -> tuple[np.ndarray, int]:
    soundfile = _soundfile()
    try:
        data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    except (RuntimeError, TypeError, ValueError) as error:  # LibsndfileError derives from RuntimeError
        raise DataError(f"cannot read audio file {path}: {error}") from None
    if data.size == 0:
        raise DataError(f"audio file {path} is empty (0 samples)")
    if not np.isfinite(data).all():
        raise DataError(f"audio file {path} contains NaN or infinite samples")
    mono = data.mean(axis=1)
    if sample_rate is not None and rate != sample_rate:
        from scipy.signal import resample_poly

        common = math.gcd(int(rate), int(sample_rate))
        mono = resample_poly(mono, int(sample_rate) // common, int(rate) // common)
        rate = sample_rate
    return mono, int(rate)


def load_audio_folder(
    path: str | os.PathLike[str],
    *,
    duration: float | None = None,
    sample_rate: int | None = None,
    n_fft: int = 256,
    hop_length: int | None = None,
    top_db: float = 80.0,
    image_size: tuple[int, int] | None = (32, 32),
) -> LoadedDataset:
    """Load every audio file of a folder as a log-spectrogram image ``(1, H, W)``.

    Args:
        path: The folder (class sub-folders give labels, as for images).
        duration: Cut or zero-pad every clip to this many seconds (default: the longest clip).
        sample_rate: Resample every clip to this rate; needed when the files' rates differ.
        n_fft: STFT window length in samples (frequency resolution).
        hop_length: STFT hop in samples (default ``n_fft // 4``).
        top_db: Dynamic range kept below each clip's loudest bin.
        image_size: Resize spectrograms to ``(H, W)`` (bilinear, antialiased); None keeps
            ``(n_fft // 2 + 1, n_frames)``.

    Returns:
        Images ``(N, 1, H, W)`` in dB, ``value_range=(−top_db, 0)``, labels from sub-folders (or None),
        ``class_names``.

    Raises:
        DataError: Missing or empty folder, an unreadable file (named), or differing sample rates without
            ``sample_rate``.
        ImportError: soundfile is not installed.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"audio folder {folder} does not exist or is not a folder")
    if isinstance(n_fft, bool) or not isinstance(n_fft, int) or n_fft < 8:
        raise ConfigError(f"n_fft must be an integer ≥ 8; got {n_fft!r}")
    if hop_length is not None and (
        isinstance(hop_length, bool) or not isinstance(hop_length, int) or hop_length < 1
    ):
        raise ConfigError(f"hop_length must be a positive integer; got {hop_length!r}")
    if not top_db > 0:
        raise ConfigError(f"top_db must be > 0; got {top_db!r}")
    if duration is not None and not duration > 0:
        raise ConfigError(f"duration must be > 0 seconds; got {duration!r}")
    size = None if image_size is None else check_size(image_size, "image_size")
    files, labels, class_names = labelled_files(folder, "audio", what="audio files")
    if not files:
        raise DataError(f"audio folder {folder} has no {'/'.join(suffixes('audio'))} files")
    clips = [_read(file, sample_rate) for file in files]
    rates = {rate for _, rate in clips}
    if len(rates) > 1:
        raise DataError(
            f"audio files in {folder} have different sample rates {sorted(rates)}; pass sample_rate= to "
            "resample them to one"
        )
    rate = rates.pop()
    length = round(duration * rate) if duration is not None else max(len(c) for c, _ in clips)
    spectrograms = []
    for samples, _ in clips:
        fitted = samples[:length] if len(samples) >= length else np.pad(samples, (0, length - len(samples)))
        spectrograms.append(log_spectrogram(fitted, rate, n_fft=n_fft, hop_length=hop_length, top_db=top_db))
    x = torch.from_numpy(np.stack(spectrograms)).unsqueeze(1)
    if size is not None and tuple(x.shape[-2:]) != size:
        # Antialiased bilinear weights are non-negative, so values stay inside [−top_db, 0].
        x = torch.nn.functional.interpolate(
            x, size=size, mode="bilinear", antialias=True, align_corners=False
        )
        x = x.clamp(-top_db, 0.0)
    y = None if labels is None else torch.tensor(labels, dtype=torch.int64)
    return LoadedDataset(TensorData(x.float(), y), "image", (-float(top_db), 0.0), None, class_names)
