"""The training engine: one loop for every family, driven by the model interface alone."""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from aekit.data.tensors import BatchSource, TensorData
from aekit.errors import CheckpointError, ConfigError, DataError, ShapeError, TrainingError
from aekit.formats.arrays import all_finite
from aekit.models.base import AbstractAutoencoder, Batch
from aekit.training.budget import BudgetSchedule, warmup_weight
from aekit.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from aekit.training.config import TrainConfig
from aekit.training.devices import autocast_factory, resolve_device
from aekit.training.distributed import DistributedContext
from aekit.training.history import History
from aekit.training.progress import ProgressReporter, feedback_mode
from aekit.training.step import TrainStep

__all__ = ["EpochHook", "Trainer", "evaluate_terms"]

logger = logging.getLogger(__name__)

BatchTransform = Callable[[Tensor, torch.Generator], Tensor]
EpochHook = Callable[[int, dict[str, float]], None]


class Trainer:
    """Trains any registered model on in-memory data.

    Per batch, each phase in ``model.phases`` runs ``prepare_batch → forward → loss`` and steps the
    optimiser of its parameter group, so multi-phase families (adversarial, codec) need no branches here.

    Args:
        config: Training settings.
        augment: Optional seeded transform applied to training inputs each step (e.g. an
            :class:`aekit.data.augment.Augmentation`'s ``apply``).
        on_epoch_end: Optional function called after every epoch with ``(epoch, row)``: the 1-based
            epoch and a copy of its History row, e.g. ``TensorBoardLogger.log_epoch`` from
            :mod:`aekit.training.tensorboard`. Under DDP only the main process calls it.
    """

    def __init__(
        self,
        config: TrainConfig | None = None,
        *,
        augment: BatchTransform | None = None,
        on_epoch_end: EpochHook | None = None,
    ) -> None:
        self.config = config or TrainConfig()
        self.augment = augment
        self.on_epoch_end = on_epoch_end

    def fit(self, model: AbstractAutoencoder, train: BatchSource, val: BatchSource | None = None) -> History:
        """Train ``model`` in place by its fitting procedure and return the per-epoch history.

        ``model.fitting`` decides how: ``gradient`` runs the loop below; ``closed_form`` (PCA) fits in
        one step from in-memory data and returns a one-row history; ``layerwise`` (stacked) first
        trains each layer greedily for ``pretrain_epochs`` (checkpoints in ``checkpoint_dir/layer_K``),
        then fine-tunes the whole model by gradient and returns the fine-tuning history.

        Raises:
            ShapeError: The data's sample shape differs from the model's ``input_shape``.
            TrainingError: A loss became NaN or infinite (the last good checkpoint is kept).
            CheckpointError: ``resume`` found a corrupt or foreign checkpoint.
            ConfigError: The fitting procedure cannot take these data or settings.
        """
        _check_data(model, train, "train")
        if val is not None:
            _check_data(model, val, "validation")
        if model.fitting == "closed_form":
            return self._fit_closed_form(model, train, val)
        if model.fitting not in ("gradient", "layerwise"):
            raise ConfigError(
                f"{model.registry_name or type(model).__name__} declares fitting {model.fitting!r}; "
                "the trainer knows 'gradient', 'closed_form' and 'layerwise'"
            )
        pretraining = self.pretrain_layerwise(model, train) if model.fitting == "layerwise" else []
        history = self.fit_by_gradient(model, train, val)
        history.pretraining = pretraining
        return history

    def pretrain_layerwise(self, model: AbstractAutoencoder, train: BatchSource) -> list[History]:
        """Greedy layer-wise pretraining: train each of ``model.layer_autoencoders()`` in turn, bottom first.

        Layer ``k`` learns to reconstruct ``model.layer_inputs(x, k)``, the codes of the already trained
        (now fixed) layers below it, for ``pretrain_epochs`` (default ``epochs``) with this trainer's
        other settings; Bengio et al. (2007), Vincent et al. (2010).

        Returns:
            One :class:`History` per layer, bottom first.
        """
        if not isinstance(train, TensorData):
            raise ConfigError(
                "layer-wise pretraining needs in-memory training data (aekit.data.TensorData); "
                f"got {type(train).__name__}"
            )
        config = self.config.replace(
            epochs=self.config.pretrain_epochs or self.config.epochs,
            lr_schedule="constant" if self.config.lr_schedule == "plateau" else self.config.lr_schedule,
        )
        histories = []
        for layer, shallow in enumerate(model.layer_autoencoders()):
            layer_config = config
            if config.checkpoint_dir is not None:
                layer_config = config.replace(
                    checkpoint_dir=str(Path(config.checkpoint_dir) / f"layer_{layer}")
                )
            inputs = _layer_data(model, train, layer, max(config.batch_size, 256))
            logger.info("pretraining layer %d of %d", layer + 1, len(model.layer_autoencoders()))
            histories.append(Trainer(layer_config).fit(shallow, inputs))
        return histories

    def _fit_closed_form(
        self, model: AbstractAutoencoder, train: BatchSource, val: BatchSource | None
    ) -> History:
        if not isinstance(train, TensorData):
            raise ConfigError(
                f"{model.registry_name or type(model).__name__} is fitted in closed form from in-memory "
                f"data (aekit.data.TensorData); got {type(train).__name__}"
            )
        started = time.perf_counter()
        model.fit_closed_form(train.x)
        row: dict[str, float] = {"epoch": 1.0}
        row.update({f"train_{k}": v for k, v in evaluate_terms(model, train).items()})
        if val is not None:
            row.update({f"val_{k}": v for k, v in evaluate_terms(model, val).items()})
        row["seconds"] = time.perf_counter() - started
        mode = feedback_mode(self.config.verbose, progress=self.config.progress)
        with ProgressReporter(mode="lines" if mode != "off" else "off", total_epochs=1) as progress:
            progress.end_epoch(row)
        if self.on_epoch_end is not None:
            self.on_epoch_end(1, dict(row))
        return History([row])

    def fit_by_gradient(
        self, model: AbstractAutoencoder, train: BatchSource, val: BatchSource | None = None
    ) -> History:
        """The gradient loop alone, whatever ``model.fitting`` (fine-tuning after pretraining)."""
        if self.config.gradient_accumulation > 1 and len(model.phases) > 1:
            raise ConfigError(
                "gradient_accumulation > 1 needs a single-phase model; this model has several phases"
            )
        if self.config.warmup_fraction > 0 and not model.warms_up:
            raise ConfigError(
                f"warmup_fraction needs a model with a warm-up weight (the VAE family); "
                f"{model.registry_name or type(model).__name__} has none"
            )
        flush_before = self.config.flush_denormal and torch.set_flush_denormal(True)
        try:
            with torch.random.fork_rng(devices=_rng_devices()):
                return _Run(self.config, model, train, val, self.augment, self.on_epoch_end).run()
        finally:
            if flush_before:
                torch.set_flush_denormal(False)


