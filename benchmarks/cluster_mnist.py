"""Clustering with autoencoder codes → UMAP → Gaussian mixture (N2D), against the same on pixels and PCA.

In one run, for each data set: k-means and UMAP + GMM (``aekit.apps.clustering.cluster_codes`` with
``method="umap-gmm"``) on the raw features, on PCA with as many components as the code, and on the codes
of an autoencoder trained without labels, over several seeds, with the seconds of each step.

Data sets:

* ``mnist-all``: all 70 000 MNIST images (train + test, the protocol of DEC, IDEC and N2D);
* ``mnist-test``: the 10 000 test images (same autoencoder);
* ``digits``: scikit-learn's 1 797 8×8 digits (images scaled to [0, 1]);
* ``wine``: scikit-learn's wine table, 178 rows × 13 features, standardised.

The autoencoder is the N2D recipe: an MLP ``n → 500 → 500 → 2000 → k`` (k = number of classes) trained
to reconstruct (MSE, Adam 1e-3, batch 256) on all the images of the data set, no labels
(``create("n2d", ...)``). Its training seconds are part of the pipeline's time. Seeds vary UMAP and the
mixture (and k-means); the autoencoder is trained once per data set with seed 0.

Rows are appended to ``OUTPUT/rows.jsonl`` as they finish; a rerun skips rows already there (so a killed
run resumes) and prints the summary table (mean ± standard deviation over seeds).

Example (the figures in docs/benchmarks.md)::

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 nice python benchmarks/cluster_mnist.py --threads 1 \\
        --output benchmarks/results/cluster
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from _common import add_common_arguments, apply_settings, mnist, table

from aekit.apps.clustering import cluster_codes
from aekit.apps.inference import encode_dataset
from aekit.data import Normalizer
from aekit.models import create
from aekit.models.files import load, save_model
from aekit.training.fit import fit

DATA_SETS = ("digits", "wine", "mnist-all", "mnist-test")
FEATURES = ("raw", "pca", "codes")
METHODS = ("kmeans", "umap-gmm")
PUBLISHED = (
    "published, all 70 000 MNIST images: DEC 0.843 accuracy; IDEC 0.881; "
    "N2D (autoencoder → UMAP → GMM) 0.979 accuracy, NMI 0.942 (McConville et al. 2020)"
)


def load_data(name: str, data_dir: str) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Features ``(N, d)`` in the scale the autoencoder trains on, labels, and the input shape."""
    if name.startswith("mnist"):
        x_train, y_train = mnist("train", data_dir)
        x_test, y_test = mnist("test", data_dir)
        if name == "mnist-test":
            x, y = x_test, y_test
        else:
            x, y = torch.cat([x_train, x_test]), torch.cat([y_train, y_test])
        return x.reshape(len(x), -1).numpy(), y.numpy(), (1, 28, 28)
    from sklearn.datasets import load_digits, load_wine

    if name == "digits":
        digits = load_digits()
        return (digits.data / 16.0).astype(np.float32), digits.target, (1, 8, 8)
    wine = load_wine()
    spread = wine.data.std(0)
    standard = (wine.data - wine.data.mean(0)) / spread
    return standard.astype(np.float32), wine.target, (13,)


