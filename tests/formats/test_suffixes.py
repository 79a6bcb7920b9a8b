"""The one suffix registry: every reader takes the formats of its kind, so a table one command reads,
every command reads."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aekit.errors import DataError
from aekit.formats.folders import folder_files, labelled_files
from aekit.formats.matrices import MatrixWriter, read_matrix, write_matrix
from aekit.formats.suffixes import FORMATS, format_of, kind_of, require_format, suffixes
from aekit.formats.tables import TableWriter, iter_frames, read_frame

SOURCE = Path(__file__).resolve().parents[2] / "src" / "aekit"


def test_formats_by_longest_suffix_case_insensitive() -> None:
    assert format_of("a/B.CSV.GZ") == "csv" and format_of("x.tsv") == "tsv" and format_of("x.pq") == "parquet"
    assert kind_of("x.npz") == "array" and kind_of("x.JPG") == "image" and kind_of("x.txt") is None
    assert suffixes("npy", "table") == (".npy", *suffixes("table"))
    with pytest.raises(DataError, match=r"x\.txt: unsupported file type '\.txt'; codes must end with one of"):
        require_format("x.txt", "table", what="codes")
    with pytest.raises(KeyError):
        suffixes("spreadsheet")


def test_no_reader_keeps_its_own_suffix_list() -> None:
    """Suffix literals appear in the registry only (other modules ask it)."""
    known = {s for group in FORMATS.values() for s in group}
    offenders = []
    for path in SOURCE.rglob("*.py"):
        if path.relative_to(SOURCE).as_posix() in ("formats/suffixes.py",):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Tuple | ast.Set | ast.List) and len(node.elts) > 1:
                values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if sum(v in known for v in values) >= 2:
                    offenders.append(f"{path.relative_to(SOURCE)}:{node.lineno} {values}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("name", ["m.npy", "m.csv", "m.tsv", "m.parquet", "m.pq"])
def test_matrices_round_trip_in_every_writable_format(tmp_path: Path, name: str) -> None:
    matrix = np.arange(12, dtype=np.float32).reshape(4, 3)
    write_matrix(tmp_path / name, matrix)
    np.testing.assert_array_equal(read_matrix(tmp_path / name), matrix)
    with MatrixWriter(tmp_path / f"w_{name}", 4, 3) as writer:
        writer.write(matrix[:2])
        writer.write(matrix[2:])
    np.testing.assert_array_equal(read_matrix(tmp_path / f"w_{name}"), matrix)


def test_gzipped_tables_are_read_everywhere_but_not_written(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
    frame.to_csv(tmp_path / "t.tsv.gz", sep="\t", index=False)
    assert read_frame(tmp_path / "t.tsv.gz").equals(frame)
    np.testing.assert_array_equal(read_matrix(tmp_path / "t.tsv.gz"), frame.to_numpy(np.float32))
    assert pd.concat(iter_frames(tmp_path / "t.tsv.gz", 2)).reset_index(drop=True).equals(frame)
    with pytest.raises(DataError, match="uncompressed"):
        TableWriter(tmp_path / "out.csv.gz")
    with pytest.raises(DataError, match="uncompressed"):
        write_matrix(tmp_path / "out.csv.gz", frame.to_numpy())


def test_folder_files_skip_hidden_and_other_files(tmp_path: Path) -> None:
    for name in ("b.png", "a.TIF", ".hidden.png", "notes.txt", "c.npy"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in folder_files(tmp_path, "image")] == ["a.TIF", "b.png"]
    assert [p.name for p in folder_files(tmp_path, "image", "npy")] == ["a.TIF", "b.png", "c.npy"]
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "x.png").write_bytes(b"")
    with pytest.raises(DataError, match="mixes images at its top level"):
        labelled_files(tmp_path, "image", what="images")
