"""An ensemble of small MLP autoencoders trained side by side: the default tabular anomaly detector.

Chen et al., "Outlier detection with autoencoder ensembles" (SDM 2017) show that averaging many small,
differently initialised autoencoders makes reconstruction-error scores far steadier than one network,
whose ranking of rare rows changes with its seed. The members here are independent networks whose
weights are stacked along a leading member axis, so one batched matrix product runs all of them: an
ensemble of 8 costs about as much as one network of 8× the width, and saves as one model file.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import torch
from torch import Tensor, nn

from aekit.config import check_choice, check_positive
from aekit.models.base import AbstractAutoencoder, AEOutput, LossTerms, ModelConfig
from aekit.models.registry import register_model
from aekit.nn.layers import ACTIVATIONS, make_activation

__all__ = ["EnsembleOutput", "MLPEnsembleAutoencoder", "MLPEnsembleConfig"]


@dataclasses.dataclass(frozen=True)
class MLPEnsembleConfig(ModelConfig):
    """Config of :class:`MLPEnsembleAutoencoder`.

    Attributes:
        member_latent_dim: Code size of each member; the model's code joins all members' codes, so its
            ``latent_dim`` is ``n_members · member_latent_dim``.
        hidden_dims: Hidden widths of each member's encoder (the decoder mirrors them).
        n_members: Number of independent autoencoders.
        activation: Hidden activation.
    """

    member_latent_dim: int = 4
    hidden_dims: tuple[int, ...] = (32,)
    n_members: int = 8
    activation: str = "elu"

    def validate(self) -> None:
        super().validate()
        check_positive("member_latent_dim", self.member_latent_dim)
        check_positive("n_members", self.n_members)
        for width in self.hidden_dims:
            check_positive("hidden_dims entries", width)
        check_choice("activation", self.activation, ACTIVATIONS)


@dataclasses.dataclass(frozen=True)
class EnsembleOutput(AEOutput):
    """:class:`AEOutput` plus each member's own reconstruction.

    Attributes:
        member_x_hat: ``(n_members, B, *input_shape)``; ``x_hat`` is their mean.
    """

    member_x_hat: Tensor = dataclasses.field(default_factory=lambda: torch.empty(0))


class _StackedLinear(nn.Module):
    """``n_members`` independent linear layers applied to ``(n_members, B, in)`` in one batched product."""

    def __init__(self, n_members: int, in_features: int, out_features: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)  # nn.Linear's default initialisation, per member
        self.weight = nn.Parameter(torch.empty(n_members, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_members, 1, out_features).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


def _stack(n_members: int, widths: tuple[int, ...], activation: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        layers.append(_StackedLinear(n_members, fan_in, fan_out))
        if index < len(widths) - 2:
            layers.append(make_activation(activation))
    return nn.Sequential(*layers)


@register_model("mlp_ensemble")
class MLPEnsembleAutoencoder(AbstractAutoencoder[MLPEnsembleConfig]):
    """``n_members`` MLP autoencoders ``n → hidden_dims → member_latent_dim → reversed → n``, side by side.

    ``encode`` joins the members' codes into ``(B, latent_dim)``; ``decode`` averages the
    members' reconstructions. Training minimises each member's own error (the mean over members of
    ``mean (x̂_m − x)²``), so the members stay independent networks rather than one wide one.
    """

    config_class = MLPEnsembleConfig
    loss_terms = ("loss", "recon")

    def __init__(self, config: MLPEnsembleConfig) -> None:
        super().__init__(config)
        n_features = math.prod(config.input_shape)
        widths = (n_features, *config.hidden_dims, config.member_latent_dim)
        self.encoder = _stack(config.n_members, widths, config.activation)
        self.decoder = _stack(config.n_members, widths[::-1], config.activation)

    @property
    def latent_dim(self) -> int:
        config = self.config
        return config.n_members * config.member_latent_dim

    @property
    def n_members(self) -> int:
        """Number of member autoencoders."""
        return int(self.config.n_members)

    def _member_codes(self, x: Tensor) -> Tensor:
        flat = x.flatten(1)
        return self.encoder(flat.unsqueeze(0).expand(self.n_members, -1, -1))

    def _join(self, codes: Tensor) -> Tensor:
        return codes.transpose(0, 1).reshape(codes.shape[1], self.latent_dim)

    def member_reconstructions(self, x: Tensor) -> Tensor:
        """Each member's reconstruction of ``x``, ``(n_members, B, *input_shape)``."""
        self.check_input(x)
        return self._member_decode(self._member_codes(x), len(x))

    def _member_decode(self, codes: Tensor, batch: int) -> Tensor:
        return self.decoder(codes).reshape(self.n_members, batch, *self.input_shape)

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Joined member codes ``(B, latent_dim)``, member by member."""
        self.check_input(x)
        return self._join(self._member_codes(x))

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """Mean member reconstruction ``(B, *input_shape)`` of joined codes ``(B, latent_dim)``."""
        member_latent_dim = self.latent_dim // self.n_members
        codes = z.reshape(z.shape[0], self.n_members, member_latent_dim).transpose(0, 1)
        return self._member_decode(codes, z.shape[0]).mean(0)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> EnsembleOutput:
        self.check_input(x)
        codes = self._member_codes(x)
        members = self._member_decode(codes, len(x))
        return EnsembleOutput(x_hat=members.mean(0), z=self._join(codes), member_x_hat=members)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``recon = mean over members of mean (x̂_m − x)²``; ``loss = recon``."""
        members = output.member_x_hat if isinstance(output, EnsembleOutput) else output.x_hat.unsqueeze(0)
        recon = (members - target.unsqueeze(0)).square().mean()
        return {"loss": recon, "recon": recon}
