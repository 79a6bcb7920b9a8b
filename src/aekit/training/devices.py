"""Device choice and mixed precision, each degrading to a working default with a warning."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager

import torch

from aekit.errors import ConfigError
from aekit.training.config import Precision

__all__ = ["autocast_factory", "resolve_device"]

logger = logging.getLogger(__name__)


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → CUDA if available, else Apple MPS, else CPU; otherwise ``torch.device(name)``.

    Raises:
        ConfigError: ``name`` is not a device, or names one this machine lacks (``cuda`` without CUDA).
    """
    if name != "auto":
        return _available_device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _available_device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise ConfigError(f"device {name!r} is not a device; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name!r}: CUDA is not available on this machine; use cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError(f"device {name!r}: Apple MPS is not available on this machine; use cpu or auto")
    elif device.type != "cpu":
        raise ConfigError(f"device {name!r}: aekit runs on cpu, cuda or mps")
    return device


def autocast_factory(precision: Precision, device: torch.device) -> Callable[[], ContextManager[object]]:
    """Return a factory of autocast contexts for ``precision`` on ``device``.

    ``16-mixed`` needs CUDA (float16 autocast on CPU is slow and lossy); ``bf16-mixed`` needs a device
    that supports bfloat16. Unsupported choices fall back to full precision with a logged warning.
    """
    if precision == "32":
        return contextlib.nullcontext
    dtype = torch.bfloat16 if precision == "bf16-mixed" else torch.float16
    supported = device.type == "cuda" if dtype == torch.float16 else device.type in ("cuda", "cpu")
    if device.type == "cuda" and dtype == torch.bfloat16:
        supported = torch.cuda.is_bf16_supported()
    if not supported:
        logger.warning("precision %s is not supported on %s; training in full precision", precision, device)
        return contextlib.nullcontext
    return lambda: torch.autocast(device_type=device.type, dtype=dtype)
