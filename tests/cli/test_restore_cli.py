"""``aekit denoise`` and ``aekit inpaint`` in-process: single files, folders, JSON, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from aekit.cli import app


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def _grey(path: Path, size: tuple[int, int] = (12, 15), seed: int = 0) -> np.ndarray:
    pixels = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


def test_denoise_one_file_and_a_folder(runner: CliRunner, saved_conv: Path, tmp_path: Path) -> None:
    _grey(tmp_path / "noisy.png")
    result = runner.invoke(
        app,
        [
            "--json",
            "denoise",
            str(tmp_path / "noisy.png"),
            "--model",
            str(saved_conv),
            "-o",
            str(tmp_path / "clean.png"),
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["n_files"] == 1 and payload["files"][0]["size"] == [12, 15]
    assert _pixels(tmp_path / "clean.png").shape == (12, 15)

    folder = tmp_path / "scans"
    folder.mkdir()
    for index in range(2):
        _grey(folder / f"page{index}.png", seed=index)
    np.save(folder / "field.npy", np.linspace(0, 1, 100).reshape(10, 10))
    result = runner.invoke(
        app, ["denoise", str(folder), "--model", str(saved_conv), "-o", str(tmp_path / "cleaned")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "cleaned").iterdir()) == ["field.npy", "page0.png", "page1.png"]
    assert result.stdout.splitlines() == [
        str(tmp_path / "cleaned" / n) for n in ("field.npy", "page0.png", "page1.png")
    ]


def test_inpaint_with_a_mask_or_a_rectangle_keeps_known_pixels(
    runner: CliRunner, saved_inpainter: Path, tmp_path: Path
) -> None:
    pixels = _grey(tmp_path / "photo.png")
    mask = np.zeros((12, 15), np.uint8)
    mask[3:6, 4:9] = 255
    Image.fromarray(mask).save(tmp_path / "holes.png")
    args = ["inpaint", str(tmp_path / "photo.png"), "--model", str(saved_inpainter)]
    result = runner.invoke(app, [*args, "--mask", str(tmp_path / "holes.png"), "-o", str(tmp_path / "a.png")])
    assert result.exit_code == 0, result.output
    out = _pixels(tmp_path / "a.png")
    np.testing.assert_array_equal(out[mask == 0], pixels[mask == 0])

    result = runner.invoke(
        app, ["--json", *args, "--rect", "2,1,5,3", "--method", "mask_aware", "-o", str(tmp_path / "b.png")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["n_filled"] == 15
    out = _pixels(tmp_path / "b.png")
    keep = np.ones((12, 15), bool)
    keep[1:4, 2:7] = False
    np.testing.assert_array_equal(out[keep], pixels[keep])


def test_bad_input_gives_one_line_and_exit_status_2(
    runner: CliRunner, saved_conv: Path, tmp_path: Path
) -> None:
    _grey(tmp_path / "photo.png")
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(tmp_path / "small_mask.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    base = ["--model", str(saved_conv), "-o", str(tmp_path / "out.png")]
    cases = [
        (
            ["inpaint", str(tmp_path / "photo.png"), *base, "--mask", str(tmp_path / "small_mask.png")],
            "is 5x5 (WxH) but the image is 15x12",
        ),
        (["denoise", str(tmp_path / "broken.png"), *base], "truncated"),
        (["inpaint", str(tmp_path / "photo.png"), *base, "--rect", "1,2,3"], "--rect must be four integers"),
        (
            ["inpaint", str(tmp_path / "photo.png"), *base, "--rect", "1,1,2,2", "--method", "mask_aware"],
            "needs a model trained with hole masks",
        ),
    ]
    for args, expected in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert expected in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "out.png").exists()


def test_an_error_in_a_folder_names_its_file(runner: CliRunner, saved_conv: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    _grey(folder / "a.png")
    colour = np.random.default_rng(1).integers(0, 256, (12, 15, 3), dtype=np.uint8)
    Image.fromarray(colour).save(folder / "b_colour.png")
    result = runner.invoke(
        app, ["denoise", str(folder), "--model", str(saved_conv), "-o", str(tmp_path / "cleaned")]
    )
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {folder / 'b_colour.png'}: "), result.stderr
    assert "3 channels" in errors[0]


def test_inpaint_a_folder_with_a_folder_of_masks(runner: CliRunner, saved_conv: Path, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "masks").mkdir()
    originals = {}
    for index in range(2):
        originals[f"p{index}"] = _grey(tmp_path / "in" / f"p{index}.png", seed=index)
        mask = np.zeros((12, 15), np.uint8)
        mask[index : index + 3, 2:6] = 255
        Image.fromarray(mask).save(tmp_path / "masks" / f"p{index}.png")
    args = ["inpaint", str(tmp_path / "in"), "--model", str(saved_conv), "--mask", str(tmp_path / "masks")]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    for name, pixels in originals.items():
        out = _pixels(tmp_path / "out" / f"{name}.png")
        keep = np.ones((12, 15), bool)
        keep[int(name[1]) : int(name[1]) + 3, 2:6] = False
        np.testing.assert_array_equal(out[keep], pixels[keep])
    (tmp_path / "masks" / "p1.png").unlink()
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "out2")])
    assert result.exit_code == 2 and "has no p1.png" in result.stderr
    assert not (tmp_path / "out2").exists()  # masks are checked before any file is written


@pytest.mark.parametrize("command", ["denoise", "inpaint"])
def test_a_folder_whose_files_share_an_output_name_is_refused_before_writing(
    runner: CliRunner, saved_conv: Path, tmp_path: Path, command: str
) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (12, 15), dtype=np.uint8)
    for suffix in ("bmp", "tif", "png"):
        Image.fromarray(pixels).save(folder / f"s.{suffix}")
    extra = ["--rect", "1,1,4,4"] if command == "inpaint" else []
    result = runner.invoke(
        app, [command, str(folder), *extra, "--model", str(saved_conv), "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 2, result.output
    assert "s.bmp and s.png" in result.stderr and "would both be written to s.png" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["denoise", "inpaint"])
def test_a_folder_input_needs_a_folder_output(
    runner: CliRunner, saved_conv: Path, tmp_path: Path, command: str
) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    _grey(folder / "a.png")
    extra = ["--rect", "1,1,4,4"] if command == "inpaint" else []
    for name in ("out.png", "out.NPY", "out.jpg"):
        result = runner.invoke(
            app, [command, str(folder), *extra, "--model", str(saved_conv), "-o", str(tmp_path / name)]
        )
        assert result.exit_code == 2, result.output
        assert f"--output must be a folder, not {name}" in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and not (tmp_path / name).exists()


@pytest.mark.parametrize("command", ["denoise", "inpaint"])
def test_an_array_above_the_pixel_limit_is_refused_from_its_header(
    runner: CliRunner, saved_conv: Path, tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AEKIT_MAX_PIXELS", "100")
    np.save(tmp_path / "field.npy", np.zeros((12, 15), np.float32))
    extra = ["--rect", "1,1,4,4"] if command == "inpaint" else []
    out = tmp_path / "out.npy"
    result = runner.invoke(
        app, [command, str(tmp_path / "field.npy"), *extra, "--model", str(saved_conv), "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert "15×12 = 180 pixels, more than the limit of 100" in result.stderr, result.stderr
    assert "AEKIT_MAX_PIXELS" in result.stderr and result.stderr.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("command", ["denoise", "inpaint"])
def test_a_channels_last_array_is_refused_naming_its_shape(
    runner: CliRunner, saved_conv: Path, tmp_path: Path, command: str
) -> None:
    np.save(tmp_path / "rgb.npy", np.zeros((40, 50, 3), np.float32))
    extra = ["--rect", "1,1,4,4"] if command == "inpaint" else []
    result = runner.invoke(
        app,
        [
            command,
            str(tmp_path / "rgb.npy"),
            *extra,
            "--model",
            str(saved_conv),
            "-o",
            str(tmp_path / "o.npy"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "must have shape (H, W) or (C, H, W), channels first" in result.stderr
    assert "got shape (40, 50, 3)" in result.stderr and result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize("command", ["denoise", "inpaint"])
@pytest.mark.parametrize("batch_size", ["0", "-3"])
def test_a_batch_size_below_1_is_refused(
    runner: CliRunner, tmp_path: Path, command: str, batch_size: str
) -> None:
    _grey(tmp_path / "photo.png")
    extra = ["--rect", "1,1,4,4"] if command == "inpaint" else []
    out = tmp_path / "out.png"
    result = runner.invoke(
        app, [command, str(tmp_path / "photo.png"), *extra, "--batch-size", batch_size, "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: --batch-size must be ≥ 1; got {batch_size}\n"
    assert not out.exists()


def test_a_mask_that_marks_no_pixel_is_named(runner: CliRunner, saved_conv: Path, tmp_path: Path) -> None:
    _grey(tmp_path / "photo.png")
    Image.fromarray(np.zeros((12, 15), np.uint8)).save(tmp_path / "black.png")
    args = ["inpaint", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "black.png")]
    result = runner.invoke(app, [*args, "--model", str(saved_conv), "-o", str(tmp_path / "out.png")])
    assert result.exit_code == 2, result.output
    assert f"mask {tmp_path / 'black.png'} marks no pixel to fill" in result.stderr, result.stderr
    assert "white pixels" in result.stderr and "give a mask" not in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "out.png").exists()
