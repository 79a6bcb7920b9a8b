"""Retrieval on MNIST: test images query the 60 000 training images; codes vs pixels vs PCA.

Scores: precision@10 (share of the 10 nearest training images with the query's digit) over all 10 000
queries, mean average precision over the full ranking for the first ``--map-queries`` queries, and search
time per query (batches of 256, exact index). An IVF index over the codes is measured beside the exact one
(recall of the exact 10 nearest, precision@10, time).

Example (the figures in docs/benchmarks.md)::

    OMP_NUM_THREADS=1 nice python benchmarks/retrieval_mnist.py --threads 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _common import add_common_arguments, apply_settings, mnist, table
from fewlabel_mnist import DEFAULT_MODEL_DIR, pretrained_model

from aekit.apps.retrieval import ExactIndex, IVFIndex, evaluate_retrieval, recall_at_k
from aekit.workflows.fewlabel import encode


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
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--map-queries", type=int, default=1000)
    parser.add_argument("--lists", type=int, default=256, help="IVF cells")
    parser.add_argument("--probes", default="4,16", help="IVF cells scanned per query")
    parser.add_argument("--output", default=None, help="folder for results.json")
    args = parser.parse_args()
    settings = apply_settings(args)
    from sklearn.decomposition import PCA

    x_train, y_train = mnist("train", args.data_dir)
    x_test, y_test = mnist("test", args.data_dir)
    model = pretrained_model(args, x_train)
    pixels, test_pixels = x_train.reshape(len(x_train), -1).numpy(), x_test.reshape(len(x_test), -1).numpy()
    pca = PCA(n_components=model.latent_dim, random_state=0).fit(pixels)
    codes, test_codes = encode(model, x_train), encode(model, x_test)
    features = {
        "pixels (784-D)": (pixels, test_pixels),
        f"PCA-{model.latent_dim}": (pca.transform(pixels), pca.transform(test_pixels)),
        f"codes ({model.latent_dim}-D)": (codes, test_codes),
    }
    rows = []
    exact_hits = None
    for name, (database, queries) in features.items():
        index = ExactIndex(database, labels=y_train)
        scores = evaluate_retrieval(index, queries, y_test, k=args.k, max_map_queries=args.map_queries)
        rows.append(
            {
                "features": name,
                "index": "exact",
                f"P@{args.k}": scores.precision_at_k,
                "mAP": scores.mean_average_precision,
                "recall vs exact": 1.0,
                "ms/query": scores.milliseconds_per_query,
            }
        )
        print(rows[-1], flush=True)
        if name.startswith("codes"):
            exact_hits = index.search(queries, args.k).indices
    for probe in (int(p) for p in args.probes.split(",")):
        started = time.perf_counter()
        ivf = IVFIndex(codes, labels=y_train, n_lists=args.lists, n_probe=probe, random_state=args.seed)
        build = time.perf_counter() - started
        scores = evaluate_retrieval(ivf, test_codes, y_test, k=args.k, max_map_queries=0)
        assert exact_hits is not None
        recall = recall_at_k(ivf.search(test_codes, args.k).indices, exact_hits)
        rows.append(
            {
                "features": f"codes ({model.latent_dim}-D)",
                "index": f"IVF {args.lists} cells, {probe} probed (built in {build:.1f} s)",
                f"P@{args.k}": scores.precision_at_k,
                "mAP": "-",
                "recall vs exact": recall,
                "ms/query": scores.milliseconds_per_query,
            }
        )
        print(rows[-1], flush=True)
    print()
    print(
        f"MNIST: 10 000 test queries against 60 000 training images; mAP over the first {args.map_queries} "
        f"queries (full ranking); {settings}"
    )
    print(table(rows))
    if args.output:
        output = Path(args.output)
        output.mkdir(parents=True, exist_ok=True)
        (output / "results.json").write_text(
            json.dumps({"settings": settings, "rows": rows}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
