"""The default tabular detector: thresholds that hold on new normal rows, robust scaling, a step budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from aekit.data.normalization import Normalizer
from aekit.estimators import AutoencoderOutlierDetector
from aekit.models import registry

QUICK = {"steps": 60, "device": "cpu"}


def correlated_rows(n_rows: int, seed: int) -> np.ndarray:
    """Normal rows ``(n, 8)``: three latent factors mixed into eight features plus noise."""
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(99).normal(size=(3, 8))
    return rng.normal(size=(n_rows, 3)) @ mixing + 0.3 * rng.normal(size=(n_rows, 8))


@pytest.mark.parametrize("percentile", [99.0, 95.0])
def test_auto_threshold_false_positive_rate_on_new_normal_rows(percentile: float) -> None:
    """A one-class fit flags about 1 − p/100 of fresh normal rows (the held-out rows set the threshold)."""
    detector = AutoencoderOutlierDetector(random_state=0, threshold_percentile=percentile, **QUICK)
    detector.fit(correlated_rows(3000, seed=0))
    assert detector.n_calibration_rows_ == 600
    fresh = correlated_rows(20_000, seed=1)
    false_positive_rate = np.mean(detector.predict(fresh) == -1)
    assert abs(false_positive_rate - (1 - percentile / 100)) < 0.02


def test_constant_duplicate_and_heavy_tailed_columns() -> None:
    rng = np.random.default_rng(0)
    normal = correlated_rows(600, seed=2)
    outliers = correlated_rows(30, seed=3) + rng.choice([-6.0, 6.0], size=(30, 8))
    x = np.vstack([normal, outliers])
    extra = np.column_stack(
        [
            np.full(len(x), 7.0),  # constant
            x[:, 0],  # duplicate
            rng.standard_cauchy(len(x)) * 1e6,  # heavy tails, huge scale
            (rng.random(len(x)) < 0.02).astype(float),  # mostly zero: a zero interquartile range
        ]
    )
    labels = np.r_[np.zeros(len(normal)), np.ones(len(outliers))]
    detector = AutoencoderOutlierDetector(random_state=0, **QUICK).fit(np.hstack([x, extra]))
    scores = -detector.score_samples(np.hstack([x, extra]))
    assert np.isfinite(scores).all()
    assert roc_auc_score(labels, scores) > 0.9
    scaled = detector.normalizer_.transform(torch.from_numpy(np.hstack([x, extra])))
    assert torch.all(scaled[:, 8] == 0)  # the constant column maps to 0
    assert scaled.abs().max() < 20  # a 1e6-scale Cauchy column is compressed, not exploded


def test_robust_normalizer_round_trips_and_ignores_extremes() -> None:
    x = torch.cat([torch.randn(1000, 2, dtype=torch.float64), torch.tensor([[1e9, -1e9]])])
    normalizer = Normalizer.fit(x, "robust")
    assert normalizer.scale[0] == pytest.approx(1.0, abs=0.1)  # the two extremes do not inflate it
    z = normalizer.transform(x)
    assert z[-1, 0] < 25 and z[-1, 1] > -25
    torch.testing.assert_close(normalizer.inverse_transform(z), x, rtol=1e-9, atol=1e-6)
    assert Normalizer.from_dict(normalizer.to_dict()) == normalizer


def test_training_budget_is_steps_not_epochs() -> None:
    """The rows trained on fill ``steps`` batches whatever the table size; held-out rows are never used."""
    detector = AutoencoderOutlierDetector(steps=50, batch_size=32, calibration_fraction=0.2)
    for n_rows in (90, 5000, 100_000):
        detector.n_features_in_ = 4
        index, epochs = detector._training_plan(n_rows, np.random.RandomState(0))
        assert index is not None and len(index) == 50 * 32 and epochs == 1
        held_out = np.random.RandomState(0).permutation(n_rows)[: round(0.2 * n_rows)]
        assert not np.isin(index, held_out).any()


def test_default_sizes_follow_the_columns() -> None:
    small = AutoencoderOutlierDetector()._architecture(9)
    wide = AutoencoderOutlierDetector()._architecture(1555)
    assert small == {"member_latent_dim": 3, "hidden_dims": (18,)}
    assert wide["member_latent_dim"] == 16 and wide["hidden_dims"][0] * 1555 <= 50_000


def test_ensemble_members_are_independent_networks() -> None:
    model = registry.create("mlp_ensemble", seed=0, input_shape=(5,), member_latent_dim=2, n_members=3)
    x = torch.randn(7, 5)
    members = model.member_reconstructions(x)
    torch.testing.assert_close(model.reconstruct(x), members.mean(0))
    with torch.no_grad():
        model.decoder[-1].weight[1] += 1.0  # change member 1 only
    after = model.member_reconstructions(x)
    torch.testing.assert_close(after[0], members[0])
    torch.testing.assert_close(after[2], members[2])
    assert not torch.allclose(after[1], members[1])
    output = model(x)
    expected = torch.stack([(after[m] - x).square().mean() for m in range(3)]).mean()
    torch.testing.assert_close(model.loss(output, x)["loss"], expected)


def test_save_load_keeps_threshold_feature_names_and_scores(tmp_path: Path) -> None:
    frame = pd.DataFrame(correlated_rows(400, seed=4), columns=[f"f{i}" for i in range(8)])
    detector = AutoencoderOutlierDetector(random_state=0, **QUICK).fit(frame)
    restored = AutoencoderOutlierDetector.load(detector.save(tmp_path / "detector"))
    assert restored.threshold_ == detector.threshold_
    assert list(restored.feature_names_in_) == list(frame.columns)
    assert restored.normalizer_ == detector.normalizer_
    np.testing.assert_array_equal(restored.score_samples(frame), detector.score_samples(frame))
    # the fitted statistics (reference codes) sit in the arrays file, not as numbers in config.json
    config = (tmp_path / "detector" / "config.json").read_text()
    assert (tmp_path / "detector" / "arrays.safetensors").is_file() and '"$array"' in config
    assert len(config) < 20_000
