"""``aekit demo`` and ``aekit train`` write report.html; ``aekit report`` rewrites it anywhere."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from aekit.cli import app


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    run_dir = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["--json", "--quiet", "demo", "--epochs", "1", "-o", str(run_dir)])
    assert result.exit_code == 0, result.output
    return run_dir, json.loads(result.stdout)


def test_demo_writes_the_report_and_names_it(demo_run: tuple[Path, dict]) -> None:
    run_dir, payload = demo_run
    assert payload["files"]["report"] == str(run_dir / "report.html")
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    for section in ("settings", "losses", "metrics", "reconstructions", "latent-map"):
        assert f'<section id="{section}">' in html
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 3  # loss terms, reconstructions, latent map
    for data in images:
        Image.open(io.BytesIO(base64.b64decode(data))).load()
    settings = json.loads((run_dir / "settings.json").read_text())
    assert settings["run"]["model"] == "conv" and settings["train"]["epochs"] == 1
    assert settings["train"]["checkpoint_dir"] == str(run_dir / "checkpoint")


def test_human_output_prints_the_report_path(demo_run: tuple[Path, dict], tmp_path: Path) -> None:
    run_dir, _ = demo_run
    result = CliRunner().invoke(app, ["report", str(run_dir), "-o", str(tmp_path / "copy.html")])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tmp_path / 'copy.html'}\n"
    assert (tmp_path / "copy.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_an_application_folder_appears_in_the_report(demo_run: tuple[Path, dict], tmp_path: Path) -> None:
    run_dir, _ = demo_run
    app_dir = run_dir / "apps" / "denoising"
    app_dir.mkdir(parents=True)
    (run_dir / "latent_map.png").replace(app_dir / "01_noisy_inputs.png")
    (app_dir / "psnr.json").write_text(json.dumps({"noisy": 14.2, "denoised": 21.7}))
    result = CliRunner().invoke(app, ["--quiet", "report", str(run_dir), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<section id="app-denoising"><h2>Denoising</h2>' in html
    assert "Noisy inputs" in html and "denoised" in html
    assert '<section id="latent-map">' not in html  # moved away above


def test_report_of_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert result.stderr == f"error: run folder {tmp_path / 'nowhere'} does not exist or is not a folder\n"


@pytest.fixture
def small_run(tmp_path: Path) -> Path:
    """A run folder's text files, written by hand (no training)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "settings.json").write_text(json.dumps({"run": {"model": "conv"}}))
    (run_dir / "metrics.json").write_text(json.dumps({"test_psnr_db": 12.5}))
    (run_dir / "losses.csv").write_text("epoch,train_loss,val_loss\n1,0.5,0.6\n2,0.4,0.5\n")
    return run_dir


@pytest.mark.parametrize("name", ["metrics.json", "losses.csv", "settings.json", "pretraining.csv"])
def test_an_output_over_a_file_the_run_reads_is_refused(small_run: Path, name: str) -> None:
    before = {p.name: p.read_bytes() for p in small_run.iterdir()}
    result = CliRunner().invoke(app, ["report", str(small_run), "-o", str(small_run / name)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: the output {small_run / name} is the {name} of the run folder")
    assert {p.name: p.read_bytes() for p in small_run.iterdir()} == before
    assert CliRunner().invoke(app, ["report", str(small_run)]).exit_code == 0


def test_a_file_named_like_a_run_file_outside_a_run_folder_is_written(
    tmp_path: Path, small_run: Path
) -> None:
    from aekit.report.run_folder import check_not_run_input

    check_not_run_input(tmp_path / "metrics.json")  # no run folder around it: nothing refused
    result = CliRunner().invoke(app, ["report", str(small_run), "-o", str(tmp_path / "metrics.html")])
    assert result.exit_code == 0, result.output


def test_the_report_is_written_only_to_an_html_file(small_run: Path) -> None:
    # `-o RUN/latent_map.png` replaced the run's latent map with the page; `-o RUN` said "[Errno 21]"
    picture = small_run / "latent_map.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    for target, problem in (
        (picture, "reports are written as .html or .htm"),
        (small_run, f"is a folder; name the file: {small_run / 'report.html'}"),
    ):
        result = CliRunner().invoke(app, ["report", str(small_run), "-o", str(target)])
        assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
        assert problem in result.stderr
    assert picture.read_bytes() == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("epoch,train_loss\n1,0.5,0.7\n", ", line 2 holds 3 fields where the header names 2 columns"),
        ("epoch,train_loss\n1,0.5\n2,abc\n", ", line 3: column 'train_loss' holds 'abc', expected a number"),
        ("1,0.5\n2,0.4\n", " must start with a header line naming an 'epoch' column; got '1,0.5'"),
        ("", " is empty; expected a header line (epoch, train_loss, ...) and a row per epoch"),
        (
            "epoch,train_loss\n,0.3\n1,0.4\n",
            ", line 2 has no epoch number; every line after the header needs one",
        ),
    ],
)
def test_a_malformed_loss_table_is_named_in_one_line(small_run: Path, text: str, problem: str) -> None:
    (small_run / "losses.csv").write_text(text)
    result = CliRunner().invoke(app, ["report", str(small_run)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {small_run / 'losses.csv'}{problem}\n"


def test_a_caption_that_is_not_text_is_named(small_run: Path, tmp_path: Path) -> None:
    (small_run / "extra.png").write_bytes(b"\x89PNG")
    (small_run / "extra.txt").write_bytes(b"\xff\xfe caption")
    result = CliRunner().invoke(app, ["report", str(small_run), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {small_run / 'extra.txt'} is not UTF-8 text")


def test_hand_edited_run_files_of_another_shape_still_make_a_report(small_run: Path) -> None:
    # a "run" or "metadata" entry that is not an object was an internal error (AttributeError)
    (small_run / "settings.json").write_text(json.dumps({"run": "conv on digits"}))
    (small_run / "model").mkdir()
    (small_run / "model" / "config.json").write_text(json.dumps({"model": "conv", "metadata": "digits"}))
    result = CliRunner().invoke(app, ["report", str(small_run)])
    assert result.exit_code == 0, result.output
    assert "model conv" in (small_run / "report.html").read_text()


def test_json_nested_too_deeply_is_named_in_one_line(small_run: Path) -> None:
    (small_run / "deep.json").write_text("[" * 100_000 + "]" * 100_000)  # was an internal RecursionError
    result = CliRunner().invoke(app, ["report", str(small_run)])
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"error: {small_run / 'deep.json'} nests its JSON arrays or objects too deeply to show\n"
    )


def test_the_best_epoch_is_the_lowest_validation_loss(small_run: Path) -> None:
    # epoch 1 has no validation loss: its training loss (lowest of all) made it the "best" epoch
    (small_run / "losses.csv").write_text("epoch,train_loss,val_loss\n1,0.1,\n2,0.4,0.5\n3,0.3,0.6\n")
    result = CliRunner().invoke(app, ["report", str(small_run)])
    assert result.exit_code == 0, result.output
    assert "validation at best epoch (2)" in (small_run / "report.html").read_text()
