"""Test negative log-likelihood of aekit's VAE on dynamically binarised MNIST, against a plain PyTorch VAE.

Both sides train a Bernoulli VAE with a Gaussian posterior on MNIST whose training images are binarised
afresh every step (pixel ~ Bernoulli(grey level)); the test set is binarised once with a fixed seed and
shared. Reported per side: test −ELBO on all 10,000 test images (one reparameterised sample per image,
exact KL) and the importance-weighted NLL estimate (Burda et al. 2016) with K = 1000 on the first 1000
test images, both in nats, with training time and samples/s. The reference is a hand-written
784-512-256-z VAE trained by a plain loop (Adam 1e-3, batch 128) with its own IWAE code; the issue's
figure for it is 91.65 nats after 30 epochs; the target for aekit is below 88 nats within 30 minutes
of 2-core training. aekit trains the same architecture with its Trainer (dynamic binarisation as the
``augment`` hook), one resumed epoch at a time so that ``--minutes`` can end it after a whole epoch.

    OMP_NUM_THREADS=2 python benchmarks/vae_nll.py --minutes 30 --threads 2
    OMP_NUM_THREADS=1 python benchmarks/vae_nll.py --epochs 2 --reference-epochs 2 --threads 1   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from _common import add_common_arguments, apply_settings, mnist, table
from torch import Tensor, nn

from aekit.data import TensorData
from aekit.models import create
from aekit.models.vae import VAE
from aekit.training import TrainConfig, Trainer

ISSUE_REFERENCE_NATS = 91.65  # the issue's plain-PyTorch VAE after 30 epochs
TARGET_NATS = 88.0


def binarize(images: Tensor, generator: torch.Generator) -> Tensor:
    """Dynamic binarisation: each pixel is 1 with probability equal to its grey level in [0, 1]."""
    return torch.bernoulli(images, generator=generator)


def warm_up() -> None:
    """Take one Adam step on a throw-away layer so one-off import costs are timed on neither side."""
    layer = nn.Linear(2, 1)
    optimizer = torch.optim.Adam(layer.parameters())
    layer(torch.ones(1, 2)).sum().backward()
    optimizer.step()


# -- aekit ---------------------------------------------------------------------------------------------
def train_aekit(args: argparse.Namespace, train: Tensor) -> tuple[VAE, dict[str, float]]:
    """Train aekit's VAE with its Trainer, one resumed epoch at a time, until epochs or minutes run out."""
    model = create(
        "vae",
        input_shape=(1, 28, 28),
        latent_dim=args.latent_dim,
        hidden_dims=tuple(args.hidden_dims),
        likelihood="bernoulli",
        seed=args.seed,
    )
    data = TensorData(train)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:

        def run(epochs: int) -> list[dict[str, float]]:
            config = TrainConfig(
                epochs=epochs,
                batch_size=args.batch_size,
                learning_rate=args.learning_rate,
                lr_schedule=args.lr_schedule,
                seed=args.seed,
                device="cpu",
                checkpoint_dir=folder,
                resume=True,
            )
            return Trainer(config, augment=binarize).fit(model, data).rows

        if args.lr_schedule == "cosine":  # the schedule needs the epoch count up front: --minutes is ignored
            epochs = args.epochs
            for row in run(epochs):
                _report(row, started)
        else:
            epochs = 0
            while epochs < args.epochs and time.perf_counter() - started < 60 * args.minutes:
                epochs += 1
                _report(run(epochs)[-1], started)
    seconds = time.perf_counter() - started
    return model.eval(), {"epochs": epochs, "seconds": seconds, "samples/s": epochs * len(train) / seconds}


def _report(row: dict[str, float], started: float) -> None:
    print(
        f"aekit epoch {row['epoch']:.0f}: loss {row['train_loss']:.2f} (recon {row['train_recon']:.2f}, "
        f"kl {row['train_kl']:.2f}), lr {row['lr']:.2g}, {time.perf_counter() - started:.0f} s",
        flush=True,
    )


