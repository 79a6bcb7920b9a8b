"""A classifier made of an autoencoder's encoder and a small head, for fine-tuning with few labels.

Pretraining an autoencoder on unlabelled data and then training encoder + head on the few labelled
examples is the "unsupervised pretraining" recipe (Erhan et al., "Why does unsupervised pre-training help
deep learning?", JMLR 2010). The classifier keeps the whole backbone autoencoder, so the weights of a
trained model load into it as they are (:meth:`EncoderClassifier.from_autoencoder`), but only the
parameters its ``encode`` uses are trainable: the decoder is carried along frozen. It implements the
autoencoder interface with the head as its "decoder" (codes → class logits), so the ordinary
:class:`~aekit.training.Trainer` fine-tunes it and :mod:`aekit.models.files` saves it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aekit.config import check_positive
from aekit.errors import AekitError, ConfigError
from aekit.models._backbone import check_labels
from aekit.models.ae import check_code
from aekit.models.base import (
    AbstractAutoencoder,
    AEOutput,
    Batch,
    LabelRole,
    LossTerms,
    ModelConfig,
    PreparedBatch,
)
from aekit.models.registry import register_model, resolve
from aekit.nn.mlp import mlp

__all__ = ["EncoderClassifier", "EncoderClassifierConfig"]


@dataclasses.dataclass(frozen=True)
class EncoderClassifierConfig(ModelConfig):
    """Config of :class:`EncoderClassifier`.

    Attributes:
        latent_dim: Code size of the backbone (its ``latent_dim``).
        n_classes: Number of classes; labels are ``0 .. n_classes − 1``.
        backbone: Registry name of the autoencoder whose encoder is used (``conv``, ``mlp``, ``vae`` ...);
            it must encode without a condition. ``auto`` (the default): ``conv`` for images ``(C, H, W)``,
            ``mlp`` for vectors (tables); stored resolved.
        backbone_options: The backbone's other config fields (stored in full, canonical JSON form).
        head_hidden_dims: Hidden widths of the head; ``()`` is a linear (softmax-regression) head.
        dropout: Dropout before every head layer's activation (hidden layers only) and on the code.
        label_smoothing: Cross-entropy label smoothing in [0, 1).
    """

    latent_dim: int = 32
    n_classes: int = 10
    backbone: str = "auto"
    backbone_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    head_hidden_dims: tuple[int, ...] = ()
    dropout: float = 0.0
    label_smoothing: float = 0.0

    def validate(self) -> None:
        super().validate()
        check_positive("latent_dim", self.latent_dim)
        if isinstance(self.n_classes, bool) or not isinstance(self.n_classes, int) or self.n_classes < 2:
            raise ConfigError(f"n_classes must be an integer ≥ 2; got {self.n_classes!r}")
        for width in self.head_hidden_dims:
            check_positive("head_hidden_dims entries", width)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1); got {self.dropout!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"label_smoothing must be in [0, 1); got {self.label_smoothing!r}")
        if not isinstance(self.backbone_options, dict):
            raise ConfigError(f"backbone_options must be a dict; got {type(self.backbone_options).__name__}")
        for key in ("input_shape", "latent_dim"):
            if key in self.backbone_options:
                raise ConfigError(f"backbone_options must not hold {key!r}; it is a field of this config")
        if self.backbone == "auto":
            object.__setattr__(self, "backbone", "conv" if len(self.input_shape) == 3 else "mlp")
        # Canonical form (every field, JSON types) so a saved and reloaded config compares equal.
        backbone_config = self.backbone_config()
        options = {
            k: v for k, v in backbone_config.to_dict().items() if k not in ("input_shape", "latent_dim")
        }
        object.__setattr__(self, "backbone_options", options)

    def backbone_config(self) -> ModelConfig:
        """The backbone's validated config."""
        values = {**self.backbone_options, "input_shape": self.input_shape, "latent_dim": self.latent_dim}
        try:
            _cls, config = resolve(self.backbone, values)
        except AekitError as error:
            raise ConfigError(f"backbone {self.backbone!r}: {error}") from None
        return config


