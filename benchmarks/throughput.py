"""Training samples/s of aekit against a plain hand-written PyTorch loop, interleaved in one run.

Both sides train the same architecture (a copy of the same initial weights), with Adam, MSE, the same batch
size, the same thread count and flush-denormal setting; epochs alternate aekit / plain (the plain epoch
runs in aekit's ``on_epoch_end`` hook) so that machine noise hits both. Prints samples/s per side and the
ratio (target: aekit ≥ 0.95× plain).

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


def measure(
    name: str, options: dict[str, object], x: torch.Tensor, args: argparse.Namespace
) -> dict[str, object]:
    """Interleave epochs: aekit's ``Trainer.fit`` runs ``rounds + 1`` epochs and its ``on_epoch_end`` hook
    runs one plain epoch after each, so both sides keep one optimiser for the whole run, as real training
    does (a fresh Adam every round costs about 4 % per epoch on either side, measured). The first epoch of
    each side is a warm-up and is dropped. aekit's time per epoch is the wall time between hook calls, so
    its per-epoch bookkeeping counts.
    """
    model = create(
        name, input_shape=(1, 28, 28), latent_dim=32, output_activation="sigmoid", seed=0, **options
    )
    plain_model = copy.deepcopy(model)
    optimizer = torch.optim.Adam(plain_model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(args.seed)
    aekit_seconds: list[float] = []
    plain_seconds: list[float] = []
    clock = [time.perf_counter()]

    def plain_after_aekit_epoch(epoch: int, row: dict[str, float]) -> None:
        aekit_seconds.append(time.perf_counter() - clock[0])
        plain_seconds.append(plain_epoch(plain_model, optimizer, x, args.batch_size, generator))
        clock[0] = time.perf_counter()

    config = TrainConfig(epochs=args.rounds + 1, batch_size=args.batch_size, seed=args.seed)
    clock[0] = time.perf_counter()
    Trainer(config, on_epoch_end=plain_after_aekit_epoch).fit(model, TensorData(x))
    aekit_rate = len(x) / statistics.median(aekit_seconds[1:])
    plain_rate = len(x) / statistics.median(plain_seconds[1:])
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
