"""Export a trained model's encoder, decoder and whole autoencoder to ONNX files.

Uses PyTorch's ``torch.export``-based ONNX exporter (needs the ``onnx`` and ``onnxscript`` packages:
``pip install aekit[export]``); the batch dimension stays dynamic. Normalisation is not baked in: apply the
model folder's ``normalization`` entry before the encoder, as ``aekit encode`` does.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from aekit.errors import AekitError
from aekit.formats.files import atomic_path
from aekit.models.base import AbstractAutoencoder

__all__ = ["EXPORT_PARTS", "check_exportable", "export_onnx"]

Part = Literal["encoder", "decoder", "autoencoder"]
EXPORT_PARTS: tuple[Part, ...] = ("encoder", "decoder", "autoencoder")


class _Encoder(nn.Module):
    def __init__(self, model: AbstractAutoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model.encode(x)


class _Decoder(nn.Module):
    def __init__(self, model: AbstractAutoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: Tensor) -> Tensor:
        return self.model.decode(z)


class _Autoencoder(nn.Module):
    def __init__(self, model: AbstractAutoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model.reconstruct(x)


_WRAPPERS: dict[str, tuple[type[nn.Module], str, str]] = {
    "encoder": (_Encoder, "x", "z"),
    "decoder": (_Decoder, "z", "x_hat"),
    "autoencoder": (_Autoencoder, "x", "x_hat"),
}


def _refuse_unsupported(model: AbstractAutoencoder, parts: tuple[Part, ...]) -> None:
    unknown = [part for part in parts if part not in _WRAPPERS]
    if unknown or not parts:
        raise AekitError(f"parts must be some of {', '.join(EXPORT_PARTS)}; got {list(parts)}")
    if model.conditional or model.label_role == "domains":
        what = "class labels" if model.conditional else "a domain index"
        raise AekitError(
            f"{model.registry_name or type(model).__name__} takes {what} beside its inputs; "
            "ONNX export covers models whose encoder and decoder take one tensor"
        )


def _program(model: AbstractAutoencoder, part: Part, *, onnx: bool):
    """Trace one part with a dynamic batch: an ONNX program, or only ``torch.export``'s graph."""
    wrapper_class, input_name, output_name = _WRAPPERS[part]
    wrapper = wrapper_class(model).eval()
    example = torch.zeros(2, *model.input_shape) if input_name == "x" else torch.zeros(2, model.latent_dim)
    batch = torch.export.Dim("batch", min=1)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        # the exporter's own progress lines and internal deprecation notices are not the user's concern
        warnings.simplefilter("ignore")
        try:
            if not onnx:
                return torch.export.export(wrapper, (example,), dynamic_shapes={input_name: {0: batch}})
            return torch.onnx.export(
                wrapper,
                (example,),
                input_names=[input_name],
                output_names=[output_name],
                dynamic_shapes={input_name: {0: batch}},
                dynamo=True,
                verbose=False,
            )
        except Exception as error:  # the exporter raises many kinds, with pages of internal text
            first_line = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
            raise AekitError(
                f"could not export the {part} of {type(model).__name__} to ONNX: "
                f"{type(error).__name__}: {first_line[:200]}"
            ) from None


def check_exportable(model: AbstractAutoencoder, parts: tuple[Part, ...] = EXPORT_PARTS) -> list[str]:
    """Trace ``parts`` with ``torch.export`` (the step where models fail to export) and write nothing.

    Returns:
        The parts that trace.

    Raises:
        AekitError: The model takes labels beside its inputs, or a part cannot be traced.
    """
    _refuse_unsupported(model, parts)
    model = model.eval()
    for part in parts:
        _program(model, part, onnx=False)
    return list(parts)


def export_onnx(
    model: AbstractAutoencoder, folder: str | os.PathLike[str], parts: tuple[Part, ...] = EXPORT_PARTS
) -> dict[str, Path]:
    """Write ``encoder.onnx``, ``decoder.onnx`` and ``autoencoder.onnx`` (those in ``parts``) to ``folder``.

    Returns:
        Part name → written file.

    Raises:
        AekitError: The ONNX exporter's packages are missing, the model takes labels beside its inputs
            (conditional and multi-decoder models), or a part cannot be traced.
    """
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise AekitError(
            "ONNX export needs the onnx and onnxscript packages: pip install 'aekit[export]'"
        ) from None
    _refuse_unsupported(model, parts)
    model = model.eval()
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for part in parts:
        program = _program(model, part, onnx=True)
        if program is None:
            raise AekitError(f"the ONNX exporter returned nothing for the {part} of {type(model).__name__}")
        path = target / f"{part}.onnx"
        with atomic_path(path) as temp:
            program.save(str(temp))
        written[part] = path
    return written
