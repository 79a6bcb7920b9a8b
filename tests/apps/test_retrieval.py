"""Nearest-neighbour indexes over codes: exactness, IVF recall, files, and the retrieval scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aekit.apps.retrieval import (
    ExactIndex,
    IVFIndex,
    average_precision,
    build_index,
    evaluate_retrieval,
    index_dataset,
    load_index,
    precision_at_k,
    recall_at_k,
    save_index,
    search_images,
)
from aekit.errors import ConfigError, ModelFileError, ShapeError
from fixtures.toy import blobs


def test_precision_at_k_on_a_line_of_points_with_known_neighbours() -> None:
    # Points 0..5 on a line; labels a a a b b b. The 2 nearest other points of 0 are 1 and 2 (both a),
    # of 2 they are 1 and 3 (a, b), of 3 they are 2 and 4 (a, b), of 5 they are 4 and 3 (both b).
    codes = torch.arange(6, dtype=torch.float32)[:, None]
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    index = ExactIndex(codes, labels=labels)
    result = index.search(codes, 3)
    assert result.indices[:, 0].tolist() == list(range(6))  # each point finds itself first
    assert torch.allclose(result.distances[0], torch.tensor([0.0, 1.0, 2.0]))
    scores = evaluate_retrieval(index, codes, labels, k=2, exclude_self=True)
    # per query: 1, 1, 1/2, 1/2, 1, 1 → 5/6
    assert scores.precision_at_k == pytest.approx(5 / 6)
    retrieved = labels[torch.tensor([[1, 2], [0, 2], [1, 3], [2, 4], [3, 5], [4, 3]])]
    assert precision_at_k(retrieved, labels) == pytest.approx(5 / 6)


def test_average_precision_by_hand() -> None:
    # relevant at ranks 1 and 3 of 4: (1/1 + 2/3) / 2
    assert average_precision(torch.tensor([[1, 0, 1, 0]]))[0] == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision(torch.tensor([[0, 0, 0]]))[0] == 0.0
    # Unevenly spaced points (no ties), labels a a a b b b, each query ranked against the other five:
    # 0.0: 1 2 | 3 4 5 → AP 1;  1.0: 0 2 → 1;  2.1: 1 3 0 4 5 → a at ranks 1, 3 → (1 + 2/3) / 2;
    # 3.3: 2 4 1 5 0 → b at ranks 2, 4 → (1/2 + 2/4) / 2;  4.6: 3 5 → 1;  6.0: 4 3 → 1.
    codes = torch.tensor([[0.0], [1.0], [2.1], [3.3], [4.6], [6.0]])
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    scores = evaluate_retrieval(ExactIndex(codes, labels=labels), codes, labels, k=2, exclude_self=True)
    expected = (1 + 1 + (1 + 2 / 3) / 2 + 0.5 + 1 + 1) / 6
    assert scores.mean_average_precision == pytest.approx(expected)
    assert scores.precision_at_k == pytest.approx(5 / 6)


def test_exact_index_matches_a_full_sort_for_both_metrics() -> None:
    generator = torch.Generator().manual_seed(0)
    codes, queries = torch.randn(300, 5, generator=generator), torch.randn(7, 5, generator=generator)
    found = ExactIndex(codes).search(queries, 10, batch_size=3)
    expected = torch.cdist(queries, codes).sort(dim=1)
    assert torch.equal(found.indices, expected.indices[:, :10])
    assert torch.allclose(found.distances, expected.values[:, :10], atol=1e-4)
    cosine = ExactIndex(codes, metric="cosine").search(queries, 5)
    similarity = torch.nn.functional.normalize(queries, dim=1) @ torch.nn.functional.normalize(codes, dim=1).T
    assert torch.equal(cosine.indices, similarity.argsort(dim=1, descending=True)[:, :5])


def test_ivf_recall_is_high_with_a_few_probes_and_exact_with_all() -> None:
    codes, _ = blobs(n_per_class=400, n_classes=8, dim=8, spread=1.0)
    generator = torch.Generator().manual_seed(1)
    queries = codes[torch.randperm(len(codes), generator=generator)[:100]] + 0.1 * torch.randn(
        100, 8, generator=generator
    )
    exact = ExactIndex(codes).search(queries, 10)
    approximate = IVFIndex(codes, n_lists=32, n_probe=4).search(queries, 10)
    assert recall_at_k(approximate.indices, exact.indices) >= 0.9
    everything = IVFIndex(codes, n_lists=32, n_probe=32).search(queries, 10)
    assert recall_at_k(everything.indices, exact.indices) == 1.0
    one_cell = IVFIndex(codes, n_lists=32, n_probe=1).search(queries, 10)
    assert (
        recall_at_k(one_cell.indices, exact.indices) < recall_at_k(approximate.indices, exact.indices) + 1e-9
    )


def test_ivf_pads_with_minus_one_when_cells_hold_too_few_items() -> None:
    codes = torch.tensor([[0.0], [0.1], [10.0], [10.1]])
    result = IVFIndex(codes, n_lists=2, n_probe=1).search(torch.tensor([[0.0]]), 3)
    assert result.indices.tolist() == [[0, 1, -1]] and torch.isinf(result.distances[0, 2])


@pytest.mark.parametrize("kind", ["exact", "ivf"])
def test_index_files_round_trip(tmp_path, kind: str) -> None:
    codes, labels = blobs(n_per_class=50)
    options = {"n_lists": 6, "n_probe": 2} if kind == "ivf" else {}
    index = build_index(codes, kind=kind, labels=labels, names=[f"item{i}" for i in range(150)], **options)  # type: ignore[arg-type]
    folder = save_index(index, tmp_path / "index")
    assert sorted(p.name for p in folder.iterdir()) == ["index.json", "index.safetensors"]
    loaded = load_index(folder)
    assert type(loaded) is type(index) and loaded.names == index.names and torch.equal(loaded.labels, labels)
    before, after = index.search(codes[:20], 5), loaded.search(codes[:20], 5)
    assert torch.equal(before.indices, after.indices) and torch.equal(before.distances, after.distances)


def test_index_files_are_checked(tmp_path) -> None:
    codes, labels = blobs(n_per_class=10)
    with pytest.raises(ModelFileError, match="is not an aekit index folder"):
        load_index(tmp_path)
    folder = save_index(build_index(codes, labels=labels), tmp_path / "index")
    document = json.loads((folder / "index.json").read_text())
    (folder / "index.json").write_text(json.dumps({**document, "n_items": 99}))
    with pytest.raises(ModelFileError, match="does not hold the 99 codes"):
        load_index(folder)
    (folder / "index.json").write_text(json.dumps({**document, "format_version": 99}))
    with pytest.raises(ModelFileError, match="format_version 99"):
        load_index(folder)
    (folder / "index.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_index(folder)


def test_bad_arguments_raise_clear_errors() -> None:
    codes, _ = blobs(n_per_class=5)
    with pytest.raises(ConfigError, match="kind must be one of"):
        build_index(codes, kind="hnsw")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="apply to kind 'ivf' only"):
        build_index(codes, n_lists=4)
    with pytest.raises(ShapeError, match=r"queries must have shape \(N, 4\)"):
        ExactIndex(codes).search(torch.zeros(2, 3))
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        ExactIndex(codes).search(codes, 0)


def test_query_by_image_finds_the_same_digit_and_refuses_another_model(
    mlp_bundle, vae_bundle, raw_digits
) -> None:
    index = index_dataset(mlp_bundle, raw_digits.x[:1000], labels=raw_digits.y[:1000])
    result = search_images(mlp_bundle, index, raw_digits.x[:50], k=1)
    assert result.indices[:, 0].tolist() == list(range(50))  # an indexed image is its own nearest item
    queries = raw_digits.subset(torch.arange(1000, 1300))
    from aekit.apps.inference import encode_dataset

    scores = evaluate_retrieval(index, encode_dataset(mlp_bundle, queries.x), queries.y, k=10)
    assert scores.precision_at_k > 0.6 and scores.mean_average_precision is not None  # chance is 0.1
    assert scores.mean_average_precision > 0.25
    with pytest.raises(ModelFileError, match="built with another model"):
        search_images(vae_bundle, index, raw_digits.x[:2])
    assert np.isfinite(scores.milliseconds_per_query)
