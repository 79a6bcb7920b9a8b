"""The training engine: one loop for every family, with checkpoints, resume and DDP."""

from __future__ import annotations

from aekit.training.config import TrainConfig
from aekit.training.history import History
from aekit.training.step import TrainStep
from aekit.training.trainer import Trainer, evaluate_terms

__all__ = ["History", "TrainConfig", "TrainStep", "Trainer", "evaluate_terms"]
