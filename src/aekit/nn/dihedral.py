"""The eight symmetries of the square on images, and averaging a model over them (self-ensemble).

View ``v`` in 0..7 is ``v % 4`` quarter turns, of the left-right mirror image when ``v ≥ 4``. Training
patches take one view as augmentation; restorers average their output over several views and turn each
back ("geometric self-ensemble", Lim et al., "Enhanced deep residual networks for single image
super-resolution", CVPRW 2017), which lowers the error of a network that is not exactly equivariant.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["VIEW_COUNTS", "dihedral", "self_ensemble", "undo_dihedral"]

VIEW_COUNTS: tuple[int, ...] = (1, 2, 4, 8)
"""Numbers of views :func:`self_ensemble` takes: the image; and its mirror; its quarter turns; all."""


def dihedral(x: Tensor, view: int) -> Tensor:
    """View ``view`` (0–7) of images ``(…, H, W)``."""
    return torch.rot90(x.flip(-1) if view >= 4 else x, view % 4, (-2, -1))


def undo_dihedral(x: Tensor, view: int) -> Tensor:
    """The inverse of :func:`dihedral`: ``undo_dihedral(dihedral(x, v), v) == x``."""
    x = torch.rot90(x, -(view % 4), (-2, -1))
    return x.flip(-1) if view >= 4 else x


def _views(count: int) -> tuple[int, ...]:
    if count not in VIEW_COUNTS:
        raise ValueError(f"the number of views must be one of {VIEW_COUNTS}; got {count!r}")
    return (0, 4) if count == 2 else tuple(range(count))


def self_ensemble(run: Callable[..., Tensor], *images: Tensor, views: int) -> Tensor:
    """The mean over ``views`` views of ``run`` applied to the same view of every one of ``images``,
    each result turned back; ``views = 1`` is ``run(*images)``. 2 views: the image and its mirror; 4: its
    quarter turns; 8: those of the image and of its mirror."""
    outputs = [undo_dihedral(run(*(dihedral(x, view) for x in images)), view) for view in _views(views)]
    return outputs[0] if len(outputs) == 1 else torch.stack(outputs).mean(dim=0)