@register_model("encoder_classifier")
class EncoderClassifier(AbstractAutoencoder[EncoderClassifierConfig]):
    """An autoencoder's encoder followed by a classification head, trained with cross-entropy.

    ``encode(x)`` is the backbone's code ``(B, latent_dim)``; ``decode(z)`` and ``forward(x).x_hat`` are
    class logits ``(B, n_classes)``. Batches carry integer labels ``y`` ``(B,)``.

    Loss terms: ``cross_entropy`` (mean over the batch, with the configured label smoothing),
    ``error_rate`` (share of wrong arg-max predictions, for monitoring) and ``loss = cross_entropy``.

    Example:
        >>> classifier = EncoderClassifier.from_autoencoder(pretrained_autoencoder, n_classes=10)
    """

    config_class = EncoderClassifierConfig
    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "cross_entropy", "error_rate")
    label_role: ClassVar[LabelRole | None] = "classes"
    reconstructs: ClassVar[bool] = False

    @classmethod
    def config_from_labels(cls, n_labels: int) -> dict[str, Any]:
        """``n_classes`` from the data."""
        return {"n_classes": max(n_labels, 2)}

    def __init__(self, config: EncoderClassifierConfig) -> None:
        super().__init__(config)
        backbone_cls, backbone_config = resolve(config.backbone, config.backbone_config().to_dict())
        self.backbone = backbone_cls(backbone_config)
        self.code_dropout = nn.Dropout(config.dropout)
        self.head = mlp(
            (config.latent_dim, *config.head_hidden_dims, config.n_classes), dropout=config.dropout
        )
        used = _encoder_parameter_ids(self.backbone, config)
        for parameter in self.backbone.parameters():
            if id(parameter) not in used:
                parameter.requires_grad_(False)

    @classmethod
    def from_autoencoder(
        cls, autoencoder: AbstractAutoencoder, n_classes: int, **options: Any
    ) -> EncoderClassifier:
        """A classifier whose encoder starts from ``autoencoder``'s trained weights (copied).

        Args:
            autoencoder: A registered, unconditional autoencoder.
            n_classes: Number of classes.
            **options: Other :class:`EncoderClassifierConfig` fields (``head_hidden_dims``, ``dropout``...).
        """
        if not autoencoder.registry_name:
            raise ConfigError(f"{type(autoencoder).__name__} is not a registered model")
        values = autoencoder.config.to_dict()
        config = EncoderClassifierConfig(
            input_shape=tuple(values.pop("input_shape")),
            latent_dim=int(values.pop("latent_dim", autoencoder.latent_dim)),
            n_classes=n_classes,
            backbone=autoencoder.registry_name,
            backbone_options=values,
            **options,
        )
        classifier = cls(config)
        device = next(iter(autoencoder.parameters()), torch.empty(0)).device
        classifier.backbone.load_state_dict(autoencoder.state_dict(), strict=True)
        return classifier.to(device)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return self.config.n_classes

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """``all``: the encoder's parameters and the head's (the frozen decoder is left out)."""
        return {"all": [p for p in self.parameters() if p.requires_grad]}

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """The backbone's codes ``(B, latent_dim)`` of inputs ``(B, *input_shape)``."""
        self.check_input(x)
        return self.backbone.encode(x)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """Class logits ``(B, n_classes)`` of codes ``(B, latent_dim)``."""
        check_code(z, self.latent_dim)
        return self.head(self.code_dropout(z))

    def forward(self, x: Tensor, condition: Tensor | None = None) -> AEOutput:
        """Codes and class logits of ``x`` ``(B, *input_shape)``: ``x_hat`` is ``(B, n_classes)``."""
        z = self.encode(x)
        return AEOutput(x_hat=self.decode(z), z=z)

    @torch.no_grad()
    def predict_proba(self, x: Tensor) -> Tensor:
        """Class probabilities ``(B, n_classes)`` (softmax of the logits; call in eval mode)."""
        return self.forward(x).x_hat.softmax(dim=1)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``loss = cross_entropy = −mean_b log softmax(logits_b)[y_b]`` (smoothed when configured).

        ``error_rate = mean_b [argmax logits_b ≠ y_b]`` is reported without gradient.
        """
        logits = output.x_hat
        smoothing = self.config.label_smoothing
        cross_entropy = F.cross_entropy(logits, target, label_smoothing=smoothing)
        error_rate = (logits.detach().argmax(dim=1) != target).float().mean()
        return {"loss": cross_entropy, "cross_entropy": cross_entropy, "error_rate": error_rate}

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """Return ``(x, labels, None)``: the target is the class label.

        Raises:
            DataError: The batch has no labels or they are not integers in ``[0, n_classes)``.
        """
        inputs, labels = batch
        labels = check_labels(
            labels, self.n_classes, len(inputs), name="class labels", model="encoder_classifier"
        )
        return inputs, labels, None


def _encoder_parameter_ids(backbone: AbstractAutoencoder, config: EncoderClassifierConfig) -> set[int]:
    """Ids of the backbone parameters that ``encode`` depends on, found by one probe through autograd.

    The probe runs in eval mode on zeros (no randomness, no batch-norm statistics updated).
    """
    was_training = backbone.training
    backbone.eval()
    parameters = [p for p in backbone.parameters() if p.requires_grad]
    if not parameters:
        return set()
    try:
        with torch.enable_grad():
            code = backbone.encode(torch.zeros(2, *config.input_shape))
            if not code.requires_grad:
                return set()
            gradients = torch.autograd.grad(code.sum(), parameters, allow_unused=True)
    except AekitError as error:
        raise ConfigError(
            f"backbone {config.backbone!r} cannot encode without a condition ({error}); "
            "encoder_classifier wraps unconditional autoencoders"
        ) from None
    finally:
        backbone.train(was_training)
    return {id(p) for p, g in zip(parameters, gradients, strict=True) if g is not None}
