"""Learned image codec: training recipe and rate–distortion / speed benchmark against JPEG and JPEG 2000.

Train the default codec (the recipe that made ``src/aekit/assets/codec_default``; about 50 minutes on
one CPU core)::

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/compression_rd.py train \
        --output src/aekit/assets/codec_default

Evaluate a codec on the held-out photographs (astronaut, chelsea, coffee, rocket, motorcycle_left): bpp,
PSNR and MS-SSIM per quality level, JPEG and JPEG 2000 at the same measured rates, Bjøntegaard delta
rates, an RD plot and encode/decode speed in megapixels per second::

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/compression_rd.py evaluate \
        --output benchmarks/results/compression

On a GPU, train bigger with e.g. ``--device cuda --hidden-channels 128 --latent-channels 192 --crops 20000
--crop-size 256 --batch-size 16 --epochs 200`` (Ballé et al. train for about a million steps).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from aekit.apps.compression import (
    bd_rate,
    compress_image,
    decompress_image,
    image_ms_ssim,
    image_psnr,
    load_default_codec,
)
from aekit.apps.compression.baselines import decode_with_pillow, jpeg, jpeg2000, measure
from aekit.apps.compression.images import natural_images, random_crops
from aekit.errors import DataError
from aekit.models.compression import Codec, CodecConfig
from aekit.models.hyperprior import HyperpriorCodec

logger = logging.getLogger("compression_rd")

REFERENCE = {  # reference figures measured earlier (mean over the held-out images)
    "jpeg": {0.25: (26.67, 0.913), 0.5: (29.60, 0.961)},
    "jpeg2000": {0.25: (29.07, 0.948), 0.5: (32.01, 0.972)},
}


def train(args: argparse.Namespace) -> None:
    """Train a codec with :class:`aekit.training.Trainer`, build its tables and save it."""
    from aekit.data.augment import Augmentation
    from aekit.data.tensors import TensorData
    from aekit.models.files import save_model
    from aekit.models.registry import create
    from aekit.training import TrainConfig, Trainer

    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(args.seed)
    crops = random_crops(natural_images("train"), args.crops, args.crop_size, generator=generator)
    config = {
        "input_shape": (3, args.crop_size, args.crop_size),
        "hidden_channels": args.hidden_channels,
        "latent_channels": args.latent_channels,
        "lmbda": tuple(args.lmbda),
        "distortion": args.distortion,
    }
    start = _initial_codec(args.init) if args.init else None
    if start is not None:  # fine-tuning: the architecture is the starting codec's
        if len(args.lmbda) != start.n_levels:
            raise SystemExit(f"--lmbda needs {start.n_levels} values (the levels of {args.init})")
        architecture = ("hidden_channels", "latent_channels", "n_stages", "kernel_size", "density_filters")
        config.update({field: getattr(start.config, field) for field in architecture})
    model = create("codec", seed=args.seed, **config)
    if start is not None:
        _copy_weights(start, model)
    trainer = Trainer(
        TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            lr_schedule="cosine",
            gradient_clip=1.0,
            seed=args.seed,
            device=args.device,
            precision=args.precision,
            progress=True,
            checkpoint_dir=args.checkpoint_dir,
            resume=args.checkpoint_dir is not None,
        ),
        augment=Augmentation(horizontal_flip_probability=0.5).apply,
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    history = trainer.fit(model, TensorData(crops))
    minutes = (time.perf_counter() - started) / 60
    cpu_minutes = (time.process_time() - cpu_started) / 60
    model = model.cpu().eval()
    model.update_tables()
    metadata = {
        "recipe": "benchmarks/compression_rd.py train",
        "arguments": {k: v for k, v in vars(args).items() if k not in ("func", "output", "checkpoint_dir")},
        "train_minutes": round(minutes, 1),
        "train_cpu_minutes": round(cpu_minutes, 1),
        "final_train_terms": {k: v for k, v in history.rows[-1].items() if k.startswith("train_")},
    }
    save_model(model, args.output, metadata=metadata)
    logger.info("trained in %.1f min (%.1f CPU min); saved to %s", minutes, cpu_minutes, args.output)


def _initial_codec(folder: str) -> Codec:
    from aekit.models.files import load_model

    model = load_model(folder)
    if not isinstance(model, Codec):
        raise SystemExit(f"--init {folder} holds a {model.registry_name!r} model, not a codec")
    return model


def _copy_weights(source: Codec, target: Codec) -> None:
    """Every weight of ``source`` into ``target`` (same architecture); tables are rebuilt after training."""
    weights = {k: v for k, v in source.state_dict().items() if not k.startswith("cdf_")}
    missing, unexpected = target.load_state_dict(weights, strict=False)
    if unexpected or any(not key.startswith("cdf_") for key in missing):
        raise SystemExit(f"the starting codec does not fit: missing {missing}, unexpected {unexpected}")


@dataclasses.dataclass
class Point:
    image: str
    codec: str
    setting: float
    bpp: float
    psnr: float
    ms_ssim: float


def _jpeg_matched(image: np.ndarray, name: str, bpp: float) -> Point:
    """JPEG interpolated (linearly in bpp) between the two qualities whose sizes bracket ``bpp``."""
    sizes = {}

    def rate(quality: int) -> float:
        if quality not in sizes:
            sizes[quality] = 8 * len(jpeg(image, quality)) / (image.shape[0] * image.shape[1])
        return sizes[quality]

    low, high = 1, 95
    while high - low > 1:
        middle = (low + high) // 2
        if rate(middle) <= bpp:
            low = middle
        else:
            high = middle
    points = []
    for quality in (low, high):
        data = jpeg(image, quality)
        points.append(measure(image, data, decode_with_pillow(data), "jpeg", quality))
    a, b = points
    weight = 0.0 if b.bpp == a.bpp else min(max((bpp - a.bpp) / (b.bpp - a.bpp), 0.0), 1.0)
    mix = lambda u, v: (1 - weight) * u + weight * v  # noqa: E731
    return Point(
        name,
        "jpeg",
        mix(a.setting, b.setting),
        mix(a.bpp, b.bpp),
        mix(a.psnr, b.psnr),
        mix(a.ms_ssim, b.ms_ssim),
    )


def _jpeg2000_matched(image: np.ndarray, name: str, bpp: float) -> Point:
    data = jpeg2000(image, bpp)
    coded = measure(image, data, decode_with_pillow(data), "jpeg2000", bpp)
    return Point(name, "jpeg2000", bpp, coded.bpp, coded.psnr, coded.ms_ssim)


def _on_curve(rate: float, rates: list[float], values: list[float]) -> float:
    """The value at ``rate`` on the piecewise-linear curve, extended along its end segments.

    ``np.interp`` alone would hold the end value outside the levels' rates, crediting a curve that starts
    at 0.26 bpp with its 0.26 bpp quality at 0.25 bpp.
    """
    if rates[0] <= rate <= rates[-1] or len(rates) < 2:
        return float(np.interp(rate, rates, values))
    i = 0 if rate < rates[0] else len(rates) - 2
    slope = (values[i + 1] - values[i]) / (rates[i + 1] - rates[i])
    return float(values[i] + slope * (rate - rates[i]))


def _mean(points: list[Point], field: str) -> float:
    return statistics.fmean(getattr(p, field) for p in points)


def _speed(
    model: Codec, images: dict[str, np.ndarray], level: int, repeats: int
) -> dict[str, dict[str, float]]:
    """Encode and decode megapixels per second of aekit, JPEG and JPEG 2000 on the same images."""
    pixels = sum(im.shape[0] * im.shape[1] for im in images.values()) / 1e6
    coders = {
        "aekit": (lambda im: compress_image(model, im, level=level), lambda d: decompress_image(model, d)),
        "jpeg": (lambda im: jpeg(im, 50), decode_with_pillow),
        "jpeg2000": (lambda im: jpeg2000(im, 0.5), decode_with_pillow),
    }
    result = {}
    for name, (encode, decode) in coders.items():
        encode_seconds, decode_seconds = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            encoded = [encode(im) for im in images.values()]
            encode_seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            for data in encoded:
                decode(data)
            decode_seconds.append(time.perf_counter() - started)
        result[name] = {
            "encode_mpix_per_s": pixels / min(encode_seconds),
            "decode_mpix_per_s": pixels / min(decode_seconds),
        }
    return result


def evaluate(args: argparse.Namespace) -> None:
    """RD points, BD-rates, plot and speed; writes ``rd.json`` and ``rd.png`` to ``--output``."""
    torch.set_num_threads(args.threads)
    model = load_default_codec() if args.model is None else _load(args.model)
    images = natural_images("holdout")
    # matched[level][image] = {"aekit": Point, "jpeg": Point, "jpeg2000": Point} at aekit's measured rate.
    matched: list[dict[str, dict[str, Point]]] = []
    for level in range(model.n_levels):
        row = {}
        for name, image in images.items():
            data = compress_image(model, image, level=level)
            decoded = decompress_image(model, data)
            bpp = 8 * len(data) / (image.shape[0] * image.shape[1])
            row[name] = {
                "aekit": Point(
                    name, "aekit", level, bpp, image_psnr(image, decoded), image_ms_ssim(image, decoded)
                ),
                "jpeg": _jpeg_matched(image, name, bpp),
                "jpeg2000": _jpeg2000_matched(image, name, bpp),
            }
        matched.append(row)
    at_rates = {
        target: {
            "jpeg": [_jpeg_matched(image, name, target) for name, image in images.items()],
            "jpeg2000": [_jpeg2000_matched(image, name, target) for name, image in images.items()],
        }
        for target in (0.25, 0.5)
    }
    # Wider anchor curves for the Bjøntegaard rates: 8 rates from half aekit's lowest to twice its highest,
    # so the quality ranges overlap even where one codec is far ahead.
    anchors: dict[str, dict[str, list[Point]]] = {"jpeg": {}, "jpeg2000": {}}
    for name, image in images.items():
        ours = [row[name]["aekit"].bpp for row in matched]
        rates = np.geomspace(0.5 * min(ours), 2 * max(ours), 8)
        anchors["jpeg"][name] = [_jpeg_matched(image, name, float(r)) for r in rates]
        anchors["jpeg2000"][name] = [_jpeg2000_matched(image, name, float(r)) for r in rates]
    summary = _summarise(matched, at_rates, anchors, list(images))
    summary["speed"] = _speed(model, images, model.n_levels // 2, args.repeats)
    summary["model"] = str(args.model or "default codec")
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    points = [
        dataclasses.asdict(p) for row in matched for per_image in row.values() for p in per_image.values()
    ]
    (output / "rd.json").write_text(json.dumps({"summary": summary, "points": points}, indent=2) + "\n")
    _plot(summary, output / "rd.png")
    _report(summary)


def _load(path: str) -> Codec | HyperpriorCodec:
    from aekit.models.files import load_model

    model = load_model(path)
    if not isinstance(model, Codec | HyperpriorCodec):
        raise SystemExit(f"{path} does not hold a codec")
    return model


def _summarise(
    matched: list[dict[str, dict[str, Point]]],
    at_rates: dict[float, dict[str, list[Point]]],
    anchors: dict[str, dict[str, list[Point]]],
    names: list[str],
) -> dict:
    codecs = ("aekit", "jpeg", "jpeg2000")
    curves = {
        codec: [
            {
                "level": level,
                **{
                    field: _mean([row[name][codec] for name in names], field)
                    for field in ("bpp", "psnr", "ms_ssim")
                },
            }
            for level, row in enumerate(matched)
        ]
        for codec in codecs
    }
    summary_rates: dict[str, dict] = {}
    ours = curves["aekit"]
    rates = [c["bpp"] for c in ours]
    for target, by_codec in at_rates.items():
        summary_rates[f"aekit@{target}"] = {
            "bpp": target,
            **{field: _on_curve(target, rates, [c[field] for c in ours]) for field in ("psnr", "ms_ssim")},
            "extrapolated": not rates[0] <= target <= rates[-1],
        }
        for codec, rows in by_codec.items():
            summary_rates[f"{codec}@{target}"] = {
                **{field: _mean(rows, field) for field in ("bpp", "psnr", "ms_ssim")},
                "issue_reference": REFERENCE[codec][target],
            }
    bd = {}
    for anchor in ("jpeg", "jpeg2000"):
        for metric in ("psnr", "ms_ssim"):
            per_image: dict[str, float | None] = {}
            for name in names:
                mine = [row[name]["aekit"] for row in matched]
                theirs = anchors[anchor][name]
                try:
                    per_image[name] = bd_rate(
                        [p.bpp for p in theirs],
                        [getattr(p, metric) for p in theirs],
                        [p.bpp for p in mine],
                        [getattr(p, metric) for p in mine],
                    )
                except DataError as error:  # no quality overlap even on the wide curve
                    logger.warning("BD-rate %s vs %s on %s undefined: %s", metric, anchor, name, error)
                    per_image[name] = None
            defined = [v for v in per_image.values() if v is not None]
            bd[f"vs_{anchor}_{metric}"] = {
                "mean_percent": statistics.fmean(defined) if defined else None,
                "n_images": len(defined),
                "per_image": per_image,
            }
    return {"curves": curves, "at_reference_rates": summary_rates, "bd_rate": bd, "images": names}


def _plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    styles = {"aekit": "o-", "jpeg": "s--", "jpeg2000": "^--"}
    for codec, curve in summary["curves"].items():
        rates = [c["bpp"] for c in curve]
        axes[0].plot(rates, [c["psnr"] for c in curve], styles[codec], label=codec)
        axes[1].plot(rates, [c["ms_ssim"] for c in curve], styles[codec], label=codec)
    axes[0].set_ylabel("PSNR (dB)")
    axes[1].set_ylabel("MS-SSIM")
    for axis in axes:
        axis.set_xlabel("bits per pixel")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle("Held-out photographs (mean of 5): aekit codec vs JPEG and JPEG 2000 at the same rates")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _report(summary: dict) -> None:
    lines = ["codec     level   bpp     PSNR    MS-SSIM"]
    for codec, curve in summary["curves"].items():
        for c in curve:
            lines.append(f"{codec:9s} {c['level']:>5d}  {c['bpp']:.3f}  {c['psnr']:6.2f}  {c['ms_ssim']:.4f}")
    lines.append("")
    for key, row in summary["at_reference_rates"].items():
        reference = row.get("issue_reference")
        extra = f"   (issue reference {reference[0]:.2f} dB / {reference[1]:.3f})" if reference else ""
        extra += "   (extrapolated: outside the levels' rates)" if row.get("extrapolated") else ""
        lines.append(
            f"{key:15s} bpp {row['bpp']:.3f}  PSNR {row['psnr']:6.2f}  MS-SSIM {row['ms_ssim']:.4f}{extra}"
        )
    lines.append("")
    for key, row in summary["bd_rate"].items():
        value = "undefined" if row["mean_percent"] is None else f"{row['mean_percent']:+7.1f} %"
        per_image = ", ".join(
            f"{name} {'n/a' if v is None else f'{v:+.0f}%'}" for name, v in row["per_image"].items()
        )
        lines.append(f"BD-rate {key:22s} {value}  (mean of {row['n_images']} images: {per_image})")
    lines.append("")
    for codec, row in summary["speed"].items():
        lines.append(
            f"speed {codec:9s} encode {row['encode_mpix_per_s']:7.2f} MP/s  "
            f"decode {row['decode_mpix_per_s']:7.2f} MP/s"
        )
    sys.stdout.write("\n".join(lines) + "\n")


# -- photographs (Kodak): every baseline, published figures, BD-rates, per-image wins, speed ----------

PUBLISHED_KODAK = {  # CompressAI's published Kodak results (mean PSNR in dB at 0.25 / 0.5 bpp), not re-run
    "JPEG 2000 (ffmpeg)": (28.57, 31.27),
    "BPG (HEVC intra)": (30.32, 33.32),
    "VTM (VVC intra)": (31.27, 34.37),
    "Ballé 2017 factorized": (29.15, 31.83),
    "Ballé 2018 hyperprior": (29.95, 33.06),
    "Minnen 2018 mean-scale": (30.30, 33.41),
    "Cheng 2020": (31.06, 34.27),
}
BASELINE_SETTINGS = {
    "jpeg": [3, 5, 8, 12, 18, 25, 35, 50, 65, 80, 90, 95],
    "jpeg2000": [round(float(r), 4) for r in np.geomspace(0.04, 3.0, 12)],
    "webp": [0, 5, 15, 30, 45, 60, 75, 85, 95, 100],
    "avif": [10, 25, 40, 55, 70, 85],  # libavif at its default speed 6 is the slowest encoder here
}
TIMING_SETTING = {"jpeg": 75, "jpeg2000": 0.5, "webp": 75, "avif": 60}


def _quality(image: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    """PSNR and MS-SSIM; MS-SSIM computed in float32 (the training kernel, ``aekit.losses.ssim``), 5×
    faster than the float64 metric and within 1e-6 of it on these images."""
    from aekit.losses.ssim import ms_ssim

    def tensor(a: np.ndarray) -> torch.Tensor:
        a = a[..., None] if a.ndim == 2 else a
        return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)).astype(np.float32))[None]

    with torch.no_grad():
        value = float(ms_ssim(tensor(image), tensor(decoded), data_range=255.0)[0])
    return {"psnr": image_psnr(image, decoded), "ms_ssim": value}


def _baseline_codec(name: str):  # type: ignore[no-untyped-def]
    from aekit.apps.compression.baselines import avif, webp

    return {"jpeg": jpeg, "jpeg2000": jpeg2000, "webp": webp, "avif": avif}[name]


def _timed(encode, decode, image):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    data = encode(image)
    encoded = time.perf_counter()
    decoded = decode(data)
    return data, decoded, encoded - started, time.perf_counter() - encoded


def _baseline_points(name: str, image: np.ndarray, codecs: list[str]) -> dict:
    points: dict[str, list[dict]] = {}
    seconds: dict[str, list[float]] = {}
    for codec in codecs:
        encode = _baseline_codec(codec)
        rows = []
        for setting in BASELINE_SETTINGS[codec]:
            data = encode(image, setting)
            bpp = 8 * len(data) / (image.shape[0] * image.shape[1])
            rows.append({"setting": setting, "bpp": bpp, **_quality(image, decode_with_pillow(data))})
        points[codec] = rows
        _, _, enc, dec = _timed(
            lambda im, e=encode, c=codec: e(im, TIMING_SETTING[c]), decode_with_pillow, image
        )
        seconds[codec] = [enc, dec]
    return {"points": points, "seconds": seconds}


def _aekit_points(model, image: np.ndarray, threads: int) -> dict:  # type: ignore[no-untyped-def]
    rows = []
    seconds = []
    for level in range(model.n_levels):
        data, decoded, enc, dec = _timed(
            lambda im, lv=level: compress_image(model, im, level=lv),
            lambda d: decompress_image(model, d),
            image,
        )
        bpp = 8 * len(data) / (image.shape[0] * image.shape[1])
        rows.append({"setting": level, "bpp": bpp, **_quality(image, decoded)})
        seconds.append([enc, dec])
    return {"points": rows, "seconds": seconds, "threads": threads}


def _interpolate(rows: list[dict], bpp: float, field: str) -> float | None:
    """``field`` at ``bpp`` on the piecewise-linear curve in log-rate (``None`` outside the curve)."""
    rows = sorted(rows, key=lambda r: r["bpp"])
    rates = [math.log(r["bpp"]) for r in rows]
    if not rates[0] <= math.log(bpp) <= rates[-1]:
        return None
    return float(np.interp(math.log(bpp), rates, [r[field] for r in rows]))


BD_METRICS = ("psnr", "ms_ssim", "ms_ssim_db")
"""Qualities BD-rates are computed on: ``ms_ssim_db`` is ``−10 log10(1 − MS-SSIM)``, the scale CompressAI
and most papers plot MS-SSIM on; linear MS-SSIM gives the lowest rates, where it spreads widest, the
most weight in the fit."""


def _point_quality(row: dict, metric: str) -> float:
    """``metric`` of one rate–quality point (``ms_ssim_db`` is derived from ``ms_ssim``)."""
    if metric == "ms_ssim_db":
        return -10 * math.log10(max(1 - row["ms_ssim"], 1e-10))
    return row[metric]


def _bd(anchor: list[dict], test: list[dict], metric: str) -> float | None:
    """BD-rate of ``test`` vs the anchor points within [½ × lowest, 2 × highest] of the test's rates."""
    low, high = min(r["bpp"] for r in test), max(r["bpp"] for r in test)
    ordered = sorted(anchor, key=lambda r: r["bpp"])
    inside = [i for i, r in enumerate(ordered) if 0.5 * low <= r["bpp"] <= 2 * high]
    first = max(min(inside, default=0) - 1, 0)
    last = min(max(inside, default=len(ordered) - 1) + 1, len(ordered) - 1)
    near = ordered[first : last + 1]  # the anchor around the test's rates, one point beyond each end
    try:
        return bd_rate(
            [r["bpp"] for r in near],
            [_point_quality(r, metric) for r in near],
            [r["bpp"] for r in test],
            [_point_quality(r, metric) for r in test],
        )
    except DataError:
        return None


