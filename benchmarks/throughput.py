"""Training samples/s of aekit against a plain hand-written PyTorch loop, interleaved in one run.

Both sides train the same architecture (a copy of the same initial weights), with Adam, MSE, the same batch
size, the same thread count and flush-denormal setting; rounds alternate aekit / plain so that machine
noise hits both. Prints samples/s per side and the ratio (target: aekit ≥ 0.95× plain).

    python benchmarks/throughput.py --threads 2 --rounds 4 --samples 20000
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F
from _common import add_common_arguments, apply_settings, mnist, table

from aekit.data import TensorData
from aekit.models import create
from aekit.models.base import AbstractAutoencoder
from aekit.training import TrainConfig, Trainer


def plain_epoch(
    model: AbstractAutoencoder,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """The loop a tutorial would write: permute, slice, forward, MSE, backward, step. Returns seconds."""
    torch.set_flush_denormal(True)  # aekit's Trainer sets it during fit and clears it after
    started = time.perf_counter()
    model.train()
    for index in torch.randperm(len(x), generator=generator).split(batch_size):
        batch = x[index]
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(model._decode(model._encode(batch)), batch)  # type: ignore[operator]
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def aekit_epoch(model: AbstractAutoencoder, data: TensorData, batch_size: int, seed: int) -> float:
    started = time.perf_counter()
    Trainer(TrainConfig(epochs=1, batch_size=batch_size, seed=seed)).fit(model, data)
    return time.perf_counter() - started


def measure(
    name: str, options: dict[str, object], x: torch.Tensor, args: argparse.Namespace
) -> dict[str, object]:
    model = create(
        name, input_shape=(1, 28, 28), latent_dim=32, output_activation="sigmoid", seed=0, **options
    )
    plain_model = copy.deepcopy(model)
    optimizer = torch.optim.Adam(plain_model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(args.seed)
    data = TensorData(x)
    # warm-up both (first-epoch allocations, denormals appear later in training)
    aekit_epoch(model, TensorData(x[:2048]), args.batch_size, args.seed)
    plain_epoch(plain_model, optimizer, x[:2048], args.batch_size, generator)
    aekit_rates, plain_rates = [], []
    for round_index in range(args.rounds):
        aekit_rates.append(len(x) / aekit_epoch(model, data, args.batch_size, args.seed + round_index))
        plain_rates.append(len(x) / plain_epoch(plain_model, optimizer, x, args.batch_size, generator))
    aekit_rate, plain_rate = statistics.median(aekit_rates), statistics.median(plain_rates)
    return {
        "model": f"{name} {options}",
        "parameters": sum(p.numel() for p in model.parameters()),
        "plain samples/s": round(plain_rate),
        "aekit samples/s": round(aekit_rate),
        "ratio aekit/plain": round(aekit_rate / plain_rate, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--samples", type=int, default=20000, help="training images per round")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--models", default="mlp,conv")
    args = parser.parse_args()
    settings = apply_settings(args)
    x, _ = mnist("train", args.data_dir, args.samples)
    cases = {
        "mlp": ("mlp", {"hidden_dims": (512, 256)}),
        "conv": ("conv", {}),
    }
    rows = [measure(*cases[key], x, args) for key in args.models.split(",")]
    print(
        f"settings: {settings}; batch {args.batch_size}; "
        f"{args.samples} samples × {args.rounds} rounds (median)"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
