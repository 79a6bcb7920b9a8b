"""Train the blind photo denoiser on patches of the training photographs (the shipped model's recipe).

    OMP_NUM_THREADS=1 python benchmarks/train_photo_denoiser.py --out runs/photo_grey

Holds out every 20th photograph (20 of 400) as a validation split: after every pass the model denoises them
at σ = 25 (fixed noise seed) and the weights with the best validation PSNR are saved to ``OUT/best`` (an
aekit model folder). Checkpoints every pass; rerunning the same command resumes. Evaluation sets (BSD68,
Set12, Kodak) are never read here.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

import aekit
from aekit.data.patches import RandomPatches
from aekit.models.files import load
from aekit.training import Trainer
from aekit.training.checkpoint import load_checkpoint
from aekit.training.config import TrainConfig

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "photos" / "bsds500-train"


def load_photos(folder: Path, mode: str) -> tuple[list[torch.Tensor], list[torch.Tensor], list[str]]:
    """Training and validation images (every 20th file by name) as ``(C, H, W)`` float tensors in [0, 1]."""
    from PIL import Image

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    train, val, val_names = [], [], []
    for index, file in enumerate(files):
        with Image.open(file) as image:
            pixels = np.asarray(image.convert(mode), dtype=np.float32) / 255.0
        tensor = torch.from_numpy(pixels.reshape(pixels.shape[0], pixels.shape[1], -1)).permute(2, 0, 1)
        if index % 20 == 19:
            val.append(tensor.contiguous())
            val_names.append(file.name)
        else:
            train.append(tensor.contiguous())
    return train, val, val_names


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1.0 / (a - b).square().mean()))


@torch.no_grad()
def validation_psnr(model: aekit.models.PhotoDenoiser, images: list[torch.Tensor], sigma: float) -> float:
    """Mean PSNR of the denoised validation images at noise level ``sigma`` (/255), seed 0."""
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(0)
    scores = []
    for clean in images:
        noisy = clean + torch.randn(clean.shape, generator=generator) * sigma / 255
        scores.append(psnr(model.denoise(noisy[None]).clamp(0, 1)[0], clean))
    model.train(was_training)
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/photo_grey"))
    parser.add_argument("--colour", action="store_true", help="train on RGB instead of grey")
    parser.add_argument("--channels", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps-per-pass", type=int, default=400)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--sigma-max", type=float, default=55.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--init", type=Path, help="start from the weights of an aekit model folder or a checkpoint.pt"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    mode = "RGB" if args.colour else "L"
    train_images, val_images, val_names = load_photos(args.data, mode)
    args.out.mkdir(parents=True, exist_ok=True)
    settings = {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "val": val_names}
    (args.out / "settings.json").write_text(json.dumps(settings, indent=2) + "\n")
    model = aekit.models.create(
        "photo_denoiser",
        seed=0,
        input_shape=(len(mode), args.patch, args.patch),
        channels=tuple(args.channels),
        noise_range=(0.0, args.sigma_max / 255),
    )
    if args.init is not None and args.init.is_file():  # a trainer checkpoint of an earlier run
        state = load_checkpoint(
            args.init, model_name=model.registry_name, model_config=model.config.to_dict()
        )
        model.load_state_dict(state["model"])
    elif args.init is not None:  # an aekit model folder
        model.load_state_dict(load(args.init).model.state_dict())
    data = RandomPatches(train_images, args.patch, args.steps_per_pass * args.batch_size)
    log_path = args.out / "validation.csv"
    best = -math.inf
    if log_path.exists():
        with log_path.open() as file:
            best = max((float(row["psnr_sigma25"]) for row in csv.DictReader(file)), default=-math.inf)
    started = time.process_time()

    def on_pass_end(epoch: int, row: dict[str, float]) -> None:
        nonlocal best
        score = validation_psnr(model, val_images, 25.0)
        new_file = not log_path.exists()
        with log_path.open("a", newline="") as file:
            writer = csv.writer(file)
            if new_file:
                writer.writerow(["pass", "train_loss", "lr", "seconds", "cpu_seconds", "psnr_sigma25"])
            writer.writerow(
                [epoch, row["train_loss"], row["lr"], row["seconds"], time.process_time() - started, score]
            )
        print(f"pass {epoch}: train loss {row['train_loss']:.6f}, val PSNR σ=25 {score:.3f} dB", flush=True)
        if score > best:
            best = score
            aekit.save_model(
                model,
                args.out / "best",
                metadata={"validation_psnr_sigma25": score, "pass": epoch, "recipe": settings},
            )

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


if __name__ == "__main__":
    main()
