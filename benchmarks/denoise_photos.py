"""Denoising photographs: aekit's shipped photo denoiser against classical denoisers and BM3D, in one run.

Test sets (never used to choose settings): BSD68 and Set12 (grey) at σ = 15, 25, 50; Kodak (colour) at
σ = 25; the MRI brain slices bundled with scikit-image (grey) at σ = 15 and 25. Noise: additive white
Gaussian, ``noisy = clean + σ/255 · N(0, 1)``, not clipped, drawn from a seed per (set, σ, image). Every
output is clipped to [0, 1]; PSNR (peak 1) and SSIM (Gaussian window 1.5, as in Wang et al. 2004;
scikit-image's ``structural_similarity``) against the clean image, averaged over images; wall-clock
seconds per image on one thread (each row also records its CPU seconds, which a loaded machine does not
inflate).

Methods:
    noisy      the noisy input
    gaussian   Gaussian blur, width tuned per σ on 4 held-out training photographs
    median     median filter, size tuned the same way
    tv         total variation (Chambolle, scikit-image), weight tuned the same way
    nlm        non-local means (scikit-image, fast mode, 5×5 patches, 13×13 search, h = 0.8 σ)
    bm3d       BM3D (the ``bm3d`` package; colour BM3D on Kodak)
    aekit      the shipped photo denoiser (``aekit denoise``), blind: σ estimated from the image; colour
               images: the grey model on the luminance, the luminance-guided chrominance model on the
               two colour differences
    aekit_grey the shipped grey model alone (``--model`` the grey model): colour images cleaned plane by
               plane, as before the chrominance model (the same as ``aekit`` on grey images)
The classical methods and BM3D are given the true σ; aekit is not.

Results go to a JSON-lines file, one line per (set, σ, method, image); a rerun skips what is there, so
the slow baselines can be run once and the table rebuilt (``--methods``, ``--limit`` choose what runs).

    OMP_NUM_THREADS=1 python benchmarks/denoise_photos.py                       # everything
    OMP_NUM_THREADS=1 python benchmarks/denoise_photos.py --sets bsd68 --sigmas 25 --limit 10
"""

from __future__ import annotations

import argparse
import json
import os
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from _common import latest_rows

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results" / "denoise_photos.jsonl"
SETS: dict[str, tuple[str, tuple[int, ...]]] = {  # name → (folder or "skimage-brain", default σ)
    "bsd68": ("denoise/bsd68", (15, 25, 50)),
    "set12": ("denoise/set12", (15, 25, 50)),
    "kodak": ("photos/kodak", (25,)),
    "brain": ("skimage-brain", (15, 25)),
}
COLOUR_SETS = {"kodak"}
METHODS = ("noisy", "gaussian", "median", "tv", "nlm", "bm3d", "aekit_grey", "aekit")
PUBLISHED_BSD68 = {  # Zhang et al., TIP 2017, Table II (grey BSD68, PSNR dB)
    15: {"BM3D": 31.07, "WNNM": 31.37, "DnCNN-S": 31.72, "DnCNN-B": 31.61, "FFDNet": 31.63},
    25: {"BM3D": 28.57, "WNNM": 28.83, "DnCNN-S": 29.23, "DnCNN-B": 29.16, "FFDNet": 29.19},
    50: {"BM3D": 25.62, "WNNM": 25.87, "DnCNN-S": 26.23, "DnCNN-B": 26.23, "FFDNet": 26.29},
}
PUBLISHED_SET12 = {  # Zhang et al., TIP 2017, Table III (Set12 average, PSNR dB)
    15: {"BM3D": 32.37, "DnCNN-S": 32.86, "DnCNN-B": 32.68},
    25: {"BM3D": 29.97, "DnCNN-S": 30.44, "DnCNN-B": 30.36},
    50: {"BM3D": 26.72, "DnCNN-S": 27.18, "DnCNN-B": 27.21},
}
TUNING_GRIDS: dict[str, tuple[float, ...]] = {
    "gaussian": (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5),
    "median": (3, 5, 7),
    "tv": (0.02, 0.04, 0.06, 0.08, 0.12, 0.16, 0.24),
}


