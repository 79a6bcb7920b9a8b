"""Denoising MNIST: aekit's denoising conv autoencoder against classical filters and PCA, in one run.

Corruptions of the test images (drawn once from a seeded generator): Gaussian noise σ = 0.5 (clipped to
[0, 1]), 30 % salt-and-pepper pixels, and one white 2-row occlusion bar per image. For each, the table
gives mean per-image PSNR (dB) and SSIM (Gaussian window, = scikit-image's with ``gaussian_weights``)
of the corrupted input, a 3×3 median filter, scikit-image's non-local means (σ estimated per image),
PCA projection (64 components fitted on clean training images), and a conv autoencoder trained on
training images with the same corruption (one model per corruption).

Target: aekit ≥ 4 dB above the best baseline on every corruption, and a higher SSIM than the corrupted
input on the bars.

    OMP_NUM_THREADS=2 nice python benchmarks/denoise_mnist.py --threads 2 --epochs 3 --train-samples 30000
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from _common import add_common_arguments, apply_settings, mnist, table
from scipy.ndimage import convolve, median_filter
from skimage.restoration import denoise_nl_means

from aekit.data.corruptions import gaussian_noise, occlusion_bars, salt_and_pepper
from aekit.data.normalization import Normalizer
from aekit.metrics import psnr, ssim
from aekit.models import create
from aekit.models.files import save_model
from aekit.training.fit import fit

CORRUPTIONS: dict[str, tuple[str, float]] = {
    "gaussian": ("gaussian", 0.5),  # (model corruption, strength): σ
    "salt_pepper": ("salt_pepper", 0.3),  # pixel fraction
    "bar": ("occlusion", 0.0),  # one 2-row white bar
}


def corrupt(name: str, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The benchmark's corruption ``name`` of images ``x`` in [0, 1]."""
    if name == "gaussian":
        return gaussian_noise(x, 0.5, generator, clip=True)
    if name == "salt_pepper":
        return salt_and_pepper(x, 0.3, generator)
    return occlusion_bars(x, generator, height=2, value=1.0)


def per_image(function: Callable[[np.ndarray], np.ndarray], x: torch.Tensor) -> torch.Tensor:
    """Apply a 2-D numpy filter to every image of ``(N, 1, H, W)``."""
    return torch.stack([torch.from_numpy(function(image[0].numpy()).astype(np.float32))[None] for image in x])


LAPLACIAN_DIFFERENCE = np.array([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]])


def noise_sigma(image: np.ndarray) -> float:
    """Immerkær's noise estimate (CVIU 1996): ``σ = √(π/2) / (6 (W−2)(H−2)) Σ |I ∗ N|``."""
    response = convolve(image, LAPLACIAN_DIFFERENCE)[1:-1, 1:-1]
    height, width = image.shape
    return float(np.sqrt(np.pi / 2) * np.abs(response).sum() / (6 * (width - 2) * (height - 2)))


def non_local_means(image: np.ndarray) -> np.ndarray:
    sigma = noise_sigma(image)
    return denoise_nl_means(image, h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True)


def batched(
    function: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, size: int = 500
) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat([function(x[i : i + size]) for i in range(0, len(x), size)])


