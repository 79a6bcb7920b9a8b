"""Denoising images larger than the model: 112×140 pages of MNIST digits through a 28×28 denoiser, tiled.

Pages hold 4×5 digits, rolled by a random offset so tile borders cut through digits. A conv denoiser
(Gaussian σ = 0.5) is trained on random 28×28 patches of training pages (``aekit.apps.tiling.random_patches``)
and run over noisy test pages with tiles butted together (overlap 0) and with half-tile overlap blended
by Hann or flat weights. Reported: mean PSNR and SSIM per page, and a seam score: the mean squared
error on the pixel lines beside the butted-tile borders over that elsewhere (≈ 1: no seam). With
``--centred-model`` a model trained on centred digits (``denoise_mnist.py --save-dir``) is run the same way.

    OMP_NUM_THREADS=1 nice python benchmarks/denoise_pages.py --threads 1 --epochs 3 --train-samples 30000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from _common import add_common_arguments, apply_settings, mnist, table

from aekit.apps.denoise import denoise
from aekit.apps.tiling import random_patches
from aekit.data.corruptions import gaussian_noise
from aekit.data.normalization import Normalizer
from aekit.metrics import psnr, ssim
from aekit.models import create
from aekit.models.files import ModelBundle, load
from aekit.training.fit import fit

ROWS, COLUMNS, TILE = 4, 5, 28


def pages(digits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``(N // 20, 1, 112, 140)`` pages of 4×5 digits, each rolled by a random offset."""
    n_pages = len(digits) // (ROWS * COLUMNS)
    grid = digits[: n_pages * ROWS * COLUMNS].reshape(n_pages, ROWS, COLUMNS, TILE, TILE)
    sheets = grid.permute(0, 1, 3, 2, 4).reshape(n_pages, 1, ROWS * TILE, COLUMNS * TILE)
    shifts = torch.randint(TILE, (n_pages, 2), generator=generator)
    return torch.stack(
        [sheet.roll((int(dy), int(dx)), dims=(1, 2)) for sheet, (dy, dx) in zip(sheets, shifts, strict=True)]
    )


def seam_score(restored: torch.Tensor, clean: torch.Tensor) -> float:
    """Mean squared error on the two pixel lines beside every butted-tile border (rows and columns 27|28,
    55|56, ...) divided by the mean squared error elsewhere: ≈ 1 when tile borders do not show."""
    height, width = clean.shape[-2:]

    def beside_borders(length: int) -> torch.Tensor:
        index = torch.arange(length)
        near = (index % TILE == TILE - 1) | (index % TILE == 0)
        return near & (index > 0) & (index < length - 1)

    borders = beside_borders(height)[:, None] | beside_borders(width)[None, :]
    error = (restored - clean).square()
    return float(error[..., borders].mean() / error[..., ~borders].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-samples", type=int, default=30000, help="Training patches.")
    parser.add_argument("--test-pages", type=int, default=50)
    parser.add_argument("--latent-dim", type=int, default=128)
    parser.add_argument("--channels", default="32,64")
    parser.add_argument(
        "--blocks-per-stage", type=int, default=0, help="Extra 3x3 convs per stage (as measured)."
    )
    parser.add_argument("--centred-model", default=None, help="A denoise_gaussian model folder to compare.")
    args = parser.parse_args()
    settings = apply_settings(args)
    x_train, _ = mnist("train", args.data_dir)
    x_test, _ = mnist("test", args.data_dir, args.test_pages * ROWS * COLUMNS)
    train_pages = pages(x_train, torch.Generator().manual_seed(args.seed))
    test_pages = pages(x_test, torch.Generator().manual_seed(args.seed + 1))
    noisy = gaussian_noise(test_pages, 0.5, torch.Generator().manual_seed(args.seed + 2))
    patches = random_patches(
        train_pages, TILE, args.train_samples, torch.Generator().manual_seed(args.seed + 3)
    )

    model = create(
        "conv",
        seed=args.seed,
        input_shape=(1, TILE, TILE),
        latent_dim=args.latent_dim,
        channels=tuple(int(c) for c in args.channels.split(",")),
        blocks_per_stage=args.blocks_per_stage,
        output_activation="sigmoid",
        corruption="gaussian",
        corruption_strength=0.5,
    )
    started = time.perf_counter()
    fit(model, patches, epochs=args.epochs, batch_size=128, seed=args.seed, device="cpu")
    seconds = time.perf_counter() - started
    bundles = {"trained on page patches": ModelBundle(model.eval(), Normalizer.range(0, 255), {}, Path("."))}
    if args.centred_model:
        bundles["trained on centred digits"] = load(args.centred_model)

    rows: list[dict[str, object]] = [
        {
            "model": "-",
            "tiling": "noisy input",
            "PSNR dB": psnr(noisy, test_pages).mean().item(),
            "SSIM": ssim(noisy, test_pages).mean().item(),
            "seam score": seam_score(noisy, test_pages),
        }
    ]
    for name, bundle in bundles.items():
        for label, overlap, window in (
            ("butted (overlap 0)", 0, "flat"),
            ("overlap 14, flat", 14, "flat"),
            ("overlap 14, hann", 14, "hann"),
        ):
            restored = torch.stack(
                [denoise(bundle, page, overlap=overlap, window=window).image for page in noisy]
            )  # type: ignore[arg-type]
            restored = restored.clamp(0, 1)
            rows.append(
                {
                    "model": name,
                    "tiling": label,
                    "PSNR dB": psnr(restored, test_pages).mean().item(),
                    "SSIM": ssim(restored, test_pages).mean().item(),
                    "seam score": seam_score(restored, test_pages),
                }
            )
    trained = f"{args.epochs} epochs on {args.train_samples} patches ({seconds:.0f} s)"
    print(f"settings: {settings}; {trained}, {len(test_pages)} test pages")
    print(table(rows))


if __name__ == "__main__":
    main()
