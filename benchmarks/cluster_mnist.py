"""Clustering MNIST test images by their codes, against k-means on pixels and on PCA features.

The autoencoder is the one ``fewlabel_mnist.py`` pretrains on the 60 000 training images without labels
(``--model``; pretrained here if the folder is missing). Clusters are scored against the digit labels with
clustering accuracy (Hungarian matching), NMI and ARI.

Example (the figures in docs/benchmarks.md)::

    OMP_NUM_THREADS=1 nice python benchmarks/cluster_mnist.py --threads 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _common import add_common_arguments, apply_settings, mnist, table
from fewlabel_mnist import DEFAULT_MODEL_DIR, pretrained_model

from aekit.apps.features import cluster_codes
from aekit.apps.fewlabel import encode


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--model", default=str(DEFAULT_MODEL_DIR), help="pretrained model folder (made if missing)"
    )
    parser.add_argument("--latent-dim", type=int, default=32, help="latent size when pretraining here")
    parser.add_argument("--pretrain-epochs", type=int, default=6)
    parser.add_argument("--n-init", type=int, default=4, help="k-means / GMM restarts")
    parser.add_argument("--output", default=None, help="folder for results.json")
    args = parser.parse_args()
    settings = apply_settings(args)
    from sklearn.decomposition import PCA

    x_train, _ = mnist("train", args.data_dir)
    x_test, y_test = mnist("test", args.data_dir)
    model = pretrained_model(args, x_train)
    pixels = x_test.reshape(len(x_test), -1).numpy()
    pca = PCA(n_components=model.latent_dim, random_state=0).fit(x_train.reshape(len(x_train), -1).numpy())
    features = {
        "pixels (784-D)": pixels,
        f"PCA-{model.latent_dim}": pca.transform(pixels),
        f"codes ({model.latent_dim}-D)": encode(model, x_test),
    }
    rows = []
    for name, values in features.items():
        methods = ("kmeans", "gmm") if not name.startswith("pixels") else ("kmeans",)
        for method in methods:
            started = time.perf_counter()
            result = cluster_codes(
                values, 10, method=method, labels=y_test, n_init=args.n_init, random_state=args.seed
            )  # type: ignore[arg-type]
            assert result.scores is not None
            rows.append(
                {
                    "features": name,
                    "method": method,
                    "accuracy": result.scores.accuracy,
                    "NMI": result.scores.nmi,
                    "ARI": result.scores.ari,
                    "seconds": time.perf_counter() - started,
                }
            )
            print(rows[-1], flush=True)
    print()
    print(f"MNIST test set (10 000 images), 10 clusters; {settings}")
    print(table(rows))
    if args.output:
        output = Path(args.output)
        output.mkdir(parents=True, exist_ok=True)
        (output / "results.json").write_text(
            json.dumps({"settings": settings, "rows": rows}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
