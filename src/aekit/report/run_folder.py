"""What a run folder holds, read by convention so that applications landing later need no report code.

The convention (also in ``docs/architecture.md``, "Run folders and reports"):

- fixed files written by a training run: ``settings.json``, ``model/config.json``, ``losses.csv``,
  ``metrics.json``, ``reconstructions.png``, ``latent_map.png`` (and ``loss_curve.png``, used only when
  ``losses.csv`` is missing);
- any other ``*.png``/``*.jpg``/``*.jpeg`` and ``*.json`` at the top level: extra pictures and tables;
- ``apps/<name>/``: one section per application, titled from the folder name, holding its pictures
  (``*.png``/``*.jpg``/``*.jpeg``), tables (``*.json``) and an optional ``notes.txt`` shown under the
  title. Files are shown in file-name order; a leading ``01_``-style prefix orders them and is dropped
  from the caption; ``<stem>.txt`` beside a picture is its caption.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

from aekit.errors import DataError
from aekit.formats.suffixes import suffixes

__all__ = [
    "FIXED_FILES",
    "PICTURE_SUFFIXES",
    "AppSection",
    "Picture",
    "RunFolder",
    "Table",
    "check_not_run_input",
    "read_run_folder",
    "title_from_name",
]

PICTURE_SUFFIXES = suffixes("png", "jpeg")
FIXED_FILES = frozenset(
    {
        "settings.json",
        "metrics.json",
        "losses.csv",
        "reconstructions.png",
        "latent_map.png",
        "loss_curve.png",
        "report.html",
    }
)
RUN_INPUTS = (
    "settings.json",
    "metrics.json",
    "losses.csv",
    "pretraining.csv",
    "code_statistics.json",
    "checkpoint/losses.csv",
)
"""Files of a run folder that its commands read (``aekit report``, ``aekit train --resume``): no command
writes its output over them. Model files and ``checkpoint.pt`` are guarded by ``check_output_path``."""
RUN_MARKERS = ("settings.json", "model/config.json", "checkpoint/checkpoint.pt")
"""A folder holding one of these is a run folder."""
NOTES_NAME = "notes.txt"
MAX_PICTURE_BYTES = 20 * 1024 * 1024
"""Pictures larger than this are listed but not embedded (a report should stay openable)."""

_ORDER_PREFIX = re.compile(r"^\d+[_\-. ]+")


def title_from_name(name: str) -> str:
    """``"02_score_histogram.png"`` → ``"Score histogram"``; ``"roc-curve"`` → ``"Roc curve"``."""
    stem = Path(name).stem if Path(name).suffix else name
    words = _ORDER_PREFIX.sub("", stem).replace("_", " ").replace("-", " ").split()
    text = " ".join(words) or stem
    return text[:1].upper() + text[1:]


@dataclasses.dataclass(frozen=True)
class Picture:
    """One image file to embed, with its caption."""

    path: Path
    title: str
    caption: str = ""

    @property
    def too_large(self) -> bool:
        """True when the file is over :data:`MAX_PICTURE_BYTES` and is only listed."""
        return self.path.stat().st_size > MAX_PICTURE_BYTES


@dataclasses.dataclass(frozen=True)
class Table:
    """A JSON document to show as a table (or as preformatted JSON when it is not tabular)."""

    path: Path
    title: str
    data: Any


@dataclasses.dataclass(frozen=True)
class AppSection:
    """Everything one application wrote under ``apps/<name>/``."""

    name: str
    title: str
    notes: str
    pictures: tuple[Picture, ...]
    tables: tuple[Table, ...]


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """The parsed contents of a run folder; missing parts are ``None`` or empty."""

    path: Path
    settings: dict[str, Any] | None
    model_file: dict[str, Any] | None
    metrics: dict[str, Any] | None
    loss_rows: list[dict[str, float]]
    reconstructions: Picture | None
    latent_map: Picture | None
    loss_curve: Picture | None
    extra_pictures: tuple[Picture, ...]
    extra_tables: tuple[Table, ...]
    apps: tuple[AppSection, ...]

    @property
    def is_empty(self) -> bool:
        """True when nothing a report could show was found."""
        return not (
            self.settings
            or self.model_file
            or self.metrics
            or self.loss_rows
            or self.reconstructions
            or self.latent_map
            or self.loss_curve
            or self.extra_pictures
            or self.extra_tables
            or self.apps
        )


def _run_input_of(path: Path) -> tuple[Path, str] | None:
    """``(run folder, name)`` when ``path`` is the run input ``name`` of a run folder, else None."""
    for name in RUN_INPUTS:
        parts = Path(name).parts
        if path.parts[-len(parts) :] == parts:
            root = path.parents[len(parts) - 1]
            if any((root / marker).is_file() for marker in RUN_MARKERS):
                return root, name
    return None


def check_not_run_input(output: str | os.PathLike[str]) -> None:
    """Refuse an output path that is one of a run folder's :data:`RUN_INPUTS`.

    Raises:
        DataError: Naming the output, the run folder and what reads the file.
    """
    found = _run_input_of(Path(os.path.abspath(output)))
    if found is not None:
        root, name = found
        raise DataError(
            f"the output {output} is the {name} of the run folder {root}, which `aekit report` and "
            "`aekit train --resume` read; writing it would break the run, so choose another output path"
        )


def _read_text(path: Path) -> str:
    """The file's text; a leading byte-order mark (as spreadsheet programs write CSV) is dropped."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text: {error}") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read_text(path))
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is not valid JSON: {error}") from None
    except RecursionError:
        raise DataError(f"{path} nests its JSON arrays or objects too deeply to show") from None