def photos(args: argparse.Namespace) -> None:
    """Every image of ``--images`` through the aekit codecs and the baselines; summary, JSON and plot."""
    from aekit.apps.compression import model_fingerprint
    from aekit.apps.compression.baselines import codec_versions
    from aekit.apps.compression.images import load_photo_folder

    torch.set_num_threads(args.threads)
    images = load_photo_folder(args.images)
    output = Path(args.output)
    cache = output / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    versions = codec_versions()
    codecs = [c for c in ("jpeg", "jpeg2000", "webp", "avif") if c != "avif" or versions.get("libavif")]
    results: dict[str, dict] = {}
    for name, image in images.items():
        if args.only_aekit:
            break
        path = cache / f"baselines-{name}.json"
        if not path.exists():
            path.write_text(json.dumps(_baseline_points(name, image, codecs)))
            logger.info("baselines: %s", name)
        results[name] = json.loads(path.read_text())
    ours: dict[str, dict[str, dict]] = {}
    for folder in args.models:
        model = _load(folder)
        key = Path(folder).name
        weights = model_fingerprint(model).hex()[:12]  # a folder's points are cached per weights
        ours[key] = {}
        for name, image in images.items():
            path = cache / f"{key}-{weights}-{name}.json"
            if not path.exists() or args.refresh:
                path.write_text(json.dumps(_aekit_points(model, image, args.threads)))
                logger.info("%s: %s", key, name)
            ours[key][name] = json.loads(path.read_text())
    if args.only_aekit:
        return
    summary = _photo_summary(images, results, ours, codecs)
    summary["versions"] = {**versions, "torch": torch.__version__}
    summary["published_kodak"] = PUBLISHED_KODAK
    summary["threads"] = args.threads
    (output / "rd.json").write_text(
        json.dumps({"summary": summary, "baselines": results, "aekit": ours}, indent=1)
    )
    _photo_plot(images, results, ours, codecs, output / "rd.png")
    _photo_report(summary)


