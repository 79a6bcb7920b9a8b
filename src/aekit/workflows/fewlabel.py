"""Learning from few labels with an autoencoder pretrained on all the (unlabelled) data.

The recipe ("training assistance"): train an autoencoder on every sample without labels, then

1. fit a small classifier on the *codes* of the few labelled samples (logistic regression, k-NN), or
   spread the few labels over the graph of all codes (label spreading: Zhou et al., "Learning with local
   and global consistency", NeurIPS 2004), or
2. fine-tune the encoder with a classification head on the labelled samples
   (:class:`~aekit.models.classifier.EncoderClassifier`, trained by the ordinary Trainer), optionally
   with confidently pseudo-labelled samples added (self-training: Lee, "Pseudo-label", ICML-W 2013).

:func:`compare_few_label` runs the same classifier on raw inputs, on PCA features and on codes in one
call, so the gain from the autoencoder is measured against the obvious baselines on the same draw of
labels. Nothing here has a training loop: fitting goes through scikit-learn or the Trainer.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from aekit.apps.inference import ModelLike, encode_dataset, run_batches, unpack
from aekit.config import check_choice
from aekit.data.augment import Augmentation
from aekit.data.tensors import TensorData
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models.classifier import EncoderClassifier
from aekit.training.config import TrainConfig
from aekit.training.history import History
from aekit.training.trainer import Trainer

__all__ = [
    "CLASSIFIERS",
    "ClassifierKind",
    "FewLabelReport",
    "FewLabelScore",
    "FineTuneResult",
    "SelfTrainingResult",
    "compare_few_label",
    "draw_labelled",
    "encode",
    "feature_classifier",
    "finetune_classifier",
    "predict_classifier",
    "pseudo_labels",
    "self_train",
    "spread_labels",
]

ClassifierKind = Literal["logistic", "knn", "label_spreading"]
CLASSIFIERS: tuple[str, ...] = ("logistic", "knn", "label_spreading")


def _as_numpy(values: Tensor | np.ndarray, name: str) -> np.ndarray:
    array = values.detach().cpu().numpy() if isinstance(values, Tensor) else np.asarray(values)
    if array.size == 0:
        raise DataError(f"{name} is empty")
    return array


def draw_labelled(labels: Tensor | np.ndarray, per_class: int, *, random_state: int = 0) -> np.ndarray:
    """Indices of ``per_class`` samples of every class, drawn without replacement (sorted).

    Raises:
        DataError: A class has fewer than ``per_class`` samples.
    """
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise ConfigError(f"per_class must be a positive integer; got {per_class!r}")
    array = _as_numpy(labels, "labels").ravel()
    rng = np.random.default_rng(random_state)
    chosen = []
    for value in np.unique(array):
        members = np.flatnonzero(array == value)
        if len(members) < per_class:
            raise DataError(f"class {value!r} has {len(members)} samples; cannot draw {per_class}")
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def encode(model: ModelLike, x: Tensor, *, batch_size: int = 1024) -> np.ndarray:
    """Codes ``(N, latent_dim)`` of inputs ``x`` (raw for a bundle, which normalises; as-is for a model)."""
    return encode_dataset(model, x, batch_size=batch_size).numpy()


def feature_classifier(kind: ClassifierKind = "logistic", **options: Any) -> Any:
    """A scikit-learn pipeline: standardise features, then the classifier.

    ``logistic``: multinomial logistic regression (``C`` option, default 1); ``knn``: k-nearest
    neighbours (``n_neighbors``, default 1); ``label_spreading``: see :func:`spread_labels`.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    check_choice("kind", kind, CLASSIFIERS)
    if kind == "logistic":
        estimator = LogisticRegression(
            C=options.pop("C", 1.0), max_iter=options.pop("max_iter", 2000), **options
        )
    elif kind == "knn":
        estimator = KNeighborsClassifier(n_neighbors=options.pop("n_neighbors", 1), **options)
    else:
        raise ConfigError("label_spreading needs the unlabelled samples too; call spread_labels")
    return make_pipeline(StandardScaler(), estimator)


