"""Train the blind photo denoiser on patches of the training photographs (the shipped model's recipe).

    OMP_NUM_THREADS=1 python benchmarks/train_photo_denoiser.py --out runs/photo_grey

Holds out every 20th photograph (20 of 400) as a validation split: after every pass the model denoises them
at σ = 25 (fixed noise seed) and the weights with the best validation PSNR are saved to ``OUT/best`` (an
aekit model folder). ``--scales 1 1.6`` trains on the training photographs as they are and enlarged 1.6
times, and then validates on the held-out photographs at both scales (the mean PSNR over all of them);
tried for photographs of a higher resolution, it did not help on real ones (docs/restoration.md).
Checkpoints every pass; rerunning the same command resumes. Evaluation sets (BSD68, Set12, Kodak) are
never read here. ``--evaluate FOLDER`` only scores a model folder on the validation split at σ = 15,
25 and 50 (with the views its config asks for), at each of ``--scales`` (e.g. ``--scales 1 1.6``: also
the validation photographs enlarged 1.6 times).

``--chroma`` trains the luminance-guided chrominance denoiser instead (colour photographs; shipped as
``photo_chroma_denoiser``): each training photograph gives two 2-plane images, a colour-difference plane
with the luminance beside it as its guide (:func:`aekit.apps.denoise.chroma_guide`), noise of one level
on both; validation scores the two colour-difference planes at RGB σ = 25. ``--init`` may then name the
grey model (its weights start the network, the guide's input weights at zero, so it starts as the grey
model on each plane) or a guided model folder (continued).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from _common import DEFAULT_PHOTOS, add_patch_training_arguments, photo_split, rescaled, train_on_patches

import aekit
from aekit.apps.denoise import chroma_guide, opponent_planes


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


def guided_planes(planes: torch.Tensor) -> list[torch.Tensor]:
    """The two (colour-difference plane, its luminance guide) images of an image's opponent planes."""
    return [torch.stack([planes[p], chroma_guide(planes[0], p)]) for p in (1, 2)]


@torch.no_grad()
def chroma_validation_psnr(
    model: aekit.models.PhotoDenoiser, images: list[torch.Tensor], sigma: float
) -> float:
    """PSNR of the two colour-difference planes of the RGB ``images`` at RGB noise ``sigma`` (/255), seed 0
    (each plane's noise has its own level, as in a noisy photograph)."""
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(0)
    errors = []
    for rgb in images:
        noisy = opponent_planes(rgb + torch.randn(rgb.shape, generator=generator) * sigma / 255)
        for clean, dirty in zip(guided_planes(opponent_planes(rgb)), guided_planes(noisy), strict=True):
            errors.append(float((model.denoise(dirty[None])[0, 0] - clean[0]).square().mean()))
    model.train(was_training)
    return float(10 * np.log10(1.0 / np.mean(errors)))


def start_from(model: aekit.models.PhotoDenoiser, folder: Path) -> None:
    """Load the weights of a model folder: a guided denoiser's as they are, a grey one's with the guide's
    input weights at zero (the network then starts as the grey model on the cleaned plane)."""
    state = aekit.load_model(folder).state_dict()
    own = model.state_dict()
    for name, tensor in state.items():
        if own[name].shape != tensor.shape:  # the first convolution: more input planes
            widened = torch.zeros_like(own[name])
            widened[:, : tensor.shape[1]] = tensor
            state[name] = widened
    model.load_state_dict(state)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--out", type=Path, default=Path("runs/photo_grey"))
    parser.add_argument("--colour", action="store_true", help="train on RGB instead of grey")
    parser.add_argument(
        "--chroma", action="store_true", help="train the luminance-guided chrominance denoiser"
    )
    parser.add_argument("--channels", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps-per-pass", type=int, default=400)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--sigma-max", type=float, default=55.0)
    add_patch_training_arguments(parser)
    parser.add_argument(
        "--evaluate", type=Path, metavar="FOLDER", help="only score a model folder on the validation split"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    mode = "RGB" if args.colour or args.chroma else "L"
    only_scoring = args.evaluate is not None
    train_images, val_images, val_names = photo_split(args.data, mode, validation_only=only_scoring)
    if only_scoring:
        evaluated = aekit.load_model(args.evaluate)
        if args.chroma and evaluated.input_shape[0] == 1:  # a grey model on each colour plane, as a baseline
            grey = evaluated
            evaluated = aekit.models.create(
                "photo_denoiser",
                **{**grey.config.to_dict(), "input_shape": (2, *grey.input_shape[1:]), "guide_channels": 1},
            )
            start_from(evaluated, args.evaluate)  # type: ignore[arg-type]
        for scale in args.scales:
            images = rescaled(val_images, [scale])
            for sigma in (15.0, 25.0, 50.0):
                if args.chroma:
                    value = chroma_validation_psnr(evaluated, images, sigma)  # type: ignore[arg-type]
                else:
                    value = validation_psnr(evaluated, images, sigma)  # type: ignore[arg-type]
                print(
                    f"{args.evaluate}: validation {'chroma ' if args.chroma else ''}PSNR at scale {scale:g}, "
                    f"sigma {sigma:g}: {value:.3f} dB",
                    flush=True,
                )
        return
    args.out.mkdir(parents=True, exist_ok=True)
    settings = {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "val": val_names}
    (args.out / "settings.json").write_text(json.dumps(settings, indent=2) + "\n")
    model = aekit.models.create(
        "photo_denoiser",
        seed=0,
        input_shape=(2 if args.chroma else len(mode), args.patch, args.patch),
        channels=tuple(args.channels),
        noise_range=(0.0, args.sigma_max / 255),
        guide_channels=1 if args.chroma else 0,
    )
    if args.chroma:
        if args.init is not None and args.init.is_dir():  # the grey model; a checkpoint resumes as usual
            start_from(model, args.init)  # type: ignore[arg-type]
            args.init = None
        train_images = [pair for rgb in train_images for pair in guided_planes(opponent_planes(rgb))]
    val_at_scales = rescaled(val_images, args.scales)

    def score() -> float:
        if args.chroma:
            return chroma_validation_psnr(model, val_at_scales, 25.0)  # type: ignore[arg-type]
        return validation_psnr(model, val_at_scales, 25.0)  # type: ignore[arg-type]

    score_name = "chroma_psnr_sigma25" if args.chroma else "psnr_sigma25"
    train_on_patches(model, train_images, args, settings, score, score_name)


if __name__ == "__main__":
    main()
