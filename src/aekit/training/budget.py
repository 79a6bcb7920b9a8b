"""Schedules over a time budget: a cosine learning rate and a warm-up weight that follow the seconds spent.

A run with ``TrainConfig.time_budget`` stops when the budget is spent, and its cosine learning rate
reaches 0 at that moment instead of after the last epoch, so the whole budget is used (a plateau rule
can halve the rate to nothing long before a time limit; a cosine over epochs needs the epoch count up
front). Time is the wall clock of the training loop, checked before every batch; a resumed run adds the
seconds its checkpoint recorded.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

__all__ = ["BudgetSchedule", "warmup_weight"]


@dataclasses.dataclass(frozen=True)
class BudgetSchedule:
    """A cosine from ``start_factor`` at ``start`` seconds down to 0 at ``budget`` seconds.

    The learning rate is ``learning_rate · lr_factor(elapsed)``. A fresh run has ``start = 0`` and
    ``start_factor = 1``; a run resumed with a different budget continues from the factor it had reached
    (:meth:`resumed`), so the rate never rises.

    Attributes:
        budget: Seconds of training in all, the end of the cosine.
        start: Seconds already spent when this cosine began.
        start_factor: The factor at ``start``.
    """

    budget: float
    start: float = 0.0
    start_factor: float = 1.0

    def lr_factor(self, elapsed: float) -> float:
        """``start_factor · (1 + cos(π (t − start) / (budget − start))) / 2``; 0 once the budget is spent."""
        span = self.budget - self.start
        if span <= 0 or elapsed >= self.budget:
            return 0.0
        progress = min(max((elapsed - self.start) / span, 0.0), 1.0)
        return self.start_factor * 0.5 * (1.0 + math.cos(math.pi * progress))

    def fraction(self, elapsed: float) -> float:
        """Share of the whole budget spent, in ``[0, 1]`` (what a warm-up follows)."""
        return min(max(elapsed / self.budget, 0.0), 1.0) if self.budget > 0 else 1.0

    def resumed(self, budget: float, elapsed: float) -> BudgetSchedule:
        """The schedule of a run resumed after ``elapsed`` seconds with ``budget`` seconds in all.

        The same budget continues this cosine; another budget starts a new cosine from the factor reached
        at ``elapsed`` down to 0 at the new budget, so the learning rate stays monotone.
        """
        if math.isclose(budget, self.budget):
            return self
        return BudgetSchedule(budget=budget, start=elapsed, start_factor=self.lr_factor(elapsed))

    def to_dict(self) -> dict[str, Any]:
        """The fields, for checkpoints."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BudgetSchedule:
        """Rebuild from :meth:`to_dict`'s output."""
        return cls(
            budget=float(values["budget"]),
            start=float(values.get("start", 0.0)),
            start_factor=float(values.get("start_factor", 1.0)),
        )


def warmup_weight(fraction_done: float, warmup_fraction: float) -> float:
    """A linear warm-up ``min(1, fraction_done / warmup_fraction)``; 1 when ``warmup_fraction`` is 0."""
    if warmup_fraction <= 0:
        return 1.0
    return min(max(fraction_done / warmup_fraction, 0.0), 1.0)
