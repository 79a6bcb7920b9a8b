"""ADBench tables: aekit's default detector against nine classical and deep detectors, in the same run.

ADBench's unsupervised protocol (Han et al., NeurIPS 2022): for each table and seed, a stratified 70/30
split; every detector is fitted on the 70 % *without labels* (anomalies included, as in users' data) and
scores the 30 %; AUROC and AUPRC are measured on the 30 %. The one-class variant fits on the normal rows
of the 70 % only. Tables above ``--max-rows`` are first subsampled (stratified, seeded) to that size.

Detectors: aekit's ``AutoencoderOutlierDetector()`` with its defaults (it scales its input itself); and,
on standardised features (``StandardScaler`` fitted on the training rows), scikit-learn's
IsolationForest, LocalOutlierFactor (20 neighbours, ``novelty=True``) and OneClassSVM (RBF,
``gamma="scale"``, fitted on at most ``--svm-rows`` training rows), and PyOD's KNN (largest distance,
5 neighbours), PCA, ECOD, COPOD, HBOS and AutoEncoder — all with their default settings. PyOD is a
benchmark-only dependency (``pip install -e ".[bench]"``; its deep models also need ``tqdm``).

Results go to a JSON-lines file, one record per (table, seed, protocol, detector); a rerun skips the
records already there, so a killed run resumes. The summary (per-table AUROC, mean AUROC/AUPRC, mean rank,
Friedman test and Nemenyi critical difference, wins against PyOD's AutoEncoder, seconds) is printed as
Markdown and written to ``--report``::

    OMP_NUM_THREADS=1 nice python benchmarks/anomaly_adbench.py --max-rows 20000 --seeds 0,1,2 \
        --results benchmarks/results/adbench.jsonl --report benchmarks/results/adbench.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _common import table
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tabular" / "adbench"
PROTOCOLS = ("unsupervised", "one_class")
AEKIT = "aekit"
PYOD_AE = "pyod_autoencoder"
DETECTORS = (
    AEKIT,
    "isolation_forest",
    "lof",
    "knn",
    "one_class_svm",
    "pca",
    "ecod",
    "copod",
    "hbos",
    PYOD_AE,
)
# Published AUROC (%) of the classical detectors on three of these tables: PyOD's benchmark page
# (pyod.readthedocs.io, "Benchmarks"; ODDS versions of the tables, 60/40 split, mean of 10 trials — a
# one-class-like split of other versions, so expect the same ordering more than the same values).
PUBLISHED = {
    "6_cardio": {
        "hbos": 83.5,
        "isolation_forest": 92.1,
        "knn": 72.4,
        "lof": 57.4,
        "one_class_svm": 93.5,
        "pca": 95.0,
    },
    "18_Ionosphere": {
        "hbos": 56.1,
        "isolation_forest": 85.0,
        "knn": 92.7,
        "lof": 87.5,
        "one_class_svm": 84.2,
        "pca": 79.6,
    },
    "20_letter": {
        "hbos": 59.3,
        "isolation_forest": 64.2,
        "knn": 87.7,
        "lof": 85.9,
        "one_class_svm": 61.2,
        "pca": 52.8,
    },
}
# Upper 5 % point of the studentised range / sqrt(2) for k = 2..10 detectors (Demšar 2006, Table 5).
NEMENYI_Q05 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("AEKIT_ADBENCH", DEFAULT_DATA)))
    parser.add_argument(
        "--datasets", default="", help="Comma-separated table names (e.g. 6_cardio,45_wine); default all."
    )
    parser.add_argument(
        "--max-rows", type=int, default=20_000, help="Stratified row cap per table; 0 = none."
    )
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--detectors", default=",".join(DETECTORS))
    parser.add_argument("--svm-rows", type=int, default=5_000, help="Training rows the one-class SVM sees.")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--results",
        type=Path,
        nargs="+",
        default=[Path("benchmarks/results/adbench.jsonl")],
        help="JSON-lines file(s): records are appended to the first; the summary reads them all.",
    )
    parser.add_argument("--report", type=Path, default=None, help="Write the Markdown summary here.")
    parser.add_argument("--summary-only", action="store_true", help="Only summarise --results.")
    parser.add_argument(
        "--threshold-check",
        action="store_true",
        help="Only measure the false-positive rate of aekit's auto threshold (one-class fits, seed 0).",
    )
    parser.add_argument(
        "--time-full-table",
        default=None,
        help="Only time aekit's default detector fitting and scoring every row of this table (no cap).",
    )
    return parser.parse_args(argv)


# -- detectors -------------------------------------------------------------------------------------------


class _Standardised:
    """Standardise features with the training rows' mean and std, then run ``detector``."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector

    def fit(self, x: np.ndarray) -> _Standardised:
        from sklearn.preprocessing import StandardScaler

        self.scaler = StandardScaler().fit(x)
        self.detector.fit(self.scaler.transform(x))
        return self

    def score_samples(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.detector.score_samples(self.scaler.transform(x)), dtype=np.float64)


