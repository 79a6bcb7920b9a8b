"""CSV as spreadsheets save it: semicolons with decimal commas are read as numbers, and a file split on
the wrong separator is an error naming it, never a table of garbage."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aekit.errors import DataError
from aekit.formats.matrices import read_matrix
from aekit.formats.tables import iter_frames, read_frame

VALUES = np.array([[0.125, -1.5, 3.0], [2.25, 0.5, -0.75], [1.0, 4.5, 0.0]])


def _european(values: np.ndarray) -> str:
    rows = [";".join(f"{v:g}".replace(".", ",") for v in row) for row in values]
    return "\n".join(["alpha;beta;gamma", *rows]) + "\n"


@pytest.mark.parametrize("name", ["sheet.csv", "sheet.csv.gz"])
def test_semicolons_with_decimal_commas_are_read_as_numbers(tmp_path: Path, name: str) -> None:
    text = "\ufeff" + _european(VALUES)  # spreadsheets often start the file with a byte-order mark
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    frame = read_frame(path)
    assert list(frame.columns) == ["alpha", "beta", "gamma"]
    np.testing.assert_array_equal(frame.to_numpy(), VALUES)
    np.testing.assert_array_equal(pd.concat(iter_frames(path, 2)).to_numpy(), VALUES)
    np.testing.assert_array_equal(read_matrix(path), VALUES.astype(np.float32))


def test_semicolons_with_decimal_points_keep_the_points(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a;b\n1.5;2\n4;5.25\n")
    np.testing.assert_array_equal(read_frame(tmp_path / "t.csv").to_numpy(), [[1.5, 2.0], [4.0, 5.25]])


def test_commas_still_split_a_header_that_also_holds_semicolons(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("name;unit,value\nx;m,1.5\n")
    assert list(read_frame(tmp_path / "t.csv").columns) == ["name;unit", "value"]


def test_rows_with_several_fields_more_than_the_header_are_an_error(tmp_path: Path) -> None:
    # a semicolon table whose header has a comma: split on commas, every row has extra fields
    (tmp_path / "t.csv").write_text("alpha;beta,gamma\n0,5;1,5;2,5\n1,5;2,5;3,5\n")
    with pytest.raises(DataError, match=r"t\.csv: its rows have 2 more fields than its header"):
        read_frame(tmp_path / "t.csv")
    with pytest.raises(DataError, match=r"t\.csv: its rows have 2 more fields than its header"):
        next(iter_frames(tmp_path / "t.csv", 1))


def test_one_extra_field_is_read_as_row_names(tmp_path: Path) -> None:
    """R's write.table writes row names without a header field; pandas takes them as the index."""
    (tmp_path / "t.csv").write_text('"a","b"\n"r1",1,2\n"r2",3,4\n')
    frame = read_frame(tmp_path / "t.csv")
    assert list(frame.index) == ["r1", "r2"]
    np.testing.assert_array_equal(frame.to_numpy(), [[1, 2], [3, 4]])


@pytest.mark.parametrize("name", ["saved.csv", "saved.tsv", "saved.csv.gz"])
def test_a_file_without_header_keeps_its_first_row(tmp_path: Path, name: str) -> None:
    """``numpy.savetxt`` writes no header: its first line is data, and the columns are named by position."""
    path = tmp_path / name
    delimiter = "\t" if ".tsv" in name else ","
    np.savetxt(path, VALUES, delimiter=delimiter)  # numpy gzips a .gz name itself
    frame = read_frame(path)
    assert list(frame.columns) == ["0", "1", "2"]
    np.testing.assert_array_equal(frame.to_numpy(), VALUES)
    np.testing.assert_array_equal(pd.concat(iter_frames(path, 2)).to_numpy(), VALUES)
    np.testing.assert_array_equal(read_matrix(path), VALUES.astype(np.float32))
    (tmp_path / "one.csv").write_text("1.5,-2\n")  # a single row, no header
    np.testing.assert_array_equal(read_frame(tmp_path / "one.csv").to_numpy(), [[1.5, -2.0]])
    (tmp_path / "named.csv").write_text("x1,2\n3,4\n")  # one named column: a header
    assert list(read_frame(tmp_path / "named.csv").columns) == ["x1", "2"]
