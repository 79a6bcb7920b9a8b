"""Exception types of aekit.

Every error a user can cause derives from :class:`AekitError`, so the CLI can turn it into one line and
exit status 2. The subclasses also derive from the built-in type a Python user would expect
(``ValueError`` for bad values), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "AekitError",
    "CheckpointError",
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