def _standardised(make: Callable[[int], Any]) -> Callable[[int], Any]:
    return lambda seed: _Standardised(make(seed))


class _PyODScores:
    """A PyOD detector behind ``fit``/``score_samples`` (higher = more normal, as scikit-learn)."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector

    def fit(self, x: np.ndarray) -> _PyODScores:
        self.detector.fit(x)
        return self

    def score_samples(self, x: np.ndarray) -> np.ndarray:
        return -np.asarray(self.detector.decision_function(x), dtype=np.float64)


class _Subsampled:
    """Fit ``detector`` on at most ``rows`` random training rows (for O(N²) detectors)."""

    def __init__(self, detector: Any, rows: int, seed: int) -> None:
        self.detector, self.rows, self.seed = detector, rows, seed

    def fit(self, x: np.ndarray) -> _Subsampled:
        if len(x) > self.rows:
            x = x[np.random.default_rng(self.seed).choice(len(x), self.rows, replace=False)]
        self.detector.fit(x)
        return self

    def score_samples(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.detector.score_samples(x), dtype=np.float64)


def make_detector(name: str, seed: int, args: argparse.Namespace) -> Any:
    """A fresh, unfitted detector with ``fit(x)`` and ``score_samples(x)`` (higher = more normal)."""
    if name == AEKIT:
        from aekit.estimators import AutoencoderOutlierDetector

        return AutoencoderOutlierDetector(random_state=seed, device="cpu")
    if name == "isolation_forest":
        from sklearn.ensemble import IsolationForest

        return _standardised(lambda s: IsolationForest(random_state=s))(seed)
    if name == "lof":
        from sklearn.neighbors import LocalOutlierFactor

        return _standardised(lambda s: LocalOutlierFactor(n_neighbors=20, novelty=True))(seed)
    if name == "one_class_svm":
        from sklearn.svm import OneClassSVM

        return _standardised(lambda s: _Subsampled(OneClassSVM(gamma="scale"), args.svm_rows, s))(seed)
    if name == "knn":
        from pyod.models.knn import KNN

        return _standardised(lambda s: _PyODScores(KNN()))(seed)
    if name == "pca":
        from pyod.models.pca import PCA

        return _standardised(lambda s: _PyODScores(PCA(random_state=s)))(seed)
    if name == "ecod":
        from pyod.models.ecod import ECOD

        return _standardised(lambda s: _PyODScores(ECOD()))(seed)
    if name == "copod":
        from pyod.models.copod import COPOD

        return _standardised(lambda s: _PyODScores(COPOD()))(seed)
    if name == "hbos":
        from pyod.models.hbos import HBOS

        return _standardised(lambda s: _PyODScores(HBOS()))(seed)
    if name == PYOD_AE:
        from pyod.models.auto_encoder import AutoEncoder

        return _standardised(lambda s: _PyODScores(AutoEncoder(random_state=s, verbose=0, device="cpu")))(
            seed
        )
    raise SystemExit(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}")


# -- protocol --------------------------------------------------------------------------------------------


def load_table(path: Path, max_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (float64) and ``y`` (1 = anomaly), stratified-subsampled to ``max_rows`` (0 = all)."""
    with np.load(path, allow_pickle=False) as data:
        x, y = np.asarray(data["X"], dtype=np.float64), np.asarray(data["y"]).astype(int).reshape(-1)
    if max_rows and len(x) > max_rows:
        keep, _ = train_test_split(np.arange(len(x)), train_size=max_rows, stratify=y, random_state=seed)
        x, y = x[np.sort(keep)], y[np.sort(keep)]
    return x, y


