"""One-class MNIST anomaly detection: aekit autoencoders against PCA and IsolationForest, in the same run.

For each digit: train on that digit's training images only (pixels in [0, 1]), score all 10 000 test
images, the digit is normal and the other nine are anomalies; report the AUROC per digit and the mean.
The baselines are measured here too: PCA reconstruction error (k = 32 components) and IsolationForest on
raw pixels. Published reference (not run here): Deep SVDD 94.8 % mean (Ruff et al., ICML 2018).

Full run (about 50 minutes on one busy CPU core; the VAE adds about 12)::

    OMP_NUM_THREADS=1 nice python benchmarks/anomaly_mnist.py --threads 1 --output anomaly_mnist.json

Quick look at the weakest digits::

    OMP_NUM_THREADS=1 nice python benchmarks/anomaly_mnist.py --threads 1 --digits 2 3 4 8 --models mlp

Choosing settings without looking at the test set: ``--validation`` trains on 85 % of the normal digit's
training images and scores the other 15 % against 2000 training images of the other digits (seeded); the
test images are not read. Compare variants there, then run the chosen one once on the test set::

    OMP_NUM_THREADS=1 nice python benchmarks/anomaly_mnist.py --threads 1 --validation --digits 2 8 \
        --models conv --conv-options '{"channels": [32, 64]}'
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _common import add_common_arguments, apply_settings, mnist, table

import aekit
from aekit.apps import anomaly
from aekit.models import registry

REFERENCE = {"pca32_mean": 95.5, "pca32_digit8": 84.9, "isolation_forest_mean": 85.8, "deep_svdd_mean": 94.8}


MODELS: dict[str, dict[str, Any]] = {
    # the MLP tuned on digits 2 and 8; the conv's dense layer and the VAE's Gaussian likelihood chosen on
    # the --validation split of digits 2, 3, 4, 8 (see docs/benchmarks.md); batch norm is 4× slower here
    "mlp": {"hidden_dims": [512, 128]},
    "conv": {"channels": [16, 32], "blocks_per_stage": 0, "batch_norm": False, "dense_dims": [128]},
}
VAE: dict[str, Any] = {"hidden_dims": [512, 128], "likelihood": "gaussian"}
SCORINGS: dict[str, dict[str, Any]] = {
    "mean": {"method": "mse"},  # plain per-image MSE
    "top5_box3": {"method": "mse", "pooling": "top", "top_fraction": 0.05, "smoothing": 3},
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument(
        "--digits", type=int, nargs="+", default=list(range(10)), help="Normal classes to run."
    )
    parser.add_argument(
        "--models", nargs="*", default=list(MODELS), choices=list(MODELS), help="aekit models."
    )
    parser.add_argument("--epochs", type=int, default=25, help="Training epochs of each autoencoder.")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument(
        "--vae",
        action="store_true",
        help="Also train aekit's MLP VAE (Gaussian likelihood); −ELBO and error scores.",
    )
    parser.add_argument("--max-train", type=int, default=None, help="Use at most this many training images.")
    parser.add_argument(
        "--conv-options", type=json.loads, default={}, help="JSON of conv config fields to override."
    )
    parser.add_argument(
        "--vae-options", type=json.loads, default={}, help="JSON of VAE config fields to override."
    )
    parser.add_argument(
        "--validation",
        action="store_true",
        help="Score a validation split of the training images instead of the test set (model selection).",
    )
    parser.add_argument("--output", type=Path, default=None, help="Write all figures as JSON here.")
    return parser.parse_args(argv)


def validation_split(
    x_train: torch.Tensor, y_train: torch.Tensor, digit: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Training images only: 85 % of ``digit`` to train on; the other 15 % plus 2000 other digits to score."""
    generator = torch.Generator().manual_seed(seed + digit)
    normal = x_train[y_train == digit]
    order = torch.randperm(len(normal), generator=generator)
    cut = int(0.85 * len(normal))
    others = x_train[y_train != digit]
    anomalies = others[torch.randperm(len(others), generator=generator)[:2000]]
    held_out = normal[order[cut:]]
    labels = np.concatenate([np.zeros(len(held_out), dtype=int), np.ones(len(anomalies), dtype=int)])
    return normal[order[:cut]], torch.cat([held_out, anomalies]), labels


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    return 100.0 * anomaly.evaluate(scores, labels).auroc


