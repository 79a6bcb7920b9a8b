"""Inpainting MNIST: the two aekit methods against scikit-image's biharmonic inpainting, in one run.

Holes on the test images (drawn once from a seeded generator, 1 = missing): one rectangle per image
with sides 20–50 % of the image's, or 1–3 free-form strokes (the generators of
:mod:`aekit.models.inpainting`). Methods, all through :func:`aekit.apps.inpaint.inpaint` except the
baseline, all keeping the known pixels:

* ``mean fill``: the holes set to the mean of the known pixels (what ``reconstruct`` starts from);
* ``biharmonic``: ``skimage.restoration.inpaint_biharmonic``;
* ``reconstruct ×k``: the lecture material's method, a conv autoencoder trained on clean images
  applied to the damaged image ``k`` times, each pass re-inserting the known pixels;
* ``mask-aware``: the ``inpainting`` model, trained with random stroke/rectangle holes and the mask as an
  extra input channel.

Reported: PSNR inside the holes (dB, ``10 log10(1 / MSE)`` with the MSE over every hole pixel of the
test set), and the mean SSIM of the whole images.

    OMP_NUM_THREADS=1 nice python benchmarks/inpaint_mnist.py --threads 1 --epochs 3 --train-samples 30000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from _common import add_common_arguments, apply_settings, mnist, table
from skimage.restoration import inpaint_biharmonic

from aekit.apps.inpaint import inpaint
from aekit.data.normalization import Normalizer
from aekit.metrics import ssim
from aekit.models import create
from aekit.models.files import ModelBundle, save_model
from aekit.models.inpainting import hole_masks
from aekit.training.fit import fit


def hole_psnr(restored: torch.Tensor, clean: torch.Tensor, holes: torch.Tensor) -> float:
    """PSNR over every hole pixel of the set, ``10 log10(1 / MSE)``; holes ``(N, H, W)``.

    Pooled over the set rather than averaged per image: a hole on plain background can be filled
    exactly, and one infinite per-image PSNR would make the mean infinite.
    """
    error = (restored.clamp(0, 1) - clean).square()[:, 0].double()
    return float(10 * torch.log10(1 / error[holes].mean()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-samples", type=int, default=30000)
    parser.add_argument("--test-samples", type=int, default=2000)
    parser.add_argument("--latent-dim", type=int, default=128, help="Code size of the plain conv AE.")
    parser.add_argument("--channels", default="32,64", help="Stages of the plain conv AE.")
    parser.add_argument(
        "--blocks-per-stage", type=int, default=1, help="Extra 3x3 convs per stage of the conv AE."
    )
    parser.add_argument(
        "--inpainter-channels", default="16,32,64", help="Stem and stages of the mask-aware model."
    )
    parser.add_argument("--inpainter-latent-dim", type=int, default=64)
    parser.add_argument("--inpainter-options", default="{}", help="JSON of extra inpainting config fields.")
    parser.add_argument("--iterations", type=int, default=5, help="Passes of the best reconstruct row.")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--save-dir", default=None, help="Save both trained models as model folders here.")
    parser.add_argument("--output", default=None, help="Also write the results as JSON here.")
    args = parser.parse_args()
    settings = apply_settings(args)
    x_train, _ = mnist("train", args.data_dir, args.train_samples)
    x_test, _ = mnist("test", args.data_dir, args.test_samples)
    train_options = {"epochs": args.epochs, "batch_size": args.batch_size, "seed": args.seed, "device": "cpu"}

    plain = create(
        "conv",
        seed=args.seed,
        input_shape=(1, 28, 28),
        latent_dim=args.latent_dim,
        channels=tuple(int(c) for c in args.channels.split(",")),
        blocks_per_stage=args.blocks_per_stage,
        output_activation="sigmoid",
    )
    started = time.perf_counter()
    fit(plain, x_train, **train_options)
    plain_seconds = time.perf_counter() - started
    aware = create(
        "inpainting",
        seed=args.seed,
        input_shape=(1, 28, 28),
        latent_dim=args.inpainter_latent_dim,
        channels=tuple(int(c) for c in args.inpainter_channels.split(",")),
        **json.loads(args.inpainter_options),
    )
    started = time.perf_counter()
    fit(aware, x_train, **train_options)
    aware_seconds = time.perf_counter() - started
    bundles = {}
    for name, model in (("plain", plain), ("mask_aware", aware)):
        model.eval()
        normalizer = Normalizer.range(0, 255)
        bundles[name] = ModelBundle(model, normalizer, {}, Path("."))
        if args.save_dir:
            save_model(
                model,
                Path(args.save_dir) / f"inpaint_{name}",
                normalizer=normalizer,
                metadata={"benchmark": "inpaint_mnist"},
            )

    rows: list[dict[str, object]] = []
    summary: dict[str, dict[str, float]] = {}
    for index, kind in enumerate(("rectangles", "strokes")):
        holes = (
            hole_masks(kind, len(x_test), (28, 28), torch.Generator().manual_seed(2000 + index))[:, 0] > 0.5
        )  # type: ignore[arg-type]
        results: dict[str, torch.Tensor] = {}
        known_mean = torch.stack([x[0][~h].mean() for x, h in zip(x_test, holes, strict=True)])
        results["mean fill"] = torch.where(holes[:, None], known_mean.reshape(-1, 1, 1, 1), x_test)
        started = time.perf_counter()
        results["biharmonic"] = torch.stack(
            [
                torch.from_numpy(inpaint_biharmonic(x[0].double().numpy(), h.numpy())).float()[None]
                for x, h in zip(x_test, holes, strict=True)
            ]
        )
        seconds = {"biharmonic": time.perf_counter() - started}
        methods = {
            "reconstruct ×1": (bundles["plain"], "reconstruct", 1),
            f"reconstruct ×{args.iterations}": (bundles["plain"], "reconstruct", args.iterations),
            "mask-aware": (bundles["mask_aware"], "mask_aware", 1),
        }
        for label, (bundle, method, iterations) in methods.items():
            started = time.perf_counter()
            results[label] = torch.stack(
                [
                    inpaint(bundle, x, h, method=method, iterations=iterations).image  # type: ignore[arg-type]
                    for x, h in zip(x_test, holes, strict=True)
                ]
            )
            seconds[label] = time.perf_counter() - started
            known = ~holes[:, None].expand_as(x_test)
            if not torch.equal(results[label][known], x_test[known]):
                raise RuntimeError(f"{label} changed known pixels")
        for label, restored in results.items():
            rows.append(
                {
                    "holes": kind,
                    "method": label,
                    "hole PSNR dB": hole_psnr(restored, x_test, holes),
                    "SSIM": ssim(restored.clamp(0, 1), x_test).mean().item(),
                    "seconds": seconds.get(label, 0.0),
                }
            )
        summary[kind] = {str(r["method"]): float(r["hole PSNR dB"]) for r in rows if r["holes"] == kind}  # type: ignore[arg-type]
        summary[kind]["hole_fraction"] = holes.float().mean().item()

    print(
        f"settings: {settings}; {args.epochs} epochs on {args.train_samples} images, test {args.test_samples}"
    )
    print(f"training: plain conv AE {plain_seconds:.0f} s, mask-aware model {aware_seconds:.0f} s")
    print({kind: round(s["hole_fraction"], 3) for kind, s in summary.items()}, "of pixels are holes")
    print(table(rows))
    if args.output:
        payload = {
            "rows": rows,
            "summary": summary,
            "settings": settings,
            "train_seconds": [plain_seconds, aware_seconds],
        }
        Path(args.output).write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
