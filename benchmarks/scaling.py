"""Scaling: DDP training samples/s with 1 and 2 CPU processes (gloo), streaming-encode memory at 1×, 4×, 16×
a base input size, and `aekit encode` throughput against a plain batched PyTorch loop.

    python benchmarks/scaling.py --samples 20000 --epochs 2

Each DDP process uses one thread (2 processes on 2 cores = the whole machine, as 1 process with 2 threads).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import add_common_arguments, apply_settings, mnist, table

from aekit.apps.inference import encode_dataset
from aekit.models import create
from aekit.models.files import load, save_model

TRAIN_SCRIPT = """
import json, sys, time, torch
from aekit.data import TensorData
from aekit.models import create
from aekit.training import TrainConfig, Trainer
from aekit.training.distributed import DistributedContext
x = torch.load(sys.argv[1], weights_only=True)
model = create("mlp", input_shape=(1, 28, 28), latent_dim=32, hidden_dims=[512, 256],
               output_activation="sigmoid", seed=0)
started = time.perf_counter()
config = TrainConfig(epochs=int(sys.argv[2]), batch_size=int(sys.argv[3]), seed=0)
history = Trainer(config).fit(model, TensorData(x))
if DistributedContext.from_environment().is_main:
    print(json.dumps({"samples_per_second": history["samples_per_second"][-1],
                      "wall": time.perf_counter() - started}))
"""

MEMORY_SCRIPT = """
import resource, sys
from typer.testing import CliRunner
from aekit.cli import app
arguments = ["--quiet", "encode", sys.argv[1], "--model", sys.argv[2], "-o", sys.argv[3]]
result = CliRunner().invoke(app, arguments)
assert result.exit_code == 0, result.output
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def ddp_rates(x: torch.Tensor, args: argparse.Namespace, folder: Path) -> list[dict[str, object]]:
    torch.save(x, folder / "x.pt")
    (folder / "train.py").write_text(TRAIN_SCRIPT)
    rows = []
    for processes, threads in ((1, 1), (1, 2), (2, 1)):
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        per_process_batch = args.batch_size // processes
        command = [sys.executable, "train.py", "x.pt", str(args.epochs), str(per_process_batch)]
        if processes > 1:
            command = [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--standalone",
                f"--nproc_per_node={processes}",
                *command[1:],
            ]
        out = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        rows.append(
            {
                "processes": processes,
                "threads each": threads,
                "global batch": args.batch_size,
                "samples/s (last epoch)": round(result["samples_per_second"]),
            }
        )
    return rows


def encode_memory(args: argparse.Namespace, folder: Path) -> list[dict[str, object]]:
    model = create("conv", input_shape=(1, 28, 28), latent_dim=32, output_activation="sigmoid", seed=0)
    save_model(model, folder / "model")
    base = np.random.default_rng(0).random((args.base_rows, 1, 28, 28), dtype=np.float32)
    rows = []
    for factor in (1, 4, 16):
        path = folder / f"x{factor}.npy"
        with open(path, "wb") as handle:
            header = {"descr": "<f4", "fortran_order": False, "shape": (args.base_rows * factor, 1, 28, 28)}
            np.lib.format.write_array_header_2_0(handle, header)
            for _ in range(factor):
                base.tofile(handle)
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_SCRIPT, str(path), str(folder / "model"), str(folder / "z.npy")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rows.append(
            {
                "input": f"{factor}×",
                "input MB": round(path.stat().st_size / 2**20),
                "peak RSS MB": round(int(out.strip().splitlines()[-1]) / 1024),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        path.unlink()
    return rows


def encode_throughput(x: torch.Tensor, folder: Path) -> dict[str, object]:
    bundle = load(folder / "model")
    model = bundle.model

    def plain() -> None:
        with torch.no_grad():
            torch.cat([model.encode(x[i : i + 1024]) for i in range(0, len(x), 1024)])

    def ours() -> None:
        encode_dataset(bundle, x, batch_size=1024)

    timings: dict[str, list[float]] = {"plain": [], "aekit": []}
    for _ in range(3):
        for name, run in (("aekit", ours), ("plain", plain)):
            started = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - started)
    plain_rate, aekit_rate = len(x) / min(timings["plain"]), len(x) / min(timings["aekit"])
    return {
        "plain samples/s": round(plain_rate),
        "aekit encode samples/s": round(aekit_rate),
        "ratio": round(aekit_rate / plain_rate, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--base-rows", type=int, default=5000)
    args = parser.parse_args()
    settings = apply_settings(args)
    x, _ = mnist("train", args.data_dir, args.samples)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        print("DDP (gloo) training, MLP 784-512-256-32:")
        print(table(ddp_rates(x, args, folder)))
        print("\nStreaming `aekit encode` of a .npy input (conv autoencoder):")
        print(table(encode_memory(args, folder)))
        print(
            "\n`aekit encode` (apps.inference.encode_dataset) vs a plain batched loop, 10 000 MNIST images:"
        )
        print(table([encode_throughput(x[:10000], folder)]))
    print(f"\nsettings: {settings}")


if __name__ == "__main__":
    main()