def run_one(
    name: str,
    x_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    seed: int,
    args: argparse.Namespace,
) -> dict[str, float]:
    detector = make_detector(name, seed, args)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detector.fit(x_train)
        fitted = time.perf_counter()
        scores = -np.asarray(detector.score_samples(x_test), dtype=np.float64)
    scored = time.perf_counter()
    if not np.isfinite(scores).all():  # a detector's failure is recorded, not hidden
        return {"auroc": float("nan"), "auprc": float("nan"), "fit_s": fitted - started, "score_s": 0.0}
    return {
        "auroc": 100 * float(roc_auc_score(y_test, scores)),
        "auprc": 100 * float(average_precision_score(y_test, scores)),
        "fit_s": fitted - started,
        "score_s": scored - fitted,
    }


def run(args: argparse.Namespace) -> None:
    paths = sorted(args.data_dir.glob("*.npz"), key=lambda p: p.stem)
    if not paths:
        raise SystemExit(f"no .npz tables in {args.data_dir} (set --data-dir or AEKIT_ADBENCH)")
    wanted = [d for d in args.datasets.split(",") if d]
    if wanted:
        missing = sorted(set(wanted) - {p.stem for p in paths})
        if missing:
            raise SystemExit(f"unknown table(s) {missing}; found {[p.stem for p in paths]}")
        paths = [p for p in paths if p.stem in wanted]
    results = args.results[0]
    done = {(r["dataset"], r["seed"], r["protocol"], r["detector"]) for r in read_records(results)}
    results.parent.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    protocols = [p for p in args.protocols.split(",") if p]
    detectors = [d for d in args.detectors.split(",") if d]
    for seed in seeds:  # seed by seed, so a stopped run has every table at least once
        for path in paths:
            x, y = load_table(path, args.max_rows, seed)
            x_train, x_test, y_train, y_test = train_test_split(
                x, y, test_size=0.3, stratify=y, random_state=seed
            )
            for protocol in protocols:
                fit_rows = x_train if protocol == "unsupervised" else x_train[y_train == 0]
                for name in detectors:
                    key = (path.stem, seed, protocol, name)
                    if key in done:
                        continue
                    record = {
                        "dataset": path.stem,
                        "seed": seed,
                        "protocol": protocol,
                        "detector": name,
                        "rows": len(x),
                        "train_rows": len(fit_rows),
                        "test_rows": len(x_test),
                        "features": x.shape[1],
                        **run_one(name, fit_rows, x_test, y_test, seed, args),
                    }
                    with results.open("a", encoding="utf-8") as handle:
                        handle.write(json.dumps(record) + "\n")
                    print(
                        f"{path.stem} seed {seed} {protocol} {name}: AUROC {record['auroc']:.1f} "
                        f"({record['fit_s'] + record['score_s']:.1f} s)",
                        file=sys.stderr,
                        flush=True,
                    )


# -- summary ---------------------------------------------------------------------------------------------


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _ranks(values: list[float]) -> list[float]:
    """Rank 1 = best (highest); ties share the average rank; NaN ranks last."""
    order = sorted(range(len(values)), key=lambda i: -values[i] if math.isfinite(values[i]) else math.inf)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def score_failures_as_chance(records: list[dict[str, Any]], data_dir: Path) -> list[dict[str, Any]]:
    """Records whose detector gave NaN/inf scores count as a constant score: AUROC 50, AUPRC = anomaly share.

    (PyOD's PCA divides by a zero eigenvalue when a table has duplicate columns, for example.)
    """
    shares: dict[str, float] = {}
    fixed = []
    for r in records:
        if math.isfinite(r["auroc"]):
            fixed.append({**r, "failed": False})
            continue
        if r["dataset"] not in shares:
            with np.load(data_dir / f"{r['dataset']}.npz", allow_pickle=False) as data:
                shares[r["dataset"]] = 100 * float(np.mean(np.asarray(data["y"]) == 1))
        fixed.append({**r, "auroc": 50.0, "auprc": shares[r["dataset"]], "failed": True})
    return fixed


