"""AutoencoderOutlierDetector: detection quality, thresholds, feature attributions, search and files."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from aekit.apps import anomaly
from aekit.errors import ConfigError
from aekit.estimators import AutoencoderOutlierDetector
from aekit.models.files import load


@pytest.fixture
def fitted(normal_rows: np.ndarray, fast_options: dict[str, Any]) -> AutoencoderOutlierDetector:
    return AutoencoderOutlierDetector(random_state=0, **{**fast_options, "epochs": 60}).fit(normal_rows)


def test_detects_off_plane_rows(
    fitted: AutoencoderOutlierDetector, test_rows: tuple[np.ndarray, np.ndarray]
) -> None:
    x, labels = test_rows
    scores = fitted.score_samples(x)
    assert roc_auc_score(labels, -scores) > 0.95  # higher score_samples = more normal
    predicted = fitted.predict(x)
    assert set(np.unique(predicted)) <= {-1, 1}
    assert np.mean(predicted[labels == 1] == -1) > 0.9
    assert np.mean(predicted[labels == 0] == 1) > 0.9
    np.testing.assert_allclose(fitted.decision_function(x), scores - fitted.offset_)


def test_threshold_from_percentile_and_contamination(
    normal_rows: np.ndarray, fast_options: dict[str, Any]
) -> None:
    auto = AutoencoderOutlierDetector(
        random_state=0, threshold_percentile=90.0, calibration_fraction=0.0, **fast_options
    ).fit(normal_rows)
    assert np.sum(auto.predict(normal_rows) == -1) == 20  # no held-out rows: the training rows set it
    share = AutoencoderOutlierDetector(random_state=0, contamination=0.05, **fast_options).fit(normal_rows)
    assert np.sum(share.predict(normal_rows) == -1) == 10
    assert share.threshold_ == pytest.approx(-share.offset_)
    with pytest.raises(ConfigError, match=r"contamination must be 'auto' or a float in \(0, 0.5\]; got 0.7"):
        AutoencoderOutlierDetector(contamination=0.7).fit(normal_rows)
    with pytest.raises(ConfigError, match=r"threshold_percentile must be in \(0, 100\]; got 0"):
        AutoencoderOutlierDetector(threshold_percentile=0).fit(normal_rows)
    with pytest.raises(ConfigError, match="pooling must be one of"):
        AutoencoderOutlierDetector(pooling="median").fit(normal_rows)


def test_feature_scores_point_at_the_broken_feature(
    fitted: AutoencoderOutlierDetector, normal_rows: np.ndarray
) -> None:
    broken = normal_rows[:10].copy()
    broken[:, 2] += 8 * normal_rows[:, 2].std()
    shares = fitted.feature_scores(broken)
    assert shares.shape == (10, 6)
    np.testing.assert_allclose(shares.sum(1), 1.0)
    assert np.all(shares.argmax(1) == 2)


def test_pooling_options_change_the_score(normal_rows: np.ndarray, fast_options: dict[str, Any]) -> None:
    options = {"random_state": 0, "score_method": "mse", **fast_options}
    mean = AutoencoderOutlierDetector(**options).fit(normal_rows)
    worst = AutoencoderOutlierDetector(pooling="max", **options).fit(normal_rows)
    top = AutoencoderOutlierDetector(pooling="top", top_fraction=1.0, **options).fit(normal_rows)
    np.testing.assert_allclose(top.score_samples(normal_rows), mean.score_samples(normal_rows), rtol=1e-10)
    assert np.all(worst.score_samples(normal_rows) <= mean.score_samples(normal_rows) + 1e-12)


def test_grid_search_with_labels_and_roc_auc(
    test_rows: tuple[np.ndarray, np.ndarray], fast_options: dict[str, Any]
) -> None:
    x, labels = test_rows
    y = np.where(labels == 1, -1, 1)  # scikit-learn's detector labels: +1 inlier, −1 outlier
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    search = GridSearchCV(
        AutoencoderOutlierDetector(random_state=0, **fast_options),
        {"latent_dim": [1, 2]},
        scoring="roc_auc",
        cv=folds,
    ).fit(x, y)
    assert search.best_score_ > 0.8


def test_pickle_and_save_load_keep_the_threshold(
    tmp_path: Any, fitted: AutoencoderOutlierDetector, test_rows: tuple[np.ndarray, np.ndarray]
) -> None:
    x, _ = test_rows
    unpickled = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(unpickled.decision_function(x), fitted.decision_function(x))
    fitted.save(tmp_path / "detector")
    restored = AutoencoderOutlierDetector.load(tmp_path / "detector")
    assert restored.threshold_ == fitted.threshold_
    np.testing.assert_allclose(restored.score_samples(x), fitted.score_samples(x), rtol=1e-6)
    np.testing.assert_array_equal(restored.predict(x), fitted.predict(x))
    settings = anomaly.stored_settings(load(tmp_path / "detector"))
    assert settings is not None and settings.threshold == fitted.threshold_ and settings.pooling == "mean"


def test_pandas_input_and_scores_from_the_app_agree(
    normal_rows: np.ndarray, fast_options: dict[str, Any]
) -> None:
    frame = pd.DataFrame(normal_rows, columns=list("abcdef"))
    detector = AutoencoderOutlierDetector(random_state=0, **fast_options).fit(frame)
    from_app = anomaly.anomaly_scores(
        detector.model_,
        normal_rows,
        method="mse_code",
        normalizer=detector.normalizer_,
        code_distance=detector.code_distance_,
    )
    # the estimator infers in float64 (subset invariance), the app in the model's float32
    np.testing.assert_allclose(-detector.score_samples(frame), from_app, rtol=1e-5)


def test_mahalanobis_scoring_round_trips(
    tmp_path: Any,
    normal_rows: np.ndarray,
    test_rows: tuple[np.ndarray, np.ndarray],
    fast_options: dict[str, Any],
) -> None:
    x, labels = test_rows
    detector = AutoencoderOutlierDetector(random_state=0, score_method="mahalanobis", **fast_options)
    detector.fit(normal_rows)
    assert detector.gaussian_ is not None and detector.gaussian_.uses_codes
    assert roc_auc_score(labels, -detector.score_samples(x)) > 0.95
    restored = AutoencoderOutlierDetector.load(detector.save(tmp_path / "detector"))
    np.testing.assert_allclose(restored.score_samples(x), detector.score_samples(x), rtol=1e-6)
    plain = AutoencoderOutlierDetector(random_state=0, **fast_options).fit(normal_rows)
    assert plain.gaussian_ is None


@pytest.mark.parametrize("score_method", ["mse", "mahalanobis"])
def test_scores_do_not_depend_on_how_rows_are_batched(
    normal_rows: np.ndarray,
    test_rows: tuple[np.ndarray, np.ndarray],
    fast_options: dict[str, Any],
    score_method: str,
) -> None:
    """A row's score is the same asked alone, in threes or with all the others (float64 inference)."""
    x, _ = test_rows
    detector = AutoencoderOutlierDetector(random_state=0, score_method=score_method, **fast_options).fit(
        normal_rows
    )
    whole = detector.decision_function(x)
    in_threes = np.concatenate([detector.decision_function(x[i : i + 3]) for i in range(0, len(x), 3)])
    alone = np.array([detector.decision_function(x[i : i + 1])[0] for i in range(10)])
    np.testing.assert_allclose(in_threes, whole, rtol=0, atol=1e-10)
    np.testing.assert_allclose(alone, whole[:10], rtol=0, atol=1e-10)
    assert all(p.dtype == torch.float32 for p in detector.model_.parameters())  # back to float32 after


def test_cross_entropy_scores_rows_beyond_the_training_range(
    normal_rows: np.ndarray, fast_options: dict[str, Any]
) -> None:
    detector = AutoencoderOutlierDetector(
        scaling="minmax", score_method="bce", random_state=0, **fast_options
    ).fit(normal_rows)
    scores = detector.score_samples(normal_rows[:5])
    beyond = normal_rows[:5].copy()
    beyond[:, 2] = normal_rows[:, 2].max() + 5 * normal_rows[:, 2].std()  # far past every training row
    assert np.all(detector.score_samples(beyond) < scores)
    assert np.all(detector.predict(beyond) == -1)
    assert np.all(detector.feature_scores(beyond).argmax(1) == 2)
