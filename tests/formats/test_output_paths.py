"""check_output_path: an output never replaces an input or a file of a model folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from aekit.errors import DataError
from aekit.formats.files import check_output_path


@pytest.mark.parametrize("name", ["config.json", "model.safetensors", "arrays.safetensors", "checkpoint.pt"])
def test_the_files_of_a_model_folder_are_never_an_output(tmp_path: Path, name: str) -> None:
    for file in ("config.json", "model.safetensors", "arrays.safetensors", "checkpoint.pt"):
        (tmp_path / file).write_bytes(b"x")
    with pytest.raises(DataError, match="would destroy the model"):
        check_output_path(tmp_path / name, [])


def test_a_file_of_that_name_outside_a_model_folder_may_be_written(tmp_path: Path) -> None:
    (tmp_path / "arrays.safetensors").write_bytes(b"x")  # no config.json + model.safetensors beside it
    check_output_path(tmp_path / "arrays.safetensors", [])
