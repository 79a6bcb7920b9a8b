"""Peak memory of decoding a crafted large ``.aek`` file with the shipped codec, beyond the output image.

The file is crafted, not compressed: every tile's stream codes the all-zero latent (valid for the codec), so
a large image costs a few kilobytes and no encoding time. Decoding runs in a fresh process; its peak
resident memory (``ru_maxrss``) minus the resident memory right before decoding minus the output image's
bytes is what decoding needed beyond the image.

    python benchmarks/aek_decode_memory.py 2048 4096

Prints one line per size: side, file bytes, output MiB, extra MiB, seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _measure(path: str, model: str | None) -> dict[str, float]:
    import resource
    import time

    import torch

    torch.set_num_threads(1)
    from aekit.apps.compression import decompress_image, load_default_codec
    from aekit.models.files import load_model

    codec = load_default_codec() if model is None else load_model(model)
    with open(path, "rb") as handle:
        data = handle.read()
    before = _rss_now()
    started = time.perf_counter()
    image = decompress_image(codec, data, max_pixels=1 << 28)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"extra": peak - before - image.nbytes, "output": image.nbytes, "seconds": seconds}


def _rss_now() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(side: int, model: str | None = None) -> dict[str, float]:
    """Decode a crafted ``side × side`` file in a fresh process; returns extra/output bytes and seconds."""
    import tempfile

    from aekit.apps.compression import load_default_codec
    from aekit.apps.compression.codec import flat_image_file
    from aekit.models.files import load_model

    codec = load_default_codec() if model is None else load_model(model)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "big.aek")
        data = flat_image_file(codec, side, side)
        with open(path, "wb") as handle:
            handle.write(data)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        code = (
            "import json, sys; sys.path.insert(0, sys.argv[3]); import aek_decode_memory as m; "
            "print(json.dumps(m._measure(sys.argv[1], None if sys.argv[2] == '-' else sys.argv[2])))"
        )
        here = os.path.dirname(os.path.abspath(__file__))
        out = subprocess.run(
            [sys.executable, "-c", code, path, model or "-", here],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        result["file_bytes"] = len(data)
        return result


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sides", nargs="*", type=int, default=[2048, 4096], help="image sides to decode")
    for side in parser.parse_args().sides:
        r = measure(side)
        print(
            f"{side}x{side}: file {r['file_bytes']} bytes, output {r['output'] / 2**20:.1f} MiB, "
            f"extra {r['extra'] / 2**20:.1f} MiB, {r['seconds']:.1f} s"
        )


if __name__ == "__main__":
    main()
