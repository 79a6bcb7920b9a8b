"""Tabular anomaly detection: AutoencoderOutlierDetector against scikit-learn's detectors, in the same run.

scikit-learn's breast-cancer data: benign rows are normal, malignant rows are anomalies. Each of the
``--splits`` random splits trains every detector on half of the benign rows and scores the other half
plus all malignant rows; the table gives the AUROC (and AUPRC) mean ± std over the splits. The baselines
(IsolationForest, one-class SVM, LocalOutlierFactor with ``novelty=True``, PCA reconstruction error with
95 % of the variance) see the same standardised features; the autoencoder detector standardises by itself.

The autoencoder is scored two ways: plain reconstruction MSE, and the Mahalanobis distance of its
residual and code under Gaussians fitted to the training rows (``score_method="mahalanobis"``). Its
settings (tanh, one hidden layer of 16, 2-D code, 300 epochs) were chosen on the splits of ``--seed 0``;
``--seed 100`` draws five fresh splits as a check::

    OMP_NUM_THREADS=1 nice python benchmarks/anomaly_tabular.py --threads 1
    OMP_NUM_THREADS=1 nice python benchmarks/anomaly_tabular.py --threads 1 --seed 100
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
from _common import table
from sklearn.base import BaseEstimator
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from aekit.apps import anomaly
from aekit.estimators import AutoencoderOutlierDetector

REFERENCE = {"pca": 92.2, "isolation_forest": 95.3, "one_class_svm": 95.6}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--hidden-dims", default="16")
    parser.add_argument("--activation", default="tanh")
    parser.add_argument(
        "--pca-components", type=float, default=0.95, help="PCA components, or variance share."
    )
    parser.add_argument("--output", type=Path, default=None, help="Write all figures as JSON here.")
    return parser.parse_args(argv)


class PCAError(BaseEstimator):
    """scikit-learn PCA's reconstruction error as a detector (score_samples = minus the error)."""

    def __init__(self, n_components: float = 0.95) -> None:
        self.n_components = n_components

    def fit(self, x: np.ndarray, y: None = None) -> PCAError:
        count = int(self.n_components) if self.n_components >= 1 else self.n_components
        self.pca_ = PCA(n_components=count).fit(x)
        return self

    def score_samples(self, x: np.ndarray) -> np.ndarray:
        restored = self.pca_.inverse_transform(self.pca_.transform(x))
        return -np.square(restored - x).mean(1)


def detectors(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    """Fresh detectors for one split; every baseline sees standardised features."""
    network = {
        "model": "mlp",  # one MLP trained for epochs, as measured; the defaults are for unknown tables
        "scaling": "standardize",
        "calibration_fraction": 0.0,
        "hidden_dims": tuple(int(w) for w in args.hidden_dims.split(",")),
        "latent_dim": args.latent_dim,
        "model_options": {"activation": args.activation},
        "epochs": args.epochs,
        "batch_size": 32,
        "random_state": seed,
        "device": "cpu",
    }
    return {
        "autoencoder_mahalanobis": AutoencoderOutlierDetector(score_method="mahalanobis", **network),
        "autoencoder_mse": AutoencoderOutlierDetector(score_method="mse", **network),
        "isolation_forest": make_pipeline(StandardScaler(), IsolationForest(random_state=seed)),
        "one_class_svm": make_pipeline(StandardScaler(), OneClassSVM(gamma="scale", nu=0.1)),
        "local_outlier_factor": make_pipeline(StandardScaler(), LocalOutlierFactor(novelty=True)),
        "pca": make_pipeline(StandardScaler(), PCAError(args.pca_components)),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    x, y = load_breast_cancer(return_X_y=True)
    benign, malignant = x[y == 1], x[y == 0]  # in this data set target 1 = benign
    results: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, float] = {}
    for split in range(args.splits):
        order = np.random.default_rng(args.seed + split).permutation(len(benign))
        half = len(benign) // 2
        train = benign[order[:half]]
        test = np.vstack([benign[order[half:]], malignant])
        labels = np.r_[np.zeros(len(benign) - half, int), np.ones(len(malignant), int)]
        for name, detector in detectors(args, args.seed + split).items():
            started = time.perf_counter()
            detector.fit(train)
            scores = -detector.score_samples(test)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
            metrics = anomaly.evaluate(scores, labels)
            entry = results.setdefault(name, {"auroc": [], "auprc": []})
            entry["auroc"].append(100 * metrics.auroc)
            entry["auprc"].append(100 * metrics.auprc)
    rows = []
    for name, entry in results.items():
        rows.append(
            {
                "detector": name,
                "AUROC %": f"{statistics.fmean(entry['auroc']):.1f} ± {statistics.stdev(entry['auroc']):.1f}",
                "AUPRC %": f"{statistics.fmean(entry['auprc']):.1f} ± {statistics.stdev(entry['auprc']):.1f}",
                "fit+score s": seconds[name] / args.splits,
                "reference AUROC %": REFERENCE.get(name, "—"),
            }
        )
    print(
        f"breast cancer, {args.splits} splits (train on half of the benign rows), "
        f"autoencoder hidden={args.hidden_dims} latent={args.latent_dim} epochs={args.epochs}\n"
    )
    print(table(rows))
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(
            json.dumps({"arguments": vars(args) | {"output": str(args.output)}, "results": results}, indent=2)
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
