"""``aekit search --plot`` draws the found items' own files with their labels' names when it can."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from aekit.apps.retrieval import load_index
from aekit.apps.retrieval import neighbour_images as _neighbour_pictures
from aekit.cli import app
from aekit.cli._console import STATE
from aekit.models.files import load


@pytest.fixture
def runner() -> CliRunner:
    STATE.quiet = STATE.verbose = STATE.json = STATE.debug = False
    return CliRunner()


def test_search_plot_shows_the_indexed_files_and_label_names(
    runner, mlp_bundle, raw_digits, tmp_path
) -> None:
    folder = tmp_path / "images"
    for index in range(8):
        label = int(raw_digits.y[index])
        path = folder / f"digit-{label}" / f"{index}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((raw_digits.x[index, 0].numpy() * 255 / 16).round().astype(np.uint8)).save(path)
    index_dir = tmp_path / "index"
    built = runner.invoke(app, ["index", str(folder), "--model", str(mlp_bundle.path), "-o", str(index_dir)])
    assert built.exit_code == 0, built.output
    query = sorted(folder.glob("*/*.png"))[0]
    args = ["--json", "search", str(query), "--model", str(mlp_bundle.path), "--index", str(index_dir)]
    found = runner.invoke(app, [*args, "-k", "3", "--plot", str(tmp_path / "hits.png")])
    assert found.exit_code == 0, found.output
    first = json.loads(found.stdout)[0]["neighbours"][0]
    query_bytes = query.read_bytes()
    over_query = runner.invoke(app, [*args, "--plot", str(query)])  # replaced the query image
    assert over_query.exit_code == 2 and "is also an input" in over_query.output
    assert query.read_bytes() == query_bytes
    assert first["label_name"] == query.parent.name  # the class folder's name, not its index
    assert (tmp_path / "hits.png").stat().st_size > 1000
    index = load_index(index_dir)
    bundle = load(mlp_bundle.path)
    positions = np.array([[0, 1]])
    pictures, shown = _neighbour_pictures(bundle, index, torch.from_numpy(positions))
    assert shown == "the files" and pictures.shape == (2, 1, 8, 8)
    expected = np.asarray(Image.open(folder / index.names[0]), dtype=np.float32) * 16 / 255
    np.testing.assert_allclose(pictures[0, 0].numpy(), expected, rtol=1e-6)  # the file, in the model's 0..16
    (folder / index.names[1]).unlink()  # a file gone: the decoded codes are drawn instead
    _, shown = _neighbour_pictures(bundle, index, torch.from_numpy(positions))
    assert shown == "the decoded codes"
