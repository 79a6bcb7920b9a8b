"""Clustering with autoencoder codes → UMAP → Gaussian mixture (N2D), against the same on pixels and PCA.

In one run, for each data set: k-means, UMAP + GMM (``aekit.apps.clustering.cluster_codes`` with
``method="umap-gmm"``) and ``cluster_codes``'s default ``method="auto"`` (run only where it is not
UMAP + GMM: a Gaussian mixture with the covariance chosen by BIC for fewer than 100 points per cluster)
on the raw features, on PCA with as many components as the code, and on the codes of autoencoders
trained without labels, over several seeds, with the CPU seconds of each step.

Data sets:

* ``mnist-all``: all 70 000 MNIST images (train + test, the protocol of DEC, IDEC and N2D);
* ``mnist-test``: the 10 000 test images (same autoencoder);
* ``digits``: scikit-learn's 1 797 8×8 digits (images scaled to [0, 1]);
* ``wine``: scikit-learn's wine table, 178 rows × 13 features, standardised;
* not run by default, the sets the small-data recipe was chosen on before digits and wine were run:
  ``mnist-8x8`` (2 000 MNIST test images averaged down to 8×8), ``iris`` and ``breast-cancer``
  (standardised).

The autoencoders are ``aekit.workflows.clustering.clustering_recipe``'s. MNIST (≥ 10 000 images): one N2D
MLP ``n → 500 → 500 → 2000 → k`` (k = number of classes), MSE, Adam 1e-3, batch 256, 15 epochs on all
70 000 images. Small image sets: three small convolutional autoencoders (stages of 32 and 64 channels,
a 256-wide dense layer, a k-D code; seeds 0, 1, 2), batch 32, about 5 700 updates each, whose
standardised codes are concatenated; small tables: three MLPs ``n → 256 → 256 → 1024 → k`` alike. For
tables with few rows per cluster the recipe itself clusters the standardised table (the ``raw`` /
``auto`` rows); their ``codes`` rows show what the three MLPs give. Training seconds are part of the
pipeline's time. Seeds vary UMAP and the mixture (and k-means); the autoencoders are trained once per
data set.

Rows are appended to ``OUTPUT/rows.jsonl`` as they finish; a rerun skips rows already there (so a killed
run resumes) and prints the summary table (mean ± standard deviation over seeds).

Example (the figures in docs/benchmarks.md)::

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 nice python benchmarks/cluster_mnist.py --threads 1 \\
        --output benchmarks/results/cluster2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from _common import add_common_arguments, apply_settings, mnist, table

from aekit.apps.clustering import auto_method, cluster_codes, ensemble_codes
from aekit.apps.inference import encode_dataset
from aekit.data import Normalizer
from aekit.models import create
from aekit.models.files import load, save_model
from aekit.training.fit import fit
from aekit.workflows.clustering import ClusteringRecipe, clustering_recipe, fit_clustering_autoencoders

DATA_SETS = ("digits", "wine", "mnist-all", "mnist-test")
EXTRA_SETS = ("mnist-8x8", "iris", "breast-cancer")  # the sets the small-data recipe was chosen on
FEATURES = ("raw", "pca", "codes")
METHODS = ("kmeans", "umap-gmm", "auto")
PUBLISHED = (
    "published, all 70 000 MNIST images: DEC 0.843 accuracy; IDEC 0.881; "
    "N2D (autoencoder → UMAP → GMM) 0.979 accuracy, NMI 0.942 (McConville et al. 2020)"
)


def load_data(name: str, data_dir: str) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Features ``(N, d)`` in the scale the autoencoder trains on, labels, and the input shape."""
    if name in ("mnist-all", "mnist-test"):
        x_train, y_train = mnist("train", data_dir)
        x_test, y_test = mnist("test", data_dir)
        if name == "mnist-test":
            x, y = x_test, y_test
        else:
            x, y = torch.cat([x_train, x_test]), torch.cat([y_train, y_test])
        return x.reshape(len(x), -1).numpy(), y.numpy(), (1, 28, 28)
    from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine

    if name == "digits":
        digits = load_digits()
        return (digits.data / 16.0).astype(np.float32), digits.target, (1, 8, 8)
    if name == "mnist-8x8":  # 2 000 MNIST test images, 28×28 padded to 32×32 and averaged over 4×4 blocks
        images, labels = mnist("test", data_dir)
        small = torch.nn.functional.avg_pool2d(
            torch.nn.functional.pad(images[:2000].float().reshape(-1, 1, 28, 28), (2, 2, 2, 2)), 4
        )
        small = small / small.amax(dim=(1, 2, 3), keepdim=True)
        return small.reshape(2000, 64).numpy(), labels[:2000].numpy(), (1, 8, 8)
    loader = {"wine": load_wine, "iris": load_iris, "breast-cancer": load_breast_cancer}[name]
    bunch = loader()
    spread = bunch.data.std(0)
    standard = (bunch.data - bunch.data.mean(0)) / spread
    return standard.astype(np.float32), bunch.target, (bunch.data.shape[1],)


