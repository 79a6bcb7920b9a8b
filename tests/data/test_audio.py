"""Sound as spectrogram images: synthetic WAV folders load, embed and cluster by kind of sound."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from aekit.data.audio import load_audio_folder, log_spectrogram

soundfile = pytest.importorskip("soundfile", reason="the audio loader needs the optional soundfile package")

RATE = 8000


def _write_sounds(folder: Path, n_per_kind: int = 12, seed: int = 0) -> None:
    """Steady low tones (300–500 Hz) in ``tones/``, rising chirps (1–3.5 kHz) in ``chirps/``, with noise."""
    rng = np.random.default_rng(seed)
    time = np.arange(int(0.5 * RATE)) / RATE
    for kind in ("tones", "chirps"):
        (folder / kind).mkdir(parents=True)
        for index in range(n_per_kind):
            if kind == "tones":
                wave = np.sin(2 * np.pi * rng.uniform(300, 500) * time)
            else:
                start, end = rng.uniform(1000, 1500), rng.uniform(3000, 3500)
                wave = np.sin(2 * np.pi * (start * time + 0.5 * (end - start) / time[-1] * time**2))
            wave = 0.5 * wave * rng.uniform(0.3, 1.0) + 0.01 * rng.normal(size=len(time))
            soundfile.write(folder / kind / f"{kind}_{index:02d}.wav", wave.astype(np.float32), RATE)


def test_log_spectrogram_puts_a_tone_in_its_frequency_row() -> None:
    time = np.arange(RATE) / RATE
    spectrogram = log_spectrogram(np.sin(2 * np.pi * 1000 * time), RATE, n_fft=256)
    assert spectrogram.shape[0] == 129 and spectrogram.max() == 0.0 and spectrogram.min() >= -80.0
    # 1 kHz is bin 1000 / 8000 · 256 = 32; row 0 is the highest frequency
    assert int(spectrogram.mean(axis=1).argmax()) == 128 - 32
    assert (log_spectrogram(np.zeros(500), RATE) == -80.0).all()


def test_wav_folder_becomes_labelled_images_in_a_fixed_range(tmp_path: Path) -> None:
    _write_sounds(tmp_path, n_per_kind=3)
    loaded = load_audio_folder(tmp_path, image_size=(16, 24))
    assert loaded.data.x.shape == (6, 1, 16, 24) and loaded.class_names == ("chirps", "tones")
    assert loaded.data.y.tolist() == [0, 0, 0, 1, 1, 1]
    assert loaded.value_range == (-80.0, 0.0)
    assert float(loaded.data.x.min()) >= -80.0 and float(loaded.data.x.max()) <= 0.0


def test_audio_errors_name_the_file(tmp_path: Path) -> None:
    from aekit.errors import DataError

    _write_sounds(tmp_path, n_per_kind=1)
    (tmp_path / "tones" / "broken.wav").write_bytes(b"RIFF not really audio")
    with pytest.raises(DataError, match=r"cannot read audio file .*broken\.wav"):
        load_audio_folder(tmp_path)
    (tmp_path / "tones" / "broken.wav").unlink()
    soundfile.write(tmp_path / "tones" / "fast.wav", np.zeros(1600, dtype=np.float32), 16000)
    with pytest.raises(DataError, match=r"different sample rates \[8000, 16000\]"):
        load_audio_folder(tmp_path)
    assert load_audio_folder(tmp_path, sample_rate=RATE).data.x.shape[0] == 3
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty has no \.wav"):
        load_audio_folder(tmp_path / "empty")


def test_two_kinds_of_sound_fall_into_two_clusters_of_codes(tmp_path: Path) -> None:
    from aekit.apps.features import cluster_codes
    from aekit.data.normalization import Normalizer
    from aekit.models import create
    from aekit.training.fit import fit

    _write_sounds(tmp_path)
    loaded = load_audio_folder(tmp_path, image_size=(16, 16))
    normalizer = Normalizer.range(*loaded.value_range)
    x = normalizer.transform(loaded.data.x)
    model = create(
        "mlp", input_shape=(1, 16, 16), latent_dim=4, hidden_dims=(32,), output_activation="sigmoid", seed=0
    )
    fit(model, x, epochs=30, batch_size=8, learning_rate=3e-3, device="cpu")
    model.eval()
    with torch.no_grad():
        codes = model.encode(x)
    result = cluster_codes(codes, 2, labels=loaded.data.y)
    assert result.scores is not None and result.scores.accuracy == 1.0
