"""claim_folder: the one rule for a folder of `train` or `sweep` that holds earlier output."""

from __future__ import annotations

from pathlib import Path

import pytest

from aekit.errors import DataError
from aekit.formats.files import claim_folder


def _earlier_output(folder: Path) -> list[Path]:
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "config.json").write_text("{}")
    (folder / "settings.json").write_text("{}")
    (folder / "notes.txt").write_text("mine")
    return [folder / "model", folder / "settings.json"]


def test_a_folder_with_earlier_output_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    previous = _earlier_output(tmp_path)
    with pytest.raises(DataError, match=r"already holds a run \(model, settings.json\).*--resume"):
        claim_folder(tmp_path, previous, what="a run", overwrite=False, keep_hint=", --resume to continue it")
    assert all(path.exists() for path in previous)


def test_overwrite_removes_exactly_the_earlier_output(tmp_path: Path) -> None:
    previous = _earlier_output(tmp_path)
    claim_folder(tmp_path, previous, what="a run", overwrite=True)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_nothing_earlier_means_nothing_to_do(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    claim_folder(tmp_path, [], what="a sweep", overwrite=False)
    assert (tmp_path / "notes.txt").read_text() == "mine"
