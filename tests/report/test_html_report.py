"""The HTML report: every section, only embedded images that decode, escaping, and clear errors."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from aekit.errors import DataError
from aekit.report.html import image_data_uri, render_report, write_report
from aekit.report.loss_terms import loss_term_names, loss_terms_figure
from aekit.report.run_folder import read_run_folder, title_from_name


class _Page(HTMLParser):
    """Collects image sources, link targets, section ids and tag names of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.sections: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.add(tag)
        if tag == "img":
            self.images.append(values.get("src") or "")
        if tag == "a":
            self.links.append(values.get("href") or "")
        if tag == "section":
            self.sections.append(values.get("id") or "")


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def decode_data_uri(uri: str) -> Image.Image:
    header, _, payload = uri.partition(",")
    assert header in ("data:image/png;base64", "data:image/jpeg;base64"), header[:40]
    image = Image.open(io.BytesIO(base64.b64decode(payload, validate=True)))
    image.load()
    return image


def test_report_shows_every_part_of_the_run_folder(run_folder: Path) -> None:
    path = write_report(run_folder)
    assert path == run_folder / "report.html"
    html = path.read_text(encoding="utf-8")
    page = parse(html)
    assert page.sections == [
        "settings",
        "losses",
        "metrics",
        "reconstructions",
        "latent-map",
        "app-anomaly",
        "other-pictures",
        "other-results",
    ]
    assert page.links == [f"#{s}" for s in page.sections]
    # loss terms figure, reconstructions, latent map, the app's picture, the extra picture
    assert len(page.images) == 5
    sizes = [decode_data_uri(src).size for src in page.images]
    assert (400, 100) in sizes and (220, 220) in sizes and (300, 140) in sizes and (200, 100) in sizes
    for text in (
        "Digit 7 held out as the anomaly class.",
        "Scores of normal and anomalous digits.",
        "Score histogram",
        "auroc",
        "model_options.channels",
        "learning_rate",
        "test_psnr_db",
        "kl",
    ):
        assert text in html, text


def test_report_is_self_contained(run_folder: Path) -> None:
    html = render_report(read_run_folder(run_folder))
    page = parse(html)
    assert "script" not in page.tags and "<script" not in html.lower()
    assert "link" not in page.tags and "iframe" not in page.tags
    assert all(src.startswith("data:image/") for src in page.images)
    assert all(link.startswith("#") for link in page.links)
    assert "http://" not in html and "https://" not in html
    assert "default-src 'none'; img-src data:" in html


def test_text_from_the_run_folder_is_escaped(run_folder: Path) -> None:
    (run_folder / "apps" / "anomaly" / "notes.txt").write_text("<script>alert(1)</script> & more")
    (run_folder / "metrics.json").write_text(json.dumps({"<b>key</b>": "<i>value</i>"}))
    html = render_report(read_run_folder(run_folder))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<b>key</b>" not in html and "&lt;i&gt;value&lt;/i&gt;" in html


