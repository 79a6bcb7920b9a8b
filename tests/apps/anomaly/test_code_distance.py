"""CodeDistance: reconstruction error + code distance from the centre + distance to the nearest codes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from aekit.apps.anomaly import CodeDistance
from aekit.apps.anomaly.codes import REFERENCE_CODES
from aekit.errors import ModelFileError


def _two_clusters(rows: int = 400) -> np.ndarray:
    """1-D codes in two tight clusters at −3 and +3: the median lies in the empty gap between them."""
    rng = np.random.default_rng(0)
    return np.r_[rng.normal(-3, 0.2, rows // 2), rng.normal(3, 0.2, rows // 2)][:, None]


def test_a_code_in_the_gap_between_clusters_is_flagged_only_by_the_neighbour_part() -> None:
    codes = _two_clusters()
    errors = np.ones(len(codes))
    gap, member = np.array([[0.0]]), np.array([[3.0]])
    with_neighbours = CodeDistance.fit(errors, codes)
    centre_only = CodeDistance.fit(errors, codes, neighbour_weight=0)
    assert centre_only.reference_codes is None and with_neighbours.reference_codes is not None
    # from the centre alone the gap looks most normal; its nearest codes are far away
    assert centre_only.score(np.ones(1), gap) < centre_only.score(np.ones(1), member)
    assert with_neighbours.score(np.ones(1), gap) > with_neighbours.score(np.ones(1), member)


def test_the_reference_is_bounded_and_a_row_scores_the_same_alone_or_with_many() -> None:
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(3 * REFERENCE_CODES, 4))
    errors = rng.random(len(codes))
    distance = CodeDistance.fit(errors, codes, random_state=3)
    assert distance.reference_codes is not None and distance.reference_codes.shape == (REFERENCE_CODES, 4)
    together = distance.score(errors, codes)  # several blocks of rows
    alone = np.array([distance.score(errors[i : i + 1], codes[i : i + 1])[0] for i in (0, 1500, 3071)])
    np.testing.assert_allclose(together[[0, 1500, 3071]], alone, rtol=1e-9)
    # the median training row scores about 1 + weight + neighbour weight (each part over its median)
    expected = 1 + distance.weight + distance.neighbour_weight
    assert abs(np.median(together) - expected) < 0.2 * expected


def test_saved_and_restored_distances_score_alike_and_old_entries_still_load() -> None:
    codes = _two_clusters()
    errors = np.linspace(0.5, 1.5, len(codes))
    distance = CodeDistance.fit(errors, codes)
    restored = CodeDistance.from_dict(distance.to_dict())
    probe = np.linspace(-5, 5, 11)[:, None]
    np.testing.assert_array_equal(restored.score(np.ones(11), probe), distance.score(np.ones(11), probe))
    old = {
        k: v
        for k, v in distance.to_dict().items()
        if k in ("code_median", "code_spread", "recon_scale", "code_scale", "weight")
    }
    before = CodeDistance.from_dict(old)
    assert before.reference_codes is None
    # folders saved before the arrays file kept the reference codes as lines of text
    lines = [" ".join(f"{v:.3f}" for v in row) for row in np.asarray(distance.reference_codes)]
    text = CodeDistance.from_dict({**distance.to_dict(), "reference_codes": lines})
    rounded = dataclasses.replace(
        distance, reference_codes=np.array([[float(v) for v in r.split()] for r in lines])
    )
    np.testing.assert_array_equal(text.score(np.ones(11), probe), rounded.score(np.ones(11), probe))
    np.testing.assert_allclose(
        before.score(np.ones(11), probe),
        CodeDistance.fit(errors, codes, neighbour_weight=0).score(np.ones(11), probe),
    )


@pytest.mark.parametrize(
    "change",
    [
        {"reference_codes": ["0.0 1.0", "1.0 2.0"]},  # two units for a 1-D code
        {"reference_codes": np.ones((30, 2), dtype=np.float32)},
        {"neighbours": 0},
        {"neighbours": 10**6},
        {"neighbour_scale": float("nan")},
        {"reference_codes": "not numbers"},
        {"reference_codes": ["1.0", "2.0 3.0"]},  # ragged
        {"reference_codes": ["1.0", "nan"]},
    ],
)
def test_a_malformed_neighbour_entry_is_refused(change: dict[str, object]) -> None:
    entry = {**CodeDistance.fit(np.ones(400), _two_clusters()).to_dict(), **change}
    with pytest.raises(ModelFileError, match="malformed code-distance entry"):
        CodeDistance.from_dict(entry)


def test_a_duplicate_of_a_reference_code_is_at_distance_zero_even_far_from_the_origin() -> None:
    from aekit.apps.anomaly.codes import _neighbour_distances

    reference = 1e4 + np.random.default_rng(2).normal(size=(50, 6))  # ‖a‖² + ‖b‖² − 2a·b cancels here
    assert (_neighbour_distances(reference[:7], reference, 1) == 0).all()
