"""Exception types of aekit.

Every error a user can cause derives from :class:`AekitError`, so the CLI can turn it into one line and
exit status 2. The subclasses also derive from the built-in type a Python user would expect
(``ValueError`` for bad values), so ``except ValueError`` keeps working.

Every error class a user may catch is importable from here, including the ones defined beside the code
that raises them (loaded on first use, so importing this module stays free of heavy imports):

- :class:`CodecFileError` (a ``DataError``): a compressed ``.aek`` file is not an aekit file, is
  truncated, altered, too new, or was made by another model.
- :class:`CodecStateError`: a codec cannot code yet (its probability tables are missing or stale).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # defined beside the code that raises them; loaded by __getattr__ below
    from aekit.apps.compression.bitstream import CodecFileError
    from aekit.apps.compression.codec import CodecStateError

__all__ = [
    "AekitError",
    "CheckpointError",
    "CodecFileError",
    "CodecStateError",
    "ConfigError",
    "DataError",
    "ModelFileError",
    "ShapeError",
    "TrainingError",
]


class AekitError(Exception):
    """Base class of every error aekit raises on purpose."""


class ConfigError(AekitError, ValueError):
    """A configuration field has a wrong value, type or name."""


class ShapeError(AekitError, ValueError):
    """A tensor or array has a shape the model or function cannot take."""


class DataError(AekitError, ValueError):
    """Input data is missing, empty, corrupt, non-finite or inconsistent."""


class ModelFileError(AekitError, ValueError):
    """A model folder is missing, tampered with, or made for something else."""


class CheckpointError(AekitError, ValueError):
    """A training checkpoint is corrupt or belongs to another run."""


class TrainingError(AekitError, RuntimeError):
    """Training cannot go on (for example the loss became NaN or infinite)."""


_DEFINED_ELSEWHERE = {
    "CodecFileError": "aekit.apps.compression.bitstream",
    "CodecStateError": "aekit.apps.compression.codec",
}


def __getattr__(name: str) -> Any:
    if name in _DEFINED_ELSEWHERE:
        return getattr(importlib.import_module(_DEFINED_ELSEWHERE[name]), name)
    raise AttributeError(f"module 'aekit.errors' has no attribute {name!r}")
