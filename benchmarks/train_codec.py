"""Train the mean-scale hyperprior codec on a folder of photographs; validate codecs on its held-out split.

Training (resumable: a checkpoint after every pass; rerun the same command to continue)::

    OMP_NUM_THREADS=1 PYTHONPATH=src nice -n 5 python benchmarks/train_codec.py train \
        --data ../shared/data/photos/bsds500-train --output runs/codec-hyperprior \
        --checkpoint-dir runs/codec-hyperprior-ckpt

By default it continues the shipped default codec (a hyperprior of the default settings; ``--init``);
``--init FOLDER`` of a factorized codec starts from its analysis and synthesis transforms and fits the
hyperprior around them, and ``--init none`` trains from scratch. Every 10th photograph by sorted
file name (:func:`aekit.apps.compression.images.split_photos`) is held out for validation and never
trained on; settings are chosen on it, never on the evaluation set (Kodak).

Validation (real ``.aek`` files, one thread): bits per pixel, PSNR and MS-SSIM per quality level of each
codec given, and the Bjøntegaard delta rate of every codec against the first::

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/train_codec.py validate \
        --data ../shared/data/photos/bsds500-train \
        --models src/aekit/assets/codec_default runs/codec-hyperprior

``widen --model FOLDER --latent-channels M --output FOLDER`` makes a codec with more latent channels that
starts out decoding exactly like the given one (``train --init FOLDER --latent-channels M`` continues it).
Measured here: continued on CPU, the new channels went unused (docs/compression.md); a wider latent needs
the longer training of the GPU recipe.

``float16 --model FOLDER --output FOLDER`` rounds a codec's weights to float16, rebuilds its tables and
saves it with float16 weights (how the shipped MS-SSIM codec was stored).

GPU recipe (when a device is available): ``--device cuda --crop-size 256 --batch-size 16 --passes 200
--crops-per-pass 8000 --hidden-channels 128 --latent-channels 192 --init none`` (the published hyperprior
models train for about a million steps).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from aekit.models.compression import Codec

logger = logging.getLogger("train_codec")

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos" / "bsds500-train"
# the shipped default's 12 levels: the model's default 8 (0.0018 … 0.18) with 0.0002, 0.0005, 0.001 and 0.25
LMBDA = (0.0002, 0.0005, 0.001, 0.0018, 0.0035, 0.0067, 0.013, 0.025, 0.0483, 0.0932, 0.18, 0.25)


def _init_from(model: torch.nn.Module, folder: str) -> None:
    """Start from a trained codec: a hyperprior codec of the same shape (a continuation at the same or other
    levels, :func:`_init_levels_from`), or a factorized codec (:func:`_init_from_factorized`)."""
    from aekit.models.compression import Codec
    from aekit.models.files import load_model
    from aekit.models.hyperprior import HyperpriorCodec

    source = load_model(folder)
    if isinstance(source, HyperpriorCodec):
        try:
            _init_levels_from(model, source)  # the same levels: every weight and step copied
        except RuntimeError as error:
            raise SystemExit(f"--init {folder} does not fit this codec's settings: {error}") from None
    elif isinstance(source, Codec):
        _init_from_factorized(model, source)
    else:
        raise SystemExit(f"--init {folder} holds a {source.registry_name!r} model, not a codec")


def _init_from_factorized(model: torch.nn.Module, source: Codec) -> None:
    """Copy the analysis and synthesis transforms of a factorized codec; set each level's steps from a
    per-channel fit of its learned ``log Δ`` against ``log λ`` (extrapolated to the new levels)."""
    state = {k: v for k, v in source.state_dict().items() if k.startswith(("analysis.", "synthesis."))}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(k.startswith(("analysis.", "synthesis.")) for k in missing):
        raise SystemExit(f"--init does not fit: missing {missing}, unexpected {unexpected}")
    with torch.no_grad():
        model.log_steps.copy_(_fitted_log_steps(source, model.config.lmbda))  # type: ignore[union-attr]


def _init_levels_from(model: torch.nn.Module, source: torch.nn.Module) -> None:
    """Continue a hyperprior codec at the same or other quality levels: every weight but the steps is copied;
    a level whose λ the source has keeps its learned steps, a new one gets the per-channel fit of
    ``log Δ`` against ``log λ`` (:func:`_fitted_log_steps`). A source trained for another distortion has
    its λ on another scale: it must have as many levels, and level ``k`` starts from its level ``k``."""
    state = {k: v for k, v in source.state_dict().items() if k != "log_steps"}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or missing != ["log_steps"]:
        raise SystemExit(f"--init does not fit: missing {missing}, unexpected {unexpected}")
    lmbda = tuple(model.config.lmbda)  # type: ignore[union-attr]
    source_config = source.config  # type: ignore[union-attr]
    if source_config.distortion != model.config.distortion:  # type: ignore[union-attr]
        if len(source_config.lmbda) != len(lmbda):
            raise SystemExit(
                f"--init was trained for {source_config.distortion} with {len(source_config.lmbda)} levels; "
                f"a codec for another distortion starts level by level from it, so give as many λ "
                f"(got {len(lmbda)})"
            )
        with torch.no_grad():
            model.log_steps.copy_(source.log_steps)  # type: ignore[union-attr]
        return
    steps = _fitted_log_steps(source, lmbda)
    known = list(source.config.lmbda)  # type: ignore[union-attr]
    for level, value in enumerate(lmbda):
        if value in known:
            steps[level] = source.log_steps.detach()[known.index(value)]  # type: ignore[index]
    with torch.no_grad():
        model.log_steps.copy_(steps)  # type: ignore[union-attr]


def _fitted_log_steps(source: torch.nn.Module, lmbda: tuple[float, ...]) -> torch.Tensor:
    """``log Δ`` ``(len(lmbda), M)`` at each λ from a per-channel least-squares line through the source's
    learned ``log Δ`` against ``log λ`` (so new levels are extrapolated along it)."""
    log_lmbda = torch.tensor(source.config.lmbda, dtype=torch.float64).log()  # type: ignore[union-attr]
    log_steps = source.log_steps.detach().to(torch.float64)  # type: ignore[union-attr]  # (levels, M)
    centred = log_lmbda - log_lmbda.mean()
    slope = (centred.view(-1, 1) * (log_steps - log_steps.mean(0))).sum(0) / centred.pow(2).sum()
    target = torch.tensor(lmbda, dtype=torch.float64).log()
    fitted = log_steps.mean(0) + slope * (target.view(-1, 1) - log_lmbda.mean())
    return fitted.to(torch.float32)


def train(args: argparse.Namespace) -> None:
    """Train a hyperprior codec, build its integer tables and save it."""
    from aekit.apps.compression.images import load_photo_folder, photo_patches, split_photos
    from aekit.models.files import save_model
    from aekit.models.registry import create
    from aekit.training import TrainConfig, Trainer

    torch.set_num_threads(args.threads)
    photos, _ = split_photos(load_photo_folder(args.data))
    large = {name: image for name, image in photos.items() if min(image.shape[:2]) >= args.crop_size}
    if len(large) < len(photos):
        print(f"left out {len(photos) - len(large)} training photographs smaller than {args.crop_size} px")
    if not large:
        raise SystemExit(f"no training photograph in {args.data} has both sides ≥ {args.crop_size} px")
    data = photo_patches(large, args.crop_size, args.crops_per_pass)
    model = create(
        "codec_hyperprior",
        seed=args.seed,
        input_shape=(3, args.crop_size, args.crop_size),
        hidden_channels=args.hidden_channels,
        latent_channels=args.latent_channels,
        hyper_channels=args.hyper_channels,
        lmbda=tuple(args.lmbda),
        distortion=args.distortion,
    )
    if args.init != "none":
        _init_from(model, args.init)
    trainer = Trainer(
        TrainConfig(
            epochs=args.passes,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            lr_schedule="cosine",
            gradient_clip=1.0,
            seed=args.seed,
            device=args.device,
            progress=False,
            verbose=1,
            checkpoint_dir=args.checkpoint_dir,
            resume=args.checkpoint_dir is not None,
        )
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    history = trainer.fit(model, data)
    minutes = (time.perf_counter() - started) / 60
    cpu_minutes = (time.process_time() - cpu_started) / 60
    model = model.cpu().eval()
    model.update_tables()
    metadata = {
        "recipe": "benchmarks/train_codec.py train",
        "arguments": {k: v for k, v in vars(args).items() if k not in ("func", "output", "checkpoint_dir")},
        "train_photos": len(photos),
        "train_minutes_this_session": round(minutes, 1),
        "train_cpu_minutes_this_session": round(cpu_minutes, 1),
        "final_train_terms": {k: v for k, v in history.rows[-1].items() if k.startswith("train_")},
    }
    save_model(model, args.output, metadata=metadata)
    logger.info("trained in %.1f min (%.1f CPU min); saved to %s", minutes, cpu_minutes, args.output)


def export(args: argparse.Namespace) -> None:
    """Save the model of a training checkpoint (e.g. a run stopped early) as a model folder with tables."""
    from aekit.models.files import save_model
    from aekit.models.registry import create

    state = torch.load(Path(args.checkpoint_dir) / "checkpoint.pt", map_location="cpu", weights_only=True)
    if state.get("model_name") != "codec_hyperprior":
        raise SystemExit(f"{args.checkpoint_dir} is not a hyperprior codec checkpoint")
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in state["model_config"].items()}
    model = create("codec_hyperprior", **config)
    model.load_state_dict(state["model"])
    model.eval()
    model.update_tables()  # type: ignore[operator]
    rows = state.get("history") or [{}]
    metadata = {
        "recipe": "benchmarks/train_codec.py train, then export (checkpoint after pass "
        f"{state['epoch']} of {state.get('planned_epochs')})",
        "final_train_terms": {k: v for k, v in rows[-1].items() if k.startswith("train_")},
    }
    save_model(model, args.output, metadata=metadata)
    logger.info("exported pass %s of %s to %s", state["epoch"], args.checkpoint_dir, args.output)


def widen(args: argparse.Namespace) -> None:
    """Save a hyperprior codec with more latent channels that codes and decodes like the given one.

    The transforms cap a narrow codec's quality at high rates (``M`` latent channels for ``16 × 16 × 3``
    pixels), so a continuation with a wider latent starts from the trained weights: the old channels keep
    every weight; the new ones get freshly initialised analysis filters, zero weights into the synthesis
    and the hyper-analysis (so the decoded image and the hyper-latent are unchanged), and their own means
    and scales from new hyper-synthesis units that feed only them. Their steps start at each level's
    mean step of the old channels. Training then decides what the new channels carry (in two CPU runs of
    7 and 9 passes, nothing: the rate term drove them to zero bits).
    """
    from aekit.models.files import load_model, save_model
    from aekit.models.hyperprior import HyperpriorCodec
    from aekit.models.registry import create

    source = load_model(args.model)
    if not isinstance(source, HyperpriorCodec):
        raise SystemExit(f"{args.model} holds a {source.registry_name!r} model, not a hyperprior codec")
    old = source.config.latent_channels
    if args.latent_channels <= old:
        raise SystemExit(f"--latent-channels must be above the model's {old}; got {args.latent_channels}")
    config = {**source.config.to_dict(), "latent_channels": args.latent_channels}
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
    wide = create("codec_hyperprior", seed=args.seed, **config)
    _copy_widened(wide, source)
    wide.eval()
    wide.update_tables()  # type: ignore[operator]
    metadata = {
        "recipe": f"benchmarks/train_codec.py widen --model {args.model} --latent-channels "
        f"{args.latent_channels} --seed {args.seed}",
        "widened_from": source.config.latent_channels,
    }
    save_model(wide, args.output, metadata=metadata)
    logger.info(
        "widened %s from %d to %d latent channels: %s", args.model, old, args.latent_channels, args.output
    )


def _copy_widened(wide: torch.nn.Module, source: torch.nn.Module) -> None:
    """Copy ``source`` into the wider ``wide`` (see :func:`widen`); ``wide`` keeps its fresh weights where
    the new channels need them."""
    old = source.config.latent_channels  # type: ignore[union-attr]
    new = wide.config.latent_channels  # type: ignore[union-attr]
    target = wide.state_dict()
    narrow = source.state_dict()
    analysis_out = f"analysis.{len(wide.analysis) - 1}"  # type: ignore[arg-type]
    synthesis_in = "synthesis.0"
    hyper_in = "hyper_analysis.0"
    middle, last = "hyper_synthesis.2", "hyper_synthesis.4"
    old_middle = narrow[f"{middle}.bias"].shape[0]
    with torch.no_grad():
        special = (analysis_out, synthesis_in, hyper_in, middle, last)
        for name, value in narrow.items():  # every other weight as it is; tables are rebuilt after
            if not name.startswith(special) and name in target and target[name].shape == value.shape:
                target[name].copy_(value)
        target[f"{analysis_out}.weight"][:old].copy_(narrow[f"{analysis_out}.weight"])
        target[f"{analysis_out}.bias"][:old].copy_(narrow[f"{analysis_out}.bias"])
        target[f"{synthesis_in}.weight"][:old].copy_(narrow[f"{synthesis_in}.weight"])
        target[f"{synthesis_in}.weight"][old:].zero_()
        target[f"{synthesis_in}.bias"].copy_(narrow[f"{synthesis_in}.bias"])
        target[f"{hyper_in}.weight"][:, :old].copy_(narrow[f"{hyper_in}.weight"])
        target[f"{hyper_in}.weight"][:, old:].zero_()
        target[f"{hyper_in}.bias"].copy_(narrow[f"{hyper_in}.bias"])
        target[f"{middle}.weight"][:, :old_middle].copy_(narrow[f"{middle}.weight"])
        target[f"{middle}.bias"][:old_middle].copy_(narrow[f"{middle}.bias"])
        # the last layer's outputs are [means (M), log-scales (M)]: old rows move to their new places and
        # ignore the new middle units; the new channels' rows keep their fresh weights
        for half in (0, 1):
            rows_old = slice(half * old, half * old + old)
            rows_new = slice(half * new, half * new + old)
            target[f"{last}.weight"][rows_new, :old_middle].copy_(narrow[f"{last}.weight"][rows_old])
            target[f"{last}.weight"][rows_new, old_middle:].zero_()
            target[f"{last}.bias"][rows_new].copy_(narrow[f"{last}.bias"][rows_old])
        steps = narrow["log_steps"]
        target["log_steps"][:, :old].copy_(steps)
        target["log_steps"][:, old:].copy_(steps.mean(dim=1, keepdim=True).expand(-1, new - old))
    wide.load_state_dict(target)


def float16(args: argparse.Namespace) -> None:
    """Round a codec's floating-point weights to float16, rebuild its tables from them and save it with
    float16 weights (half the bytes; measure the result: it is not the same model)."""
    from aekit.models.files import load, save_model

    bundle = load(args.model)
    model = bundle.model
    state = model.state_dict()
    model.load_state_dict({k: v.half().to(v.dtype) if v.is_floating_point() else v for k, v in state.items()})
    model.update_tables()  # type: ignore[operator]
    stored = "float16 weights (rounded from float32, tables rebuilt from them)"
    metadata = {**bundle.metadata, "stored": stored}
    save_model(model, args.output, metadata=metadata, float16=True)
    logger.info("saved %s with float16 weights to %s", args.model, args.output)


def validate(args: argparse.Namespace) -> None:
    """Code the validation photographs with every codec at every level; print and save the RD points."""
    from aekit.apps.compression import (
        bd_rate,
        compress_image,
        decompress_image,
        image_ms_ssim,
        image_psnr,
        model_fingerprint,
    )
    from aekit.apps.compression.images import load_photo_folder, split_photos
    from aekit.models.files import load_model

    torch.set_num_threads(args.threads)
    _, photos = split_photos(load_photo_folder(args.data))
    if args.limit:
        photos = dict(list(photos.items())[: args.limit])
    curves: dict[str, list[dict[str, float]]] = {}
    cache = Path(args.cache) if args.cache else None
    for folder in args.models:
        model = load_model(folder)
        weights = model_fingerprint(model).hex()[:12]  # new weights in the same folder are measured anew
        cached = cache / f"{Path(folder).name}-{weights}-{len(photos)}.json" if cache else None
        if cached is not None and cached.exists():
            curves[str(folder)] = json.loads(cached.read_text())
            continue
        curve = []
        for level in range(model.n_levels):  # type: ignore[attr-defined]
            rows = []
            for image in photos.values():
                data = compress_image(model, image, level=level)  # type: ignore[arg-type]
                decoded = decompress_image(model, data)  # type: ignore[arg-type]
                bpp = 8 * len(data) / (image.shape[0] * image.shape[1])
                rows.append((bpp, image_psnr(image, decoded), image_ms_ssim(image, decoded)))
            curve.append(
                {
                    "level": level,
                    "bpp": statistics.fmean(r[0] for r in rows),
                    "psnr": statistics.fmean(r[1] for r in rows),
                    "ms_ssim": statistics.fmean(r[2] for r in rows),
                }
            )
            logger.info("%s level %d: %s", folder, level, curve[-1])
        curves[str(folder)] = curve
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(curve))
    anchor_name = str(args.models[0])
    anchor = curves[anchor_name]
    result: dict[str, object] = {"photos": sorted(photos), "curves": curves, "bd_rate_vs_first": {}}
    lines = []
    for name, curve in curves.items():
        for c in curve:
            lines.append(
                f"{name:45s} {c['level']:>2d}  {c['bpp']:.3f} bpp  {c['psnr']:6.2f} dB  {c['ms_ssim']:.4f}"
            )
        if name == anchor_name:
            continue
        for metric in ("psnr", "ms_ssim"):
            try:
                value = bd_rate(
                    [c["bpp"] for c in anchor],
                    [c[metric] for c in anchor],
                    [c["bpp"] for c in curve],
                    [c[metric] for c in curve],
                )
            except Exception as error:  # no overlap: report, do not fail
                value = float("nan")
                logger.warning("BD-rate %s of %s undefined: %s", metric, name, error)
            result["bd_rate_vs_first"][f"{name}:{metric}"] = value  # type: ignore[index]
            lines.append(f"BD-rate {metric} of {name} vs {anchor_name}: {value:+.1f} %")
    sys.stdout.write("\n".join(lines) + "\n")
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(result, indent=2, default=float) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(required=True)
    trainer = commands.add_parser("train", help="train a hyperprior codec")
    trainer.add_argument("--data", default=str(DEFAULT_PHOTOS), help="folder of training photographs")
    trainer.add_argument("--output", default="runs/codec-hyperprior", help="model folder to write")
    trainer.add_argument("--checkpoint-dir", default=None, help="checkpoint every pass; resume from it")
    trainer.add_argument("--passes", type=int, default=26, help="passes (epochs) of fresh random crops")
    trainer.add_argument("--crops-per-pass", type=int, default=2000, help="random crops per pass")
    trainer.add_argument(
        "--crop-size", type=int, default=128, help="side of the square crops (multiple of 64)"
    )
    trainer.add_argument("--batch-size", type=int, default=8, help="crops per step")
    trainer.add_argument("--lr", type=float, default=3e-4, help="Adam learning rate (cosine schedule)")
    trainer.add_argument("--hidden-channels", type=int, default=64, help="N")
    trainer.add_argument("--latent-channels", type=int, default=96, help="M")
    trainer.add_argument("--hyper-channels", type=int, default=64, help="channels of the hyper-latent")
    trainer.add_argument(
        "--lmbda", type=float, nargs="+", default=list(LMBDA), help="λ per level, increasing"
    )
    trainer.add_argument("--distortion", choices=("mse", "ms_ssim"), default="mse", help="distortion term")
    trainer.add_argument(
        "--init",
        default="src/aekit/assets/codec_default",
        help="codec to start from: a hyperprior codec of the same settings (all weights: a continuation; "
        "default: the shipped one), a factorized codec (its transforms), or 'none'",
    )
    trainer.add_argument("--seed", type=int, default=0, help="seed of crops, weights and training")
    trainer.add_argument("--device", default="cpu", help="cpu, cuda, auto")
    trainer.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    trainer.set_defaults(func=train)
    exporter = commands.add_parser("export", help="save a training checkpoint as a model folder")
    exporter.add_argument("--checkpoint-dir", required=True, help="the training run's checkpoint folder")
    exporter.add_argument("--output", required=True, help="model folder to write")
    exporter.set_defaults(func=export)
    widener = commands.add_parser(
        "widen", help="a codec with more latent channels that codes like the given one"
    )
    widener.add_argument("--model", required=True, help="hyperprior codec model folder")
    widener.add_argument("--latent-channels", type=int, required=True, help="the new M")
    widener.add_argument("--seed", type=int, default=0, help="seed of the new channels' weights")
    widener.add_argument("--output", required=True, help="model folder to write")
    widener.set_defaults(func=widen)
    halver = commands.add_parser("float16", help="a codec with its weights rounded to and stored in float16")
    halver.add_argument("--model", required=True, help="codec model folder")
    halver.add_argument("--output", required=True, help="model folder to write")
    halver.set_defaults(func=float16)
    validator = commands.add_parser("validate", help="RD points of codecs on the held-out photographs")
    validator.add_argument("--data", default=str(DEFAULT_PHOTOS), help="folder of training photographs")
    validator.add_argument(
        "--models", nargs="+", required=True, help="codec folders; the first is the anchor"
    )
    validator.add_argument("--limit", type=int, default=0, help="use only the first N validation photos")
    validator.add_argument("--output", default=None, help="JSON file for the results")
    validator.add_argument(
        "--cache", default=None, help="folder caching each model's curve (by folder name and weights)"
    )
    validator.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    validator.set_defaults(func=validate)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args.func(args)


if __name__ == "__main__":
    main()