def autoencoder(name: str, x: np.ndarray, shape: tuple[int, ...], k: int, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The N2D autoencoder of data set ``name`` (loaded if saved, else trained) and its training seconds."""
    folder = Path(args.models) / ("mnist" if name.startswith("mnist") else name)
    if (folder / "config.json").is_file():
        bundle = load(folder)
        return bundle, float(bundle.metadata.get("train_seconds", float("nan")))
    epochs = args.epochs if name.startswith("mnist") else {"digits": 100, "wine": 300}[name]
    batch = 256 if name.startswith("mnist") else 32  # small sets: enough updates (digits: ≈ 5 700)
    model = create("n2d", input_shape=shape, latent_dim=k, seed=0)
    # MNIST's autoencoder trains on all 70 000 images whichever MNIST set is clustered
    train_x = load_data("mnist-all", args.data_dir)[0] if name.startswith("mnist") else x
    inputs = torch.from_numpy(train_x).reshape(len(train_x), *shape)
    started = time.process_time()
    fit(
        model,
        inputs,
        epochs=epochs,
        batch_size=batch,
        learning_rate=1e-3,
        seed=0,
        device="cpu",
        on_epoch_end=lambda epoch, row: print(f"  {name} epoch {epoch}: {row['train_loss']:.5f}", flush=True),
    )
    seconds = time.process_time() - started
    save_model(
        model, folder, normalizer=Normalizer.identity(), metadata={"train_seconds": seconds, "epochs": epochs}
    )
    return load(folder), seconds


def make_features(
    feature: str,
    name: str,
    x: np.ndarray,
    shape: tuple[int, ...],
    k: int,
    args: argparse.Namespace,
    steps: dict[str, float],
) -> np.ndarray:
    """Raw features, PCA to ``k`` components, or the autoencoder's codes; CPU seconds go into ``steps``."""
    if feature == "raw":
        return x
    started = time.process_time()
    if feature == "pca":
        from sklearn.decomposition import PCA

        reduced = PCA(n_components=k, random_state=0).fit_transform(x)
        steps["pca"] = time.process_time() - started
        return reduced
    bundle, steps["train"] = autoencoder(name, x, shape, k, args)
    started = time.process_time()
    encoded = encode_dataset(bundle, torch.from_numpy(x).reshape(len(x), *shape)).numpy()
    steps["encode"] = time.process_time() - started
    return encoded


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_arguments(parser)
    parser.add_argument("--sets", default=",".join(DATA_SETS), help="comma-separated data sets")
    parser.add_argument("--features", default=",".join(FEATURES), help="raw, pca, codes")
    parser.add_argument("--methods", default=",".join(METHODS), help="kmeans, umap-gmm")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 .. SEEDS-1")
    parser.add_argument("--only-seeds", default=None, help="run just these seeds, e.g. 2,3 (parallel runs)")
    parser.add_argument("--epochs", type=int, default=15, help="MNIST autoencoder epochs")
    parser.add_argument("--n-init", type=int, default=4, help="k-means / GMM restarts")
    parser.add_argument("--models", default="benchmarks/results/cluster/models", help="autoencoder folders")
    parser.add_argument("--output", default="benchmarks/results/cluster", help="folder for rows.jsonl")
    args = parser.parse_args()
    settings = apply_settings(args)
    torch.set_flush_denormal(True)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    rows_file = output / "rows.jsonl"
    seeds = [int(s) for s in args.only_seeds.split(",")] if args.only_seeds else list(range(args.seeds))

    def finished() -> set[tuple[str, str, str, int]]:  # re-read per row: parallel runs share the file
        if not rows_file.exists():
            return set()
        rows = (json.loads(line) for line in rows_file.read_text().splitlines() if line.strip())
        return {(r["set"], r["features"], r["method"], r["seed"]) for r in rows}

    for name in args.sets.split(","):
        x, y, shape = load_data(name, args.data_dir)
        k = len(np.unique(y))
        steps: dict[str, float] = {}
        for feature in args.features.split(","):
            values: np.ndarray | None = None
            for method in args.methods.split(","):
                for seed in seeds:
                    if (name, feature, method, seed) in finished():
                        continue
                    if values is None:
                        values = make_features(feature, name, x, shape, k, args, steps)
                    started = time.process_time()
                    result = cluster_codes(
                        values, k, method=method, labels=y, n_init=args.n_init, random_state=seed
                    )  # type: ignore[arg-type]
                    assert result.scores is not None
                    row = {
                        "set": name,
                        "n": len(y),
                        "features": feature,
                        "method": method,
                        "seed": seed,
                        "accuracy": result.scores.accuracy,
                        "nmi": result.scores.nmi,
                        "ari": result.scores.ari,
                        "cpu_seconds": time.process_time() - started,
                        "umap_seconds": result.seconds.get("umap", 0.0),
                        "cluster_seconds": result.seconds["cluster"],
                        "feature_seconds": {key: round(v, 2) for key, v in steps.items()},
                        "settings": settings,
                    }
                    print(json.dumps(row), flush=True)
                    with rows_file.open("a") as handle:
                        handle.write(json.dumps(row) + "\n")
    print(summary(rows_file))
    print(PUBLISHED)


def summary(rows_file: Path) -> str:
    """Mean ± standard deviation over seeds of every (set, features, method) in ``rows_file``."""
    rows = [json.loads(line) for line in rows_file.read_text().splitlines() if line.strip()]
    groups: dict[tuple[str, str, str], list[dict]] = {}
    seen = set()
    for row in rows:  # two runs sharing the file may repeat a row: the first counts
        if (key := (row["set"], row["features"], row["method"], row["seed"])) not in seen:
            seen.add(key)
            groups.setdefault(key[:3], []).append(row)
    lines = []
    for (name, feature, method), group in groups.items():

        def stat(key: str, group: list[dict] = group) -> str:
            values = np.array([r[key] for r in group])
            return f"{values.mean():.4f} ± {values.std():.4f}"

        lines.append(
            {
                "set": name,
                "features": feature,
                "method": method,
                "seeds": len(group),
                "accuracy": stat("accuracy"),
                "NMI": stat("nmi"),
                "ARI": stat("ari"),
                "CPU s per seed": f"{np.mean([r['cpu_seconds'] for r in group]):.1f}",
                "features CPU s": ", ".join(f"{k} {v:.0f}" for k, v in group[-1]["feature_seconds"].items())
                or "—",
            }
        )
    return table(lines)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
