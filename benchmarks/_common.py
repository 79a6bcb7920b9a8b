"""Shared set-up for benchmarks: MNIST in [0, 1], training photographs, thread settings, a results printer."""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path

import torch

from aekit.data import load_mnist
from aekit.models.base import AbstractAutoencoder

DEFAULT_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos" / "bsds500-train"
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


def photo_split(
    folder: Path, mode: str, every: int = 20, *, validation_only: bool = False
) -> tuple[list[torch.Tensor], list[torch.Tensor], list[str]]:
    """Training and validation photographs (every ``every``-th file by name is held out) as
    ``(C, H, W)`` float tensors in [0, 1]; ``mode`` is Pillow's ``"L"`` or ``"RGB"``. Returns
    ``(train, validation, validation file names)``; ``validation_only`` leaves ``train`` empty."""
    import numpy as np
    from PIL import Image

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    train, val, val_names = [], [], []
    for index, file in enumerate(files):
        held_out = index % every == every - 1
        if validation_only and not held_out:
            continue
        with Image.open(file) as image:
            pixels = np.asarray(image.convert(mode), dtype=np.float32) / 255.0
        tensor = torch.from_numpy(pixels.reshape(pixels.shape[0], pixels.shape[1], -1)).permute(2, 0, 1)
        if held_out:
            val.append(tensor.contiguous())
            val_names.append(file.name)
        else:
            train.append(tensor.contiguous())
    return train, val, val_names


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data-dir``, ``--threads`` and ``--seed``."""
    parser.add_argument("--data-dir", default=os.environ.get("AEKIT_DATA", str(DEFAULT_MNIST)))
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seed", type=int, default=0)


def apply_settings(args: argparse.Namespace) -> str:
    """Apply thread settings and return a one-line description of the settings for the report."""
    torch.set_num_threads(args.threads)
    return (
        f"torch {torch.__version__}, {args.threads} thread(s), flush_denormal on both sides, "
        f"{platform.processor() or platform.machine()}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}"
    )


def mnist(split: str, data_dir: str, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images in [0, 1] ``(N, 1, 28, 28)`` and labels."""
    loaded = load_mnist(split, data_dir=data_dir, download=False)  # type: ignore[arg-type]
    x, y = loaded.data.x / 255.0, loaded.data.y
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return x, y  # type: ignore[return-value]


def table(rows: list[dict[str, object]]) -> str:
    """A Markdown table of ``rows`` (same keys)."""
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[c]) for c in columns) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def evaluation_holes(size: tuple[int, int], kind: str, seed: int) -> torch.Tensor:
    """The fixed holes of the photo inpainting benchmarks: boolean ``(H, W)``, True = missing.

    ``rectangles``: three axis-aligned rectangles, each side uniform in 8–20 % of the shorter image side
    (41–102 pixels on a 768×512 photograph), anywhere inside the image (they may overlap).
    ``strokes``: aekit's free-form strokes (1–4 polylines, brush up to 5 % of the shorter side).
    """
    from aekit.models.inpainting import stroke_masks

    height, width = size
    generator = torch.Generator().manual_seed(seed)
    if kind == "strokes":
        return stroke_masks(1, size, generator, max_strokes=4, max_width_fraction=0.05)[0, 0] > 0.5
    holes = torch.zeros(height, width, dtype=torch.bool)
    shorter = min(height, width)
    for _ in range(3):
        sides = (0.08 + 0.12 * torch.rand(2, generator=generator)) * shorter
        rect_h, rect_w = int(sides[0]), int(sides[1])
        top = int(torch.randint(0, height - rect_h + 1, (1,), generator=generator))
        left = int(torch.randint(0, width - rect_w + 1, (1,), generator=generator))
        holes[top : top + rect_h, left : left + rect_w] = True
    return holes


def rescaled(images: list[torch.Tensor], scales: list[float]) -> list[torch.Tensor]:
    """``images`` at each of ``scales`` (bicubic, antialiased when shrinking), all in one list."""
    out = []
    for scale in scales:
        for image in images:
            if scale == 1.0:
                out.append(image)
                continue
            size = [round(side * scale) for side in image.shape[1:]]
            resized = torch.nn.functional.interpolate(
                image[None], size=size, mode="bicubic", align_corners=False, antialias=scale < 1
            )
            out.append(resized[0].clamp(0, 1).contiguous())
    return out


