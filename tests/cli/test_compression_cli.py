"""``aekit compress`` / ``aekit decompress``: files round-trip through the CLI; errors: one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from aekit.apps.compression import DEFAULT_CODEC_PATH, compress_image, decompress_image, read_header
from aekit.cli import app
from aekit.cli._console import STATE
from aekit.models.compression import Codec, CodecConfig
from aekit.models.files import save_model
from aekit.models.registry import create


@pytest.fixture(autouse=True)
def _fresh_cli_state() -> None:
    STATE.quiet = STATE.verbose = STATE.json = STATE.debug = False


@pytest.fixture
def codec_dir(tmp_path: Path, tiny_codec: Codec) -> Path:
    folder = tmp_path / "codec"
    save_model(tiny_codec, folder)
    return folder


@pytest.fixture
def photo(tmp_path: Path, smooth_image: np.ndarray) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(smooth_image).save(path)
    return path


def test_compress_then_decompress_equals_the_python_api(
    tmp_path: Path, codec_dir: Path, photo: Path, tiny_codec: Codec, smooth_image: np.ndarray
) -> None:
    runner = CliRunner()
    packed, restored = tmp_path / "photo.aek", tmp_path / "restored.png"
    result = runner.invoke(
        app, ["--json", "compress", str(photo), "-o", str(packed), "--model", str(codec_dir)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    data = packed.read_bytes()
    assert data == compress_image(tiny_codec, smooth_image)  # the best level by default
    assert report["bytes"] == len(data) and report["level"] == tiny_codec.n_levels - 1
    assert report["bpp"] == pytest.approx(8 * len(data) / (37 * 53))
    assert (report["height"], report["width"], report["channels"]) == (37, 53, 3)

    result = runner.invoke(app, ["decompress", str(packed), "-o", str(restored), "--model", str(codec_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(restored)
    assert np.array_equal(np.asarray(Image.open(restored)), decompress_image(tiny_codec, data))


def test_level_option_picks_the_quality_level(tmp_path: Path, codec_dir: Path, photo: Path) -> None:
    out = tmp_path / "small.aek"
    result = CliRunner().invoke(
        app, ["compress", str(photo), "-o", str(out), "--model", str(codec_dir), "--level", "0"]
    )
    assert result.exit_code == 0, result.output
    assert read_header(out.read_bytes()).level == 0
    bad = CliRunner().invoke(
        app, ["compress", str(photo), "-o", str(out), "--model", str(codec_dir), "--level", "9"]
    )
    assert bad.exit_code == 2
    assert "level must be an int in [0, 1]; got 9" in bad.output


def test_errors_are_one_line_and_exit_2(tmp_path: Path, codec_dir: Path, photo: Path) -> None:
    runner = CliRunner()
    packed = tmp_path / "photo.aek"
    assert (
        runner.invoke(app, ["compress", str(photo), "-o", str(packed), "--model", str(codec_dir)]).exit_code
        == 0
    )

    damaged = tmp_path / "damaged.aek"
    data = bytearray(packed.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    result = runner.invoke(
        app, ["decompress", str(damaged), "-o", str(tmp_path / "x.png"), "--model", str(codec_dir)]
    )
    assert result.exit_code == 2 and "error:" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.png").exists()

    other = tmp_path / "other"
    save_model(create("conv", input_shape=(1, 8, 8), latent_dim=2, seed=0), other)
    result = runner.invoke(
        app, ["compress", str(photo), "-o", str(tmp_path / "y.aek"), "--model", str(other)]
    )
    assert result.exit_code == 2
    assert "holds a 'conv' model, not an image codec" in result.output

    result = runner.invoke(
        app, ["compress", str(tmp_path / "missing.png"), "-o", str(packed), "--model", str(codec_dir)]
    )
    assert result.exit_code == 2 and "does not exist" in result.output


def test_default_codec_without_model_option(tmp_path: Path, codec_dir: Path, photo: Path) -> None:
    """Right after install: no --model, the shipped codec; a file of another codec is refused by name."""
    skimage_data = pytest.importorskip("skimage.data")
    if not (DEFAULT_CODEC_PATH / "config.json").is_file():
        pytest.skip(f"no default codec shipped in {DEFAULT_CODEC_PATH}")
    photo = tmp_path / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()[:64, 160:240]).save(photo)
    runner = CliRunner()
    packed, restored = tmp_path / "a.aek", tmp_path / "a.png"
    assert runner.invoke(app, ["compress", str(photo), "-o", str(packed)]).exit_code == 0
    result = runner.invoke(app, ["decompress", str(packed), "-o", str(restored)])
    assert result.exit_code == 0, result.output
    assert np.asarray(Image.open(restored)).shape == (64, 80, 3)

    perceptual = tmp_path / "p.aek"
    assert (
        runner.invoke(app, ["compress", str(photo), "-o", str(perceptual), "--codec", "ms_ssim"]).exit_code
        == 0
    )
    result = runner.invoke(
        app, ["decompress", str(perceptual), "-o", str(tmp_path / "p.png")]
    )  # by fingerprint
    assert result.exit_code == 0, result.output
    assert packed.read_bytes() != perceptual.read_bytes()
    bad = runner.invoke(app, ["compress", str(photo), "-o", str(perceptual), "--codec", "ssim"])
    assert bad.exit_code == 2 and "no shipped codec for distortion 'ssim'" in bad.output

    foreign = tmp_path / "foreign.aek"
    assert (
        runner.invoke(app, ["compress", str(photo), "-o", str(foreign), "--model", str(codec_dir)]).exit_code
        == 0
    )
    result = runner.invoke(app, ["decompress", str(foreign), "-o", str(tmp_path / "f.png")])
    assert result.exit_code == 2 and "none of the codecs shipped with this aekit" in result.output
    assert "--model FOLDER" in result.output
    given = runner.invoke(
        app, ["decompress", str(foreign), "-o", str(tmp_path / "g.png"), "--model", str(DEFAULT_CODEC_PATH)]
    )
    assert given.exit_code == 2 and "decode it with the model that made it" in given.output


def test_compress_a_folder_writes_one_aek_per_image(
    tmp_path: Path, codec_dir: Path, smooth_image: np.ndarray, tiny_codec: Codec
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(smooth_image).save(photos / "a.png")
    Image.fromarray(smooth_image[:20, :30]).save(photos / "b.jpg")
    (photos / "notes.txt").write_text("not an image")
    out = tmp_path / "packed"
    result = CliRunner().invoke(app, ["compress", str(photos), "-o", str(out), "--model", str(codec_dir)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["a.aek", "b.aek"]
    assert decompress_image(tiny_codec, (out / "b.aek").read_bytes()).shape == (20, 30, 3)
    assert sorted(p.name for p in photos.iterdir()) == ["a.png", "b.jpg", "notes.txt"]  # inputs untouched


def test_decompress_a_folder_decodes_every_aek_file(
    tmp_path: Path, codec_dir: Path, smooth_image: np.ndarray, tiny_codec: Codec
) -> None:
    packed = tmp_path / "packed"
    packed.mkdir()
    for name, image in (("a", smooth_image), ("b", smooth_image[:20, :30])):
        (packed / f"{name}.aek").write_bytes(compress_image(tiny_codec, image))
    (packed / "notes.txt").write_text("not a compressed file")
    out = tmp_path / "restored"
    result = CliRunner().invoke(app, ["decompress", str(packed), "-o", str(out), "--model", str(codec_dir)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    for name in ("a", "b"):
        expected = decompress_image(tiny_codec, (packed / f"{name}.aek").read_bytes())
        assert np.array_equal(np.asarray(Image.open(out / f"{name}.png")), expected)
    assert sorted(p.name for p in packed.iterdir()) == ["a.aek", "b.aek", "notes.txt"]  # inputs untouched

    (packed / "c.aek").write_bytes((packed / "a.aek").read_bytes()[:20])  # truncated: named in the error
    result = CliRunner().invoke(
        app, ["decompress", str(packed), "-o", str(tmp_path / "again"), "--model", str(codec_dir)]
    )
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {packed / 'c.aek'}: the file is truncated: 20 bytes end inside the header"]
    assert not (tmp_path / "again" / "c.png").exists()

    result = CliRunner().invoke(
        app, ["decompress", str(out), "-o", str(tmp_path / "x"), "--model", str(codec_dir)]
    )
    assert result.exit_code == 2 and f"folder {out} holds no .aek files" in result.stderr


@pytest.mark.parametrize("case", ["output_is_file", "output_is_input", "name_clash", "no_images"])
def test_compress_folder_errors_are_one_line_exit_2(
    tmp_path: Path, codec_dir: Path, smooth_image: np.ndarray, case: str
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    if case != "no_images":
        Image.fromarray(smooth_image).save(photos / "a.png")
    if case == "name_clash":
        Image.fromarray(smooth_image).save(photos / "a.jpg")
    out = {"output_is_file": tmp_path / "x.aek", "output_is_input": photos}.get(case, tmp_path / "out")
    if case == "output_is_file":
        out.write_bytes(b"")
    result = CliRunner().invoke(app, ["compress", str(photos), "-o", str(out), "--model", str(codec_dir)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert not (tmp_path / "out").exists()


def test_decompress_a_folder_loads_each_shipped_codec_once(
    tmp_path: Path, smooth_image: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --model, the shipped codecs are found by fingerprint and loaded once for the whole folder
    (they were loaded again for every file, about 0.2 s each)."""
    import aekit.apps.compression.codec as codec_module

    if not (DEFAULT_CODEC_PATH / "config.json").is_file():
        pytest.skip(f"no default codec shipped in {DEFAULT_CODEC_PATH}")
    default = codec_module.load_default_codec()
    packed = tmp_path / "packed"
    packed.mkdir()
    for name in ("a", "b", "c"):
        (packed / f"{name}.aek").write_bytes(compress_image(default, smooth_image[:16, :16], level=0))
    loads: list[str] = []

    def counting_load(distortion: str = "mse") -> object:
        loads.append(distortion)
        return default

    monkeypatch.setattr(codec_module, "load_default_codec", counting_load)
    result = CliRunner().invoke(app, ["decompress", str(packed), "-o", str(tmp_path / "restored")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "restored").iterdir()) == ["a.png", "b.png", "c.png"]
    assert loads == ["mse"]


