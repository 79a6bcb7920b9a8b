"""Train the photo inpainter on patches of the training photographs (the shipped model's recipe).

    OMP_NUM_THREADS=1 python benchmarks/train_photo_inpainter.py --out runs/photo_inpainter

Holds out every 20th photograph (20 of 400) as a validation split: after every pass the model fills
three fixed rectangles in each of them (``_common.evaluation_holes``) and the weights with the best hole
PSNR are saved to ``OUT/best`` (an aekit model folder). ``--scales 1 1.6`` also trains on the training
photographs enlarged 1.6 times (for photographs of a higher resolution than the training set's). The
smooth (push–pull) fill the network starts from and scikit-image's biharmonic inpainting are scored on
the same holes once, for reference (``OUT/baselines.json``). Checkpoints every pass; rerunning the same
command resumes. Evaluation sets (Kodak) are never read here.

``--evaluate FOLDER …`` only scores model folders (with their own ``self_ensemble``) and biharmonic
inpainting on the validation photographs at each of ``--scales``::

    python benchmarks/train_photo_inpainter.py --evaluate runs/photo_inpainter5b/best --scales 1 1.6
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from _common import (
    DEFAULT_PHOTOS,
    add_patch_training_arguments,
    evaluation_holes,
    photo_split,
    rescaled,
    train_on_patches,
)

import aekit
from aekit.models.photo_inpainter import PhotoInpainter, smooth_fill


def hole_psnr(filled: torch.Tensor, clean: torch.Tensor, holes: torch.Tensor) -> float:
    """PSNR (peak 1) over the hole pixels of ``(C, H, W)`` images."""
    error = (filled.clamp(0, 1) - clean)[:, holes].square().mean()
    return float(10 * torch.log10(1.0 / error))


def validation_holes(images: list[torch.Tensor]) -> list[torch.Tensor]:
    return [
        evaluation_holes(tuple(image.shape[1:]), "rectangles", seed=index)
        for index, image in enumerate(images)
    ]


@torch.no_grad()
def validation_psnr(model: PhotoInpainter, images: list[torch.Tensor], holes: list[torch.Tensor]) -> float:
    was_training = model.training
    model.eval()
    scores = [
        hole_psnr(model.fill(image[None], mask[None, None].float())[0], image, mask)
        for image, mask in zip(images, holes, strict=True)
    ]
    model.train(was_training)
    return float(np.mean(scores))


def baseline_scores(images: list[torch.Tensor], holes: list[torch.Tensor]) -> dict[str, float]:
    from skimage.restoration import inpaint_biharmonic

    smooth, biharmonic = [], []
    for image, mask in zip(images, holes, strict=True):
        smooth.append(hole_psnr(smooth_fill(image[None], mask[None, None].float())[0], image, mask))
        array = image.permute(1, 2, 0).numpy().astype(np.float64)
        filled = inpaint_biharmonic(array, mask.numpy(), channel_axis=-1)
        biharmonic.append(hole_psnr(torch.from_numpy(filled).permute(2, 0, 1).float(), image, mask))
    return {"smooth_fill": float(np.mean(smooth)), "biharmonic": float(np.mean(biharmonic))}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--out", type=Path, default=Path("runs/photo_inpainter"))
    parser.add_argument("--channels", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--patch", type=int, default=96)
    parser.add_argument("--hole-size", type=float, nargs=2, default=[0.15, 0.6])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps-per-pass", type=int, default=250)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    add_patch_training_arguments(parser)
    parser.add_argument(
        "--evaluate",
        type=Path,
        nargs="+",
        metavar="FOLDER",
        help="only score model folders (and biharmonic) on the validation split at each of --scales",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    only_scoring = args.evaluate is not None
    train_images, val_images, val_names = photo_split(args.data, "RGB", validation_only=only_scoring)
    if only_scoring:
        for scale in args.scales:
            images = rescaled(val_images, [scale])
            scale_holes = validation_holes(images)
            print(f"scale {scale:g}: {json.dumps(baseline_scores(images, scale_holes))}", flush=True)
            for folder in args.evaluate:
                model = aekit.load_model(folder)
                value = validation_psnr(model, images, scale_holes)  # type: ignore[arg-type]
                print(f"scale {scale:g}: {folder}: validation hole PSNR {value:.3f} dB", flush=True)
        return
    holes = validation_holes(val_images)
    args.out.mkdir(parents=True, exist_ok=True)
    settings = {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "val": val_names}
    (args.out / "settings.json").write_text(json.dumps(settings, indent=2) + "\n")
    baselines_path = args.out / "baselines.json"
    if not baselines_path.exists():
        baselines_path.write_text(json.dumps(baseline_scores(val_images, holes), indent=2) + "\n")
    print("validation hole PSNR of the references:", baselines_path.read_text().strip(), flush=True)
    model = aekit.models.create(
        "photo_inpainter",
        seed=0,
        input_shape=(3, args.patch, args.patch),
        channels=tuple(args.channels),
        hole_size=tuple(args.hole_size),
    )
    train_on_patches(
        model,
        train_images,
        args,
        settings,
        lambda: validation_psnr(model, val_images, holes),  # type: ignore[arg-type]
        "hole_psnr",
    )


if __name__ == "__main__":
    main()