def summarise(records: list[dict[str, Any]], protocol: str) -> str:
    """Markdown tables for one protocol: per table, overall, and the critical-difference summary."""
    chosen = [r for r in records if r["protocol"] == protocol]
    if not chosen:
        return f"(no {protocol} records)\n"
    detectors = [d for d in DETECTORS if any(r["detector"] == d for r in chosen)]
    # only (table, seed) pairs every detector finished, so each mean covers the same runs
    runs: dict[tuple[str, int], set[str]] = {}
    for r in chosen:
        runs.setdefault((r["dataset"], r["seed"]), set()).add(r["detector"])
    chosen = [r for r in chosen if runs[(r["dataset"], r["seed"])] >= set(detectors)]
    datasets = sorted({r["dataset"] for r in chosen}, key=lambda d: int(d.split("_")[0]))
    cell: dict[tuple[str, str], dict[str, list[float]]] = {}
    for r in chosen:
        entry = cell.setdefault(
            (r["dataset"], r["detector"]), {"auroc": [], "auprc": [], "s": [], "failed": []}
        )
        entry["failed"].append(bool(r.get("failed", False)))
        entry["auroc"].append(r["auroc"])
        entry["auprc"].append(r["auprc"])
        entry["s"].append(r["fit_s"] + r["score_s"])
    complete = [d for d in datasets if all((d, det) in cell for det in detectors)]

    def mean(dataset: str, detector: str, key: str) -> float:
        return statistics.fmean(cell[(dataset, detector)][key])

    per_table = []
    for d in complete:
        row: dict[str, object] = {"table": d, "rows": _rows_of(chosen, d)}
        best = max(mean(d, det, "auroc") for det in detectors)
        for det in detectors:
            value = mean(d, det, "auroc")
            text = f"**{value:.1f}**" if value == best else f"{value:.1f}"
            failures = sum(cell[(d, det)]["failed"])
            row[det] = f"{text} ({failures} failed)" if failures else text
        per_table.append(row)
    ranks = {det: [] for det in detectors}  # type: dict[str, list[float]]
    for d in complete:
        for det, rank in zip(detectors, _ranks([mean(d, det, "auroc") for det in detectors]), strict=True):
            ranks[det].append(rank)
    overall = []
    for det in detectors:
        overall.append(
            {
                "detector": det,
                "mean AUROC": statistics.fmean(mean(d, det, "auroc") for d in complete),
                "mean AUPRC": statistics.fmean(mean(d, det, "auprc") for d in complete),
                "mean rank": statistics.fmean(ranks[det]),
                "failed runs": sum(sum(cell[(d, det)]["failed"]) for d in complete),
                "median s": statistics.median(s for d in complete for s in cell[(d, det)]["s"]),
                "max s": max(s for d in complete for s in cell[(d, det)]["s"]),
            }
        )
    overall.sort(key=lambda row: -float(row["mean AUROC"]))  # type: ignore[arg-type]
    lines = [
        f"### {protocol}: {len(complete)} tables, seeds {sorted({r['seed'] for r in chosen})}"
        + _seed_counts(chosen, complete),
        "",
        table(overall),
        "",
        critical_difference(ranks, len(complete)),
    ]
    if AEKIT in detectors and PYOD_AE in detectors:
        wins = sum(mean(d, AEKIT, "auroc") > mean(d, PYOD_AE, "auroc") for d in complete)
        lines += [
            "",
            f"aekit above PyOD's AutoEncoder on {wins} of {len(complete)} tables (mean AUROC over seeds).",
        ]
    lines += ["", "AUROC % per table (mean over seeds; best in bold):", "", table(per_table), ""]
    published = [
        {
            "table": d,
            "source": source,
            **{det: f"{values.get(det, float('nan')):.1f}" for det in PUBLISHED[d]},
        }
        for d in complete
        if d in PUBLISHED
        for source, values in (
            ("published (PyOD)", PUBLISHED[d]),
            ("this run", {det: mean(d, det, "auroc") for det in PUBLISHED[d] if det in detectors}),
        )
    ]
    if published:
        lines += ["Published figures beside this run's (AUROC %):", "", table(published), ""]
    return "\n".join(lines)


def _seed_counts(records: list[dict[str, Any]], tables: list[str]) -> str:
    """`` (3 seeds on 20 tables, 2 on 10)`` when tables have different numbers of finished seeds."""
    counts = [len({r["seed"] for r in records if r["dataset"] == t}) for t in tables]
    if len(set(counts)) <= 1:
        return ""
    parts = [
        f"{n} seed{'s' if n > 1 else ''} on {counts.count(n)} tables"
        for n in sorted(set(counts), reverse=True)
    ]
    return " (" + ", ".join(parts) + ")"


def _rows_of(records: list[dict[str, Any]], dataset: str) -> int:
    return int(next(r["rows"] for r in records if r["dataset"] == dataset))