def _rng_devices() -> list[int]:
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


def _check_data(model: AbstractAutoencoder, data: BatchSource, name: str) -> None:
    """Shape always; dtype and values up front for in-memory data (streams are checked batch by batch)."""
    if not hasattr(data, "batches") or not hasattr(data, "sample_shape"):
        raise TypeError(f"{name} data must be aekit.data.TensorData or a stream; got {type(data).__name__}")
    if data.sample_shape != tuple(model.input_shape):
        raise ShapeError(
            f"{name} samples have shape {data.sample_shape} but the model expects {tuple(model.input_shape)}"
        )
    if not isinstance(data, TensorData):
        return
    if not data.x.is_floating_point():
        raise TypeError(f"{name} data must be floating point; got dtype {data.x.dtype}")
    if not all_finite(data.x):
        raise DataError(f"{name} data contains NaN or infinite values")


class _Run:
    """State of one ``fit`` call (kept off ``Trainer`` so a trainer can be reused)."""

    def __init__(
        self,
        config: TrainConfig,
        model: AbstractAutoencoder,
        train: BatchSource,
        val: BatchSource | None,
        augment: BatchTransform | None,
        on_epoch_end: EpochHook | None = None,
    ) -> None:
        self.config, self.model, self.train, self.val, self.augment = config, model, train, val, augment
        self.on_epoch_end = on_epoch_end
        self.dist = DistributedContext.from_environment()
        self.device = self.dist.device_for(resolve_device(config.device))
        model.to(self.device)
        self.step_module: nn.Module = TrainStep(model)
        if self.dist.enabled:
            self.step_module = nn.parallel.DistributedDataParallel(
                self.step_module, find_unused_parameters=len(model.phases) > 1
            )
        if config.compile:
            self.step_module = _compiled(self.step_module)
        self.autocast = autocast_factory(config.precision, self.device)
        self.scaler = torch.amp.GradScaler(
            self.device.type, enabled=config.precision == "16-mixed" and self.device.type == "cuda"
        )
        self.optimizers = self._make_optimizers()
        self.schedulers = {name: self._make_scheduler(opt) for name, opt in self.optimizers.items()}
        self.generator = torch.Generator().manual_seed(config.seed)
        torch.manual_seed(config.seed + self.dist.rank)  # inside fork_rng: dropout / sampling noise only
        self.history = History()
        self.start_epoch = 0
        self.best_loss = math.inf
        self.best_state: dict[str, Tensor] | None = None
        self.epochs_without_improvement = 0
        self.budget = BudgetSchedule(config.time_budget) if config.time_budget is not None else None
        self.spent_before = 0.0  # seconds of training in earlier (resumed) runs
        self.loop_started = time.perf_counter()
        self.out_of_time = False
        self.checkpoint_path = (
            Path(config.checkpoint_dir) / CHECKPOINT_NAME if config.checkpoint_dir else None
        )
        if config.resume and self.checkpoint_path is not None and self.checkpoint_path.exists():
            self._restore(self.checkpoint_path)

    # -- set-up -------------------------------------------------------------------------------
    def _make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        groups = self.model.param_groups()
        optimizer_class = torch.optim.AdamW if self.config.optimizer == "adamw" else torch.optim.Adam
        optimizers: dict[str, torch.optim.Optimizer] = {}
        for phase in self.model.phases:
            if phase.group not in groups:
                raise ConfigError(f"phase {phase.name!r} names unknown parameter group {phase.group!r}")
            params = [p for p in groups[phase.group] if p.requires_grad]
            if params and phase.group not in optimizers:
                optimizers[phase.group] = optimizer_class(
                    params, lr=self.config.learning_rate, weight_decay=self.config.weight_decay
                )
        return optimizers

    def _make_scheduler(self, optimizer: torch.optim.Optimizer) -> Any:
        if self.config.lr_schedule == "cosine" and self.config.time_budget is not None:
            return None  # the cosine follows the time budget, set before every batch
        if self.config.lr_schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.config.epochs)
        if self.config.lr_schedule == "plateau":
            return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
        return None

    # -- the loop -----------------------------------------------------------------------------
    def run(self) -> History:
        config = self.config
        n_batches = self.train.n_batches(config.batch_size, world_size=self.dist.world_size)
        mode = feedback_mode(config.verbose, progress=config.progress) if self.dist.is_main else "off"
        self.loop_started = time.perf_counter()
        with ProgressReporter(mode=mode, total_epochs=config.epochs) as progress:
            for epoch in range(self.start_epoch, config.epochs):
                if self.budget is not None and self._spent() >= self.budget.budget:
                    break
                started = time.perf_counter()
                progress.start_epoch(epoch, n_batches)
                train_terms, n_samples = self._train_epoch(epoch, progress, n_batches)
                if not train_terms:  # the budget ran out before the epoch's first batch: nothing to record
                    break
                seconds = time.perf_counter() - started
                row: dict[str, float] = {"epoch": float(epoch + 1)}
                row.update({f"train_{k}": v for k, v in train_terms.items()})
                if self.val is not None:
                    val_terms = evaluate_terms(
                        self.model, self.val, batch_size=max(config.batch_size, 256), seed=config.seed
                    )
                    row.update({f"val_{k}": v for k, v in val_terms.items()})
                row["lr"] = self._current_lr()
                row["seconds"] = seconds
                row["samples_per_second"] = n_samples * self.dist.world_size / max(seconds, 1e-9)
                self.history.append(row)
                progress.end_epoch(row)
                if self.on_epoch_end is not None and self.dist.is_main:
                    self.on_epoch_end(epoch + 1, dict(row))
                monitored = row.get("val_loss", row["train_loss"])
                self._step_schedulers(monitored)
                stop = self._track_best(monitored)
                self._save(epoch)
                if stop:
                    logger.info("early stopping after epoch %d", epoch + 1)
                    break
                if self.out_of_time:
                    logger.info("time budget of %s s spent during epoch %d", config.time_budget, epoch + 1)
                    break
        if not self.history.rows and self.start_epoch < config.epochs:
            raise ConfigError(
                f"time_budget={config.time_budget} s was spent before the first batch of training; give a "
                "larger budget"
            )
        if config.keep_best and self.val is not None and self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        return self.history

    def _train_epoch(
        self, epoch: int, progress: ProgressReporter, n_batches: int
    ) -> tuple[dict[str, float], int]:
        self.model.train()
        keys: list[str] = []
        sums: Tensor | None = None  # sample-weighted sums of the first phase's terms, in ``keys`` order
        n_samples = 0
        accumulation = self.config.gradient_accumulation
        pending = False  # gradients summed since the last optimiser step
        batches = self.train.batches(
            self.config.batch_size,
            shuffle=self.config.shuffle,
            generator=self.generator,
            rank=self.dist.rank,
            world_size=self.dist.world_size,
        )
        for index, batch in enumerate(batches):
            if not self._follow_schedule(epoch, index, n_batches):
                self.out_of_time = True
                break
            batch = self._to_device(batch)
            if self.augment is not None:
                batch = (self.augment(batch[0], self.generator), batch[1])
            prepared = self.model.prepare_batch(batch, self.generator)
            size = len(prepared[0])
            if size == 1 and self.model.uses_batch_statistics:
                continue  # the last batch of N = k·batch_size + 1 samples: batch norm needs two
            # the epoch's last group may hold fewer batches: its gradient is their mean all the same
            group = min(accumulation, max(n_batches - index + index % accumulation, 1))
            for phase_index, phase in enumerate(self.model.phases):
                optimizer = self.optimizers.get(phase.group)
                if index % accumulation == 0:
                    self.model.zero_grad(set_to_none=True)
                with self.autocast():
                    terms = self.step_module(*prepared)
                loss = terms[phase.loss_key]
                if not torch.isfinite(loss):
                    kept = (  # only a checkpoint written before the loss broke is worth naming
                        f"; the last good checkpoint is {self.checkpoint_path}"
                        if self.checkpoint_path and Path(self.checkpoint_path).is_file()
                        else "; no checkpoint was written before it (lower --learning-rate?)"
                    )
                    raise TrainingError(
                        f"loss term {phase.loss_key!r} became {loss.item()} at epoch {epoch + 1}, "
                        f"batch {index + 1}{kept}"
                    )
                self.scaler.scale(loss / group if group > 1 else loss).backward()
                if phase_index == 0:  # one stacked tensor: a few ops per batch whatever the number of terms
                    keys = keys or list(terms)
                    weighted = torch.stack([terms[key].detach().float() for key in keys]) * size
                    sums = weighted if sums is None else sums + weighted
                pending = (index + 1) % accumulation != 0
                if optimizer is not None and not pending:
                    self._step(optimizer)
            n_samples += size
            shown = None
            if progress.enabled and sums is not None and "loss" in keys:
                shown = sums[keys.index("loss")]
            progress.advance(size, shown, n_samples)
        if sums is None and self.out_of_time:
            return {}, 0
        if sums is None:
            raise DataError("the training data yielded no batches")
        if pending:  # fewer batches left than gradient_accumulation: they make one more step
            for optimizer in self.optimizers.values():
                self._step(optimizer)
        total = self.dist.all_reduce_sum(torch.tensor(float(n_samples), device=self.device))
        means = self.dist.all_reduce_sum(sums) / total
        return dict(zip(keys, means.tolist(), strict=True)), n_samples

    def _step(self, optimizer: torch.optim.Optimizer) -> None:
        """One optimiser step on the summed gradients, clipped when ``gradient_clip`` is set."""
        if self.config.gradient_clip is not None:
            self.scaler.unscale_(optimizer)
            params = [p for group in optimizer.param_groups for p in group["params"]]
            nn.utils.clip_grad_norm_(params, self.config.gradient_clip)
        self.scaler.step(optimizer)
        self.scaler.update()

    def _to_device(self, batch: Batch) -> Batch:
        x, y = batch
        if self.device.type == "cpu":
            return x, y
        return x.to(self.device, non_blocking=True), None if y is None else y.to(
            self.device, non_blocking=True
        )

    def _spent(self, *, synchronise: bool = True) -> float:
        """Seconds of training so far, earlier runs included (the same on every process under DDP)."""
        spent = self.spent_before + time.perf_counter() - self.loop_started
        if synchronise and self.dist.enabled:
            total = self.dist.all_reduce_sum(torch.tensor(spent, dtype=torch.float64, device=self.device))
            spent = float(total) / self.dist.world_size
        return spent

    def _follow_schedule(self, epoch: int, index: int, n_batches: int) -> bool:
        """Set the budget's learning rate and the model's warm-up weight; False once the budget is spent."""
        config = self.config
        if self.budget is None and config.warmup_fraction == 0:
            return True
        if self.budget is not None:
            spent = self._spent()
            if spent >= self.budget.budget:
                return False
            fraction = self.budget.fraction(spent)
            if config.lr_schedule == "cosine":
                rate = config.learning_rate * self.budget.lr_factor(spent)
                for optimizer in self.optimizers.values():
                    for group in optimizer.param_groups:
                        group["lr"] = rate
        else:
            fraction = (epoch + index / max(n_batches, 1)) / config.epochs
        if config.warmup_fraction > 0:
            self.model.set_warmup(warmup_weight(fraction, config.warmup_fraction))
        return True

    def _current_lr(self) -> float:
        first = next(iter(self.optimizers.values()), None)
        return float(first.param_groups[0]["lr"]) if first is not None else 0.0

    def _step_schedulers(self, monitored: float) -> None:
        for scheduler in self.schedulers.values():
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(monitored)
            elif scheduler is not None:
                scheduler.step()

    def _track_best(self, monitored: float) -> bool:
        """Remember the best weights; return True when early stopping should end training."""
        if monitored < self.best_loss:
            self.best_loss = monitored
            self.epochs_without_improvement = 0
            if self.val is not None and self.config.keep_best:
                self.best_state = copy.deepcopy(self.model.state_dict())
            return False
        self.epochs_without_improvement += 1
        patience = self.config.early_stopping_patience
        return patience is not None and self.epochs_without_improvement >= patience

    # -- checkpoints ----------------------------------------------------------------------------
    def _save(self, epoch: int) -> None:
        if self.checkpoint_path is None:
            return
        # each process draws its own noise (dropout, sampled codes): all of their states are kept
        rng_by_rank = self.dist.gather(torch.get_rng_state().to(self.device)).cpu()
        if not self.dist.is_main:
            return
        save_checkpoint(
            self.checkpoint_path,
            {
                "model_name": self.model.registry_name,
                "model_config": self.model.config.to_dict(),
                "epoch": epoch + 1,
                "model": self.model.state_dict(),
                "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
                "schedulers": {n: s.state_dict() for n, s in self.schedulers.items() if s is not None},
                "generator": self.generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "torch_rng_by_rank": rng_by_rank,
                "history": self.history.rows,
                "planned_epochs": self.config.epochs,
                "best_loss": self.best_loss,
                "best_state": self.best_state,
                "epochs_without_improvement": self.epochs_without_improvement,
                "seconds_spent": self._spent(synchronise=False),
                "budget": None if self.budget is None else self.budget.to_dict(),
            },
        )
        self.history.to_csv(self.checkpoint_path.parent / "losses.csv")

    def _restore(self, path: Path) -> None:
        state = load_checkpoint(
            path,
            model_name=self.model.registry_name,
            model_config=self.model.config.to_dict(),
            model_state=self.model.state_dict(),
        )
        try:
            self.model.load_state_dict(state["model"])
            for name, optimizer in self.optimizers.items():
                optimizer.load_state_dict(state["optimizers"][name])
            for name, scheduler in self.schedulers.items():
                if scheduler is not None:
                    scheduler.load_state_dict(state["schedulers"][name])
            self.generator.set_state(state["generator"])
            by_rank = state.get("torch_rng_by_rank")  # absent in checkpoints of earlier versions
            if by_rank is not None and len(by_rank) == self.dist.world_size:
                torch.set_rng_state(by_rank[self.dist.rank].clone())
            else:
                torch.set_rng_state(state["torch_rng"])
        except (KeyError, ValueError, RuntimeError, TypeError) as error:
            detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CheckpointError(f"checkpoint {path} does not fit this run: {detail}") from None
        self.history = History.from_rows(state["history"])
        self.start_epoch = int(state["epoch"])
        if self.config.epochs < self.start_epoch:  # the run would end untouched, its settings saying fewer
            raise ConfigError(
                f"epochs={self.config.epochs} is fewer than the {self.start_epoch} epochs checkpoint {path} "
                f"has already trained; resume with epochs of at least {self.start_epoch} (epochs counts "
                "them all, not the ones to add)"
            )
        self.best_loss = float(state["best_loss"])
        self.best_state = state["best_state"]
        self.epochs_without_improvement = int(state["epochs_without_improvement"])
        self.spent_before = float(state.get("seconds_spent") or 0.0)
        saved_budget = state.get("budget")
        if self.budget is not None and saved_budget is not None:
            saved = BudgetSchedule.from_dict(saved_budget)
            self.budget = saved.resumed(self.budget.budget, self.spent_before)
        elif self.budget is not None and self.config.lr_schedule == "cosine" and self.history.rows:
            # the earlier run had no budget: anneal from the rate it reached
            last = float(self.history.rows[-1].get("lr", self.config.learning_rate))
            start_factor = min(last / self.config.learning_rate, 1.0)
            self.budget = BudgetSchedule(self.budget.budget, self.spent_before, start_factor)
        saved_cosine = [s.get("T_max") for s in state["schedulers"].values() if isinstance(s, dict)]
        # checkpoints older than "planned_epochs" kept the plan only in the cosine's T_max
        planned = int(state.get("planned_epochs") or next(iter(saved_cosine), None) or self.start_epoch)
        if self.config.lr_schedule == "cosine" and self.budget is None and self.config.epochs > planned:
            self._extend_cosine()
        logger.info("resumed from %s after epoch %d", path, self.start_epoch)

    def _extend_cosine(self) -> None:
        """Resumed with more epochs than planned: anneal from the last epoch's rate to 0, never rising.

        The cosine restarts from the learning rate of the last completed epoch ``lr_last`` over the
        ``R`` epochs left: epoch ``k`` of them (1-based) uses ``lr_last · (1 + cos(π k / (R + 1))) / 2``.
        """
        last_lr = self.history.rows[-1]["lr"] if self.history.rows and "lr" in self.history.rows[-1] else None
        remaining = self.config.epochs - self.start_epoch
        if last_lr is None or remaining < 1:
            return
        for name, optimizer in self.optimizers.items():
            for group in optimizer.param_groups:
                group["lr"] = last_lr
                group["initial_lr"] = last_lr
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=remaining + 1)
            first = last_lr * (1 + math.cos(math.pi / (remaining + 1))) / 2
            for group in optimizer.param_groups:
                group["lr"] = first
            scheduler.last_epoch = 1
            scheduler._last_lr = [first] * len(optimizer.param_groups)
            self.schedulers[name] = scheduler