def spread_labels(
    features: np.ndarray,
    labelled: np.ndarray,
    labels: np.ndarray,
    *,
    n_neighbors: int = 10,
    alpha: float = 0.2,
    max_iter: int = 200,
) -> Any:
    """Fit label spreading over the k-NN graph of all ``features`` with the few known ``labels``.

    Args:
        features: Features of every training sample ``(N, F)`` (standardised here).
        labelled: Indices of the labelled samples ``(n,)``.
        labels: Their labels ``(n,)``.
        n_neighbors: Graph neighbours per sample.
        alpha: Share of a sample's label taken from its neighbours at each step (0 keeps the given labels).
        max_iter: Propagation steps.

    Returns:
        A fitted pipeline whose ``predict``/``predict_proba`` label new samples, and whose last step's
        ``transduction_``/``label_distributions_`` hold the spread labels of the training samples.
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.semi_supervised import LabelSpreading

    targets = np.full(len(features), -1, dtype=np.int64)
    targets[np.asarray(labelled)] = np.asarray(labels)
    spreading = LabelSpreading(kernel="knn", n_neighbors=n_neighbors, alpha=alpha, max_iter=max_iter)
    # Samples without any labelled neighbour get 0/0 class shares; scikit-learn leaves them at zero.
    with np.errstate(divide="ignore", invalid="ignore"):
        return make_pipeline(StandardScaler(), spreading).fit(features, targets)


def pseudo_labels(
    probabilities: np.ndarray, *, per_class: int | None = None, min_confidence: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The most confident samples of each predicted class, for self-training.

    Args:
        probabilities: Class probabilities of unlabelled samples ``(N, K)``.
        per_class: Keep at most this many samples per predicted class (balanced pseudo-labels); None
            keeps every sample above ``min_confidence``.
        min_confidence: Drop samples whose top probability is below this.

    Returns:
        ``(indices, labels)`` of the kept samples.
    """
    if probabilities.ndim != 2:
        raise ShapeError(f"probabilities must have shape (N, K); got {probabilities.shape}")
    predicted = probabilities.argmax(1)
    confidence = probabilities.max(1)
    kept = []
    for value in range(probabilities.shape[1]):
        members = np.flatnonzero((predicted == value) & (confidence >= min_confidence))
        members = members[np.argsort(-confidence[members], kind="stable")]
        kept.append(members if per_class is None else members[:per_class])
    indices = np.sort(np.concatenate(kept))
    return indices, predicted[indices]


@dataclasses.dataclass(frozen=True)
class FineTuneResult:
    """A fine-tuned classifier and its training history."""

    classifier: EncoderClassifier
    history: History


def finetune_classifier(
    model: ModelLike,
    x: Tensor,
    y: Tensor | np.ndarray,
    *,
    n_classes: int | None = None,
    train: TrainConfig | None = None,
    augmentation: Augmentation | None = None,
    head_hidden_dims: Sequence[int] = (),
    dropout: float = 0.0,
    label_smoothing: float = 0.0,
    classifier: EncoderClassifier | None = None,
) -> FineTuneResult:
    """Fine-tune the encoder of ``model`` with a new classification head on labelled inputs.

    Args:
        model: The pretrained autoencoder (or bundle; raw inputs are then normalised with its normaliser).
        x: Inputs ``(N, *input_shape)``, raw for a bundle.
        y: Integer labels ``(N,)`` (true or pseudo-labels).
        n_classes: Number of classes (default: ``max(y) + 1``).
        train: Training settings (epochs, learning rate, seed ...); by default 100 epochs of batches of
            32 at 1e-3 (few labels make few steps per epoch).
        augmentation: Random shifts/rotations applied to each training batch (images only).
        head_hidden_dims, dropout, label_smoothing: Head settings (see ``EncoderClassifierConfig``).
        classifier: Continue training this classifier instead of starting from ``model``'s encoder.
    """
    network, normalizer = unpack(model)
    labels = torch.as_tensor(_as_numpy(y, "y")).long().reshape(-1)
    if len(labels) != len(x):
        raise ShapeError(f"y must have shape ({len(x)},); got {tuple(labels.shape)}")
    inputs = normalizer.transform(x.float())
    if classifier is None:
        classifier = EncoderClassifier.from_autoencoder(
            network,
            n_classes=int(n_classes if n_classes is not None else int(labels.max()) + 1),
            head_hidden_dims=tuple(head_hidden_dims),
            dropout=dropout,
            label_smoothing=label_smoothing,
        )
    config = train or TrainConfig(epochs=100, batch_size=32, learning_rate=1e-3)
    trainer = Trainer(config, augment=None if augmentation is None else augmentation.apply)
    history = trainer.fit(classifier, TensorData(inputs, labels))
    classifier.eval()
    return FineTuneResult(classifier, history)


