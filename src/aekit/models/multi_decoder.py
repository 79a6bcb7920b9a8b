"""One shared encoder, one decoder per domain: the face-swap autoencoder.

The "deepfakes" face-swap setup (popularised in 2017; described in Perov et al., "DeepFaceLab:
Integrated, flexible and extensible face-swapping framework", 2020): one encoder is trained on faces of
every person (domain), each person has a decoder, and each sample is reconstructed by its own domain's
decoder. Because the code is shared, it learns what domains have in common (pose, expression); each
decoder adds its domain's appearance. Decoding a domain-A code with domain B's decoder swaps the style.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from aekit.config import check_positive
from aekit.errors import ShapeError
from aekit.losses.functional import reconstruction_loss
from aekit.models._backbone import BackboneConfig, Encoder, check_labels
from aekit.models.base import (
    AbstractAutoencoder,
    AEOutput,
    Batch,
    ErrorKind,
    LabelRole,
    LossTerms,
    PreparedBatch,
)
from aekit.models.registry import register_model
from aekit.nn.backbone import build_decoder

__all__ = ["MultiDecoderAutoencoder", "MultiDecoderConfig"]


@dataclasses.dataclass(frozen=True)
class MultiDecoderConfig(BackboneConfig):
    """Config of :class:`MultiDecoderAutoencoder` (encoder/decoder fields: see ``BackboneConfig``).

    Attributes:
        n_domains: Number of domains, hence of decoders.
    """

    n_domains: int = 2

    def validate(self) -> None:
        super().validate()
        check_positive("n_domains", self.n_domains)


@register_model("multi_decoder")
class MultiDecoderAutoencoder(AbstractAutoencoder[MultiDecoderConfig]):
    """Shared encoder with a decoder per domain (the face-swap autoencoder).

    Batches carry the domain of each sample as labels ``y`` ``(B,)`` in ``[0, n_domains)``; they are the
    ``condition`` of ``decode``/``forward``. ``loss = recon``, each sample's reconstruction by its own
    domain's decoder. :meth:`swap` decodes with another domain's decoder.
    """

    config_class = MultiDecoderConfig
    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon")
    label_role: ClassVar[LabelRole | None] = "domains"

    @classmethod
    def config_from_labels(cls, n_labels: int) -> dict[str, Any]:
        """``n_domains`` from the data: one decoder per domain."""
        return {"n_domains": n_labels}

    def __init__(self, config: MultiDecoderConfig) -> None:
        super().__init__(config)
        spec = config.backbone()
        self.encoder = Encoder(spec)
        self.decoders = nn.ModuleList(
            build_decoder(spec, output_activation=config.resolved_output_activation)
            for _ in range(config.n_domains)
        )

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def error_kind(self) -> ErrorKind:
        return self.config.reconstruction

    @property
    def n_domains(self) -> int:
        """Number of domains (decoders)."""
        return self.config.n_domains

    def _domains(self, condition: Tensor | None, batch_size: int) -> Tensor:
        return check_labels(
            condition, self.n_domains, batch_size, name="domain labels", model="multi_decoder"
        )

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """Return ``(x, x, domains)``.

        Raises:
            DataError: The batch has no domain labels or they are out of range.
        """
        inputs, labels = batch
        return inputs, inputs, self._domains(labels, len(inputs))

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Shared codes ``(B, latent_dim)``; the domain is not needed."""
        self.check_input(x)
        return self.encoder(x)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """Decode each code ``(B, latent_dim)`` with the decoder of its domain ``condition`` ``(B,)``."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ShapeError(f"z must have shape (B, {self.latent_dim}); got {tuple(z.shape)}")
        domains = self._domains(condition, len(z)).to(z.device)
        if self.n_domains == 1:
            return self.decoders[0](z)
        out = z.new_empty(len(z), *self.input_shape)
        for domain, decoder in enumerate(self.decoders):
            rows = (domains == domain).nonzero().squeeze(1)
            if len(rows):
                out = out.index_copy(0, rows, decoder(z[rows]))
        return out

    def forward(self, x: Tensor, condition: Tensor | None = None) -> AEOutput:
        """Reconstruct each sample with its own domain's decoder; ``condition`` = domains ``(B,)``."""
        z = self.encode(x)
        return AEOutput(x_hat=self.decode(z, condition), z=z)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``loss = recon``, the configured reconstruction loss averaged over all elements."""
        recon = reconstruction_loss(output.x_hat, target, self.config.reconstruction)
        return {"loss": recon, "recon": recon}

    def swap(self, x: Tensor, target_domain: int | Tensor) -> Tensor:
        """Encode ``x`` ``(B, *input_shape)``; decode it as domain ``target_domain`` (an int or ``(B,)``)."""
        z = self.encode(x)
        domains = torch.as_tensor(target_domain, device=z.device)
        if domains.dim() == 0:
            domains = domains.expand(len(z))
        return self.decode(z, domains)
