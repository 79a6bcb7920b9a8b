"""Sample quality of aekit's generative families on MNIST: a Fréchet distance in a classifier's features.

Nothing is downloaded: the feature network is a small convolutional MNIST classifier trained here first
(aekit's ``encoder_classifier`` on a ``conv`` backbone, through the Trainer), and the distance is the
Fréchet distance between Gaussians fitted to its codes of generated images and of the 10 000 MNIST test
images (``aekit.metrics.frechet``). It is **not** comparable with Inception-based FIDs (other features,
other data, other sample sizes): only the rows of one run compare with each other.

Rows: the VAE (z = 16, 784-512-256 MLP, Bernoulli likelihood on grey levels), the same VAE with a
VampPrior (``vae-vamp``, 100 pseudo-inputs), the β-VAE (β = 4), the adversarial autoencoder (Gaussian
prior, z = 8) and PCA-Gaussian (32 principal components, codes drawn from the Gaussian fitted to the
training codes, decoded and clipped to [0, 1]), each trained for the same
time budget (cosine learning rate over the budget); every model draws ``--samples`` images. Two rows with
real images bound the scale: MNIST training images (the floor: what sampling error alone gives) and
uniform noise.

    OMP_NUM_THREADS=1 python benchmarks/sample_quality.py --threads 1 --model-seconds 120
    OMP_NUM_THREADS=1 python benchmarks/sample_quality.py --threads 1 --model-seconds 5 --samples 500 \
        --classifier-epochs 1 --limit 2000   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import torch
from _common import add_common_arguments, apply_settings, mnist, table
from torch import Tensor

from aekit.data import TensorData
from aekit.metrics.frechet import frechet_feature_distance
from aekit.models import create
from aekit.models.base import AbstractAutoencoder, AbstractGenerativeAutoencoder
from aekit.training import TrainConfig, Trainer

GENERATIVE: dict[str, dict[str, object]] = {
    "vae": {"family": "vae", "latent_dim": 16, "hidden_dims": (512, 256), "likelihood": "bernoulli"},
    "beta-vae": {
        "family": "vae",
        "latent_dim": 16,
        "hidden_dims": (512, 256),
        "likelihood": "bernoulli",
        "beta": 4.0,
    },
    "vae-vamp": {
        "family": "vae",
        "latent_dim": 16,
        "hidden_dims": (512, 256),
        "likelihood": "bernoulli",
        "prior": "vamp",
        "prior_components": 100,
    },
    "aae": {"family": "aae", "latent_dim": 8},
}


def train_classifier(args: argparse.Namespace, x: Tensor, y: Tensor) -> AbstractAutoencoder:
    """The feature network: a conv encoder (64-d code) and a linear head, trained with cross-entropy."""
    model = create(
        "encoder_classifier",
        input_shape=(1, 28, 28),
        latent_dim=64,
        n_classes=10,
        backbone="conv",
        backbone_options={"channels": (32, 64)},
        dropout=0.1,
        seed=args.seed,
    )
    config = TrainConfig(
        epochs=args.classifier_epochs, batch_size=128, lr_schedule="cosine", seed=args.seed, device="cpu"
    )
    Trainer(config).fit(model, TensorData(x, y))
    return model.eval()


@torch.no_grad()
def features(classifier: AbstractAutoencoder, images: Tensor) -> Tensor:
    return torch.cat([classifier.encode(chunk) for chunk in images.split(500)])


@torch.no_grad()
def accuracy(classifier: AbstractAutoencoder, images: Tensor, labels: Tensor) -> float:
    logits = torch.cat([classifier(chunk).x_hat for chunk in images.split(500)])
    return float((logits.argmax(1) == labels).float().mean())


def train_generative(args: argparse.Namespace, name: str, x: Tensor) -> Callable[[int], Tensor]:
    """Train one row's model for ``--model-seconds`` and return its sampler ``n → (n, 1, 28, 28)``."""
    options = dict(GENERATIVE[name])
    family = str(options.pop("family"))
    model = create(family, input_shape=(1, 28, 28), seed=args.seed, **options)
    config = TrainConfig(
        epochs=100_000,
        batch_size=128,
        lr_schedule="cosine",
        time_budget=args.model_seconds,
        seed=args.seed,
        device="cpu",
    )
    history = Trainer(config).fit(model, TensorData(x))
    print(f"{name}: {len(history)} epochs, final train loss {history['train_loss'][-1]:.4g}", flush=True)
    model.eval()
    if not isinstance(model, AbstractGenerativeAutoencoder):
        raise TypeError(f"{name} is not generative")
    generator = torch.Generator().manual_seed(args.seed + 7)

    @torch.no_grad()
    def draw(n: int) -> Tensor:
        return torch.cat([model.sample(min(500, n - i), generator=generator) for i in range(0, n, 500)])

    return draw