def _photo_summary(images: dict, results: dict, ours: dict, codecs: list[str]) -> dict:
    names = list(images)
    summary: dict = {"images": names, "codecs": {}}
    for key, per_image in ours.items():
        entry: dict = {"bd_rate": {}, "wins": {}, "at": {}, "seconds": {}}
        for anchor in codecs:
            for metric in BD_METRICS:
                values = [_bd(results[n]["points"][anchor], per_image[n]["points"], metric) for n in names]
                defined = [v for v in values if v is not None]
                entry["bd_rate"][f"{anchor}_{metric}"] = {
                    "mean_percent": statistics.fmean(defined) if defined else None,
                    "n_images": len(defined),
                }
            every_level = 0
            level_wins = 0
            level_total = 0
            for n in names:
                wins = []
                for row in per_image[n]["points"]:
                    theirs = _interpolate(results[n]["points"][anchor], row["bpp"], "psnr")
                    if theirs is not None:
                        wins.append(row["psnr"] > theirs)
                level_wins += sum(wins)
                level_total += len(wins)
                every_level += bool(wins) and all(wins)
            entry["wins"][anchor] = {
                "images_won_at_every_level": every_level,
                "levels_won": level_wins,
                "levels_compared": level_total,
            }
        curves = {"aekit": {n: per_image[n]["points"] for n in names}}
        curves.update({c: {n: results[n]["points"][c] for n in names} for c in codecs})
        for codec, per in curves.items():
            for target in (0.25, 0.5, 1.0):
                values = [_interpolate(per[n], target, "psnr") for n in names]
                ssims = [_interpolate(per[n], target, "ms_ssim") for n in names]
                if all(v is not None for v in values):
                    entry["at"].setdefault(codec, {})[str(target)] = {
                        "psnr": statistics.fmean(values),  # type: ignore[arg-type]
                        "ms_ssim": statistics.fmean(ssims),  # type: ignore[arg-type]
                    }
        levels = len(next(iter(per_image.values()))["points"])
        entry["levels"] = [
            {
                field: statistics.fmean(per_image[n]["points"][level][field] for n in names)
                for field in ("bpp", "psnr", "ms_ssim")
            }
            for level in range(levels)
        ]
        entry["seconds"]["aekit"] = [
            statistics.fmean(s[i] for n in names for s in per_image[n]["seconds"]) for i in (0, 1)
        ]
        for codec in codecs:
            entry["seconds"][codec] = [
                statistics.fmean(results[n]["seconds"][codec][i] for n in names) for i in (0, 1)
            ]
        summary["codecs"][key] = entry
    return summary


