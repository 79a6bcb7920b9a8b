"""Data larger than memory: chunked .npy/Parquet reads, streamed encode in flat memory, NpyStream training."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from aekit.errors import DataError
from aekit.formats.streaming import NpyRows, NpyStream, open_chunks
from aekit.models import create
from aekit.models.files import save_model
from aekit.training import TrainConfig, Trainer


def test_npy_rows_reads_exact_ranges(tmp_path: Path) -> None:
    array = np.arange(7 * 3 * 2, dtype=np.float64).reshape(7, 3, 2)
    np.save(tmp_path / "a.npy", array)
    rows = NpyRows.open(tmp_path / "a.npy")
    assert len(rows) == 7 and rows.shape == (7, 3, 2)
    np.testing.assert_array_equal(rows.read(2, 5), array[2:5])
    np.testing.assert_array_equal(np.concatenate(list(rows.chunks(3))), array)


def test_npy_rows_errors(tmp_path: Path) -> None:
    np.save(tmp_path / "f.npy", np.asfortranarray(np.ones((3, 4))))
    with pytest.raises(DataError, match="Fortran order"):
        NpyRows.open(tmp_path / "f.npy")
    np.save(tmp_path / "t.npy", np.ones((100, 4)))
    data = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(data[:-50])
    with pytest.raises(DataError, match="is truncated"):
        NpyRows.open(tmp_path / "t.npy")
    nan = np.ones((4, 2))
    nan[2, 1] = np.nan
    np.save(tmp_path / "n.npy", nan)
    with pytest.raises(DataError, match=r"rows 0\.\.4 contain NaN"):
        NpyRows.open(tmp_path / "n.npy").read(0, 4)


def test_parquet_chunks(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10) * 2})
    frame.to_parquet(tmp_path / "t.parquet", row_group_size=4)
    n_rows, chunks = open_chunks(tmp_path / "t.parquet", rows_per_chunk=3)
    assert n_rows == 10
    np.testing.assert_array_equal(np.concatenate(list(chunks)), frame.to_numpy(dtype=np.float32))
    frame.assign(c=["x"] * 10).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(DataError, match="column 'c' is not numeric"):
        list(open_chunks(tmp_path / "bad.parquet")[1])


def test_npy_stream_trains_like_a_dataset(tmp_path: Path) -> None:
    x = torch.rand(300, 6, generator=torch.Generator().manual_seed(0))
    np.save(tmp_path / "x.npy", x.numpy())
    stream = NpyStream(str(tmp_path / "x.npy"), chunk_rows=64)
    seen = torch.cat(
        [b for b, _ in stream.batches(32, shuffle=True, generator=torch.Generator().manual_seed(1))]
    )
    assert sorted(seen[:, 0].tolist()) == sorted(x[:, 0].tolist())  # every row once per epoch
    model = create("mlp", input_shape=(6,), latent_dim=2, hidden_dims=[8], seed=0)
    history = Trainer(TrainConfig(epochs=3, batch_size=32, learning_rate=1e-2)).fit(model, stream)
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_a_streamed_stack_of_grey_images_has_a_channel_axis(tmp_path: Path) -> None:
    x = np.random.default_rng(0).random((40, 4, 5), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    stream = NpyStream(str(tmp_path / "x.npy"), chunk_rows=16)
    assert stream.sample_shape == (1, 4, 5)
    np.testing.assert_array_equal(torch.cat([b for b, _ in stream.batches(8)]).numpy(), x[:, None])
    model = create("conv", input_shape=(1, 4, 5), latent_dim=2, channels=[4], seed=0)
    Trainer(TrainConfig(epochs=1, batch_size=8)).fit(model, stream)


def test_npy_stream_with_loader_workers(tmp_path: Path) -> None:
    x = np.random.default_rng(0).random((200, 5), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    stream = NpyStream(str(tmp_path / "x.npy"), chunk_rows=50, num_workers=2)
    seen = torch.cat([b for b, _ in stream.batches(20)])
    assert sorted(seen[:, 0].tolist()) == sorted(x[:, 0].tolist())


MEASURE = """
import resource, sys
from typer.testing import CliRunner
from aekit.cli import app
result = CliRunner().invoke(app, ["--quiet", "encode", sys.argv[1], "--model", sys.argv[2], "-o", sys.argv[3],
                                  "--chunk-rows", "2000"])
assert result.exit_code == 0, result.output
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.timeout(300)
def test_streamed_encode_memory_stays_flat_as_the_input_grows(tmp_path: Path) -> None:
    model = create("mlp", input_shape=(784,), latent_dim=8, hidden_dims=[32], seed=0)
    save_model(model, tmp_path / "model")
    base = np.random.default_rng(0).random((4000, 784), dtype=np.float32)  # 12.5 MB
    peaks = {}
    for factor in (1, 16):
        path = tmp_path / f"x{factor}.npy"
        with open(path, "wb") as handle:
            np.lib.format.write_array_header_2_0(
                handle, {"descr": "<f4", "fortran_order": False, "shape": (4000 * factor, 784)}
            )
            for _ in range(factor):
                base.tofile(handle)
        out = tmp_path / f"z{factor}.npy"
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, str(path), str(tmp_path / "model"), str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks[factor] = int(result.stdout.strip().splitlines()[-1]) / 1024  # MiB
        assert np.load(out).shape == (4000 * factor, 8)
        path.unlink()
    # 16× the input (200 MB) may not add more than a small fraction of it to the peak
    assert peaks[16] - peaks[1] < 40, peaks
    expected = model.encode(torch.from_numpy(base[:5])).detach().numpy()
    np.testing.assert_allclose(np.load(tmp_path / "z16.npy")[4000:4005], expected, rtol=1e-5, atol=1e-6)
