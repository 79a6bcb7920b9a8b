"""``aekit models`` and ``aekit plan``."""

from __future__ import annotations

from typing import Annotated

import typer

from aekit.cli._console import data_out, guarded
from aekit.cli.options import parse_assignments

__all__ = ["register"]


def models() -> None:
    """List the registered model families, one line each.

    Example:

      aekit models
    """
    from aekit.models import registry

    rows = {}
    lines = []
    for name in registry.names():
        cls = registry.get(name)
        summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        preset = registry.PRESETS.get(name) if name in registry.PRESETS else None
        text = f"preset of {preset[0]} {preset[1]}: {summary}" if preset else summary
        capabilities = cls.capabilities()
        rows[name] = {"summary": text, **capabilities}
        lines.append(f"{name:18s} {text}\n{'':18s} [{_capability_words(capabilities)}]")
    data_out(rows, "\n".join(lines))


def _capability_words(capabilities: dict[str, object]) -> str:
    """``fitting gradient, labels classes, conditional, samples`` — what a family can do, in a few words."""
    words = [f"fitting {str(capabilities['fitting']).replace('_', ' ')}"]
    if capabilities["labels"]:
        words.append(f"needs {capabilities['labels']}")
    words += [word for key, word in _FLAGS.items() if capabilities[key]]
    if not capabilities["reconstructs"]:
        words.append("outputs class logits")
    return ", ".join(words)


_FLAGS = {
    "conditional": "conditional",
    "likelihood": "likelihood",
    "sampling": "samples",
    "takes_mask": "takes masks",
    "warmup": "warm-up",
}


def plan(
    model: Annotated[str, typer.Option(help="Registered model name.")] = "conv",
    input_shape: Annotated[
        str, typer.Option(help="Sample shape, e.g. 1,28,28 or 30 (features).")
    ] = "1,28,28",
    set_option: Annotated[
        list[str] | None, typer.Option("--set", help="Model config field, KEY=VALUE.")
    ] = None,
) -> None:
    """Print a model's planned layers, output shapes and parameter count.

    Example:

      aekit plan --model conv --input-shape 1,28,28 --set latent_dim=32
    """
    import torch

    from aekit.apps.inference import needs_condition
    from aekit.errors import ConfigError
    from aekit.models import create

    try:
        shape = tuple(int(part) for part in input_shape.split(","))
    except ValueError:
        raise ConfigError(f"--input-shape must be comma-separated integers; got {input_shape!r}") from None
    instance = create(model, input_shape=shape, **parse_assignments(set_option))
    lines = instance.describe_plan()
    with torch.no_grad():
        instance.eval()
        probe = torch.zeros(2, *shape)
        condition = torch.zeros(2, dtype=torch.long) if needs_condition(instance) else None  # class/domain 0
        out = instance(probe, condition)
    lines += [repr(instance), f"latent {tuple(out.z.shape[1:])}, output {tuple(out.x_hat.shape[1:])}"]
    parameters = sum(p.numel() for p in instance.parameters())
    lines.append(f"parameters: {parameters:,}")
    data_out(
        {"model": model, "input_shape": list(shape), "parameters": parameters, "plan": lines},
        "\n".join(lines),
    )


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(models))
    app.command()(guarded(plan))