def baselines(train: torch.Tensor, test: torch.Tensor, labels: np.ndarray, seed: int) -> dict[str, float]:
    """PCA-32 reconstruction error and IsolationForest on raw pixels."""
    from sklearn.ensemble import IsolationForest

    pca = aekit.create("pca", input_shape=(1, 28, 28), latent_dim=32)
    pca.fit_closed_form(train)  # type: ignore[attr-defined]
    forest = IsolationForest(random_state=seed).fit(train.flatten(1).numpy())
    return {
        "pca32": auroc(anomaly.anomaly_scores(pca, test, method="mse"), labels),
        "isolation_forest": auroc(-forest.score_samples(test.flatten(1).numpy()), labels),
    }


def autoencoder(
    name: str, args: argparse.Namespace, train: torch.Tensor, test: torch.Tensor, labels: np.ndarray
) -> dict[str, float]:
    """Train one aekit model on one digit (MSE loss); AUROC of each scoring of the same model."""
    options = MODELS.get(name, VAE)
    options = {**options, **{"conv": args.conv_options, "vae": args.vae_options}.get(name, {})}
    model = aekit.create(name, input_shape=(1, 28, 28), latent_dim=args.latent_dim, seed=args.seed, **options)
    aekit.fit(
        model,
        train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        device="cpu",
        lr_schedule="cosine",
    )
    scorings = {"elbo": {"method": "elbo"}, **SCORINGS} if name == "vae" else SCORINGS
    return {
        f"{name}_{key}": auroc(anomaly.anomaly_scores(model, test, **scoring), labels)
        for key, scoring in scorings.items()
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = apply_settings(args)
    x_train, y_train = mnist("train", args.data_dir)
    x_test, y_test = (None, None) if args.validation else mnist("test", args.data_dir)
    use_vae = args.vae and "vae" in registry.names()
    rows: list[dict[str, Any]] = []
    for digit in args.digits:
        started = time.perf_counter()
        if args.validation:
            train, scored, labels = validation_split(x_train, y_train, digit, args.seed)
        else:
            assert x_test is not None and y_test is not None
            scored, labels = x_test, (y_test != digit).numpy().astype(int)
            train = x_train[y_train == digit]
        train = train[: args.max_train]
        row: dict[str, Any] = {"digit": digit, "n_train": len(train)}
        row.update(baselines(train, scored, labels, args.seed))
        for name in [*args.models, *(["vae"] if use_vae else [])]:
            row.update(autoencoder(name, args, train, scored, labels))
        row["seconds"] = time.perf_counter() - started
        rows.append(row)
        print(
            " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
            flush=True,
        )
    columns = [c for c in rows[0] if c not in ("digit", "n_train", "seconds")]
    mean_row: dict[str, Any] = {"digit": "mean", "n_train": sum(r["n_train"] for r in rows)}
    mean_row.update({c: statistics.fmean(r[c] for r in rows) for c in columns})
    mean_row["seconds"] = sum(r["seconds"] for r in rows)
    split = "VALIDATION split of the training images" if args.validation else "test set"
    print(
        f"\nAUROC (%) per normal digit on the {split}; {settings}; epochs={args.epochs}, "
        f"latent={args.latent_dim}, conv options {args.conv_options}, VAE options {args.vae_options}\n"
    )
    print(table([*rows, mean_row]))
    print(f"\nreferences measured earlier: {REFERENCE}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "settings": settings,
            "arguments": {k: str(v) for k, v in vars(args).items()},
            "rows": rows,
            "mean": mean_row,
            "reference": REFERENCE,
        }
        args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