def autoencoder(name: str, x: np.ndarray, shape: tuple[int, ...], k: int, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The N2D autoencoder of MNIST (loaded if saved, else trained on all 70 000 images) and its seconds.

    This is ``clustering_recipe``'s large-data autoencoder (one MLP 500-500-2000, batch 256, 15 epochs).
    """
    folder = Path(args.models) / "mnist"
    if (folder / "config.json").is_file():
        bundle = load(folder)
        return bundle, float(bundle.metadata.get("train_seconds", float("nan")))
    epochs, batch = args.epochs, 256
    model = create("n2d", input_shape=shape, latent_dim=k, seed=0)
    # MNIST's autoencoder trains on all 70 000 images whichever MNIST set is clustered
    train_x = load_data("mnist-all", args.data_dir)[0]
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
    if name not in ("mnist-all", "mnist-test"):
        return recipe_codes(name, x, shape, k, args, steps)
    bundle, steps["train"] = autoencoder(name, x, shape, k, args)
    started = time.process_time()
    encoded = encode_dataset(bundle, torch.from_numpy(x).reshape(len(x), *shape)).numpy()
    steps["encode"] = time.process_time() - started
    return encoded


def recipe_codes(
    name: str,
    x: np.ndarray,
    shape: tuple[int, ...],
    k: int,
    args: argparse.Namespace,
    steps: dict[str, float],
) -> np.ndarray:
    """Concatenated standardised codes of the small-data recipe's autoencoders (``clustering_recipe``).

    Tables with few rows per cluster get no autoencoder in the recipe; their codes rows show what the
    recipe's three 256-256-1024 autoencoders for tables would give (trained on the standardised table).
    """
    kind = "images" if len(shape) == 3 else "table"
    recipe = clustering_recipe(len(x), k, kind)  # type: ignore[arg-type]
    if not recipe.use_autoencoder:
        recipe = ClusteringRecipe(True, (256, 256, 1024), k, 3, max(1, round(5_700 * 32 / len(x))), 32)
    inputs = torch.from_numpy(x).reshape(len(x), *shape)
    folders = [Path(args.models) / f"{name}-recipe" / f"member{m}" for m in range(recipe.members)]
    saved = [load(f) if (f / "config.json").is_file() else None for f in folders]
    if all(bundle is not None and bundle.metadata.get("recipe") == str(recipe) for bundle in saved):
        bundles = [bundle for bundle in saved if bundle is not None]
        models = [bundle.model.eval() for bundle in bundles]
        steps["train"] = sum(float(bundle.metadata.get("train_seconds", float("nan"))) for bundle in bundles)
    else:
        started = time.process_time()
        models = fit_clustering_autoencoders(inputs, recipe, random_state=0)
        steps["train"] = time.process_time() - started
        for folder, model in zip(folders, models, strict=True):
            metadata = {"train_seconds": steps["train"] / len(models), "recipe": str(recipe)}
            save_model(model, folder, normalizer=Normalizer.identity(), metadata=metadata)
    started = time.process_time()
    with torch.no_grad():
        codes = ensemble_codes([model.encode(inputs) for model in models])
    steps["encode"] = time.process_time() - started
    return codes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--sets", default=",".join(DATA_SETS), help=f"comma-separated, of {DATA_SETS + EXTRA_SETS}"
    )
    parser.add_argument("--features", default=",".join(FEATURES), help="raw, pca, codes")
    parser.add_argument(
        "--methods", default=",".join(METHODS), help="kmeans, umap-gmm, auto (the default of cluster_codes)"
    )
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
                    if method == "auto" and auto_method(len(y), k) == "umap-gmm":
                        continue  # the same clustering as the umap-gmm row
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
                        "ran": result.method + (f" ({result.covariance})" if result.covariance else ""),
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
                "method": method if method != "auto" else f"auto: {group[0].get('ran', '?')}",
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