def predict_classifier(
    classifier: EncoderClassifier, x: Tensor, *, normalizer: Any = None, batch_size: int = 1024
) -> np.ndarray:
    """Class probabilities ``(N, n_classes)`` of inputs ``x`` (normalised first by ``normalizer``)."""
    return run_batches(
        classifier,
        lambda batch, _: classifier.predict_proba(batch),
        x,
        batch_size=batch_size,
        normalizer=normalizer,
    ).numpy()


@dataclasses.dataclass(frozen=True)
class SelfTrainingResult:
    """The classifier of the last self-training round and what each round trained on.

    Attributes:
        classifier: The fine-tuned encoder + head (eval mode).
        rounds: Per round: ``n_pseudo`` (pseudo-labelled samples used) and, when ``true_labels`` were
            given for diagnosis, ``pseudo_accuracy`` (share of them labelled right).
        normalizer: The normaliser to apply to raw inputs before ``classifier`` (None for bare models).
    """

    classifier: EncoderClassifier
    rounds: tuple[dict[str, float], ...]
    normalizer: Any = None

    def predict(self, x: Tensor) -> np.ndarray:
        """Predicted classes ``(N,)`` of raw inputs."""
        return predict_classifier(self.classifier, x, normalizer=self.normalizer).argmax(1)