def test_a_partial_run_folder_gets_only_its_sections(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text(json.dumps({"test_mse_per_pixel": 0.5}))
    page = parse(render_report(read_run_folder(tmp_path)))
    assert page.sections == ["metrics"]
    assert page.images == []


def test_loss_curve_png_is_used_when_losses_csv_is_missing(run_folder: Path) -> None:
    (run_folder / "losses.csv").unlink()
    page = parse(render_report(read_run_folder(run_folder)))
    assert "losses" in page.sections
    assert any(decode_data_uri(src).size == (240, 120) for src in page.images)


def test_files_saved_by_a_spreadsheet_with_a_byte_order_mark_are_read(run_folder: Path) -> None:
    (run_folder / "losses.csv").write_text("\ufeffepoch,train_loss\n1,0.5\n2,0.25\n", encoding="utf-8")
    (run_folder / "metrics.json").write_text('\ufeff{"mse": 0.125}', encoding="utf-8")
    run = read_run_folder(run_folder)
    assert [row["train_loss"] for row in run.loss_rows] == [0.5, 0.25]
    assert "0.125" in render_report(run)


def test_zero_terms_are_listed_not_plotted(run_folder: Path) -> None:
    (run_folder / "losses.csv").write_text("epoch,train_loss,train_sparsity\n1,0.5,0\n2,0.4,0\n")
    html = render_report(read_run_folder(run_folder))
    assert "Zero in every epoch (not active in this run): sparsity." in html


def test_broken_and_foreign_pictures_are_noted_not_fatal(run_folder: Path) -> None:
    (run_folder / "apps" / "anomaly" / "02_broken.png").write_bytes(b"not a picture")
    html = render_report(read_run_folder(run_folder))
    assert "02_broken.png is not a PNG, JPEG or GIF image." in html


@pytest.mark.parametrize(
    "name,title",
    [
        ("02_score_histogram.png", "Score histogram"),
        ("roc-curve.jpg", "Roc curve"),
        ("anomaly", "Anomaly"),
        ("10-worst reconstructions.png", "Worst reconstructions"),
        ("2024.png", "2024"),
    ],
)
def test_titles_come_from_file_names(name: str, title: str) -> None:
    assert title_from_name(name) == title


def test_json_tables_take_the_shape_of_the_document(tmp_path: Path) -> None:
    (tmp_path / "per_digit.json").write_text(
        json.dumps({"0": {"auroc": 0.9, "aupr": 0.5}, "1": {"auroc": 0.8}})
    )
    (tmp_path / "rows.json").write_text(json.dumps([{"a": 1, "b": 2}, {"a": 3, "c": [1, 2]}]))
    (tmp_path / "deep.json").write_text(json.dumps({"x": [[1, 2], [3, 4]]}))
    html = render_report(read_run_folder(tmp_path))
    assert "<th>auroc</th><th>aupr</th>" in html  # a matrix: one column per inner key
    assert "<th>a</th><th>b</th><th>c</th>" in html  # rows: one column per key
    assert "<pre>" in html  # not tabular: shown as JSON


def test_not_a_run_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"is not a run folder: no settings\.json"):
        read_run_folder(tmp_path)
    with pytest.raises(DataError, match="does not exist or is not a folder"):
        read_run_folder(tmp_path / "missing")


def test_corrupt_files_are_clear_errors(run_folder: Path) -> None:
    (run_folder / "metrics.json").write_text("{not json")
    with pytest.raises(DataError, match=r"metrics.json is not valid JSON"):
        read_run_folder(run_folder)
    (run_folder / "metrics.json").write_text("[1, 2]")
    with pytest.raises(DataError, match=r"metrics.json must hold a JSON object; got list"):
        read_run_folder(run_folder)


def test_write_report_to_another_path_is_atomic_and_complete(run_folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "page.html"
    assert write_report(run_folder, target) == target
    assert target.read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert not [p for p in target.parent.iterdir() if p.name != "page.html"]  # no temp files left


def test_image_data_uri_reads_the_type_from_the_bytes(tmp_path: Path) -> None:
    Image.new("RGB", (4, 3), (1, 2, 3)).save(tmp_path / "photo.png", format="JPEG")  # misleading suffix
    assert image_data_uri(tmp_path / "photo.png").startswith("data:image/jpeg;base64,")
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(DataError, match="is not a PNG, JPEG or GIF image"):
        image_data_uri(tmp_path / "text.png")


def test_loss_terms_figure_has_a_panel_per_term() -> None:
    rows = [
        {"epoch": 1.0, "train_loss": 1.0, "train_kl": 0.1, "val_loss": 1.1},
        {"epoch": 2.0, "train_loss": 0.5, "train_kl": 0.2, "val_loss": 0.6},
    ]
    assert loss_term_names(rows) == ["loss", "kl"]
    figure = loss_terms_figure(rows)
    titles = [axis.get_title() for axis in figure.axes if axis.get_title()]
    assert titles == ["loss", "kl"]
    with pytest.raises(DataError, match="at least one train_<term>"):
        loss_terms_figure([{"epoch": 1.0, "lr": 0.1}])