def load_set(name: str, limit: int | None) -> list[tuple[str, np.ndarray]]:
    """``(name, image)`` pairs, images float64 in [0, 1]: ``(H, W)`` grey or ``(H, W, 3)`` colour."""
    from PIL import Image

    folder, _ = SETS[name]
    if folder == "skimage-brain":
        from skimage import data

        try:
            slices = data.brain().astype(np.float64)
        except (ModuleNotFoundError, OSError) as error:  # scikit-image fetches it with pooch, online
            print(
                f"brain: skipped, skimage.data.brain() could not be loaded ({type(error).__name__}: it is "
                "downloaded on first use, which needs the pooch package and internet access)"
            )
            return []
        images = [(f"slice{i}", s / slices.max()) for i, s in enumerate(slices)]
    else:
        files = sorted(p for p in (DATA / folder).iterdir() if p.suffix.lower() in (".png", ".jpg", ".tif"))
        mode = "RGB" if name in COLOUR_SETS else "L"
        images = []
        for file in files:
            with Image.open(file) as image:
                images.append((file.stem, np.asarray(image.convert(mode), dtype=np.float64) / 255.0))
    return images[:limit] if limit is not None else images


def add_noise(clean: np.ndarray, sigma: int, key: str) -> np.ndarray:
    """``clean + σ/255 · N(0, 1)`` from a seed fixed by ``key`` (set, σ, image)."""
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    return clean + rng.standard_normal(clean.shape) * sigma / 255.0


def psnr(restored: np.ndarray, clean: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((restored - clean) ** 2)))