def self_train(
    model: ModelLike,
    x: Tensor,
    labelled: np.ndarray,
    labels: Tensor | np.ndarray,
    *,
    shares: Sequence[float] = (0.3, 0.6, 0.9),
    train: TrainConfig | None = None,
    augmentation: Augmentation | None = None,
    head_hidden_dims: Sequence[int] = (128,),
    spreading_neighbors: int = 10,
    true_labels: Tensor | np.ndarray | None = None,
    initial_probabilities: np.ndarray | None = None,
) -> SelfTrainingResult:
    """Few-label classification by label spreading over codes, then rounds of pseudo-label fine-tuning.

    Round 0 spreads the known labels over the k-NN graph of all codes (:func:`spread_labels`). Each
    round then keeps the most confident ``share`` of samples of every predicted class (at most
    ``share · N / n_classes`` per class, see :func:`pseudo_labels`), adds the truly labelled samples with
    their real labels, fine-tunes encoder + head on them through the Trainer (continuing from the last
    round), and predicts every sample again for the next round (Lee 2013; Yarowsky-style growing sets).

    Args:
        model: The autoencoder pretrained on ``x`` without labels (or its bundle; ``x`` raw then).
        x: Every training input ``(N, *input_shape)``.
        labelled: Indices of the labelled samples.
        labels: Their labels ``(n,)``, or labels of every sample ``(N,)`` of which only ``labelled`` are read.
        shares: Share of the data pseudo-labelled in each round (one round per entry).
        train: Fine-tuning settings of each round (default: 2 epochs, batches of 128, 1e-3).
        augmentation: Augmentation of every fine-tuning batch (strongly recommended for images).
        head_hidden_dims: Hidden widths of the classification head.
        spreading_neighbors: Graph neighbours of the initial label spreading.
        true_labels: Labels of every sample, used only to report the pseudo-labels' accuracy per round.
        initial_probabilities: Class probabilities ``(N, n_classes)`` to start from instead of spreading
            the labels over the codes (e.g. a spreading already fitted by the caller).
    """
    if not shares or any(not 0 < share <= 1 for share in shares):
        raise ConfigError(f"shares must be a non-empty list of numbers in (0, 1]; got {list(shares)!r}")
    _, normalizer = unpack(model)
    labelled = np.asarray(labelled, dtype=np.int64)
    label_array = _as_numpy(labels, "labels").astype(np.int64).ravel()
    if len(label_array) == len(x) and len(labelled) != len(x):
        label_array = label_array[labelled]
    if len(label_array) != len(labelled):
        raise ShapeError(
            f"labels must have {len(labelled)} entries (one per labelled index); got {len(label_array)}"
        )
    n_classes = int(label_array.max()) + 1
    truth = None if true_labels is None else _as_numpy(true_labels, "true_labels").astype(np.int64).ravel()
    if initial_probabilities is None:
        spreading = spread_labels(encode(model, x), labelled, label_array, n_neighbors=spreading_neighbors)
        probabilities = np.nan_to_num(spreading[-1].label_distributions_)
    else:
        probabilities = np.asarray(initial_probabilities, dtype=np.float64)
        if probabilities.shape != (len(x), n_classes):
            raise ShapeError(
                f"initial_probabilities must have shape ({len(x)}, {n_classes}); got {probabilities.shape}"
            )
    config = train or TrainConfig(epochs=2, batch_size=128, learning_rate=1e-3)
    classifier: EncoderClassifier | None = None
    rounds = []
    for number, share in enumerate(shares):
        indices, pseudo = pseudo_labels(probabilities, per_class=max(1, int(share * len(x) / n_classes)))
        chosen = dict(zip(indices.tolist(), pseudo.tolist(), strict=True))
        chosen.update(zip(labelled.tolist(), label_array.tolist(), strict=True))
        order = np.array(sorted(chosen), dtype=np.int64)
        targets = np.array([chosen[i] for i in order], dtype=np.int64)
        summary: dict[str, float] = {"round": float(number + 1), "n_pseudo": float(len(order))}
        if truth is not None:
            summary["pseudo_accuracy"] = float((targets == truth[order]).mean())
        result = finetune_classifier(
            model,
            x[torch.as_tensor(order)],
            targets,
            n_classes=n_classes,
            train=config.replace(seed=config.seed + number),
            augmentation=augmentation,
            head_hidden_dims=head_hidden_dims,
            classifier=classifier,
        )
        classifier = result.classifier
        probabilities = predict_classifier(classifier, x, normalizer=normalizer)
        rounds.append(summary)
    assert classifier is not None  # shares is not empty
    return SelfTrainingResult(classifier, tuple(rounds), normalizer)


@dataclasses.dataclass(frozen=True)
class FewLabelScore:
    """Test accuracy of one features + classifier pairing.

    Attributes:
        features: ``pixels``, ``pca`` or ``codes`` (or ``finetuned`` for encoder + head).
        classifier: ``logistic``, ``knn``, ``label_spreading`` or ``encoder+head``.
        accuracy: Share of test samples classified correctly.
        seconds: Time to fit and predict.
    """

    features: str
    classifier: str
    accuracy: float
    seconds: float