def _layer_data(model: AbstractAutoencoder, data: TensorData, layer: int, batch_size: int) -> TensorData:
    """What layer ``layer`` reconstructs: the codes of ``data`` under the layers below (eval, no grad)."""
    was_training = model.training
    model.eval()
    device = next(iter(model.parameters()), torch.empty(0)).device
    with torch.no_grad():
        codes = [model.layer_inputs(x.to(device), layer).cpu() for x, _ in data.batches(batch_size)]
    model.train(was_training)
    return TensorData(torch.cat(codes), data.y)


def _compiled(module: nn.Module) -> nn.Module:
    try:
        return torch.compile(module)  # type: ignore[return-value]
    except Exception as error:  # backend missing on this platform
        logger.warning("torch.compile is unavailable here (%s); running eagerly", error)
        return module


@torch.no_grad()
def evaluate_terms(
    model: AbstractAutoencoder, data: BatchSource, *, batch_size: int = 256, seed: int = 0
) -> dict[str, float]:
    """Mean of every loss term over ``data`` in eval mode (corruptions drawn from ``seed``, repeatable)."""
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    device = next(iter(model.parameters()), next(iter(model.buffers()), torch.empty(0))).device
    sums: dict[str, float] = {}
    for x, y in data.batches(batch_size):
        batch = (x.to(device), None if y is None else y.to(device))
        inputs, target, condition = model.prepare_batch(batch, generator)
        terms = model.loss(model(inputs, condition), target)
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + float(value) * len(inputs)
    model.train(was_training)
    return {key: value / len(data) for key, value in sums.items()}