def ssim(restored: np.ndarray, clean: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(
        structural_similarity(
            restored,
            clean,
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            channel_axis=-1 if restored.ndim == 3 else None,
        )
    )


def classical(method: str, parameter: float, sigma: int) -> Callable[[np.ndarray], np.ndarray]:
    """A classical denoiser with its tuned parameter (true σ on the unit scale where it needs one)."""
    from scipy.ndimage import gaussian_filter, median_filter
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle

    s = sigma / 255.0

    def per_channel(function: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
        def run(image: np.ndarray) -> np.ndarray:
            if image.ndim == 2:
                return function(image)
            return np.stack([function(image[..., c]) for c in range(image.shape[-1])], axis=-1)

        return run

    if method == "gaussian":
        return per_channel(lambda x: gaussian_filter(x, parameter))
    if method == "median":
        return per_channel(lambda x: median_filter(x, size=int(parameter)))
    if method == "tv":
        return lambda x: denoise_tv_chambolle(x, weight=parameter, channel_axis=-1 if x.ndim == 3 else None)
    if method == "nlm":
        return lambda x: denoise_nl_means(
            x,
            h=0.8 * s,
            sigma=s,
            patch_size=5,
            patch_distance=6,
            fast_mode=True,
            channel_axis=-1 if x.ndim == 3 else None,
        )
    raise ValueError(method)


def tuned_parameter(method: str, sigma: int, colour: bool, cache: dict[str, float]) -> float:
    """The grid value with the best mean PSNR on 4 held-out training photographs (every 20th file)."""
    key = f"{method}/{sigma}/{'rgb' if colour else 'grey'}"
    if key in cache:
        return cache[key]
    from PIL import Image

    files = sorted((DATA / "photos" / "bsds500-train").iterdir())[19::20][:4]
    photos = []
    for file in files:
        with Image.open(file) as image:
            photos.append(np.asarray(image.convert("RGB" if colour else "L"), dtype=np.float64) / 255.0)
    best, best_score = TUNING_GRIDS[method][0], -np.inf
    for value in TUNING_GRIDS[method]:
        function = classical(method, value, sigma)
        score = np.mean(
            [psnr(np.clip(function(add_noise(p, sigma, f"tune/{i}")), 0, 1), p) for i, p in enumerate(photos)]
        )
        if score > best_score:
            best, best_score = value, score
    cache[key] = best
    return best


def method_function(
    method: str, sigma: int, colour: bool, cache: dict[str, float]
) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """The denoiser and a description of its settings."""
    if method == "noisy":
        return (lambda x: x), ""
    if method in TUNING_GRIDS:
        value = tuned_parameter(method, sigma, colour, cache)
        return classical(method, value, sigma), f"{value:g}"
    if method == "nlm":
        return classical("nlm", 0.0, sigma), "h=0.8σ"
    if method == "bm3d":
        import bm3d

        if colour:
            return (lambda x: bm3d.bm3d_rgb(x, sigma / 255.0)), "bm3d_rgb"
        return (lambda x: bm3d.bm3d(x, sigma / 255.0)), "bm3d"
    if method in ("aekit", "aekit_grey"):
        from aekit.apps.denoise import default_chroma_denoiser, default_denoiser, denoise

        bundle = default_denoiser()
        chroma = default_chroma_denoiser() if method == "aekit" else None

        def run(x: np.ndarray) -> np.ndarray:
            image = torch.from_numpy(x.astype(np.float32))
            image = image.permute(2, 0, 1) if image.dim() == 3 else image[None]
            out = denoise(bundle, image, chroma=chroma).image
            return (out.permute(1, 2, 0) if x.ndim == 3 else out[0]).double().numpy()

        return run, "blind"
    raise ValueError(f"unknown method {method!r}")


def read_results(path: Path) -> list[dict[str, object]]:
    return latest_rows(path, ("set", "sigma", "method", "image"))


def _cpu(rows: list[dict[str, object]]) -> str:
    values = [r["cpu_seconds"] for r in rows if "cpu_seconds" in r]
    return f"{np.mean(values):.2f}" if len(values) == len(rows) else "–"


def summary(rows: list[dict[str, object]], sets: list[str]) -> str:
    """Markdown tables: mean PSNR, SSIM and seconds per image for each (set, σ, method)."""
    lines = []
    for set_name in sets:
        sigmas = sorted({int(r["sigma"]) for r in rows if r["set"] == set_name})  # type: ignore[call-overload]
        for sigma in sigmas:
            picked = [r for r in rows if r["set"] == set_name and r["sigma"] == sigma]
            images_by_method = {m: {r["image"] for r in picked if r["method"] == m} for m in METHODS}
            common = set.intersection(*[v for v in images_by_method.values() if v]) if picked else set()
            lines.append(
                f"\n{set_name}, σ = {sigma} ({len(common)} images in common to every method shown)\n"
            )
            lines.append("| method | settings | PSNR (dB) | SSIM | s / image | CPU s / image |")
            lines.append("| --- | --- | --- | --- | --- | --- |")
            for method in METHODS:
                chosen = [r for r in picked if r["method"] == method and r["image"] in common]
                if not chosen:
                    continue
                lines.append(
                    f"| {method} | {chosen[0]['settings']} | {np.mean([r['psnr'] for r in chosen]):.2f} | "
                    f"{np.mean([r['ssim'] for r in chosen]):.4f} | "
                    f"{np.mean([r['seconds'] for r in chosen]):.2f} | {_cpu(chosen)} |"
                )
            published = {"bsd68": PUBLISHED_BSD68, "set12": PUBLISHED_SET12}.get(set_name, {}).get(sigma)
            if published:
                lines.append(
                    "\npublished (Zhang et al. 2017, all 68/12 images): "
                    + ", ".join(f"{k} {v:.2f}" for k, v in published.items())
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", default="bsd68,set12,kodak,brain")
    parser.add_argument("--sigmas", default=None, help="comma-separated σ (0..255 scale); default per set")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--limit", type=int, default=None, help="first N images of each set")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--fresh", action="store_true", help="recompute entries already in the results file")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    sets = args.sets.split(",")
    methods = args.methods.split(",")
    for name in [*sets, *methods]:
        if name not in SETS and name not in METHODS:
            parser.error(f"unknown set or method {name!r}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    done = {
        (r["set"], r["sigma"], r["method"], r["image"]) for r in read_results(args.results) if not args.fresh
    }
    cache: dict[str, float] = {}
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    )
    for set_name in sets:
        images = load_set(set_name, args.limit)
        colour = set_name in COLOUR_SETS
        sigmas = [int(s) for s in args.sigmas.split(",")] if args.sigmas else list(SETS[set_name][1])
        for sigma in sigmas:
            for method in methods:
                todo = [(n, im) for n, im in images if (set_name, sigma, method, n) not in done]
                if not todo:
                    continue
                function, settings = method_function(method, sigma, colour, cache)
                for image_name, clean in todo:
                    noisy = add_noise(clean, sigma, f"{set_name}/{sigma}/{image_name}")
                    started, cpu_started = time.perf_counter(), time.process_time()
                    restored = np.clip(function(noisy), 0.0, 1.0)
                    seconds = time.perf_counter() - started
                    cpu_seconds = time.process_time() - cpu_started
                    row = {
                        "set": set_name,
                        "sigma": sigma,
                        "method": method,
                        "image": image_name,
                        "settings": settings,
                        "psnr": psnr(restored, clean),
                        "ssim": ssim(restored, clean),
                        "seconds": seconds,
                        "cpu_seconds": cpu_seconds,
                    }
                    with args.results.open("a") as file:
                        file.write(json.dumps(row) + "\n")
                print(f"{set_name} σ={sigma} {method}: {len(todo)} images done", flush=True)
    print(summary(read_results(args.results), sets))


if __name__ == "__main__":
    main()
