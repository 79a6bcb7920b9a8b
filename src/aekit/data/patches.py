"""Fresh random patches of in-memory images each pass, for training fully convolutional models.

A drop-in :class:`~aekit.data.tensors.BatchSource` for the :class:`~aekit.training.Trainer`: every pass
draws ``patches_per_pass`` square crops (image, position, and a flip or rotation) from the trainer's
seeded generator, so a resumed or repeated run sees the same patches, and in distributed training each
rank gets its own share of them. With ``targets`` (clean images of the same sizes) the same crop of both
is returned as ``(noisy, clean)`` pairs. The restorers (denoiser, inpainter) and the learned codecs
train on it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Literal

import torch
from torch import Tensor

from aekit.errors import ConfigError, DataError, ShapeError
from aekit.nn.dihedral import dihedral

__all__ = ["Flips", "RandomPatches"]

Flips = Literal["dihedral", "horizontal"]
"""``dihedral``: one of the 8 rotations/reflections of the square (images without a canonical
orientation); ``horizontal``: a left-right mirror or not (photographs keep their up and down)."""


@dataclasses.dataclass(frozen=True)
class RandomPatches:
    """Random ``patch_size``² crops of ``images`` (each ``(C, H, W)``, any sizes at least the patch).

    Each crop picks an image uniformly (so one large image does not dominate), then a position uniformly
    inside it, then a flip. ``uint8`` images (0..255, a quarter of the memory) give float crops in [0, 1].

    Attributes:
        images: The images crops are drawn from (the network's inputs), float or ``uint8``.
        patch_size: Side of a square crop.
        patches_per_pass: Crops per pass (the trainer's "epoch"), shared among distributed ranks.
        targets: Optional images of the same sizes cropped at the same places (the targets ``y``).
        flips: ``dihedral`` (the 8 flips/rotations) or ``horizontal`` (see :data:`Flips`).
    """

    images: Sequence[Tensor]
    patch_size: int
    patches_per_pass: int
    targets: Sequence[Tensor] | None = None
    flips: Flips = "dihedral"

    def __post_init__(self) -> None:
        if not self.images:
            raise DataError("no images to draw patches from")
        if self.flips not in ("dihedral", "horizontal"):
            raise ConfigError(f"flips must be 'dihedral' or 'horizontal'; got {self.flips!r}")
        count = self.patches_per_pass
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"patches_per_pass must be a positive integer; got {count!r}")
        channels = self.images[0].shape[0]
        for index, image in enumerate(self.images):
            if image.dim() != 3 or image.shape[0] != channels:
                raise ShapeError(
                    f"image {index} must have shape ({channels}, H, W); got {tuple(image.shape)}"
                )
            if min(image.shape[1:]) < self.patch_size:
                raise ShapeError(
                    f"image {index} ({tuple(image.shape[1:])}) is smaller than the patch size "
                    f"{self.patch_size}"
                )
        if self.targets is not None:
            if len(self.targets) != len(self.images):
                raise DataError(f"{len(self.images)} images but {len(self.targets)} targets; they must match")
            for index, (image, target) in enumerate(zip(self.images, self.targets, strict=True)):
                if target.shape != image.shape:
                    raise ShapeError(
                        f"target {index} has shape {tuple(target.shape)} but its image {tuple(image.shape)}"
                    )

    def __len__(self) -> int:
        return self.patches_per_pass

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """``(C, patch_size, patch_size)``."""
        return (self.images[0].shape[0], self.patch_size, self.patch_size)

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> Iterator[tuple[Tensor, Tensor | None]]:
        """Yield ``(x, y)`` batches of fresh crops (``y`` None without targets); ``shuffle`` is implied.

        The pass's draws come from ``generator`` (a fixed seed when None); rank ``r`` of ``world_size``
        takes every ``world_size``-th of them, starting with the ``r``-th, so ranks see different crops.
        """
        n = self.patches_per_pass // world_size if world_size > 1 else self.patches_per_pass
        stop = n - n % batch_size if drop_last else n
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        draws = torch.rand((self.patches_per_pass, 4), generator=generator)[rank::world_size][:stop]
        for start in range(0, stop, batch_size):
            crops = [self._crop(draw) for draw in draws[start : start + batch_size]]
            x = torch.stack([crop[0] for crop in crops])
            targets = [crop[1] for crop in crops if crop[1] is not None]
            y = torch.stack(targets) if self.targets is not None else None
            yield x, y

    def _crop(self, draw: Tensor) -> tuple[Tensor, Tensor | None]:
        index = min(int(draw[0] * len(self.images)), len(self.images) - 1)
        image = self.images[index]
        height, width = image.shape[1:]
        size = self.patch_size
        top = min(int(draw[1] * (height - size + 1)), height - size)
        left = min(int(draw[2] * (width - size + 1)), width - size)
        transform = min(int(draw[3] * 8), 7) if self.flips == "dihedral" else 4 * int(draw[3] >= 0.5)
        pieces = [image] if self.targets is None else [image, self.targets[index]]
        out = [dihedral(_unit(piece[:, top : top + size, left : left + size]), transform) for piece in pieces]
        return out[0], out[1] if len(out) > 1 else None

    def n_batches(self, batch_size: int, *, drop_last: bool = False, world_size: int = 1) -> int:
        """Number of batches :meth:`batches` yields with the same arguments."""
        n = self.patches_per_pass // world_size if world_size > 1 else self.patches_per_pass
        return n // batch_size if drop_last else -(-n // batch_size)


def _unit(patch: Tensor) -> Tensor:
    """A ``uint8`` patch as float32 in [0, 1]; other patches unchanged."""
    return patch.float() / 255 if patch.dtype == torch.uint8 else patch