@torch.no_grad()
def evaluate_aekit(model: VAE, test: Tensor, args: argparse.Namespace) -> dict[str, float]:
    generator = torch.Generator().manual_seed(args.seed + 1)
    elbo = torch.cat([model.elbo(chunk, generator=generator) for chunk in test.split(1000)])
    started = time.perf_counter()
    nll = torch.cat(
        [
            model.iwae_nll(chunk, k=args.iwae_k, batch_size=args.iwae_chunk, generator=generator)
            for chunk in test[: args.iwae_images].split(args.iwae_images_per_call)
        ]
    )
    seconds = time.perf_counter() - started
    return {
        "test -ELBO": float(-elbo.mean()),
        "IWAE NLL": float(nll.mean()),
        "IWAE s.e.": standard_error(nll),
        "eval s": seconds,
    }


def standard_error(values: Tensor) -> float:
    """Standard error of the mean over test images, ``std / √n`` (what the image sample adds to the
    estimate; the importance sampling's own error with K = 1000 is far smaller)."""
    return float(values.std() / math.sqrt(len(values))) if len(values) > 1 else float("nan")


# -- the plain PyTorch reference ---------------------------------------------------------------------------
class PlainVAE(nn.Module):
    """784-512-256 encoder to (μ, log σ²), mirrored decoder to Bernoulli logits (written for this script)."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU())
        self.to_mu = nn.Linear(256, latent_dim)
        self.to_logvar = nn.Linear(256, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 784)
        )

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        hidden = self.encoder(x)
        return self.to_mu(hidden), self.to_logvar(hidden)

    def negative_elbo(self, x: Tensor, noise: Tensor) -> Tensor:
        """Per-sample −ELBO: BCE summed over pixels at z = μ + σ ε, plus the exact KL to N(0, I)."""
        mu, logvar = self.posterior(x)
        z = mu + torch.exp(0.5 * logvar) * noise
        recon = F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="none").sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(1)
        return recon + kl


def train_reference(args: argparse.Namespace, train: Tensor) -> tuple[PlainVAE, dict[str, float]]:
    generator = torch.Generator().manual_seed(args.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)
        model = PlainVAE(args.latent_dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    flat = train.flatten(1)
    started = time.perf_counter()
    for epoch in range(args.reference_epochs):
        total = 0.0
        for index in torch.randperm(len(flat), generator=generator).split(128):
            x = binarize(flat[index], generator)
            loss = model.negative_elbo(x, torch.randn(len(x), args.latent_dim, generator=generator)).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(x)
        print(f"reference epoch {epoch + 1}: -ELBO {total / len(flat):.2f}", flush=True)
    seconds = time.perf_counter() - started
    stats = {"epochs": args.reference_epochs, "seconds": seconds}
    stats["samples/s"] = args.reference_epochs * len(train) / max(seconds, 1e-9)
    return model.eval(), stats


@torch.no_grad()
def evaluate_reference(model: PlainVAE, test: Tensor, args: argparse.Namespace) -> dict[str, float]:
    generator = torch.Generator().manual_seed(args.seed + 1)
    flat = test.flatten(1)
    elbo = torch.cat(
        [
            model.negative_elbo(x, torch.randn(len(x), args.latent_dim, generator=generator))
            for x in flat.split(1000)
        ]
    )
    started = time.perf_counter()
    nll = []
    for x in flat[: args.iwae_images].split(args.iwae_images_per_call):
        mu, logvar = model.posterior(x)
        std = torch.exp(0.5 * logvar)
        log_weights = []
        for start in range(0, args.iwae_k, args.iwae_chunk):
            count = min(args.iwae_chunk, args.iwae_k - start)
            eps = torch.randn(count, *mu.shape, generator=generator)
            z = mu + std * eps
            logits = model.decoder(z)
            targets = x.expand_as(logits)
            log_px = -F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(-1)
            log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
            log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(-1)
            log_weights.append(log_px + log_pz - log_qz)
        weights = torch.cat(log_weights)
        nll.append(-(torch.logsumexp(weights, 0) - math.log(args.iwae_k)))
    per_image = torch.cat(nll)
    return {
        "test -ELBO": float(elbo.mean()),
        "IWAE NLL": float(per_image.mean()),
        "IWAE s.e.": standard_error(per_image),
        "eval s": time.perf_counter() - started,
    }


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    add_common_arguments(parser)
    parser.add_argument("--epochs", type=int, default=1000, help="aekit epochs at most")
    parser.add_argument("--minutes", type=float, default=30.0, help="aekit training budget (whole epochs)")
    parser.add_argument("--reference-epochs", type=int, default=5, help="epochs of the plain PyTorch VAE")
    parser.add_argument("--latent-dim", type=int, default=20)
    parser.add_argument("--hidden-dims", type=int, nargs="+", default=[512, 256])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--lr-schedule",
        choices=("constant", "plateau", "cosine"),
        default="plateau",
        help="aekit's schedule: plateau halves the rate when the training loss stalls for 2 epochs (suits "
        "a time budget); cosine decays to 0 over --epochs; constant is the reference's",
    )
    parser.add_argument("--iwae-k", type=int, default=1000, help="importance samples per test image")
    parser.add_argument(
        "--iwae-images", type=int, default=10000, help="test images of the IWAE estimate (default: all)"
    )
    parser.add_argument("--iwae-images-per-call", type=int, default=100)
    parser.add_argument("--iwae-chunk", type=int, default=100, help="importance samples decoded at once")
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    settings = apply_settings(args)
    train, _ = mnist("train", args.data_dir)
    test_grey, _ = mnist("test", args.data_dir)
    test = binarize(test_grey, torch.Generator().manual_seed(12345))
    warm_up()

    rows = []
    model, stats = train_aekit(args, train)
    rows.append({"model": "aekit vae", **stats, **evaluate_aekit(model, test, args)})
    print(rows[-1], flush=True)
    if args.reference_epochs > 0:
        reference, stats = train_reference(args, train)
        rows.append({"model": "plain PyTorch", **stats, **evaluate_reference(reference, test, args)})
        print(rows[-1], flush=True)
        rows.append(
            {
                "model": "aekit / plain",
                "epochs": rows[0]["epochs"] / rows[1]["epochs"],
                "seconds": rows[0]["seconds"] / rows[1]["seconds"],
                "samples/s": rows[0]["samples/s"] / rows[1]["samples/s"],
                "test -ELBO": rows[0]["test -ELBO"] / rows[1]["test -ELBO"],
                "IWAE NLL": rows[0]["IWAE NLL"] / rows[1]["IWAE NLL"],
                "IWAE s.e.": float("nan"),
                "eval s": rows[0]["eval s"] / rows[1]["eval s"],
            }
        )
    print(
        f"settings: {settings}; z = {args.latent_dim}, hidden {args.hidden_dims}, Adam {args.learning_rate} "
        f"({args.lr_schedule}; reference: constant 1e-3), batch {args.batch_size}; "
        f"IWAE K = {args.iwae_k} on {args.iwae_images} test images; "
        f"issue reference {ISSUE_REFERENCE_NATS} nats (plain PyTorch, 30 epochs), target < {TARGET_NATS} nats"
    )
    print(table(rows))
    verdict = "met" if rows[0]["IWAE NLL"] < TARGET_NATS else "not met"
    print(f"aekit IWAE NLL {rows[0]['IWAE NLL']:.2f} nats after {rows[0]['epochs']} epochs: target {verdict}")
    if args.output is not None:
        document = {"settings": settings, "args": vars(args), "rows": rows}
        args.output.write_text(json.dumps(document, default=str, indent=2) + "\n")


if __name__ == "__main__":
    main()
