"""Training settings."""

from __future__ import annotations

import dataclasses
from typing import Literal

from aekit.config import ConfigBase, check_choice, check_positive
from aekit.errors import ConfigError

__all__ = ["Precision", "TrainConfig", "Verbosity"]

Precision = Literal["32", "bf16-mixed", "16-mixed"]
Verbosity = Literal["auto", 0, 1, 2]
VERBOSITY: tuple[object, ...] = ("auto", 0, 1, 2)


@dataclasses.dataclass(frozen=True)
class TrainConfig(ConfigBase):
    """How to train a model; every field has a sensible default.

    Attributes:
        epochs: Passes over the training data.
        batch_size: Samples per optimisation step (per process under DDP).
        learning_rate: Step size of every phase's optimiser.
        weight_decay: L2 (Adam) or decoupled (AdamW) weight decay.
        optimizer: ``adam`` or ``adamw``.
        lr_schedule: ``constant``, ``cosine`` (to 0 over all epochs) or ``plateau`` (halve when the
            validation loss stalls for 2 epochs). Resuming with a larger ``epochs`` never raises the
            learning rate: the cosine continues from the rate of the last completed epoch and anneals
            to 0 over the epochs left.
        seed: Seeds data order, corruptions and dropout, without touching the global RNG.
        device: ``auto`` (CUDA, then MPS, then CPU), or a torch device string.
        precision: ``32``, ``bf16-mixed`` or ``16-mixed`` (autocast; unsupported → full precision + warning).
        gradient_accumulation: Batches whose gradients are summed before each optimiser step.
        compile: Run the training step through ``torch.compile``.
        gradient_clip: Clip the gradient norm to this value when set.
        early_stopping_patience: Stop when the validation loss has not improved for this many epochs.
        keep_best: With validation data, end with the weights of the best validation epoch.
        checkpoint_dir: Folder for ``checkpoint.pt`` (written atomically every epoch) and ``losses.csv``.
        resume: Continue from ``checkpoint_dir/checkpoint.pt`` when it exists.
        shuffle: Reshuffle the training data every epoch.
        flush_denormal: Flush denormal floats to zero on CPU during training (about 1.5× faster for MLPs
            once weights get small; restored afterwards).
        progress: Show training progress on stderr (the same as ``verbose="auto"``).
        verbose: As Keras's ``verbose``: 0 silent, 1 a progress bar, 2 one line per epoch (train and
            validation loss, time), ``auto`` a bar when stderr is a terminal and lines otherwise.
        pretrain_epochs: Epochs of each layer's greedy pretraining for layer-wise families (stacked);
            None means ``epochs``.
        time_budget: Seconds of training (wall clock of the loop, checked before every batch; a resumed
            run counts the seconds already spent). Training stops when they are spent, even within an
            epoch (``epochs`` is then an upper bound), and a ``cosine`` schedule runs over the budget,
            reaching 0 at its end, updated every batch. Resuming with another budget continues the cosine
            from the rate reached, so the rate never rises.
        warmup_fraction: Share of the schedule (of ``time_budget``, else of ``epochs``) over which the
            model's warm-up weight rises linearly from 0 to 1 (the VAE family's KL weight); 0 disables
            it. Only for models that declare ``warms_up``.
    """

    epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    optimizer: Literal["adam", "adamw"] = "adam"
    lr_schedule: Literal["constant", "cosine", "plateau"] = "constant"
    seed: int = 0
    device: str = "auto"
    precision: Precision = "32"
    gradient_accumulation: int = 1
    compile: bool = False
    gradient_clip: float | None = None
    early_stopping_patience: int | None = None
    keep_best: bool = True
    checkpoint_dir: str | None = None
    resume: bool = False
    shuffle: bool = True
    flush_denormal: bool = True
    progress: bool = False
    verbose: Verbosity = 0
    pretrain_epochs: int | None = None
    time_budget: float | None = None
    warmup_fraction: float = 0.0

    def validate(self) -> None:
        check_positive("epochs", self.epochs)
        check_positive("batch_size", self.batch_size)
        check_positive("learning_rate", self.learning_rate)
        check_positive("weight_decay", self.weight_decay, allow_zero=True)
        check_choice("optimizer", self.optimizer, ("adam", "adamw"))
        check_choice("lr_schedule", self.lr_schedule, ("constant", "cosine", "plateau"))
        check_choice("precision", self.precision, ("32", "bf16-mixed", "16-mixed"))
        check_positive("gradient_accumulation", self.gradient_accumulation)
        if isinstance(self.verbose, bool) or self.verbose not in VERBOSITY:
            raise ConfigError(f"verbose must be one of 'auto', 0, 1, 2; got {self.verbose!r}")
        if self.pretrain_epochs is not None:
            check_positive("pretrain_epochs", self.pretrain_epochs)
        if self.time_budget is not None:
            check_positive("time_budget", self.time_budget)
        if not 0.0 <= self.warmup_fraction <= 1.0:
            raise ConfigError(f"warmup_fraction must be in [0, 1]; got {self.warmup_fraction!r}")
        if self.gradient_clip is not None:
            check_positive("gradient_clip", self.gradient_clip)
        if self.early_stopping_patience is not None:
            check_positive("early_stopping_patience", self.early_stopping_patience)