def _photo_plot(images: dict, results: dict, ours: dict, codecs: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(images)
    grid = np.geomspace(0.08, 2.0, 40)

    def mean_curve(per: dict[str, list[dict]], field: str) -> tuple[list[float], list[float]]:
        xs, ys = [], []
        for rate in grid:
            values = [_interpolate(per[n], float(rate), field) for n in names]
            if all(v is not None for v in values):
                xs.append(float(rate))
                ys.append(statistics.fmean(values))  # type: ignore[arg-type]
        return xs, ys

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for index, field in enumerate(("psnr", "ms_ssim")):
        for key, per_image in ours.items():
            axes[index].plot(
                *mean_curve({n: per_image[n]["points"] for n in names}, field), "o-", label=f"aekit {key}"
            )
        for codec in codecs:
            axes[index].plot(
                *mean_curve({n: results[n]["points"][codec] for n in names}, field), "--", label=codec
            )
        axes[index].set_xlabel("bits per pixel")
        axes[index].set_ylabel("PSNR (dB)" if field == "psnr" else "MS-SSIM")
        axes[index].grid(alpha=0.3)
    for name, (a, b) in PUBLISHED_KODAK.items():
        axes[0].plot([0.25, 0.5], [a, b], ":", marker="x", label=f"{name} (published)")
    axes[0].legend(fontsize=6)
    axes[1].legend(fontsize=7)
    figure.suptitle(f"Mean of {len(names)} photographs, all curves interpolated per image in log-rate")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _photo_report(summary: dict) -> None:
    lines = [f"versions: {summary['versions']}", ""]
    for key, entry in summary["codecs"].items():
        lines.append(f"== aekit {key} ==")
        for level, row in enumerate(entry["levels"]):
            lines.append(
                f"  level {level}: {row['bpp']:.3f} bpp  {row['psnr']:.2f} dB  MS-SSIM {row['ms_ssim']:.4f}"
            )
        for codec, at in entry["at"].items():
            text = "  ".join(f"{t} bpp {v['psnr']:.2f} dB / {v['ms_ssim']:.4f}" for t, v in at.items())
            lines.append(f"  {codec:9s} {text}")
        for name, (a, b) in PUBLISHED_KODAK.items():
            lines.append(f"  published {name:24s} 0.25 bpp {a:.2f} dB  0.5 bpp {b:.2f} dB")
        for anchor_metric, row in entry["bd_rate"].items():
            value = "undefined" if row["mean_percent"] is None else f"{row['mean_percent']:+.1f} %"
            lines.append(f"  BD-rate vs {anchor_metric:19s} {value} (mean of {row['n_images']} images)")
        for anchor, row in entry["wins"].items():
            lines.append(
                f"  PSNR wins vs {anchor:9s}: every level on {row['images_won_at_every_level']} images; "
                f"{row['levels_won']}/{row['levels_compared']} image-levels"
            )
        for codec, (enc, dec) in entry["seconds"].items():
            lines.append(f"  seconds per image {codec:9s} encode {enc:.3f}  decode {dec:.3f}")
    sys.stdout.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(required=True)
    trainer = commands.add_parser("train", help="train a codec with the default recipe")
    trainer.add_argument("--output", default="src/aekit/assets/codec_default", help="model folder to write")
    trainer.add_argument("--epochs", type=int, default=16, help="passes over the crops")
    trainer.add_argument("--crops", type=int, default=12000, help="random training crops")
    trainer.add_argument("--crop-size", type=int, default=64, help="side of the square crops")
    trainer.add_argument("--batch-size", type=int, default=16, help="crops per step")
    trainer.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (cosine schedule)")
    trainer.add_argument("--hidden-channels", type=int, default=64, help="N")
    trainer.add_argument("--latent-channels", type=int, default=96, help="M")
    trainer.add_argument(
        "--lmbda",
        type=float,
        nargs="+",
        default=list(CodecConfig.lmbda),
        help="λ per quality level, increasing",
    )
    trainer.add_argument("--distortion", choices=("mse", "ms_ssim"), default="mse", help="distortion term")
    trainer.add_argument(
        "--init",
        default=None,
        help="fine-tune: start from this codec folder's weights and architecture (same number of levels)",
    )
    trainer.add_argument("--seed", type=int, default=0, help="seed of crops, weights and training")
    trainer.add_argument("--device", default="cpu", help="cpu, cuda, auto")
    trainer.add_argument(
        "--precision",
        choices=("32", "bf16-mixed"),
        default="32",
        help="bf16-mixed is about 1.8× faster on CPUs with AVX512-BF16/AMX (entropy model stays fp32)",
    )
    trainer.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    trainer.add_argument(
        "--checkpoint-dir",
        default=None,
        help="checkpoint + losses.csv every epoch; resumes from it when present",
    )
    trainer.set_defaults(func=train)
    evaluator = commands.add_parser("evaluate", help="RD and speed against JPEG and JPEG 2000")
    evaluator.add_argument("--model", default=None, help="model folder (default: the shipped codec)")
    evaluator.add_argument(
        "--output", default="benchmarks/results/compression", help="folder for rd.json, rd.png"
    )
    evaluator.add_argument("--repeats", type=int, default=3, help="timing repeats (best is kept)")
    evaluator.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    evaluator.set_defaults(func=evaluate)
    photo = commands.add_parser(
        "photos", help="a folder of photographs (Kodak): all baselines, BD-rates, wins"
    )
    photo.add_argument("--images", required=True, help="folder of evaluation photographs")
    photo.add_argument(
        "--models", nargs="+", default=["src/aekit/assets/codec_default"], help="codec folders"
    )
    photo.add_argument("--output", default="benchmarks/results/compression_kodak", help="results folder")
    photo.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    photo.add_argument("--refresh", action="store_true", help="recompute the aekit points even when cached")
    photo.add_argument(
        "--only-aekit", action="store_true", help="only compute (and cache) the aekit points; no summary"
    )
    photo.set_defaults(func=photos)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.func(args)


if __name__ == "__main__":
    main()
