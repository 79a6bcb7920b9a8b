"""One self-contained HTML page per run folder: settings, losses, metrics and every picture.

The page embeds its images as base64 ``data:`` URIs and its CSS inline, has no scripts, and forbids
loading anything else through a Content-Security-Policy, so it opens offline, from an e-mail attachment or
a CI artefact. What it shows comes from :func:`aekit.report.run_folder.read_run_folder`, so pictures and
tables that applications add to ``apps/<name>/`` appear without changes here.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import logging
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from aekit._version import __version__
from aekit.errors import DataError
from aekit.formats.files import atomic_write_text, check_output_suffix
from aekit.report.loss_terms import figure_png_bytes, loss_term_names, loss_terms_figure
from aekit.report.run_folder import AppSection, Picture, RunFolder, Table, read_run_folder

__all__ = ["REPORT_NAME", "image_data_uri", "render_report", "write_report"]

REPORT_NAME = "report.html"

logger = logging.getLogger(__name__)

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_MAX_JSON_CHARS = 4000
_MAX_TABLE_ROWS = 60

_CSS = """
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #d9dee8; --accent: #2f5fb3; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7fa; color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 60px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: var(--muted); }
nav { margin: 16px 0 8px; display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: 14px; }
nav a { color: var(--accent); text-decoration: none; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
          margin: 18px 0; }
h2 { margin: 0 0 12px; font-size: 19px; }
h3 { margin: 14px 0 6px; font-size: 15px; color: var(--muted); }
table { border-collapse: collapse; margin: 4px 0 10px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 12px 3px 0; text-align: left;
         vertical-align: top; }