@dataclasses.dataclass(frozen=True)
class FewLabelReport:
    """Every pairing's score on one draw of labelled samples."""

    n_labelled: int
    scores: tuple[FewLabelScore, ...]

    def accuracy(self, features: str, classifier: str) -> float:
        """The accuracy of one pairing."""
        for score in self.scores:
            if score.features == features and score.classifier == classifier:
                return score.accuracy
        raise KeyError(f"no score for features {features!r} with classifier {classifier!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return {"n_labelled": self.n_labelled, "scores": [dataclasses.asdict(s) for s in self.scores]}


def compare_few_label(
    model: ModelLike,
    x_train: Tensor,
    labelled: np.ndarray,
    labels: Tensor | np.ndarray,
    x_test: Tensor,
    y_test: Tensor | np.ndarray,
    *,
    classifiers: Sequence[ClassifierKind] = ("logistic",),
    features: Sequence[Literal["pixels", "pca", "codes"]] = ("pixels", "pca", "codes"),
    pca_components: int | None = None,
    finetune: TrainConfig | None = None,
    augmentation: Augmentation | None = None,
    spreading_neighbors: int = 10,
) -> FewLabelReport:
    """Score the same classifiers on raw inputs, PCA features and the model's codes (and fine-tuning).

    Args:
        model: The autoencoder pretrained on ``x_train`` without labels (or its bundle: inputs raw).
        x_train: Every training input ``(N, *input_shape)``; all are used by PCA and label spreading.
        labelled: Indices into ``x_train`` of the labelled samples (see :func:`draw_labelled`).
        labels: Labels of those samples ``(n,)`` (or of every training sample ``(N,)``).
        x_test, y_test: Test inputs and labels.
        classifiers: Any of ``logistic``, ``knn`` (1-NN) and ``label_spreading``.
        features: Which feature sets to compare.
        pca_components: PCA size (default: the model's latent size).
        finetune: When given, also fine-tune encoder + head with these settings (``features="finetuned"``).
        augmentation: Augmentation for fine-tuning.
        spreading_neighbors: Graph neighbours of label spreading.
    """
    for kind in classifiers:
        check_choice("classifiers entries", kind, CLASSIFIERS)
    for name in features:
        check_choice("features entries", name, ("pixels", "pca", "codes"))
    network, normalizer = unpack(model)
    labelled = np.asarray(labelled, dtype=np.int64)
    label_array = _as_numpy(labels, "labels").astype(np.int64).ravel()
    if len(label_array) == len(x_train) and len(labelled) != len(x_train):
        label_array = label_array[labelled]
    if len(label_array) != len(labelled):
        raise ShapeError(
            f"labels must have {len(labelled)} entries (one per labelled index); got {len(label_array)}"
        )
    test_labels = _as_numpy(y_test, "y_test").astype(np.int64).ravel()

    def scaled(x: Tensor) -> np.ndarray:
        values = normalizer.transform(x.float())
        return values.reshape(len(values), -1).numpy()

    feature_sets: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    train_flat, test_flat = scaled(x_train), scaled(x_test)
    if "pixels" in features:
        feature_sets["pixels"] = (train_flat, test_flat)
    if "pca" in features:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=min(pca_components or network.latent_dim, *train_flat.shape), random_state=0)
        feature_sets["pca"] = (pca.fit_transform(train_flat), pca.transform(test_flat))
    if "codes" in features:
        feature_sets["codes"] = (encode(model, x_train), encode(model, x_test))
    scores = []
    for feature_name, (train_features, test_features) in feature_sets.items():
        for kind in classifiers:
            started = time.perf_counter()
            if kind == "label_spreading":
                fitted = spread_labels(train_features, labelled, label_array, n_neighbors=spreading_neighbors)
            else:
                fitted = feature_classifier(kind).fit(train_features[labelled], label_array)
            accuracy = float((fitted.predict(test_features) == test_labels).mean())
            scores.append(FewLabelScore(feature_name, kind, accuracy, time.perf_counter() - started))
    if finetune is not None:
        started = time.perf_counter()
        result = finetune_classifier(
            model,
            x_train[torch.as_tensor(labelled)],
            label_array,
            n_classes=int(max(label_array.max(), test_labels.max())) + 1,
            train=finetune,
            augmentation=augmentation,
        )
        probabilities = predict_classifier(result.classifier, x_test, normalizer=normalizer)
        accuracy = float((probabilities.argmax(1) == test_labels).mean())
        scores.append(FewLabelScore("finetuned", "encoder+head", accuracy, time.perf_counter() - started))
    return FewLabelReport(len(labelled), tuple(scores))
