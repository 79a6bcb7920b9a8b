"""Few labels on MNIST: how much does an autoencoder pretrained on all 60 000 unlabelled images help?

One autoencoder is pretrained on the training images without labels (or loaded with ``--model``). Then,
for each label budget (100 = 10 per class, 1000) and each of ``--draws`` random draws of labelled images,
the same run scores on the 10 000 test images:

* logistic regression on pixels, on PCA features (as many as the code has dimensions) and on codes;
* 1-NN on PCA features and on codes;
* label spreading over the k-NN graph of all 60 000 PCA features / codes (transductive, then k-NN to test);
* the encoder fine-tuned with a linear head on the labelled images only (augmented, via the Trainer);
* self-training: label spreading on codes, then rounds of fine-tuning encoder + head on the most
  confident pseudo-labels plus the true ones (:func:`aekit.workflows.fewlabel.self_train`).

``--backbone conv`` fine-tunes (and self-trains) the encoder of a small convolutional autoencoder
pretrained on the same unlabelled images instead of the MLP's; codes, spreading, logistic regression and
1-NN keep using the MLP codes.

Examples (the figures in docs/benchmarks.md)::

    OMP_NUM_THREADS=1 nice python benchmarks/fewlabel_mnist.py --threads 1 --draws 5 \\
        --output benchmarks/results/fewlabel
    OMP_NUM_THREADS=1 nice python benchmarks/fewlabel_mnist.py --threads 1 --draws 5 --backbone conv \\
        --skip spread-pca --round-epochs 5 --round-schedule cosine
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _common import add_common_arguments, apply_settings, mnist, table

from aekit.data.augment import Augmentation
from aekit.data.normalization import Normalizer
from aekit.models import create
from aekit.models.files import load, save_model
from aekit.training.config import TrainConfig
from aekit.training.fit import fit
from aekit.workflows.fewlabel import (
    draw_labelled,
    encode,
    feature_classifier,
    finetune_classifier,
    predict_classifier,
    self_train,
    spread_labels,
)

# A cache outside the checkout (it is an artefact, not a result): the three latent benchmarks share it.
DEFAULT_MODEL_DIR = Path(tempfile.gettempdir()) / "aekit-benchmarks" / "mnist-mlp32"
AUGMENTATION = Augmentation(max_shift=2, max_rotation=10.0)


BACKBONES = {
    # the shared code model of the latent benchmarks (codes, spreading, cluster and retrieval)
    "mlp": {"name": "mlp", "hidden_dims": (256, 128)},
    # an optional encoder for fine-tuning and self-training: translations are built into convolutions
    "conv": {"name": "conv", "channels": (32, 64), "blocks_per_stage": 0, "batch_norm": False},
}


def pretrained_model(folder: Path, kind: str, args: argparse.Namespace, x_train: torch.Tensor):  # type: ignore[no-untyped-def]
    """Load the model in ``folder`` if it exists, else pretrain a ``kind`` autoencoder on ``x_train`` there.

    Inputs are in [0, 1]; the saved normaliser maps 0..255 pixels to that range, so the model folder also
    works with ``aekit cluster/search`` on raw MNIST.
    """
    if (folder / "config.json").is_file():
        print(f"using the pretrained model in {folder}")
        return load(folder).model
    options = dict(BACKBONES[kind])
    model = create(
        options.pop("name"),
        input_shape=(1, 28, 28),
        seed=args.seed,
        latent_dim=args.latent_dim,
        reconstruction="bce",
        **options,
    )
    started = time.perf_counter()
    fit(
        model,
        x_train,
        epochs=args.pretrain_epochs,
        batch_size=256,
        learning_rate=2e-3,
        seed=args.seed,
        device="cpu",
        on_epoch_end=lambda epoch, row: print(
            f"  pretrain {kind} epoch {epoch}: loss {row['train_loss']:.4f}", flush=True
        ),
    )
    print(f"pretrained in {time.perf_counter() - started:.0f} s", flush=True)
    save_model(model, folder, normalizer=Normalizer.range(0.0, 255.0), metadata={"dataset": "mnist"})
    model.eval()
    return model


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--model", default=str(DEFAULT_MODEL_DIR), help="pretrained model folder (made if missing)"
    )
    parser.add_argument(
        "--backbone",
        choices=tuple(BACKBONES),
        default="mlp",
        help="encoder fine-tuned by the fine-tuning and self-training rows (codes stay the MLP's)",
    )
    parser.add_argument("--backbone-model", default=None, help="its model folder (made if missing)")
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--pretrain-epochs", type=int, default=6)
    parser.add_argument("--labels", default="100,1000", help="label budgets (10 %% per class each)")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument(
        "--shares", default="0.3,0.6,0.9", help="pseudo-labelled share per self-training round"
    )
    parser.add_argument(
        "--round-epochs", type=int, default=2, help="fine-tuning epochs per self-training round"
    )
    parser.add_argument(
        "--round-schedule",
        default="constant",
        choices=("constant", "cosine"),
        help="learning rate within a round",
    )
    parser.add_argument("--skip", default="", help="comma-separated methods to skip (e.g. spread-pca)")
    parser.add_argument("--output", default=None, help="folder for results.json")
    args = parser.parse_args()
    settings = apply_settings(args)
    warnings.simplefilter("ignore", category=RuntimeWarning)  # label spreading's 0/0 on isolated points

    x_train, y_train = mnist("train", args.data_dir)
    x_test, y_test = mnist("test", args.data_dir)
    labels, test_labels = y_train.numpy(), y_test.numpy()
    model = pretrained_model(Path(args.model), "mlp", args, x_train)
    latent_dim = model.latent_dim
    tuned_model = model
    if args.backbone != "mlp":
        folder = args.backbone_model or DEFAULT_MODEL_DIR.parent / f"mnist-{args.backbone}{args.latent_dim}"
        tuned_model = pretrained_model(Path(folder), args.backbone, args, x_train)

    from sklearn.decomposition import PCA

    started = time.perf_counter()
    pixels, test_pixels = x_train.reshape(len(x_train), -1).numpy(), x_test.reshape(len(x_test), -1).numpy()
    pca = PCA(n_components=latent_dim, random_state=0).fit(pixels)
    features = {
        "pixels": (pixels, test_pixels),
        f"PCA-{latent_dim}": (pca.transform(pixels), pca.transform(test_pixels)),
        "codes": (encode(model, x_train), encode(model, x_test)),
    }
    print(f"features in {time.perf_counter() - started:.0f} s", flush=True)

    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    shares = [float(s) for s in args.shares.split(",")]
    results: dict[str, dict[str, list[float]]] = {}
    timings: dict[str, list[float]] = {}

    def record(budget: int, method: str, accuracy: float, seconds: float) -> None:
        results.setdefault(str(budget), {}).setdefault(method, []).append(accuracy)
        timings.setdefault(method, []).append(seconds)
        print(f"  {budget:>5} labels  {method:<36} {100 * accuracy:6.2f} %  ({seconds:.1f} s)", flush=True)

    for budget in (int(b) for b in args.labels.split(",")):
        for draw in range(args.draws):
            labelled = draw_labelled(labels, budget // 10, random_state=args.seed + draw)
            known = labels[labelled]
            print(f"draw {draw + 1}/{args.draws} with {budget} labels", flush=True)
            for name, (train_features, test_features) in features.items():
                kinds = ("logistic", "knn") if name != "pixels" else ("logistic",)
                for kind in kinds:
                    clock = time.perf_counter()
                    fitted = feature_classifier(kind).fit(train_features[labelled], known)  # type: ignore[arg-type]
                    accuracy = float((fitted.predict(test_features) == test_labels).mean())
                    title = "logistic regression" if kind == "logistic" else "1-NN"
                    record(budget, f"{title} on {name}", accuracy, time.perf_counter() - clock)
            spreads = {}
            for name in (f"PCA-{latent_dim}", "codes"):
                if ("spread-pca" if name != "codes" else "spread-codes") in skip:
                    continue
                clock = time.perf_counter()
                spreads[name] = spread_labels(features[name][0], labelled, known)
                accuracy = float((spreads[name].predict(features[name][1]) == test_labels).mean())
                record(budget, f"label spreading on {name}", accuracy, time.perf_counter() - clock)
            if "finetune" not in skip:
                clock = time.perf_counter()
                steps = max(1, 400 * 32 // budget)  # about 400 optimiser steps whatever the budget
                tuned = finetune_classifier(
                    tuned_model,
                    x_train[torch.as_tensor(labelled)],
                    known,
                    n_classes=10,
                    train=TrainConfig(
                        epochs=steps, batch_size=32, learning_rate=1e-3, seed=draw, device="cpu"
                    ),
                    augmentation=AUGMENTATION,
                )
                predicted = predict_classifier(tuned.classifier, x_test).argmax(1)
                record(
                    budget,
                    "fine-tuned encoder + head",
                    float((predicted == test_labels).mean()),
                    time.perf_counter() - clock,
                )
            if "self-train" not in skip:
                clock = time.perf_counter()
                initial = None
                if "codes" in spreads:
                    initial = np.nan_to_num(spreads["codes"][-1].label_distributions_)
                trained = self_train(
                    tuned_model,
                    x_train,
                    labelled,
                    known,
                    shares=shares,
                    train=TrainConfig(
                        epochs=args.round_epochs,
                        batch_size=128,
                        learning_rate=1e-3,
                        lr_schedule=args.round_schedule,
                        seed=draw,
                        device="cpu",
                    ),
                    augmentation=AUGMENTATION,
                    true_labels=labels,
                    initial_probabilities=initial,
                )
                accuracy = float((trained.predict(x_test) == test_labels).mean())
                record(budget, "self-training (spread + fine-tune)", accuracy, time.perf_counter() - clock)
                rounds = ", ".join(
                    f"{int(r['n_pseudo'])} at {100 * r['pseudo_accuracy']:.1f} %" for r in trained.rounds
                )
                print(f"    pseudo-labels per round: {rounds}", flush=True)

    rows = []
    for method in dict.fromkeys(m for per_budget in results.values() for m in per_budget):
        row: dict[str, object] = {"method": method}
        for budget, per_method in results.items():
            values = per_method.get(method)
            row[f"{budget} labels (%)"] = (
                f"{100 * np.mean(values):.1f} ± {100 * np.std(values):.1f}" if values else "-"
            )
        row["seconds per draw"] = float(np.mean(timings[method]))
        rows.append(row)
    print()
    print(
        f"MNIST test accuracy, mean ± std over {args.draws} label draws; codes: {latent_dim}-D MLP; "
        f"fine-tuned encoder: {args.backbone}; {settings}"
    )
    print(table(rows))
    if args.output:
        output = Path(args.output)
        output.mkdir(parents=True, exist_ok=True)
        document = {"settings": settings, "args": vars(args), "accuracy": results, "seconds": timings}
        (output / "results.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