def test_json_of_a_folder_run_is_one_document(
    tmp_path: Path, codec_dir: Path, smooth_image: np.ndarray
) -> None:
    """``--json`` with a folder prints one JSON document listing every file (it printed one document per
    file, which no JSON parser reads as a whole)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(smooth_image).save(photos / "a.png")
    Image.fromarray(smooth_image[:20, :30, 0]).save(photos / "b.png")
    packed, restored = tmp_path / "packed", tmp_path / "restored"
    runner = CliRunner()
    result = runner.invoke(
        app, ["--json", "compress", str(photos), "-o", str(packed), "--model", str(codec_dir)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n_files"] == 2 and [f["output"] for f in report["files"]] == [
        str(packed / "a.aek"),
        str(packed / "b.aek"),
    ]
    assert report["bytes"] == sum(f["bytes"] for f in report["files"])
    assert report["bpp"] == pytest.approx(8 * report["bytes"] / (37 * 53 + 20 * 30))
    assert [f["channels"] for f in report["files"]] == [3, 1]

    STATE.json = False
    result = runner.invoke(
        app, ["--json", "decompress", str(packed), "-o", str(restored), "--model", str(codec_dir)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n_files"] == 2
    assert [f["output"] for f in report["files"]] == [str(restored / "a.png"), str(restored / "b.png")]

    STATE.json = False
    result = runner.invoke(app, ["compress", str(photos), "-o", str(packed), "--model", str(codec_dir)])
    assert result.stdout.splitlines() == [str(packed / "a.aek"), str(packed / "b.aek")]


def test_codec_and_model_together_are_refused(tmp_path: Path, codec_dir: Path, photo: Path) -> None:
    """--codec names a shipped codec, --model another: both at once was run with --model, --codec ignored."""
    out = tmp_path / "x.aek"
    result = CliRunner().invoke(
        app, ["compress", str(photo), "-o", str(out), "--model", str(codec_dir), "--codec", "ms_ssim"]
    )
    assert result.exit_code == 2
    assert (
        "--codec ms_ssim picks a shipped codec and --model" in result.output
        and "pass only one" in result.output
    )
    assert not out.exists()


def test_a_model_folder_without_tables_is_named_in_the_error(
    tmp_path: Path, tiny_config: CodecConfig, photo: Path
) -> None:
    """A codec saved before ``update_tables()``: the error names the model folder (it named the image)."""
    folder = tmp_path / "no-tables"
    save_model(create("codec", seed=0, **tiny_config.to_dict()), folder)
    for command in (
        ["compress", str(photo), "-o", str(tmp_path / "x.aek")],
        ["decompress", str(photo), "-o", str(tmp_path / "x.png")],
    ):
        result = CliRunner().invoke(app, [*command, "--model", str(folder)])
        assert result.exit_code == 2
        assert result.stderr.startswith(f"error: {folder}: the codec's probability tables are missing"), (
            result.stderr
        )


def test_a_bad_level_for_a_folder_is_refused_before_anything_is_written(
    tmp_path: Path, codec_dir: Path, smooth_image: np.ndarray
) -> None:
    """--level out of range: one line about the level, no output folder (it created the folder and blamed
    the first image)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(smooth_image).save(photos / "a.png")
    out = tmp_path / "packed"
    result = CliRunner().invoke(
        app, ["compress", str(photos), "-o", str(out), "--model", str(codec_dir), "--level", "5"]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: level must be an int in [0, 1]; got 5"
    assert not out.exists()
