"""Training procedures made of several ``Trainer`` runs: greedy layer-wise pretraining, then fine-tuning.

Bengio et al. (2007) and Vincent et al. (2010) train a deep autoencoder by first training each layer
as a shallow autoencoder on the codes of the (already trained, now fixed) layers below it, then
training the whole stack end to end from that starting point.
"""

from __future__ import annotations

from aekit.data.tensors import TensorData
from aekit.errors import ShapeError
from aekit.models.stacked import StackedAutoencoder
from aekit.training.config import TrainConfig
from aekit.training.history import History
from aekit.training.trainer import Trainer

__all__ = ["fine_tune", "pretrain_layerwise"]


def pretrain_layerwise(
    model: StackedAutoencoder, data: TensorData, train_config: TrainConfig | None = None
) -> list[History]:
    """Greedily train each layer of ``model`` in place as a shallow autoencoder, bottom to top.

    Layer ``k`` is trained (by :class:`Trainer`, for ``train_config.epochs``) to reconstruct
    ``h_k``, the codes of ``data`` under the already trained layers ``0 … k−1``, through
    :meth:`StackedAutoencoder.layer_autoencoder`, which shares the layer's parameters with the stack.
    With ``pretrain_mask_fraction > 0`` in the model's config each layer is a denoising autoencoder.

    Args:
        model: The stack to pretrain.
        data: Training samples ``(N, *input_shape)`` (labels are ignored).
        train_config: Settings of each layer's run; a ``checkpoint_dir`` gets one sub-folder per
            layer (``layer_0``, ``layer_1`` ...).

    Returns:
        One :class:`History` per layer, bottom first.

    Raises:
        TypeError: ``model`` is not a :class:`StackedAutoencoder`.
        ShapeError: The data's sample shape differs from the model's ``input_shape``.
    """
    if not isinstance(model, StackedAutoencoder):
        raise TypeError(f"model must be a StackedAutoencoder; got {type(model).__name__}")
    if not isinstance(data, TensorData):
        raise TypeError(f"data must be aekit.data.TensorData; got {type(data).__name__}")
    if data.sample_shape != tuple(model.input_shape):
        raise ShapeError(
            f"data samples have shape {data.sample_shape} but the model expects {model.input_shape}"
        )
    return Trainer(train_config or TrainConfig()).pretrain_layerwise(model, data)


def fine_tune(
    model: StackedAutoencoder,
    data: TensorData,
    train_config: TrainConfig | None = None,
    val: TensorData | None = None,
) -> History:
    """Train the whole (pretrained) stack end to end by gradient, without pretraining again."""
    return Trainer(train_config).fit_by_gradient(model, data, val)