td.num { font-variant-numeric: tabular-nums; text-align: right; }
th { color: var(--muted); font-weight: 600; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; }
pre { background: #f3f4f8; padding: 8px 10px; border-radius: 6px; overflow-x: auto; }
.grid { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: flex-start; }
figure { margin: 6px 0 12px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line);
             border-radius: 4px; background: #fff; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
.note { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 12.5px; text-align: center; }
"""


def image_data_uri(path: str | os.PathLike[str]) -> str:
    """``data:image/...;base64,...`` for a PNG, JPEG or GIF file, its type read from its first bytes.

    Raises:
        DataError: The file is not a PNG, JPEG or GIF.
    """
    data = Path(path).read_bytes()
    return _bytes_data_uri(data, str(path))


def _bytes_data_uri(data: bytes, name: str) -> str:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    raise DataError(f"{name} is not a PNG, JPEG or GIF image")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _anchor(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-") or "section"


def _format(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value).lower()
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e12:
            return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return str(value)


def _cell(value: Any) -> str:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return f'<td class="num">{_e(_format(value))}</td>' if number else f"<td>{_e(_format(value))}</td>"


def _key_value_table(mapping: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th><code>{_e(k)}</code></th>{_cell(v)}</tr>" for k, v in mapping.items())
    return f"<table>{rows}</table>"


def _rows_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], index_name: str = "") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in ([index_name] if index_name else []) + list(columns))
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _is_flat(value: Any) -> bool:
    """Scalars, or short lists of scalars (shown inline)."""
    return _is_scalar(value) or (
        isinstance(value, (list, tuple)) and len(value) <= 16 and all(_is_scalar(v) for v in value)
    )


def _flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys: ``{"run": {"epochs": 2}}`` → ``run.epochs``."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _json_block(data: Any) -> str:
    """The most readable form of a JSON document: key/value table, matrix, row table or raw JSON."""
    if isinstance(data, dict) and data and all(_is_flat(v) for v in data.values()):
        return _key_value_table(data)
    if isinstance(data, dict) and data and all(isinstance(v, dict) and v for v in data.values()):
        inner = list(data.values())
        if all(_is_flat(x) for row in inner for x in row.values()):
            columns = list(dict.fromkeys(key for row in inner for key in row))
            rows = [[name, *(row.get(c) for c in columns)] for name, row in data.items()]
            return _rows_table(columns, rows[:_MAX_TABLE_ROWS], index_name=" ")
    if isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        columns = list(dict.fromkeys(key for row in data for key in row))
        if all(_is_flat(row.get(c)) for row in data for c in columns):
            shown = [[row.get(c) for c in columns] for row in data[:_MAX_TABLE_ROWS]]
            more = len(data) - len(shown)
            note = f'<p class="note">{more} more rows not shown.</p>' if more > 0 else ""
            return _rows_table(columns, shown) + note
    if isinstance(data, dict) and data:
        flat = _flatten(data)
        if len(flat) <= _MAX_TABLE_ROWS and all(_is_flat(v) for v in flat.values()):
            return _key_value_table(flat)
    text = json.dumps(data, indent=2, default=str)
    if len(text) > _MAX_JSON_CHARS:
        text = text[:_MAX_JSON_CHARS] + "\n…"
    return f"<pre>{_e(text)}</pre>"


def _figure(picture: Picture, show_title: bool = True) -> str:
    if picture.too_large:
        return (
            f'<p class="note">{_e(picture.path.name)} is too large to embed; open it beside this report.</p>'
        )
    try:
        uri = image_data_uri(picture.path)
    except DataError:
        return f'<p class="note">{_e(picture.path.name)} is not a PNG, JPEG or GIF image.</p>'
    caption = " — ".join(part for part in (picture.title if show_title else "", picture.caption) if part)
    caption_html = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{uri}" alt="{_e(picture.title)}">{caption_html}</figure>'


def _section(title: str, body: str, anchor: str | None = None) -> tuple[str, str, str]:
    return (anchor or _anchor(title), title, body)


def _settings_body(folder: RunFolder) -> str:
    parts = []
    settings = folder.settings or {}
    for key, title in (("run", "Run"), ("train", "Training")):
        if isinstance(settings.get(key), dict):
            parts.append(f"<div><h3>{title}</h3>{_json_block(settings[key])}</div>")
    model_file = folder.model_file or {}
    if isinstance(model_file.get("config"), dict):
        name = model_file.get("model", "?")
        parts.append(f"<div><h3>Model <code>{_e(name)}</code></h3>{_json_block(model_file['config'])}</div>")
    if isinstance(model_file.get("normalization"), dict):
        normalization = {k: v for k, v in model_file["normalization"].items() if _is_flat(v)}
        parts.append(f"<div><h3>Normalisation</h3>{_json_block(normalization)}</div>")
    if not folder.settings:
        parts.append('<p class="note">No settings.json in this run folder (made by an older aekit).</p>')
    return '<div class="grid">' + "".join(parts) + "</div>"


def _losses_body(folder: RunFolder) -> str:
    rows = folder.loss_rows
    terms = loss_term_names(rows)
    parts = []
    if terms:
        plotted = [t for t in terms if not _always_zero(rows, t)]
        if plotted:
            uri = _bytes_data_uri(figure_png_bytes(loss_terms_figure(rows, terms=plotted)), "loss figure")
            parts.append(
                f'<figure><img src="{uri}" alt="Loss terms per epoch"><figcaption>Every loss term per '
                "epoch: training solid, validation dashed (log scale for terms spanning more than a "
                "decade).</figcaption></figure>"
            )
        unused = [t for t in terms if t not in plotted]
        if unused:
            parts.append(
                f'<p class="note">Zero in every epoch (not active in this run): {_e(", ".join(unused))}.</p>'
            )
        best_epoch = _best_epoch(rows)
        table_rows = [
            [term, rows[-1].get(f"train_{term}"), rows[-1].get(f"val_{term}"), best_epoch.get(f"val_{term}")]
            for term in terms
        ]
        columns = [
            "last train",
            "last validation",
            f"validation at best epoch ({_format(best_epoch['epoch'])})",
        ]
        parts.append(_rows_table(columns, table_rows, index_name="term"))
        last = rows[-1]
        speed: dict[str, Any] = {
            k: last[k] for k in ("epoch", "lr", "seconds", "samples_per_second") if k in last
        }
        if speed:
            parts.append(f"<h3>Last epoch</h3>{_key_value_table(speed)}")
    elif folder.loss_curve is not None:
        parts.append(_figure(folder.loss_curve, show_title=False))
    return "".join(parts)


def _best_epoch(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """The row of lowest validation loss (training loss when no row has one); NaN losses never win."""
    key = "val_loss" if any("val_loss" in row for row in rows) else "train_loss"

    def loss(row: dict[str, float]) -> float:
        value = row.get(key, math.inf)
        return math.inf if math.isnan(value) else value

    return min(rows, key=loss)


def _always_zero(rows: Sequence[dict[str, float]], term: str) -> bool:
    values = [row.get(f"{prefix}{term}") for row in rows for prefix in ("train_", "val_")]
    return all(v == 0 for v in values if v is not None)


def _app_body(app: AppSection) -> str:
    parts = [f"<p>{_e(app.notes)}</p>"] if app.notes else []
    parts += [f"<h3>{_e(t.title)}</h3>{_json_block(t.data)}" for t in app.tables]
    parts += [_figure(p) for p in app.pictures]
    return "".join(parts) or '<p class="note">This application wrote no pictures or tables.</p>'


def _tables_body(tables: Sequence[Table]) -> str:
    return "".join(
        f"<h3>{_e(t.title)} <code>{_e(t.path.name)}</code></h3>{_json_block(t.data)}" for t in tables
    )


def _sections(folder: RunFolder) -> list[tuple[str, str, str]]:
    sections = []
    if folder.settings or folder.model_file:
        sections.append(_section("Settings", _settings_body(folder)))
    if folder.loss_rows or folder.loss_curve:
        sections.append(_section("Training losses", _losses_body(folder), "losses"))
    if folder.metrics:
        sections.append(_section("Test metrics", _json_block(folder.metrics), "metrics"))
    if folder.reconstructions:
        body = _figure(folder.reconstructions, show_title=False) + (
            '<p class="note">Top row: test inputs; bottom row: their reconstructions.</p>'
        )
        sections.append(_section("Reconstructions", body))
    if folder.latent_map:
        body = _figure(folder.latent_map, show_title=False) + (
            '<p class="note">Test codes, projected on their first two principal components when the latent '
            "has more than two dimensions, coloured by label.</p>"
        )
        sections.append(_section("Latent map", body))
    for app in folder.apps:
        sections.append(_section(app.title, _app_body(app), f"app-{_anchor(app.name)}"))
    if folder.extra_pictures:
        sections.append(_section("Other pictures", "".join(_figure(p) for p in folder.extra_pictures)))
    if folder.extra_tables:
        sections.append(_section("Other results", _tables_body(folder.extra_tables)))
    return sections


def _object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a hand-edited file may hold anything)."""
    return value if isinstance(value, dict) else {}


def _headline(folder: RunFolder) -> str:
    run = _object((folder.settings or {}).get("run"))
    model_file = folder.model_file or {}
    bits = []
    model = model_file.get("model") or run.get("model")
    if model:
        bits.append(f"model {model}")
    dataset = _object(model_file.get("metadata")).get("dataset") or run.get("dataset")
    if dataset:
        bits.append(f"data {dataset}")
    if folder.loss_rows:
        bits.append(f"{_format(folder.loss_rows[-1].get('epoch', len(folder.loss_rows)))} epochs")
    metrics = folder.metrics or {}
    if isinstance(metrics.get("test_psnr_db"), (int, float)):
        bits.append(f"test PSNR {metrics['test_psnr_db']:.2f} dB")
    return " · ".join(bits)


def render_report(folder: RunFolder, *, generated: datetime.datetime | None = None) -> str:
    """The report page of ``folder`` as one HTML string (no scripts, no external resources)."""
    when = (generated or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    sections = _sections(folder)
    name = folder.path.resolve().name or str(folder.path)
    nav = "".join(f'<a href="#{_e(anchor)}">{_e(title)}</a>' for anchor, title, _ in sections)
    body = "".join(
        f'<section id="{_e(anchor)}"><h2>{_e(title)}</h2>{content}</section>'
        for anchor, title, content in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="aekit {_e(__version__)}">'
        f"<title>aekit report: {_e(name)}</title><style>{_CSS}</style></head>\n"
        f"<body><main><header><h1>Run report: {_e(name)}</h1><p>{_e(_headline(folder))}</p></header>"
        f"<nav>{nav}</nav>\n{body}\n"
        f"<footer>Made by aekit {_e(__version__)} from <code>{_e(folder.path)}</code> on {_e(when)}.</footer>"
        "</main></body></html>\n"
    )


def write_report(run_dir: str | os.PathLike[str], output: str | os.PathLike[str] | None = None) -> Path:
    """Read ``run_dir`` and write its report (default ``run_dir/report.html``) atomically.

    Returns:
        The path written.

    Raises:
        DataError: ``run_dir`` is not a run folder or holds a corrupt JSON/CSV file, or ``output`` is a
            folder or does not end in ``.html``/``.htm`` (it would replace a picture or table otherwise).
    """
    folder = read_run_folder(run_dir)
    target = Path(output) if output is not None else folder.path / REPORT_NAME
    if target.is_dir():
        raise DataError(f"the report's output {target} is a folder; name the file: {target / REPORT_NAME}")
    check_output_suffix(target, (".html", ".htm"), "reports")
    page = render_report(folder)
    atomic_write_text(target, page)
    logger.info(
        "report of %s: %d application section(s), %d extra picture(s), %d bytes → %s",
        folder.path,
        len(folder.apps),
        len(folder.extra_pictures),
        len(page.encode("utf-8")),
        target,
    )
    return target
