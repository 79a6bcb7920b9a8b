"""Training over a time budget: the cosine follows the seconds spent, ends at the budget, never rises."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
import torch

from aekit.data.tensors import TensorData
from aekit.errors import ConfigError
from aekit.models import create
from aekit.training import TrainConfig, Trainer
from aekit.training.budget import BudgetSchedule, warmup_weight


def _data() -> TensorData:
    return TensorData(torch.rand(256, 1, 8, 8, generator=torch.Generator().manual_seed(0)))


def test_the_cosine_over_a_budget_falls_monotonically_to_zero_at_the_budget() -> None:
    schedule = BudgetSchedule(10.0)
    factors = [schedule.lr_factor(t / 10) for t in range(0, 101)]
    assert factors[0] == 1.0
    assert all(a >= b for a, b in pairwise(factors))
    assert factors[50] == pytest.approx(0.5)
    assert factors[-1] == 0.0 and schedule.lr_factor(12.0) == 0.0


def test_a_resumed_budget_continues_from_the_factor_reached() -> None:
    schedule = BudgetSchedule(10.0)
    assert schedule.resumed(10.0, 4.0) is schedule
    longer = schedule.resumed(20.0, 4.0)
    assert longer.lr_factor(4.0) == pytest.approx(schedule.lr_factor(4.0))
    factors = [longer.lr_factor(4.0 + t * 0.16) for t in range(101)]
    assert all(a >= b for a, b in pairwise(factors))
    assert longer.lr_factor(20.0) == 0.0
    assert BudgetSchedule.from_dict(longer.to_dict()) == longer


def test_warmup_weight_rises_linearly_then_stays_at_one() -> None:
    assert warmup_weight(0.0, 0.2) == 0.0
    assert warmup_weight(0.1, 0.2) == pytest.approx(0.5)
    assert warmup_weight(0.5, 0.2) == 1.0
    assert warmup_weight(0.0, 0.0) == 1.0


def test_a_run_with_a_budget_stops_in_time_with_a_falling_rate(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    model = create("mlp", input_shape=(1, 8, 8), latent_dim=4, hidden_dims=[16], seed=0)
    config = TrainConfig(
        epochs=10_000,
        batch_size=32,
        lr_schedule="cosine",
        time_budget=0.6,
        device="cpu",
        checkpoint_dir=str(tmp_path),
    )
    history = Trainer(config).fit(model, _data())
    assert 1 < len(history) < 10_000
    assert sum(history["seconds"]) < 0.6 + 0.5
    rates = history["lr"]
    assert all(a >= b for a, b in pairwise(rates)) and rates[-1] < 0.2 * 1e-3
    # resumed with a longer budget: the rate continues down from where it was, never rising
    longer = config.replace(time_budget=1.2, resume=True)
    resumed = Trainer(longer).fit(model, _data())
    later = resumed["lr"][len(history) :]
    assert later and later[0] <= rates[-1] + 1e-12
    assert all(a >= b for a, b in pairwise(later))


def test_warmup_needs_a_model_with_a_warmup_weight() -> None:
    model = create("mlp", input_shape=(1, 8, 8), latent_dim=4, hidden_dims=[16], seed=0)
    with pytest.raises(ConfigError, match="warm-up"):
        Trainer(TrainConfig(epochs=1, warmup_fraction=0.5, device="cpu")).fit(model, _data())
    with pytest.raises(ConfigError, match="warmup_fraction"):
        TrainConfig(warmup_fraction=1.5)


def test_a_budget_spent_before_an_epochs_first_batch_ends_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget is checked before each epoch and before each batch; when it ran out in between, the run
    failed with 'the training data yielded no batches' (seen on a slow, shared machine)."""
    import aekit.training.trainer as trainer_module

    class Clock:  # each reading 0.3 s after the last: the epoch check passes, the first batch's does not
        now = 0.0

        def perf_counter(self) -> float:
            self.now += 0.3
            return self.now

    monkeypatch.setattr(trainer_module, "time", Clock())
    model = create("mlp", input_shape=(1, 8, 8), latent_dim=4, hidden_dims=[16], seed=0)
    config = TrainConfig(epochs=5, batch_size=32, time_budget=0.5, device="cpu")
    with pytest.raises(ConfigError, match=r"time_budget=0.5 s was spent before the first batch of training"):
        Trainer(config).fit(model, _data())
