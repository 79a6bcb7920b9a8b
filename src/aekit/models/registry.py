"""The model registry: names → model classes, and building models from configs."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import torch

from aekit.errors import ConfigError
from aekit.models.base import AbstractAutoencoder, ModelConfig
from aekit.registry import Registry

__all__ = ["MODELS", "PRESETS", "create", "from_config", "get", "names", "register_model", "register_preset"]

M = TypeVar("M", bound=type[AbstractAutoencoder])

MODELS: Registry[type[AbstractAutoencoder]] = Registry("model")
PRESETS: Registry[tuple[str, dict[str, Any]]] = Registry("model")


def register_model(name: str) -> Callable[[M], M]:
    """Class decorator: register a model class under ``name`` (snake_case)."""

    def decorator(cls: M) -> M:
        _check_free(name)
        MODELS.add(name, cls)
        cls.registry_name = name
        return cls

    return decorator


def register_preset(name: str, model: str, **defaults: Any) -> None:
    """Register ``name`` as ``model`` with preset config values (e.g. ``"beta_vae"`` = VAE with β = 4).

    Raises:
        ValueError: ``name`` is taken (by a model class or a preset), or ``model`` is not a registered
            model class.
    """
    _check_free(name)
    if model not in MODELS:
        raise ValueError(
            f"preset {name!r} targets {model!r}, which is not a registered model class "
            f"(classes: {', '.join(MODELS.names())})"
        )
    PRESETS.add(name, (model, defaults))


def _check_free(name: str) -> None:
    """Models and presets share one namespace: ``create(name)`` must mean one thing."""
    if name in MODELS:
        raise ValueError(f"model name {name!r} is already registered as a model class")
    if name in PRESETS:
        raise ValueError(f"model name {name!r} is already registered as a preset of {PRESETS.get(name)[0]!r}")


def names() -> list[str]:
    """Every name :func:`create` accepts: model classes and presets."""
    return sorted([*MODELS.names(), *PRESETS.names()])


def get(name: str) -> type[AbstractAutoencoder]:
    """Return the model class registered under ``name`` (presets resolve to their class).

    Raises:
        ConfigError: If ``name`` is unknown; the message suggests the closest names.
    """
    if name in PRESETS:
        name = PRESETS.get(name)[0]
    if name not in MODELS:
        close = difflib.get_close_matches(name, names(), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ConfigError(f"unknown model {name!r}{hint} (known: {', '.join(names())})")
    return MODELS.get(name)


def resolve(
    name: str, config_values: Mapping[str, Any], *, saved: bool = False
) -> tuple[type[AbstractAutoencoder], ModelConfig]:
    """Return the class and validated config for ``name`` with the given values over any preset.

    ``saved=True`` reads the values as a saved model folder's config (see ``ModelConfig.from_saved``).
    """
    values = dict(config_values)
    if name in PRESETS:
        name, defaults = PRESETS.get(name)
        values = {**defaults, **values}
    cls = get(name)
    if saved:
        return cls, cls.config_class.from_saved(values)
    return cls, cls.config_class.from_dict(values)


def create(name: str, *, seed: int | None = None, **config_values: Any) -> AbstractAutoencoder:
    """Build a registered model: ``create("conv", input_shape=(1, 28, 28), latent_dim=32)``.

    Args:
        name: Registry name or preset (see :func:`names`).
        seed: When given, the initial weights are drawn from this seed without touching the global RNG.
        **config_values: Fields of the model's config.
    """
    cls, config = resolve(name, config_values)
    return from_config(cls, config, seed=seed)


def from_config(
    cls: type[AbstractAutoencoder], config: ModelConfig, *, seed: int | None = None
) -> AbstractAutoencoder:
    """Build ``cls(config)``, with weights drawn from ``seed`` when given (global RNG left as it was).

    The model is first built on the ``meta`` device (no memory) and refused when its weights would
    exceed the memory limit (:func:`aekit.formats.limits.check_allocation`), so absurd sizes fail early.
    """
    _check_size(cls, config)
    if seed is None:
        return cls(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(config)


def _check_size(cls: type[AbstractAutoencoder], config: ModelConfig) -> None:
    from aekit.formats.limits import check_allocation, max_memory

    if _rough_bytes(config) <= max_memory() // 16:
        return  # ordinary sizes: skip the meta build (its first use imports PyTorch's decompositions, ~5 s)
    try:
        with torch.device("meta"):
            planned = cls(config)
    except (RuntimeError, NotImplementedError) as error:
        if "meta" in str(error):
            return  # a model that computes while it is built: built for real below, as before
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"cannot build a {cls.registry_name!r} model with this config: {first}") from None
    n_parameters = sum(p.numel() for p in planned.parameters()) + sum(b.numel() for b in planned.buffers())
    check_allocation(4 * n_parameters, f"a {cls.registry_name!r} model with {n_parameters:,} parameters")


def _rough_bytes(config: ModelConfig) -> float:
    """A generous guess of a model's weight bytes from its config's integers alone (no building): the
    largest layer width squared times 64 (kernels, layers), or the input size times that width."""
    values: list[int] = []

    def collect(value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int):
            values.append(abs(value))
        elif isinstance(value, list | tuple):
            for item in value:
                collect(item)
        elif isinstance(value, Mapping):
            for item in value.values():
                collect(item)

    document = config.to_dict()
    collect(document)
    widest = max(values, default=1)
    n_inputs = math.prod(abs(int(v)) for v in document.get("input_shape", ()) if isinstance(v, int))
    return 4.0 * max(64.0 * widest * widest, float(n_inputs) * widest)