def train_on_patches(
    model: AbstractAutoencoder,
    images: list[torch.Tensor],
    args: argparse.Namespace,
    settings: dict[str, object],
    score: Callable[[], float],
    score_name: str,
) -> None:
    """The photo models' training recipe: fresh random ``args.patch`` crops of ``images`` (at each of
    ``args.scales``, :func:`rescaled`) each pass
    (``args.steps_per_pass`` batches of ``args.batch_size``), Adam with a cosine decay from ``args.lr``
    over ``args.passes``, through aekit's ``Trainer``, checkpointed in ``args.out`` (a rerun resumes).

    ``args.init`` (a trainer checkpoint or an aekit model folder) gives the starting weights. After every
    pass ``score()`` (higher is better) is appended to ``OUT/validation.csv`` under ``score_name`` and the
    best weights so far are saved to ``OUT/best`` with the recipe ``settings``; with ``args.keep_passes``
    every pass's weights are also kept, in ``OUT/passes/NNN`` (for weight averaging).
    """
    import csv
    import math
    import time

    import aekit
    from aekit.data.patches import RandomPatches
    from aekit.models.files import load
    from aekit.training import Trainer
    from aekit.training.checkpoint import load_checkpoint
    from aekit.training.config import TrainConfig

    if args.init is not None and args.init.is_file():  # a trainer checkpoint of an earlier run
        state = load_checkpoint(
            args.init,
            model_name=model.registry_name,
            model_config=model.config.to_dict(),
        )
        model.load_state_dict(state["model"])
    elif args.init is not None:  # an aekit model folder
        model.load_state_dict(load(args.init).model.state_dict())
    data = RandomPatches(rescaled(images, args.scales), args.patch, args.steps_per_pass * args.batch_size)
    log_path = args.out / "validation.csv"
    best = -math.inf
    if log_path.exists():
        with log_path.open() as file:
            best = max((float(row[score_name]) for row in csv.DictReader(file)), default=-math.inf)
    started = time.process_time()

    def on_pass_end(epoch: int, row: dict[str, float]) -> None:
        nonlocal best
        value = score()
        new_file = not log_path.exists()
        with log_path.open("a", newline="") as file:
            writer = csv.writer(file)
            if new_file:
                writer.writerow(["pass", "train_loss", "lr", "seconds", "cpu_seconds", score_name])
            writer.writerow(
                [epoch, row["train_loss"], row["lr"], row["seconds"], time.process_time() - started, value]
            )
        print(f"pass {epoch}: train loss {row['train_loss']:.6f}, {score_name} {value:.3f}", flush=True)
        if args.keep_passes:
            aekit.save_model(model, args.out / "passes" / f"{epoch:03d}", metadata={"pass": epoch})
        if value > best:
            best = value
            metadata = {f"validation_{score_name}": value, "pass": epoch, "recipe": settings}
            aekit.save_model(model, args.out / "best", metadata=metadata)

    config = TrainConfig(
        epochs=args.passes,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        lr_schedule="cosine",
        seed=0,
        device="cpu",
        keep_best=False,
        checkpoint_dir=str(args.out),
        resume=True,
    )
    Trainer(config, on_epoch_end=on_pass_end).fit(model, data)


def add_patch_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every photo model's :func:`train_on_patches` recipe reads besides its own."""
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--init", type=Path, help="start from the weights of an aekit model folder or a checkpoint.pt"
    )
    parser.add_argument(
        "--keep-passes", action="store_true", help="keep every pass's weights in OUT/passes (for averaging)"
    )
    parser.add_argument(
        "--scales",
        type=float,
        nargs="+",
        default=[1.0],
        help="train on the photographs resized by each factor (e.g. 1 1.6: also at a higher resolution)",
    )


def latest_rows(path: Path, key: tuple[str, ...]) -> list[dict[str, object]]:
    """The rows of a JSON-lines results file, the last one for each value of the ``key`` fields, so a
    rerun that recomputes entries (``--fresh``) replaces the earlier figures instead of being averaged
    with them."""
    if not path.exists():
        return []
    latest: dict[tuple[object, ...], dict[str, object]] = {}
    with path.open() as file:
        for line in file:
            if line.strip():
                row = json.loads(line)
                latest[tuple(row[field] for field in key)] = row
    return list(latest.values())