def scores(restored: torch.Tensor, clean: torch.Tensor) -> tuple[float, float]:
    restored = restored.clamp(0, 1)
    return psnr(restored, clean).mean().item(), ssim(restored, clean).mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-samples", type=int, default=30000, help="Training images per model.")
    parser.add_argument("--test-samples", type=int, default=2000)
    parser.add_argument("--pca-samples", type=int, default=60000, help="Clean images PCA is fitted on.")
    parser.add_argument("--latent-dim", type=int, default=128)
    parser.add_argument("--channels", default="32,64")
    parser.add_argument(
        "--blocks-per-stage", type=int, default=1, help="Extra 3x3 convs per stage (as measured)."
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--corruptions", default=",".join(CORRUPTIONS))
    parser.add_argument("--save-dir", default=None, help="Save each trained denoiser as a model folder here.")
    parser.add_argument("--output", default=None, help="Also write the results as JSON here.")
    args = parser.parse_args()
    settings = apply_settings(args)
    x_train, _ = mnist("train", args.data_dir, max(args.train_samples, args.pca_samples))
    x_test, _ = mnist("test", args.data_dir, args.test_samples)
    channels = tuple(int(c) for c in args.channels.split(","))

    started = time.perf_counter()
    pca = create("pca", input_shape=(1, 28, 28), latent_dim=64)
    fit(pca, x_train[: args.pca_samples])
    pca_seconds = time.perf_counter() - started

    rows: list[dict[str, object]] = []
    summary: dict[str, dict[str, float]] = {}
    for index, name in enumerate(args.corruptions.split(",")):
        kind, strength = CORRUPTIONS[name]
        noisy = corrupt(name, x_test, torch.Generator().manual_seed(1000 + index))
        baselines = {
            "corrupted input": noisy,
            "median 3x3": per_image(lambda image: median_filter(image, size=3, mode="reflect"), noisy),
            "non-local means": per_image(non_local_means, noisy),
            "PCA-64": batched(pca.reconstruct, noisy),
        }
        results = {method: scores(restored, x_test) for method, restored in baselines.items()}

        model = create(
            "conv",
            seed=args.seed,
            input_shape=(1, 28, 28),
            latent_dim=args.latent_dim,
            channels=channels,
            blocks_per_stage=args.blocks_per_stage,
            output_activation="sigmoid",
            corruption=kind,
            corruption_strength=strength,
        )
        started = time.perf_counter()
        fit(
            model,
            x_train[: args.train_samples],
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            device="cpu",
        )
        train_seconds = time.perf_counter() - started
        model.eval()
        results["aekit denoising conv AE"] = scores(batched(model.reconstruct, noisy), x_test)
        if args.save_dir:
            save_model(
                model,
                Path(args.save_dir) / f"denoise_{name}",
                normalizer=Normalizer.range(0, 255),
                metadata={"benchmark": "denoise_mnist", "corruption": name, "reconstruction": "mse"},
            )

        best_name, (best_psnr, _) = max(
            ((m, s) for m, s in results.items() if m != "corrupted input" and not m.startswith("aekit")),
            key=lambda item: item[1][0],
        )
        ours_psnr, ours_ssim = results["aekit denoising conv AE"]
        for method, (value_psnr, value_ssim) in results.items():
            rows.append({"corruption": name, "method": method, "PSNR dB": value_psnr, "SSIM": value_ssim})
        summary[name] = {
            "best_baseline": best_name,  # type: ignore[dict-item]
            "best_baseline_psnr": best_psnr,
            "aekit_psnr": ours_psnr,
            "aekit_ssim": ours_ssim,
            "input_ssim": results["corrupted input"][1],
            "gain_db": ours_psnr - best_psnr,
            "train_seconds": train_seconds,
        }

    print(
        f"settings: {settings}; {args.epochs} epochs on {args.train_samples} images, test {args.test_samples}"
    )
    print(f"PCA fit {pca_seconds:.1f} s")
    print(table(rows))
    print()
    summary_rows = [
        {
            "corruption": name,
            "best baseline": f"{s['best_baseline']} {s['best_baseline_psnr']:.2f}",
            "aekit PSNR": s["aekit_psnr"],
            "gain dB (target ≥ 4)": s["gain_db"],
            "aekit SSIM": s["aekit_ssim"],
            "input SSIM": s["input_ssim"],
            "train s": s["train_seconds"],
        }
        for name, s in summary.items()
    ]
    print(table(summary_rows))
    if args.output:
        Path(args.output).write_text(
            json.dumps({"rows": rows, "summary": summary, "settings": settings}, indent=2)
        )


if __name__ == "__main__":
    main()
