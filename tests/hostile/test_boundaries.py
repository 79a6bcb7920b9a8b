"""The error boundary, run-folder lock and overwrite guard, temp-file cleanup, and bounded .aek decoding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aekit.cli import app
from aekit.errors import DataError
from aekit.formats.files import FolderLock

TRAIN = ["--quiet", "train", "--model", "mlp", "--set", "hidden_dims=[16]", "--epochs", "1", "--no-report"]


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip().lower().startswith("error:")]


def test_a_second_run_into_a_locked_folder_is_refused(assets: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    with FolderLock(run, "training run"):  # what a running `aekit train` holds
        result = CliRunner().invoke(app, [*TRAIN, "--dataset", str(assets / "data.npy"), "-o", str(run)])
    assert result.exit_code == 2
    expected = f"error: another aekit training run is writing to {run} (process {os.getpid()}); wait"
    assert [line[: len(expected)] for line in _error_lines(result.stderr)] == [expected]
    assert not (run / "settings.json").exists()


def test_the_lock_dies_with_its_process(tmp_path: Path) -> None:
    code = (
        "import os; from aekit.formats.files import FolderLock; "
        f"FolderLock({str(tmp_path)!r}).__enter__(); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with FolderLock(tmp_path):  # no stale lock after the holder exited without releasing it
        pass


def test_a_finished_run_is_kept_resumed_cleanly_or_replaced_with_overwrite(
    assets: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    command = [*TRAIN, "--dataset", str(assets / "data.npy"), "-o", str(run)]
    assert CliRunner().invoke(app, command).exit_code == 0
    settings = (run / "settings.json").read_bytes()
    again = CliRunner().invoke(app, command)
    assert again.exit_code == 2 and "pass --overwrite to replace it, --resume to continue it" in again.stderr
    assert (run / "settings.json").read_bytes() == settings
    # What kill -9 between a picture's temp write and its rename leaves behind (files.atomic_path names).
    left = [run / ".reconstructions.png.k9x2a1.tmp", run / "model" / ".config.json.q7.tmp"]
    for path in left:
        path.write_bytes(b"half a picture")
    resumed = CliRunner().invoke(app, [*command, "--resume"])
    assert resumed.exit_code == 0, resumed.stderr
    assert not list(run.rglob(".*.tmp"))
    assert CliRunner().invoke(app, [*command, "--overwrite", "--seed", "3"]).exit_code == 0
    assert json.loads((run / "settings.json").read_text())["train"]["seed"] == 3


def test_an_unexpected_exception_is_one_bug_report_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import aekit.apps.compression as compression

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("oops\nsecond line")

    monkeypatch.setattr(compression, "compress_file", broken)
    image = tmp_path / "a.png"
    image.write_bytes(b"")
    result = CliRunner().invoke(app, ["compress", str(image), "-o", str(tmp_path / "a.aek")])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr  # nothing before or after the one line
    (line,) = _error_lines(result.stderr)
    assert "internal error in aekit compress (KeyError: 'oops\\nsecond line')" in line
    assert "run with --debug for the traceback" in line
    debug = CliRunner().invoke(app, ["--debug", "compress", str(image), "-o", str(tmp_path / "a.aek")])
    assert isinstance(debug.exception, KeyError)


def test_library_warnings_do_not_precede_the_error_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import aekit.apps.compression as compression

    def noisy(*args: object, **kwargs: object) -> None:
        import numpy as np

        np.float32(1e38) * np.float32(1e38)  # numpy's overflow RuntimeWarning
        warnings.warn("Pillow says something", DeprecationWarning, stacklevel=1)
        raise DataError("the real problem")

    monkeypatch.setattr(compression, "compress_file", noisy)
    result = CliRunner().invoke(app, ["compress", str(tmp_path / "a.png"), "-o", str(tmp_path / "a.aek")])
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'a.png'}: the real problem\n"  # the file named, once


def test_a_successful_table_run_prints_no_library_warnings(assets: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--dataset",
            str(assets / "table.csv"),
            "--model",
            "mlp",
            "--epochs",
            "1",
            "-o",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "Warning" not in result.stderr and "warning:" not in result.stderr


_MEASURE = r"""
import json, sys
import torch
torch.set_num_threads(1)
from aekit.apps.compression import decompress_image
from aekit.models.files import load_model


def status(key):
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(key))


codec = load_model(sys.argv[1])
data = open(sys.argv[2], "rb").read()
decompress_image(codec, open(sys.argv[3], "rb").read())  # warm-up: libraries' code and pools resident
with open("/proc/self/clear_refs", "w") as handle:  # reset the peak: earlier transients do not count
    handle.write("5")
before = status("VmRSS")
image = decompress_image(codec, data)
print(json.dumps({"extra": status("VmHWM") - before - image.nbytes, "output": image.nbytes}))
"""


def test_decoding_a_large_aek_needs_a_fixed_amount_beyond_the_image(tmp_path: Path) -> None:
    """Crafted files of 9 and 16 tiles (valid: the all-zero latent; 9 and 16 megapixels) decode with about the
    same peak memory beyond the output image, below the documented TILE_MEMORY bound."""
    from hostile_cases import crafted_aek

    from aekit.apps.compression.codec import TILE_MEMORY
    from aekit.models import create
    from aekit.models.files import save_model

    codec = create("codec", input_shape=(3, 64, 64), hidden_channels=8, latent_channels=8, seed=0)
    codec.update_tables()
    save_model(codec, tmp_path / "codec")
    warm_up = tmp_path / "small.aek"
    warm_up.write_bytes(crafted_aek(codec, 64, 64))
    extra = {}
    for height, width in ((3072, 3072), (4096, 4096)):
        path = tmp_path / f"{height}x{width}.aek"
        path.write_bytes(crafted_aek(codec, height, width))
        # A fixed mmap threshold: glibc otherwise raises it as large blocks are freed, and later blocks
        # then stay in the heap, so the peak RSS varied by ±40 MB from run to run (measured: 81–124 MB
        # beyond the image; 59–60 MB with the threshold fixed) whatever the decoder did.
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MALLOC_MMAP_THRESHOLD_": "131072",
        }
        completed = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(tmp_path / "codec"), str(path), str(warm_up)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=120,
        )
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        assert result["output"] == height * width * 3
        extra[width] = result["extra"]
    assert extra[4096] < TILE_MEMORY
    assert extra[4096] <= extra[3072] + (32 << 20), extra  # 16 tiles need what 9 tiles needed


def test_a_refused_run_leaves_no_empty_folder_behind(tmp_path: Path) -> None:
    """Bad data is found after the run folder is locked (made): the folder made for it goes again, and
    a folder that was there before stays."""
    import numpy as np

    np.save(tmp_path / "holes.npy", np.array([[0.0, np.nan], [1.0, 2.0]] * 8))
    for run, existed in ((tmp_path / "new" / "run", False), (tmp_path / "old", True)):
        if existed:
            run.mkdir()
        result = CliRunner().invoke(app, [*TRAIN, "--dataset", str(tmp_path / "holes.npy"), "-o", str(run)])
        assert result.exit_code == 2 and "NaN" in result.stderr
        assert run.is_dir() is existed
        assert not existed or list(run.iterdir()) == [run / FolderLock.NAME]
    assert not (tmp_path / "new").exists()  # the parent made for the run too
