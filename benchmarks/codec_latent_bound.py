"""How much quality M values per 16 × 16 × 3 block keep under the best linear transform.

The hyperprior codec maps each 16 × 16 × 3 block of an image (768 values) to M latent values. Block PCA
with M components, fitted on blocks of the training photographs and applied to the held-out ones, is
the best a *linear* transform of one block can keep; it shows where a latent of M channels caps the
quality whatever the rate (the learned transforms overlap blocks and are non-linear, so they can do
somewhat better, not categorically better). Uses the training split only (every 10th photograph held
out, :func:`aekit.apps.compression.images.split_photos`); no evaluation set.

    OMP_NUM_THREADS=1 python benchmarks/codec_latent_bound.py --limit 20
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos" / "bsds500-train"
BLOCK = 16  # the codec's downsampling factor


def blocks(photos: list[np.ndarray]) -> np.ndarray:
    """Every whole ``16 × 16 × 3`` block of the photographs, ``(n, 768)`` float64 in [0, 1]."""
    rows = []
    for photo in photos:
        height, width = photo.shape[0] // BLOCK * BLOCK, photo.shape[1] // BLOCK * BLOCK
        cut = photo[:height, :width].astype(np.float64) / 255
        cut = cut.reshape(height // BLOCK, BLOCK, width // BLOCK, BLOCK, 3).transpose(0, 2, 1, 3, 4)
        rows.append(cut.reshape(-1, BLOCK * BLOCK * 3))
    return np.concatenate(rows)


def main(argv: list[str] | None = None) -> None:
    from aekit.apps.compression.images import load_photo_folder, split_photos

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=str(DEFAULT_PHOTOS), help="folder of training photographs")
    parser.add_argument("--channels", type=int, nargs="+", default=[96, 128, 160, 192, 256], help="M values")
    parser.add_argument("--fit-every", type=int, default=3, help="fit on every n-th training photograph")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N held-out photographs")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    train, held_out = split_photos(load_photo_folder(args.data))
    fitted_on = list(train.values())[:: args.fit_every]
    scored = list(held_out.values())[: args.limit or None]
    fit, test = blocks(fitted_on), blocks(scored)
    mean = fit.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov((fit - mean).T))
    vectors = vectors[:, ::-1]  # by decreasing variance
    print(
        f"block PCA of {BLOCK}×{BLOCK}×3 blocks, fitted on {len(fit)} blocks of {len(fitted_on)} training "
        f"photographs, scored on {len(test)} blocks of {len(scored)} held-out ones"
    )
    for channels in args.channels:
        basis = vectors[:, :channels]
        centred = test - mean
        error = float(np.mean((centred - centred @ basis @ basis.T) ** 2))
        print(f"M = {channels:4d}: {10 * math.log10(1 / error):6.2f} dB PSNR at any rate")
    print(f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
