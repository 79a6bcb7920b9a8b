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

logger = logging.getLogger("compression_rd")

REFERENCE = {  # the reference figures (mean over the held-out images)
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


def _load(path: str) -> Codec:
    from aekit.models.files import load_model

    model = load_model(path)
    if not isinstance(model, Codec):
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.func(args)


if __name__ == "__main__":
    main()
