"""Few-label learning: balanced draws, the encoder classifier, fine-tuning through the Trainer, and the
comparison with pixels and PCA."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.data.augment import Augmentation
from aekit.errors import ConfigError, DataError
from aekit.models import create
from aekit.models.classifier import EncoderClassifier
from aekit.models.files import load_model, save_model
from aekit.training.config import TrainConfig
from aekit.workflows.fewlabel import (
    compare_few_label,
    draw_labelled,
    finetune_classifier,
    predict_classifier,
    pseudo_labels,
    spread_labels,
)


def test_draw_labelled_is_balanced_seeded_and_checked() -> None:
    labels = np.repeat(np.arange(4), 25)
    chosen = draw_labelled(labels, 3, random_state=1)
    assert len(chosen) == 12 and np.bincount(labels[chosen]).tolist() == [3, 3, 3, 3]
    assert np.array_equal(chosen, draw_labelled(labels, 3, random_state=1))
    assert not np.array_equal(chosen, draw_labelled(labels, 3, random_state=2))
    with pytest.raises(DataError, match="cannot draw 30"):
        draw_labelled(labels, 30)


def test_pseudo_labels_keep_the_most_confident_per_class() -> None:
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.45, 0.55], [0.99, 0.01]])
    indices, labels = pseudo_labels(probabilities, per_class=1)
    assert indices.tolist() == [2, 4] and labels.tolist() == [1, 0]
    indices, _ = pseudo_labels(probabilities, min_confidence=0.7)
    assert indices.tolist() == [0, 2, 4]


def test_encoder_classifier_starts_from_the_autoencoder_and_freezes_the_decoder(mlp_bundle, tmp_path) -> None:
    autoencoder = mlp_bundle.model
    classifier = EncoderClassifier.from_autoencoder(autoencoder, n_classes=10, head_hidden_dims=(16,))
    x = mlp_bundle.normalizer.transform(torch.rand(4, 1, 8, 8) * 16)
    assert torch.equal(classifier.encode(x), autoencoder.encode(x))
    trainable = {name for name, p in classifier.named_parameters() if p.requires_grad}
    assert any(name.startswith("backbone.") for name in trainable) and any(
        n.startswith("head.") for n in trainable
    )
    assert all("decoder" not in name for name in trainable)
    assert classifier(x).x_hat.shape == (4, 10)
    loaded = load_model(save_model(classifier, tmp_path / "classifier"))
    assert loaded.config == classifier.config
    classifier.eval()
    assert torch.equal(loaded(x).x_hat, classifier(x).x_hat)


def test_encoder_classifier_refuses_conditional_backbones() -> None:
    with pytest.raises(ConfigError, match="cannot encode without a condition"):
        create(
            "encoder_classifier",
            input_shape=(4,),
            latent_dim=2,
            backbone="cvae",
            backbone_options={"n_classes": 3},
        )
    with pytest.raises(ConfigError, match="backbone 'nope'"):
        create("encoder_classifier", input_shape=(4,), backbone="nope")


def test_finetuning_goes_through_the_trainer_and_learns_the_labelled_set(mlp_bundle, raw_digits) -> None:
    labelled = draw_labelled(raw_digits.y.numpy(), 10, random_state=0)
    x, y = raw_digits.x[labelled], raw_digits.y[labelled]
    result = finetune_classifier(
        mlp_bundle,
        x,
        y,
        train=TrainConfig(epochs=25, batch_size=25, learning_rate=1e-2, device="cpu", seed=0),
        augmentation=Augmentation(max_shift=1),
    )
    rows = result.history.rows
    assert {"train_cross_entropy", "train_error_rate"} <= set(rows[-1])
    assert rows[-1]["train_cross_entropy"] < 0.5 * rows[0]["train_cross_entropy"]
    test = raw_digits.subset(torch.arange(1000, 1797))
    probabilities = predict_classifier(result.classifier, test.x, normalizer=mlp_bundle.normalizer)
    assert probabilities.shape == (797, 10) and np.allclose(probabilities.sum(1), 1.0, atol=1e-5)
    assert (probabilities.argmax(1) == test.y.numpy()).mean() > 0.6  # 100 labels; chance is 0.1


def test_label_spreading_uses_the_unlabelled_codes(mlp_bundle, raw_digits) -> None:
    from aekit.workflows.fewlabel import encode

    codes = encode(mlp_bundle, raw_digits.x)
    labelled = draw_labelled(raw_digits.y.numpy(), 3, random_state=0)
    fitted = spread_labels(codes, labelled, raw_digits.y.numpy()[labelled])
    transduced = fitted[-1].transduction_
    assert np.array_equal(transduced[labelled], raw_digits.y.numpy()[labelled])
    assert (transduced == raw_digits.y.numpy()).mean() > 0.5


def test_compare_few_label_scores_pixels_pca_and_codes_on_the_same_draw(mlp_bundle, raw_digits) -> None:
    train = raw_digits.subset(torch.arange(1200))
    test = raw_digits.subset(torch.arange(1200, 1797))
    labelled = draw_labelled(train.y.numpy(), 5, random_state=0)
    report = compare_few_label(
        mlp_bundle,
        train.x,
        labelled,
        train.y,
        test.x,
        test.y,
        classifiers=("logistic", "knn"),
        finetune=TrainConfig(epochs=20, batch_size=25, learning_rate=1e-2, device="cpu"),
    )
    assert report.n_labelled == 50
    pairs = {(s.features, s.classifier) for s in report.scores}
    assert {
        ("pixels", "logistic"),
        ("pca", "knn"),
        ("codes", "logistic"),
        ("finetuned", "encoder+head"),
    } <= pairs
    for score in report.scores:
        assert 0.3 < score.accuracy <= 1.0, score  # all far above chance (0.1)
    assert report.accuracy("pca", "logistic") == next(
        s.accuracy for s in report.scores if s.features == "pca"
    )
    assert report.to_dict()["n_labelled"] == 50


def test_the_classifier_backbone_follows_the_input() -> None:
    """``backbone="auto"``: a convolutional encoder for images, an MLP for table rows (a conv backbone
    refused tables that the docs list for this family)."""
    from aekit.models import create

    assert create("encoder_classifier", input_shape=(1, 8, 8), latent_dim=4).config.backbone == "conv"
    table = create("encoder_classifier", input_shape=(12,), latent_dim=4)
    assert table.config.backbone == "mlp" and table.encode(torch.rand(3, 12)).shape == (3, 4)