def critical_difference(ranks: dict[str, list[float]], n_tables: int) -> str:
    """Friedman test over the mean ranks and the Nemenyi critical difference at α = 0.05 (Demšar 2006)."""
    from scipy.stats import f as f_distribution

    k = len(ranks)
    if k < 2 or n_tables < 2:
        return ""
    mean_ranks = {det: statistics.fmean(values) for det, values in ranks.items()}
    chi2 = 12 * n_tables / (k * (k + 1)) * (sum(r * r for r in mean_ranks.values()) - k * (k + 1) ** 2 / 4)
    denominator = n_tables * (k - 1) - chi2
    f_stat = (n_tables - 1) * chi2 / denominator if denominator > 0 else math.inf
    p_value = float(f_distribution.sf(f_stat, k - 1, (k - 1) * (n_tables - 1)))
    cd = NEMENYI_Q05.get(k, math.nan) * math.sqrt(k * (k + 1) / (6 * n_tables))
    ordered = sorted(mean_ranks, key=mean_ranks.__getitem__)
    best = ordered[0]
    tied = [det for det in ordered[1:] if mean_ranks[det] - mean_ranks[best] < cd]
    ladder = " < ".join(f"{det} {mean_ranks[det]:.2f}" for det in ordered)
    return (
        f"Critical difference (Friedman–Iman–Davenport F = {f_stat:.2f}, p = {p_value:.2g}; Nemenyi CD at "
        f"α = 0.05 = {cd:.2f} ranks over {n_tables} tables). Mean ranks: {ladder}. Not significantly "
        f"different from the best ({best}): {', '.join(tied) if tied else 'none'}."
    )


def time_full_table(args: argparse.Namespace) -> None:
    """Fit aekit's default detector on every row of one table and score every row: wall and CPU seconds."""
    from aekit.estimators import AutoencoderOutlierDetector

    x, y = load_table(args.data_dir / f"{args.time_full_table}.npz", 0, 0)
    wall, cpu = time.perf_counter(), time.process_time()
    detector = AutoencoderOutlierDetector(random_state=0, device="cpu").fit(x)
    fit_wall, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
    scores = -detector.score_samples(x)
    total_wall, total_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{args.time_full_table}: {len(x)} rows × {x.shape[1]} features, {args.threads} thread(s): fit "
        f"{fit_wall:.1f} s wall ({fit_cpu:.1f} s CPU), fit + score {total_wall:.1f} s wall "
        f"({total_cpu:.1f} s CPU); AUROC on the training rows {100 * roc_auc_score(y, scores):.1f}"
    )


def threshold_check(args: argparse.Namespace) -> None:
    """One-class fit of aekit's default detector per table; share of the normal test rows it flags."""
    from aekit.estimators import AutoencoderOutlierDetector

    rows = []
    for path in sorted(args.data_dir.glob("*.npz"), key=lambda p: int(p.stem.split("_")[0])):
        seed = int(args.seeds.split(",")[0])
        x, y = load_table(path, args.max_rows, seed)
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=0.3, stratify=y, random_state=seed
        )
        detector = AutoencoderOutlierDetector(random_state=seed, device="cpu").fit(x_train[y_train == 0])
        flagged = detector.predict(x_test) == -1
        rows.append(
            {
                "table": path.stem,
                "normal test rows": int(np.sum(y_test == 0)),
                "calibration rows": detector.n_calibration_rows_,
                "FPR %": 100 * float(flagged[y_test == 0].mean()),
                "recall %": 100 * float(flagged[y_test == 1].mean()),
            }
        )
        print(f"{path.stem}: FPR {rows[-1]['FPR %']:.2f} %", file=sys.stderr, flush=True)
    fprs = [float(r["FPR %"]) for r in rows]
    within = sum(abs(f - 1) <= 2 for f in fprs)
    print(table(rows))
    print(
        f"\ntarget 1 % (threshold_percentile 99): mean FPR {statistics.fmean(fprs):.2f} %, median "
        f"{statistics.median(fprs):.2f} %, within ±2 points on {within} of {len(fprs)} tables"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    if args.time_full_table is not None:
        time_full_table(args)
        return 0
    if args.threshold_check:
        threshold_check(args)
        return 0
    if not args.summary_only:
        run(args)
    records = [record for path in args.results for record in read_records(path)]
    header = (
        f"ADBench protocol, tables capped at {args.max_rows or 'no'} rows, svm rows {args.svm_rows}, "
        f"torch {torch.__version__}, {args.threads} thread(s)\n"
    )
    records = score_failures_as_chance(records, args.data_dir)
    text = header + "\n" + "\n".join(summarise(records, p) for p in PROTOCOLS)
    print(text)
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
