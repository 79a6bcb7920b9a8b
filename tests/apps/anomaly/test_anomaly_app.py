"""aekit.apps.anomaly: scores, error maps, thresholds and metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

import aekit
from aekit.apps import anomaly
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models.files import ModelBundle


def test_scores_separate_outliers_above_a_floor(
    pca_bundle: ModelBundle, labelled: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = labelled
    result = anomaly.score(pca_bundle, x, contamination=0.1)
    assert result.scores.shape == (100,) and result.scores.dtype == np.float64
    assert result.n_anomalies == 10
    np.testing.assert_array_equal(result.labels, result.scores > result.threshold)
    metrics = anomaly.evaluate(result.scores, y, result.threshold)
    assert metrics.auroc > 0.97
    assert metrics.auroc == pytest.approx(roc_auc_score(y, result.scores))
    assert metrics.auprc == pytest.approx(average_precision_score(y, result.scores))
    assert metrics.f1 == pytest.approx(f1_score(y, result.labels))


def test_score_matches_per_sample_mse_and_error_maps(
    pca_bundle: ModelBundle, labelled: tuple[np.ndarray, np.ndarray]
) -> None:
    x, _ = labelled
    normalised = pca_bundle.normalizer.transform(torch.from_numpy(x).float())
    expected = (pca_bundle.model.reconstruct(normalised) - normalised).square().mean(1).double().numpy()
    np.testing.assert_allclose(anomaly.anomaly_scores(pca_bundle, x), expected, rtol=1e-5)
    maps = anomaly.error_maps(pca_bundle, x)
    assert maps.shape == (100, 5)
    np.testing.assert_allclose(maps.mean(1), expected, rtol=1e-5)
    shares = anomaly.error_shares(maps)
    np.testing.assert_allclose(shares.sum(1), 1.0)
    worst = anomaly.anomaly_scores(pca_bundle, x, pooling="max")
    np.testing.assert_allclose(worst, maps.max(1), rtol=1e-6)
    top = anomaly.anomaly_scores(pca_bundle, x, pooling="top", top_fraction=0.4)  # the 2 largest of 5
    np.testing.assert_allclose(top, np.sort(maps, 1)[:, -2:].mean(1), rtol=1e-5)
    l1 = anomaly.anomaly_scores(pca_bundle, x, method="l1")
    np.testing.assert_allclose(l1, np.sqrt(maps).mean(1), rtol=1e-5)


def test_bce_maps_on_images_and_batching_does_not_change_scores() -> None:
    model = aekit.create(
        "conv", input_shape=(1, 8, 8), latent_dim=3, channels=[4], reconstruction="bce", seed=0
    )
    images = torch.rand(10, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert anomaly.resolve_method(model) == "bce"
    maps = anomaly.error_maps(model, images)
    assert maps.shape == (10, 1, 8, 8) and (maps >= 0).all()
    whole = anomaly.anomaly_scores(model, images.numpy().reshape(10, 64))
    np.testing.assert_allclose(anomaly.anomaly_scores(model, images, batch_size=3), whole, rtol=1e-6)
    np.testing.assert_allclose(whole, maps.reshape(10, -1).mean(1), rtol=1e-5)
    # Values beyond the [0, 1] training range score at the edge plus their squared overshoot.
    beyond = images.clone()
    beyond[0, 0, 0, 0] = 1.5
    beyond_scores = anomaly.anomaly_scores(model, beyond)
    np.testing.assert_allclose(beyond_scores[1:], whole[1:], rtol=1e-6)
    with torch.no_grad():
        x_hat = model.eval().reconstruct(beyond[:1])[0, 0, 0, 0]
    edge_error = -torch.log(x_hat).item()
    assert anomaly.error_maps(model, beyond)[0, 0, 0, 0] == pytest.approx(edge_error + 0.25, rel=1e-4)
    smoothed = anomaly.anomaly_scores(model, images, pooling="max", smoothing=3)
    box = torch.nn.functional.avg_pool2d(torch.from_numpy(maps), 3, 1, 1, count_include_pad=False)
    np.testing.assert_allclose(smoothed, box.flatten(1).amax(1).numpy(), rtol=1e-5)
    with pytest.raises(ConfigError, match="smoothing must be an odd positive int"):
        anomaly.anomaly_scores(model, images, smoothing=2)


def test_elbo_is_used_when_the_model_has_one(
    pca_bundle: ModelBundle, labelled: tuple[np.ndarray, np.ndarray]
) -> None:
    x, _ = labelled
    model = pca_bundle.model
    # a model that declares a likelihood (as VAEs do) is scored by its negative log-likelihood
    model.has_likelihood = True  # type: ignore[misc]
    model.negative_log_likelihood = lambda batch, generator=None: 3.0 * batch.square().sum(1)  # type: ignore[method-assign]
    try:
        assert anomaly.resolve_method(model) == "elbo"
        scores = anomaly.anomaly_scores(pca_bundle, x)
        normalised = pca_bundle.normalizer.transform(torch.from_numpy(x).float())
        np.testing.assert_allclose(scores, 3.0 * normalised.square().sum(1).double().numpy(), rtol=1e-5)
        with pytest.raises(ConfigError, match="smoothing 1 apply to element errors; method 'elbo' takes"):
            anomaly.anomaly_scores(pca_bundle, x, pooling="max")
        assert anomaly.error_maps(pca_bundle, x).shape == (100, 5)  # maps fall back to the squared error
    finally:
        del model.has_likelihood, model.negative_log_likelihood
    with pytest.raises(
        ConfigError, match="method 'elbo' needs a model with an elbo method; PCAAutoencoder has none"
    ):
        anomaly.anomaly_scores(pca_bundle, x, method="elbo")


def test_thresholds() -> None:
    scores = np.arange(100, dtype=float)
    assert np.sum(scores > anomaly.threshold_from_contamination(scores, 0.1)) == 10
    assert anomaly.threshold_from_percentile(scores, 50) == pytest.approx(49.5)
    labels = np.r_[np.zeros(90), np.ones(10)]
    threshold, f1 = anomaly.best_f1_threshold(scores, labels)
    assert f1 == 1.0 and 89 < threshold < 90
    tied = np.array([0.0, 1.0, 1.0, 1.0, 2.0])
    threshold, _ = anomaly.best_f1_threshold(tied, [0, 0, 1, 1, 1])
    assert threshold in (0.5, 1.5)  # never between tied scores
    metrics = anomaly.evaluate(scores, labels)
    assert metrics.f1 == 1.0 and metrics.auroc == 1.0 and set(metrics.to_dict()) >= {"auroc", "auprc", "f1"}
    with pytest.raises(ConfigError, match=r"contamination must be in \(0, 0.5\]; got 0.9"):
        anomaly.threshold_from_contamination(scores, 0.9)
    with pytest.raises(ConfigError, match=r"percentile must be in \[0, 100\]; got 101"):
        anomaly.threshold_from_percentile(scores, 101)
    with pytest.raises(DataError, match="labels must contain both normal"):
        anomaly.evaluate(scores, np.zeros(100))
    with pytest.raises(DataError, match="labels must be 0/1 or bool"):
        anomaly.evaluate(scores, np.full(100, 2))
    with pytest.raises(ShapeError, match=r"labels must have one entry per score \(100\); got 3"):
        anomaly.evaluate(scores, [0, 1, 0])
    with pytest.raises(DataError, match="scores contains NaN"):
        anomaly.threshold_from_percentile([1.0, np.nan], 50)


def test_input_errors(pca_bundle: ModelBundle) -> None:
    with pytest.raises(ShapeError, match=r"x must have shape \(N, 5\) or \(N, 5\); got \(4, 3\)"):
        anomaly.anomaly_scores(pca_bundle, np.zeros((4, 3)))
    with pytest.raises(DataError, match="x contains NaN or infinite values"):
        anomaly.anomaly_scores(pca_bundle, np.full((2, 5), np.inf))
    with pytest.raises(ConfigError, match=r"smoothing applies to image error maps \(B, C, H, W\)"):
        anomaly.anomaly_scores(pca_bundle, np.zeros((2, 5)), smoothing=3)
    with pytest.raises(ConfigError, match="method must be one of"):
        anomaly.anomaly_scores(pca_bundle, np.zeros((2, 5)), method="huber")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="model must be an aekit model or a ModelBundle"):
        anomaly.anomaly_scores("model.pt", np.zeros((2, 5)))  # type: ignore[arg-type]


def test_stored_threshold_round_trip(
    pca_bundle: ModelBundle, labelled: tuple[np.ndarray, np.ndarray]
) -> None:
    x, _ = labelled
    assert anomaly.stored_settings(pca_bundle) is None
    anomaly.save_threshold(pca_bundle.path, anomaly.DetectionSettings(threshold=0.5, pooling="max"))
    bundle = aekit.load(pca_bundle.path)
    assert bundle.metadata["feature_names"] == list("abcde")  # other metadata survives
    settings = anomaly.stored_settings(bundle)
    assert settings == anomaly.DetectionSettings(threshold=0.5, method="auto", pooling="max")
    result = anomaly.score(bundle, x)
    assert result.threshold == 0.5
    np.testing.assert_allclose(result.scores, anomaly.anomaly_scores(bundle, x, pooling="max"))
    with pytest.raises(ConfigError, match=r"settings\.threshold must be set"):
        anomaly.save_threshold(Path(pca_bundle.path), anomaly.DetectionSettings())
    with pytest.raises(ConfigError, match=r"anomaly settings have unknown keys \['cutoff'\]"):
        anomaly.DetectionSettings.from_dict({"cutoff": 1.0})


def test_mahalanobis_scores_match_scikit_learn_and_survive_the_model_folder(
    pca_bundle: ModelBundle, labelled: tuple[np.ndarray, np.ndarray], normal: np.ndarray
) -> None:
    from sklearn.covariance import EmpiricalCovariance

    rng = np.random.default_rng(0)
    residuals = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 4))
    gaussian = anomaly.GaussianResiduals.fit(residuals, eigenvalue_floor=1e-12)
    reference = EmpiricalCovariance().fit(residuals).mahalanobis(residuals)
    np.testing.assert_allclose(gaussian.score(residuals), reference / reference.mean(), rtol=1e-6)

    fitted = anomaly.fit_gaussian(pca_bundle, normal)
    assert fitted.uses_codes and fitted.residual_precision.shape == (5, 5)
    x, y = labelled
    scores = anomaly.anomaly_scores(pca_bundle, x, method="mahalanobis", gaussian=fitted)
    assert anomaly.evaluate(scores, y).auroc > 0.97
    anomaly.save_threshold(
        pca_bundle.path, anomaly.DetectionSettings(threshold=3.0, method="mahalanobis", gaussian=fitted)
    )
    result = anomaly.score(aekit.load(pca_bundle.path), x)
    np.testing.assert_allclose(result.scores, scores, rtol=1e-10)
    document = json.loads((Path(pca_bundle.path) / "config.json").read_text())
    stored = document["metadata"]["anomaly"]["gaussian"]  # the matrix sits in the arrays file
    assert stored["residual_precision"] == {"$array": "metadata/anomaly/gaussian/residual_precision"}
    with pytest.raises(ConfigError, match="method 'mahalanobis' needs gaussian="):
        anomaly.anomaly_scores(pca_bundle, x, method="mahalanobis")
    with pytest.raises(DataError, match="a Gaussian needs at least 2 samples"):
        anomaly.fit_gaussian(pca_bundle, normal[:1])