def pca_gaussian(args: argparse.Namespace, x: Tensor) -> Callable[[int], Tensor]:
    """PCA with 32 components; codes ~ N(mean, cov) of the training codes, decoded, clipped to [0, 1]."""
    model = create("pca", input_shape=(1, 28, 28), latent_dim=32)
    model.fit_closed_form(x)
    with torch.no_grad():
        codes = model.encode(x).double()
    gaussian = torch.distributions.MultivariateNormal(codes.mean(0), covariance_matrix=torch.cov(codes.T))
    torch.manual_seed(args.seed + 7)

    @torch.no_grad()
    def draw(n: int) -> Tensor:
        return model.decode(gaussian.sample((n,)).float()).clamp(0, 1)

    return draw


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    add_common_arguments(parser)
    parser.add_argument("--models", nargs="+", default=["vae", "vae-vamp", "beta-vae", "aae", "pca-gaussian"])
    parser.add_argument("--model-seconds", type=float, default=120.0, help="training budget of each model")
    parser.add_argument("--classifier-epochs", type=int, default=2)
    parser.add_argument("--samples", type=int, default=10_000, help="images drawn per model")
    parser.add_argument("--limit", type=int, default=None, help="use only this many training images")
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    settings = apply_settings(args)
    started, cpu_started = time.perf_counter(), time.process_time()
    train_x, train_y = mnist("train", args.data_dir, args.limit)
    test_x, test_y = mnist("test", args.data_dir)

    classifier = train_classifier(args, train_x, train_y)
    test_accuracy = accuracy(classifier, test_x, test_y)
    print(f"feature classifier: test accuracy {test_accuracy:.4f} ({time.perf_counter() - started:.0f} s)")
    reference = features(classifier, test_x)

    rows: list[dict[str, object]] = []

    def add(name: str, images: Tensor, seconds: float) -> None:
        distance = frechet_feature_distance(features(classifier, images), reference)
        rows.append({"samples": name, "n": len(images), "Fréchet distance": distance, "train s": seconds})
        print(rows[-1], flush=True)

    generator = torch.Generator().manual_seed(args.seed + 3)
    floor = train_x[torch.randperm(len(train_x), generator=generator)[: args.samples]]
    add("MNIST training images (real)", floor, 0.0)
    add("uniform noise", torch.rand(args.samples, 1, 28, 28, generator=generator), 0.0)
    for name in args.models:
        model_started = time.perf_counter()
        if name == "pca-gaussian":
            draw = pca_gaussian(args, train_x)
        else:
            draw = train_generative(args, name, train_x)
        add(name, draw(args.samples), time.perf_counter() - model_started)

    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        f"settings: {settings}; each model trained {args.model_seconds:.0f} s "
        "(wall clock, cosine over the budget); "
        f"{args.samples} samples per row against the 10 000 test images; feature network: conv classifier, "
        f"{args.classifier_epochs} epochs, test accuracy {test_accuracy:.4f}; "
        f"whole run {seconds:.0f} s wall, {cpu_seconds:.0f} s CPU"
    )
    print(table(rows))
    if args.output is not None:
        document = {
            "settings": settings,
            "args": vars(args),
            "classifier_accuracy": test_accuracy,
            "rows": rows,
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
        }
        args.output.write_text(json.dumps(document, default=str, indent=2) + "\n")


if __name__ == "__main__":
    main()
