"""Inpainting photographs: aekit's shipped photo inpainter against biharmonic inpainting, in one run.

Test set (never used to choose settings): Kodak (24 colour photographs, 768×512). Holes per image, fixed
seeds (``_common.evaluation_holes``): ``rectangles`` (three rectangles, sides 8–20 % of the shorter side,
41–102 pixels) and ``strokes`` (free-form brush strokes). Scores over the hole pixels only (known pixels
are kept by every method): PSNR (peak 1) and the mean of scikit-image's SSIM map (Gaussian window 1.5)
inside the holes; wall-clock and CPU seconds per image, one thread.

Methods:
    smooth      the push–pull fill the aekit network starts from (``photo_inpainter.smooth_fill``)
    biharmonic  scikit-image's ``inpaint_biharmonic`` (per channel)
    aekit       the shipped photo inpainter (``aekit inpaint photo.png --rect … -o out.png``)

    OMP_NUM_THREADS=1 python benchmarks/inpaint_photos.py
    OMP_NUM_THREADS=1 python benchmarks/inpaint_photos.py --holes rectangles --limit 4 --model runs/x/best
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from _common import evaluation_holes, latest_rows

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos" / "kodak"
RESULTS = Path(__file__).resolve().parent / "results" / "inpaint_photos.jsonl"
METHODS = ("smooth", "biharmonic", "aekit")
HOLES = ("rectangles", "strokes")


def load_kodak(limit: int | None) -> list[tuple[str, np.ndarray]]:
    from PIL import Image

    files = sorted(p for p in DATA.iterdir() if p.suffix.lower() == ".png")[:limit]
    images = []
    for file in files:
        with Image.open(file) as image:
            images.append((file.name, np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0))
    return images


def hole_scores(filled: np.ndarray, clean: np.ndarray, holes: np.ndarray) -> tuple[float, float]:
    """PSNR and mean SSIM over the hole pixels of ``(H, W, C)`` images."""
    from skimage.metrics import structural_similarity

    filled = np.clip(filled, 0.0, 1.0)
    error = float(np.mean(np.square(filled - clean)[holes]))
    _, ssim_map = structural_similarity(
        clean, filled, channel_axis=-1, data_range=1.0, gaussian_weights=True, sigma=1.5, full=True
    )
    return 10 * float(np.log10(1.0 / error)), float(ssim_map[holes].mean())


def method_function(method: str, model_dir: Path | None):  # type: ignore[no-untyped-def]
    """``(image (H, W, C), holes (H, W)) → filled (H, W, C)`` for ``method``."""
    if method == "biharmonic":
        from skimage.restoration import inpaint_biharmonic

        return lambda image, holes: inpaint_biharmonic(image.astype(np.float64), holes, channel_axis=-1)
    if method == "smooth":
        from aekit.models.photo_inpainter import smooth_fill

        def smooth(image: np.ndarray, holes: np.ndarray) -> np.ndarray:
            x = torch.from_numpy(image).permute(2, 0, 1)[None]
            mask = torch.from_numpy(holes)[None, None].float()
            return smooth_fill(x, mask)[0].permute(1, 2, 0).numpy()

        return smooth
    from aekit.apps.inpaint import inpaint
    from aekit.models.files import load

    bundle = load(model_dir) if model_dir is not None else None

    def learned(image: np.ndarray, holes: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(image).permute(2, 0, 1)
        return inpaint(bundle, x, torch.from_numpy(holes)).image.permute(1, 2, 0).numpy()

    return learned


def read_results(path: Path) -> list[dict[str, object]]:
    return latest_rows(path, ("holes", "method", "image"))


def summary(rows: list[dict[str, object]]) -> str:
    lines = [
        "| holes | method | images | hole PSNR (dB) | hole SSIM | s / image | CPU s / image |",
        "|---|---|---|---|---|---|---|",
    ]
    for holes in HOLES:
        for method in METHODS:
            chosen = [r for r in rows if r["holes"] == holes and r["method"] == method]
            if not chosen:
                continue
            mean = {
                k: float(np.mean([float(r[k]) for r in chosen]))
                for k in ("psnr", "ssim", "seconds", "cpu_seconds")
            }  # type: ignore[arg-type]
            lines.append(
                f"| {holes} | {method} | {len(chosen)} | {mean['psnr']:.2f} | {mean['ssim']:.4f} | "
                f"{mean['seconds']:.2f} | {mean['cpu_seconds']:.2f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--holes", default=",".join(HOLES))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--limit", type=int, default=None, help="first N Kodak images")
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped one)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--fresh", action="store_true", help="recompute entries already in the results file")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    done = (
        set() if args.fresh else {(r["holes"], r["method"], r["image"]) for r in read_results(args.results)}
    )
    images = load_kodak(args.limit)
    for method in args.methods.split(","):
        run = method_function(method, args.model)
        for holes_kind in args.holes.split(","):
            for index, (name, image) in enumerate(images):
                if (holes_kind, method, name) in done:
                    continue
                holes = evaluation_holes(image.shape[:2], holes_kind, seed=1000 + index).numpy()
                wall, cpu = time.perf_counter(), time.process_time()
                filled = run(image, holes)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                psnr, ssim = hole_scores(np.asarray(filled, dtype=np.float32), image, holes)
                model = str(args.model) if args.model else "shipped"
                row = {
                    "holes": holes_kind, "method": method, "image": name, "psnr": psnr, "ssim": ssim,
                    "seconds": wall, "cpu_seconds": cpu, "model": model,
                }  # fmt: skip
                with args.results.open("a") as file:
                    file.write(json.dumps(row) + "\n")
                print(
                    f"{holes_kind} {method} {name}: {psnr:.2f} dB, SSIM {ssim:.4f}, {wall:.2f} s", flush=True
                )
    rows = [r for r in read_results(args.results) if r["image"] in {n for n, _ in images}]
    print(f"\nKodak, {len(images)} images, threads={args.threads}\n")
    print(summary(rows))


if __name__ == "__main__":
    main()
