"""Peak memory of compressing a 4000 × 3000 (12-megapixel) image with the shipped codec, tile by tile.

    OMP_NUM_THREADS=1 python benchmarks/aek_compress_memory.py

Prints the file size, the encoding time, the process's peak resident memory and how much of it came after
the image was in memory. Before tiling, the same image took about 3.4 GB (280 bytes per pixel).
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np
import torch


def main() -> None:
    import argparse

    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    torch.set_num_threads(1)
    from aekit.apps.compression import compress_image, load_default_codec

    codec = load_default_codec()
    rows, cols = np.mgrid[0:3000, 0:4000]
    image = np.stack([128 + 100 * np.sin(cols / (30 + 7 * c)) * np.cos(rows / 45) for c in range(3)], -1)
    image = image.astype(np.uint8)
    del rows, cols
    with open("/proc/self/statm") as handle:
        before = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    started = time.perf_counter()
    data = compress_image(codec, image, level=2)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"12 MP compress: {len(data)} bytes, {seconds:.1f} s, peak RSS {peak / 2**20:.0f} MiB, "
        f"{(peak - before) / 2**20:.0f} MiB beyond the start and the image ({image.nbytes / 2**20:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
