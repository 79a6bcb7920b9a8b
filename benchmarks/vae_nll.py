"""Test negative log-likelihood of aekit's VAE variants on dynamically binarised MNIST, against plain PyTorch.

Every row trains a Bernoulli VAE with a Gaussian posterior (784-512-256-z MLP) on MNIST whose training
images are binarised afresh every step (pixel ~ Bernoulli(grey level)); the test set is binarised once
with a fixed seed and shared. Each aekit variant (``--variants``) trains with the Trainer for the same
wall-clock budget (``--minutes``, ``TrainConfig.time_budget``, cosine learning rate over the budget;
dynamic binarisation as the ``augment`` hook); the plain PyTorch reference (a hand-written loop, Adam
1e-3 constant, batch 128, its own IWAE code) trains for the same budget. Reported per row: test −ELBO on
all 10 000 test images (one reparameterised draw per image), the importance-weighted NLL estimate (Burda
et al. 2016) with K = ``--iwae-k`` on ``--iwae-images`` test images (default all 10 000) with its
standard error over the images, both in nats, and training wall and CPU seconds.

A variant is ``[hvae-][PRIOR-]OBJECTIVE[K]``: ``elbo``, ``iwae5`` (IWAE bound, K = 5), ``piwae5``,
``vamp-elbo`` (VampPrior with ``--prior-components`` pseudo-inputs), ``mixture-iwae5`` ...; the ``hvae-``
prefix trains the two-layer ``hvae`` family instead (code ``--latent-dim``, of which ``--top-latent-dim``
is the top layer; no PIWAE). The targets
for aekit are below 88 nats within 30 minutes and at most 85 nats within 2 hours of 2-core training.

    OMP_NUM_THREADS=1 python benchmarks/vae_nll.py --threads 1 --minutes 30 --variants vamp-iwae5 \
        --reference-minutes 0
    OMP_NUM_THREADS=1 python benchmarks/vae_nll.py --threads 1 --minutes 0.2 --variants elbo iwae3 \
        --iwae-k 10 --iwae-images 200   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from _common import add_common_arguments, apply_settings, mnist, table
from torch import Tensor, nn

from aekit.data import TensorData
from aekit.models import create
from aekit.models.files import save_model
from aekit.models.hvae import HierarchicalVAE
from aekit.models.vae import VAE
from aekit.training import TrainConfig, Trainer

EARLIER_REFERENCE_NATS = 91.65  # a plain-PyTorch VAE after 30 epochs, measured earlier on this machine
TARGET_NATS = 88.0  # within 30 minutes
LONG_TARGET_NATS = 85.0  # within 2 hours


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
VARIANT = re.compile(
    r"^(?P<family>hvae-)?(?:(?P<prior>vamp|mixture)-)?(?P<objective>elbo|iwae|piwae)(?P<k>\d+)?$"
)


def variant_family(variant: str) -> str:
    """The registered family a variant trains: ``hvae`` for the ``hvae-`` prefix, else ``vae``."""
    return "hvae" if variant.startswith("hvae-") else "vae"


def variant_options(variant: str) -> dict[str, Any]:
    """The model config fields of a variant name such as ``iwae5``, ``vamp-elbo`` or ``hvae-vamp-elbo``."""
    match = VARIANT.match(variant)
    if match is None or (match["family"] and match["objective"] == "piwae"):
        raise SystemExit(
            f"unknown variant {variant!r}: use [hvae-][vamp-|mixture-](elbo|iwae|piwae)[K], e.g. vamp-iwae5 "
            "(hvae: elbo or iwae)"
        )
    k = int(match["k"] or 1)
    return {"objective": match["objective"], "importance_samples": k, "prior": match["prior"] or "standard"}


def train_aekit(
    args: argparse.Namespace, train: Tensor, variant: str
) -> tuple[VAE | HierarchicalVAE, dict[str, float]]:
    """Train one aekit variant with its Trainer for ``--minutes`` of wall-clock time (resumable)."""
    family = variant_family(variant)
    extra = {"top_latent_dim": args.top_latent_dim} if family == "hvae" else {}
    model = create(
        family,
        input_shape=(1, 28, 28),
        latent_dim=args.latent_dim,
        hidden_dims=tuple(args.hidden_dims),
        likelihood="bernoulli",
        prior_components=args.prior_components,
        seed=args.seed,
        **extra,
        **variant_options(variant),
    )
    assert isinstance(model, VAE | HierarchicalVAE)
    started, cpu_started = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.checkpoint_root) / variant if args.checkpoint_root else Path(scratch)
        config = TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            lr_schedule=args.lr_schedule,
            time_budget=60 * args.minutes,
            warmup_fraction=args.warmup,
            seed=args.seed,
            device="cpu",
            checkpoint_dir=str(folder),
            resume=True,
        )

        def report(epoch: int, row: dict[str, float]) -> None:
            print(
                f"{variant} epoch {epoch}: loss {row['train_loss']:.2f} (recon {row['train_recon']:.2f}, "
                f"kl {row['train_kl']:.2f}), lr {row['lr']:.2g}, {time.perf_counter() - started:.0f} s",
                flush=True,
            )

        history = Trainer(config, augment=binarize, on_epoch_end=report).fit(model, TensorData(train))
    seconds = float(sum(history["seconds"]))  # wall clock of all (resumed) runs
    cpu_seconds = time.process_time() - cpu_started  # this process only
    epochs = len(history)
    return model.eval(), {
        "epochs": epochs,
        "train s": seconds,
        "train CPU s": cpu_seconds,
        "samples/s": sum(history["samples_per_second"][i] * history["seconds"][i] for i in range(epochs))
        / max(seconds, 1e-9),
    }


@torch.no_grad()
def evaluate_aekit(model: VAE | HierarchicalVAE, test: Tensor, args: argparse.Namespace) -> dict[str, float]:
    generator = torch.Generator().manual_seed(args.seed + 1)
    elbo = torch.cat([model.elbo(chunk, generator=generator) for chunk in test.split(1000)])
    nll, seconds = aekit_iwae(model, test, args, args.iwae_k, generator)
    return {
        "test -ELBO": float(-elbo.mean()),
        "IWAE NLL": float(nll.mean()),
        "IWAE s.e.": standard_error(nll),
        "eval s": seconds,
    }


@torch.no_grad()
def aekit_iwae(
    model: VAE | HierarchicalVAE, test: Tensor, args: argparse.Namespace, k: int, generator: torch.Generator
) -> tuple[Tensor, float]:
    """Per-image IWAE NLL estimates with ``k`` importance samples on ``--iwae-images``, and the seconds."""
    started = time.perf_counter()
    nll = torch.cat(
        [
            model.iwae_nll(chunk, k=k, batch_size=args.iwae_chunk, generator=generator)
            for chunk in test[: args.iwae_images].split(args.iwae_images_per_call)
        ]
    )
    return nll, time.perf_counter() - started


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
    """The plain loop, for ``--reference-minutes`` (checked before every batch) or ``--reference-epochs``."""
    generator = torch.Generator().manual_seed(args.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)
        model = PlainVAE(args.latent_dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    flat = train.flatten(1)
    budget = 60 * (args.minutes if args.reference_minutes is None else args.reference_minutes)
    started, cpu_started = time.perf_counter(), time.process_time()
    epochs, samples = 0, 0
    while epochs < args.reference_epochs and time.perf_counter() - started < budget:
        total, seen = 0.0, 0
        for index in torch.randperm(len(flat), generator=generator).split(128):
            if time.perf_counter() - started >= budget:
                break
            x = binarize(flat[index], generator)
            loss = model.negative_elbo(x, torch.randn(len(x), args.latent_dim, generator=generator)).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(x)
            seen += len(x)
        epochs += 1
        samples += seen
        print(f"reference epoch {epochs}: -ELBO {total / max(seen, 1):.2f}", flush=True)
    seconds = time.perf_counter() - started
    stats = {"epochs": epochs, "train s": seconds, "train CPU s": time.process_time() - cpu_started}
    stats["samples/s"] = samples / max(seconds, 1e-9)
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
    parser.add_argument("--variants", nargs="+", default=["elbo", "iwae5", "vamp-elbo"])
    parser.add_argument(
        "--minutes", type=float, default=30.0, help="wall-clock training budget of each variant"
    )
    parser.add_argument("--epochs", type=int, default=100_000, help="aekit epochs at most")
    parser.add_argument(
        "--reference-minutes",
        type=float,
        default=None,
        help="budget of the plain VAE (default --minutes; 0 skips)",
    )
    parser.add_argument(
        "--reference-epochs", type=int, default=100_000, help="epochs of the plain VAE at most"
    )
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument(
        "--top-latent-dim", type=int, default=None, help="hvae variants: size of the top code (default half)"
    )
    parser.add_argument("--hidden-dims", type=int, nargs="+", default=[512, 256])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--lr-schedule",
        choices=("constant", "plateau", "cosine"),
        default="cosine",
        help="aekit's schedule: cosine runs over the time budget (to 0 at its end); plateau halves the "
        "rate when the training loss stalls for 2 epochs; constant is the reference's",
    )
    parser.add_argument("--warmup", type=float, default=0.0, help="share of the budget of the KL warm-up")
    parser.add_argument("--prior-components", type=int, default=50, help="pseudo-inputs (vamp) or components")
    parser.add_argument("--checkpoint-root", default=None, help="keep checkpoints here (a rerun resumes)")
    parser.add_argument("--iwae-k", type=int, default=1000, help="importance samples per test image")
    parser.add_argument(
        "--iwae-images", type=int, default=10000, help="test images of the IWAE estimate (default: all)"
    )
    parser.add_argument("--iwae-images-per-call", type=int, default=100)
    parser.add_argument("--iwae-chunk", type=int, default=100, help="importance samples decoded at once")
    parser.add_argument(
        "--final-iwae-k",
        type=int,
        nargs="*",
        default=[],
        help="after the table, estimate the aekit models' NLL again with each of these K (e.g. 1000)",
    )
    parser.add_argument("--save-dir", default=None, help="save each trained aekit model in DIR/VARIANT")
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    settings = apply_settings(args)
    train, _ = mnist("train", args.data_dir)
    test_grey, _ = mnist("test", args.data_dir)
    test = binarize(test_grey, torch.Generator().manual_seed(12345))
    warm_up()

    rows: list[dict[str, Any]] = []
    models = {}
    for variant in args.variants:
        model, stats = train_aekit(args, train, variant)
        models[variant] = model
        if args.save_dir is not None:
            save_model(model, Path(args.save_dir) / variant, metadata={"command": sys.argv, **stats})
        rows.append(
            {
                "model": f"aekit {variant_family(variant)} {variant}",
                **stats,
                **evaluate_aekit(model, test, args),
            }
        )
        print(rows[-1], flush=True)
    if args.reference_minutes is None or args.reference_minutes > 0:
        reference, stats = train_reference(args, train)
        rows.append({"model": "plain PyTorch VAE", **stats, **evaluate_reference(reference, test, args)})
        print(rows[-1], flush=True)
    print(f"command: python benchmarks/vae_nll.py {' '.join(sys.argv[1:])}")
    print(
        f"settings: {settings}; z = {args.latent_dim}, hidden {args.hidden_dims}, Adam {args.learning_rate} "
        f"({args.lr_schedule} over {args.minutes:g} min of wall clock; "
        f"KL warm-up over {args.warmup:g} of it; "
        f"reference: constant 1e-3), batch {args.batch_size}, {args.prior_components} prior components; "
        f"IWAE K = {args.iwae_k} on {args.iwae_images} test images; "
        f"earlier reference {EARLIER_REFERENCE_NATS} nats (plain PyTorch, 30 epochs), "
        f"targets < {TARGET_NATS} nats in 30 minutes, ≤ {LONG_TARGET_NATS} nats in 2 hours"
    )
    print(table(rows))
    for row in rows[: len(args.variants)]:
        verdicts = [
            f"{'below' if row['IWAE NLL'] < TARGET_NATS else 'not below'} {TARGET_NATS:g} nats",
            f"{'at most' if row['IWAE NLL'] <= LONG_TARGET_NATS else 'above'} {LONG_TARGET_NATS:g} nats",
        ]
        print(
            f"{row['model']}: IWAE NLL {row['IWAE NLL']:.2f} ± {row['IWAE s.e.']:.2f} nats after "
            f"{row['epochs']} epochs in {row['train s'] / 60:.1f} min: {', '.join(verdicts)}"
        )
    document: dict[str, Any] = {"command": sys.argv, "settings": settings, "args": vars(args), "rows": rows}
    if args.output is not None:
        args.output.write_text(json.dumps(document, default=str, indent=2) + "\n")
    document["final"] = []
    for k in args.final_iwae_k:  # tighter estimates of the aekit models after the table, one K at a time
        for variant, model in models.items():
            generator = torch.Generator().manual_seed(args.seed + 2)
            cpu_started = time.process_time()
            nll, seconds = aekit_iwae(model, test, args, k, generator)
            final = {"variant": variant, "K": k, "images": len(nll), "IWAE NLL": float(nll.mean())}
            final.update(
                {
                    "IWAE s.e.": standard_error(nll),
                    "eval s": seconds,
                    "eval CPU s": time.process_time() - cpu_started,
                }
            )
            document["final"].append(final)
            print(
                f"aekit {variant_family(variant)} {variant}: IWAE NLL with K = {k} on {len(nll)} test images "
                f"{final['IWAE NLL']:.2f} ± {final['IWAE s.e.']:.2f} nats ({seconds:.0f} s)",
                flush=True,
            )
            if args.output is not None:
                args.output.write_text(json.dumps(document, default=str, indent=2) + "\n")


if __name__ == "__main__":
    main()