def _read_json_object(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    document = _read_json(path)
    if not isinstance(document, dict):
        raise DataError(f"{path} must hold a JSON object; got {type(document).__name__}")
    return document


def _number(where: str, column: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{where}: column {column!r} holds {text!r}, expected a number") from None


def _loss_row(where: str, header: list[str], values: list[str]) -> dict[str, float]:
    if len(values) != len(header):
        raise DataError(f"{where} holds {len(values)} fields where the header names {len(header)} columns")
    return {column: _number(where, column, text) for column, text in zip(header, values, strict=True) if text}


def _read_losses(path: Path) -> list[dict[str, float]]:
    """The rows of a loss table (``losses.csv``): a header naming ``epoch`` and the other columns, then
    one line of numbers per epoch (empty values are left out of the row)."""
    if not path.is_file():
        return []
    lines = [(n, row) for n, row in enumerate(csv.reader(_read_text(path).splitlines()), start=1) if row]
    if not lines:
        raise DataError(
            f"{path} is empty; expected a header line (epoch, train_loss, ...) and a row per epoch"
        )
    header = lines[0][1]
    if "epoch" not in header:
        raise DataError(
            f"{path} must start with a header line naming an 'epoch' column; got {','.join(header)!r}"
        )
    rows = [_loss_row(f"{path}, line {n}", header, values) for n, values in lines[1:]]
    for (n, _), row in zip(lines[1:], rows, strict=True):
        if "epoch" not in row:
            raise DataError(f"{path}, line {n} has no epoch number; every line after the header needs one")
    return rows


def _caption(picture: Path) -> str:
    side = picture.with_suffix(".txt")
    return _read_text(side).strip() if side.is_file() else ""


def _picture(path: Path) -> Picture:
    return Picture(path, title_from_name(path.name), _caption(path))


def _optional_picture(path: Path) -> Picture | None:
    return _picture(path) if path.is_file() else None


def _files(folder: Path, suffixes: tuple[str, ...], skip: frozenset[str] = frozenset()) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in suffixes and p.name not in skip and not p.name.startswith(".")
    )


def _tables(folder: Path, skip: frozenset[str] = frozenset()) -> tuple[Table, ...]:
    return tuple(Table(p, title_from_name(p.name), _read_json(p)) for p in _files(folder, (".json",), skip))


def _app_section(folder: Path) -> AppSection:
    notes_path = folder / NOTES_NAME
    return AppSection(
        name=folder.name,
        title=title_from_name(folder.name),
        notes=_read_text(notes_path).strip() if notes_path.is_file() else "",
        pictures=tuple(_picture(p) for p in _files(folder, PICTURE_SUFFIXES)),
        tables=_tables(folder),
    )


def read_run_folder(run_dir: str | os.PathLike[str]) -> RunFolder:
    """Read a run folder by the convention in this module's docstring.

    Raises:
        DataError: ``run_dir`` is not a folder, holds nothing a report could show, or has a corrupt
            JSON/CSV file.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise DataError(f"run folder {root} does not exist or is not a folder")
    apps_dir = root / "apps"
    apps = (
        tuple(
            _app_section(p) for p in sorted(apps_dir.iterdir()) if p.is_dir() and not p.name.startswith(".")
        )
        if apps_dir.is_dir()
        else ()
    )
    folder = RunFolder(
        path=root,
        settings=_read_json_object(root / "settings.json"),
        model_file=_read_json_object(root / "model" / "config.json"),
        metrics=_read_json_object(root / "metrics.json"),
        loss_rows=_read_losses(root / "losses.csv"),
        reconstructions=_optional_picture(root / "reconstructions.png"),
        latent_map=_optional_picture(root / "latent_map.png"),
        loss_curve=_optional_picture(root / "loss_curve.png"),
        extra_pictures=tuple(_picture(p) for p in _files(root, PICTURE_SUFFIXES, FIXED_FILES)),
        extra_tables=_tables(root, FIXED_FILES),
        apps=apps,
    )
    if folder.is_empty:
        raise DataError(
            f"{root} is not a run folder: no settings.json, metrics.json, losses.csv, model/config.json, "
            "pictures or apps/ found (make one with `aekit train` or `aekit demo`)"
        )
    return folder
