"""How the contract suite builds each registered model and a batch for it.

Every name in ``aekit.models.names()`` is tested; a name without an entry in :data:`CASES` gets the
default case (``input_shape`` and ``latent_dim=3`` only, unlabelled batches, odd image sizes). Add an
entry when a family needs extra config values, labels or masks in its batches, other input shapes, or
outputs that are not the input's shape.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from aekit.models.base import Batch

__all__ = ["CASES", "ModelCase", "case_for", "class_labels", "segmentation_masks"]

LabelBuilder = Callable[[int, tuple[int, ...], torch.Generator], Tensor]
"""``(batch_size, input_shape, generator) -> y``: the labels or targets a batch carries."""

ODD_IMAGES: tuple[tuple[int, ...], ...] = ((1, 7, 9), (3, 13, 11))


def class_labels(n_classes: int) -> LabelBuilder:
    """Integer labels ``(B,)`` in ``0 .. n_classes − 1``."""

    def build(batch_size: int, input_shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
        return torch.randint(n_classes, (batch_size,), generator=generator)

    return build


def segmentation_masks(n_classes: int) -> LabelBuilder:
    """Integer masks ``(B, H, W)`` in ``0 .. n_classes − 1`` for images ``(C, H, W)``."""

    def build(batch_size: int, input_shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
        return torch.randint(n_classes, (batch_size, *input_shape[1:]), generator=generator)

    return build


@dataclasses.dataclass(frozen=True)
class ModelCase:
    """How to build and feed one registered model in the contract tests.

    Attributes:
        config: Config values beyond ``input_shape`` and ``latent_dim``.
        input_shapes: Sample shapes to build the model for (non-default sizes).
        latent_dim: The ``latent_dim`` passed, or None for families without that field.
        labels: Builds the batch's ``y`` (class labels, masks); None for unlabelled batches.
        output_shape: Maps a sample shape to the shape of one ``x_hat``; None means the same shape.
    """

    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    input_shapes: tuple[tuple[int, ...], ...] = ODD_IMAGES
    latent_dim: int | None = 3
    labels: LabelBuilder | None = None
    output_shape: Callable[[tuple[int, ...]], tuple[int, ...]] | None = None

    def kwargs(self, input_shape: tuple[int, ...]) -> dict[str, Any]:
        """Keyword arguments of ``aekit.models.create`` for one sample shape."""
        values: dict[str, Any] = {"input_shape": input_shape}
        if self.latent_dim is not None:
            values["latent_dim"] = self.latent_dim
        return {**values, **self.config}

    def batch(self, batch_size: int, input_shape: tuple[int, ...], generator: torch.Generator) -> Batch:
        """A batch ``(x, y)`` with ``x`` uniform in [0, 1) and ``y`` from :attr:`labels`."""
        x = torch.rand((batch_size, *input_shape), generator=generator)
        y = None if self.labels is None else self.labels(batch_size, input_shape, generator)
        return x, y

    def expected_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one sample's ``x_hat``."""
        return input_shape if self.output_shape is None else self.output_shape(input_shape)


CASES: dict[str, ModelCase] = {
    "codec": ModelCase(
        config={"hidden_channels": 8, "latent_channels": 4, "n_stages": 2, "density_filters": (2,)},
        input_shapes=((3, 12, 8), (1, 8, 4)),
        latent_dim=None,
    ),
    "codec_hyperprior": ModelCase(
        config={
            "hidden_channels": 8,
            "latent_channels": 4,
            "hyper_channels": 4,
            "n_stages": 1,
            "kernel_size": 3,
            "density_filters": (2,),
        },
        input_shapes=((3, 16, 8), (1, 8, 16)),
        latent_dim=None,
    ),
    "cvae": ModelCase(config={"n_classes": 3}, labels=class_labels(3)),
    "caae": ModelCase(config={"n_classes": 3}, labels=class_labels(3)),
    "encoder_classifier": ModelCase(
        config={"n_classes": 3}, labels=class_labels(3), output_shape=lambda shape: (3,)
    ),
    "mlp_ensemble": ModelCase(config={"member_latent_dim": 3, "n_members": 2}, latent_dim=None),
    "multi_decoder": ModelCase(config={"n_domains": 2}, labels=class_labels(2)),
    "photo_denoiser": ModelCase(config={"channels": (4, 8)}, latent_dim=None),
    "photo_inpainter": ModelCase(config={"channels": (4, 8)}, latent_dim=None),
    "segmentation": ModelCase(
        config={"n_classes": 3}, labels=segmentation_masks(3), output_shape=lambda shape: (3, *shape[1:])
    ),
}


def case_for(name: str) -> ModelCase:
    """The case of a registered name (the default case when it has no entry)."""
    return CASES.get(name, ModelCase())
