"""AutoencoderTransformer as a PCA replacement: pipelines, search, pandas output, pickling, files."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from aekit.errors import ConfigError, DataError, ModelFileError, ShapeError
from aekit.estimators import AutoencoderOutlierDetector, AutoencoderTransformer
from aekit.models.files import load


def test_transform_shapes_and_inverse_round_trip(
    normal_rows: np.ndarray, fast_options: dict[str, Any]
) -> None:
    transformer = AutoencoderTransformer(random_state=0, **{**fast_options, "epochs": 60})
    codes = transformer.fit_transform(normal_rows)
    assert codes.shape == (200, 2) and codes.dtype == np.float64
    restored = transformer.inverse_transform(codes)
    assert restored.shape == normal_rows.shape
    # the data lie near a 2-D plane, so 2 codes reconstruct them far better than the column means do
    relative = np.square(restored - normal_rows).sum() / np.square(normal_rows - normal_rows.mean(0)).sum()
    assert relative < 0.1
    assert transformer.score(normal_rows) <= 0
    assert transformer.get_feature_names_out().tolist() == [
        "autoencodertransformer0",
        "autoencodertransformer1",
    ]


def test_pipeline_drop_in_for_pca(fast_options: dict[str, Any]) -> None:
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    for reducer in (
        PCA(n_components=2),
        AutoencoderTransformer(random_state=0, **{**fast_options, "epochs": 40}),
    ):
        accuracy = make_pipeline(reducer, LogisticRegression(max_iter=500)).fit(x, y).score(x, y)
        assert accuracy > 0.85


def test_fit_is_repeatable_and_forgets_earlier_fits(
    normal_rows: np.ndarray, fast_options: dict[str, Any]
) -> None:
    first = AutoencoderTransformer(random_state=3, **fast_options).fit(normal_rows).transform(normal_rows)
    transformer = AutoencoderTransformer(random_state=3, **fast_options)
    transformer.fit(normal_rows[:, :3] * 2).fit(normal_rows)
    np.testing.assert_array_equal(transformer.transform(normal_rows), first)
    assert transformer.n_features_in_ == 6


def test_clone_get_set_params_and_grid_search(normal_rows: np.ndarray, fast_options: dict[str, Any]) -> None:
    transformer = AutoencoderTransformer(random_state=0, **fast_options)
    copy = clone(transformer).set_params(latent_dim=1)
    assert copy.get_params()["latent_dim"] == 1 and transformer.latent_dim == 2
    search = GridSearchCV(transformer, {"latent_dim": [1, 2]}, cv=2).fit(normal_rows)
    assert search.best_params_ == {"latent_dim": 2}


def test_set_output_pandas_keeps_index(normal_rows: np.ndarray, fast_options: dict[str, Any]) -> None:
    frame = pd.DataFrame(normal_rows, columns=[f"f{i}" for i in range(6)], index=range(100, 300))
    transformer = AutoencoderTransformer(random_state=0, **fast_options).set_output(transform="pandas")
    codes = transformer.fit(frame).transform(frame)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == ["autoencodertransformer0", "autoencodertransformer1"]
    assert list(codes.index) == list(frame.index)
    assert transformer.feature_names_in_.tolist() == list(frame.columns)


def test_pickled_estimator_gives_identical_output(
    normal_rows: np.ndarray, fast_options: dict[str, Any]
) -> None:
    transformer = AutoencoderTransformer(random_state=0, **fast_options).fit(normal_rows)
    restored = pickle.loads(pickle.dumps(transformer))
    np.testing.assert_array_equal(restored.transform(normal_rows), transformer.transform(normal_rows))


def test_save_load_round_trip_with_feature_names(
    tmp_path: Any, normal_rows: np.ndarray, fast_options: dict[str, Any]
) -> None:
    frame = pd.DataFrame(normal_rows, columns=list("abcdef"))
    transformer = AutoencoderTransformer(random_state=0, **fast_options).fit(frame)
    transformer.save(tmp_path / "model")
    restored = AutoencoderTransformer.load(tmp_path / "model")
    np.testing.assert_allclose(restored.transform(frame), transformer.transform(frame), rtol=1e-6)
    assert restored.get_params() == transformer.get_params()
    assert restored.feature_names_in_.tolist() == list("abcdef")
    assert len(restored.history_) == fast_options["epochs"]
    bundle = load(tmp_path / "model")  # an ordinary aekit model folder
    assert bundle.normalizer.kind == "standardize" and bundle.model.registry_name == "mlp"
    with pytest.raises(ModelFileError, match="not saved by AutoencoderOutlierDetector"):
        AutoencoderOutlierDetector.load(tmp_path / "model")


def test_other_models_conv_with_input_shape_and_pca(fast_options: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    images = rng.random((40, 64))
    conv = AutoencoderTransformer(
        model="conv",
        input_shape=(1, 8, 8),
        latent_dim=3,
        epochs=2,
        model_options={"channels": [4]},
        scaling="minmax",
        random_state=0,
        device="cpu",
    )
    assert conv.fit_transform(images).shape == (40, 3)
    pca = AutoencoderTransformer(model="pca", latent_dim=3, scaling="none").fit(images)
    reference = PCA(n_components=3).fit(images)
    np.testing.assert_allclose(
        pca.inverse_transform(pca.transform(images)),
        reference.inverse_transform(reference.transform(images)),
        atol=1e-4,
    )


def test_clear_errors(normal_rows: np.ndarray, fast_options: dict[str, Any]) -> None:
    frame = pd.DataFrame(normal_rows[:20], columns=list("abcdef"))
    frame["city"] = "Paris"
    with pytest.raises(DataError, match=r"non-numeric column\(s\) \['city'\]"):
        AutoencoderTransformer(**fast_options).fit(frame)
    holes = pd.DataFrame(normal_rows[:20], columns=list("abcdef"))
    holes.loc[3, "c"] = np.nan
    with pytest.raises(DataError, match=r"NaN or infinity in column\(s\) \['c'\] \(1 rows\)"):
        AutoencoderTransformer(**fast_options).fit(holes)
    with pytest.raises(DataError, match=r"input_shape \(1, 2, 2\) holds 4 values but X has 6 features"):
        AutoencoderTransformer(input_shape=(1, 2, 2), **fast_options).fit(normal_rows)
    with pytest.raises(ConfigError, match="scaling must be one of"):
        AutoencoderTransformer(scaling="quantile", **fast_options).fit(normal_rows)
    with pytest.raises(ConfigError, match="unknown model 'mpl'; did you mean 'mlp'"):
        AutoencoderTransformer(model="mpl").fit(normal_rows)
    with pytest.raises(ConfigError, match="hidden_dims is not a setting of model 'pca'"):
        AutoencoderTransformer(model="pca", hidden_dims=(4,)).fit(normal_rows)
    for epochs in (0, 2.5, True, None):
        with pytest.raises(ConfigError, match=f"epochs must be a positive int; got {epochs}"):
            AutoencoderTransformer(**{**fast_options, "epochs": epochs}).fit(normal_rows)
    with pytest.raises(ConfigError, match=r"random_state must be None, an int in \[0, 2\*\*32 - 1\]"):
        AutoencoderTransformer(random_state=-1, **fast_options).fit(normal_rows)
    fitted = AutoencoderTransformer(random_state=0, **fast_options).fit(normal_rows)
    with pytest.raises(ShapeError, match=r"X must have shape \(n_samples, 2\) codes; got \(3, 5\)"):
        fitted.inverse_transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="X has 5 features, but AutoencoderTransformer is expecting 6"):
        fitted.transform(normal_rows[:, :5])


def test_image_shaped_arrays_take_their_sample_shape(fast_options: dict[str, Any]) -> None:
    """``(N, C, H, W)`` arrays fit a conv model without ``input_shape``; flat rows then transform the same."""
    images = np.random.default_rng(0).random((40, 1, 8, 8))
    options = {**fast_options, "hidden_dims": None}
    transformer = AutoencoderTransformer(model="conv", **options).fit(images)
    assert transformer.input_shape_ == (1, 8, 8) and transformer.n_features_in_ == 64
    codes = transformer.transform(images)
    np.testing.assert_allclose(transformer.transform(images.reshape(40, -1)), codes)
    assert codes.shape == (40, 2) and transformer.inverse_transform(codes).shape == (40, 64)
    with pytest.raises(DataError, match="holds 49 values but X has 64 features"):
        AutoencoderTransformer(input_shape=(1, 7, 7), **options).fit(images)
    grey_stack = AutoencoderTransformer(model="conv", **options).fit(images[:, 0])  # (N, H, W)
    assert grey_stack.input_shape_ == (1, 8, 8)
    assert grey_stack.transform(images[:, 0]).shape == (40, 2)
