"""Export a trained model's encoder, decoder and whole autoencoder to ONNX files.

Uses PyTorch's ``torch.export``-based ONNX exporter (needs the ``onnx`` and ``onnxscript`` packages:
``pip install aekit[export]``); the batch dimension stays dynamic. Normalisation is not baked in: apply the
model folder's ``normalization`` entry before the encoder, as ``aekit encode`` does.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator
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


@contextlib.contextmanager
def _exporter_errors(model: AbstractAutoencoder, part: Part) -> Iterator[None]:
    """Keep the exporter's progress lines, warnings and log records quiet, and turn its errors (many
    kinds, with pages of internal text) into one :class:`AekitError` line."""
    torch_onnx_log = logging.getLogger("torch.onnx")
    level = torch_onnx_log.level
    torch_onnx_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    except AekitError:
        raise
    except Exception as error:
        first_line = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
        raise AekitError(
            f"could not export the {part} of {type(model).__name__} to ONNX: "
            f"{type(error).__name__}: {first_line[:200]}"
        ) from None
    finally:
        torch_onnx_log.setLevel(level)


def _exported(model: AbstractAutoencoder, part: Part) -> torch.export.ExportedProgram:
    """Trace one part with ``torch.export``, its batch dimension dynamic: a part whose code fixes the
    batch size is refused (``Constraints violated (batch)``), never exported with a fixed one."""
    wrapper_class, input_name, _ = _WRAPPERS[part]
    wrapper = wrapper_class(model).eval()
    example = torch.zeros(2, *model.input_shape) if input_name == "x" else torch.zeros(2, model.latent_dim)
    batch = torch.export.Dim("batch", min=1)
    with _exporter_errors(model, part):
        return torch.export.export(wrapper, (example,), dynamic_shapes={input_name: {0: batch}})


def _onnx_program(model: AbstractAutoencoder, part: Part) -> torch.onnx.ONNXProgram:
    """The ONNX program of one part, converted from its :func:`_exported` graph (never re-traced: the
    exporter's fallbacks would fix the batch size); its input's batch dimension is checked to be
    symbolic and named ``batch``."""
    _, input_name, output_name = _WRAPPERS[part]
    exported = _exported(model, part)
    with _exporter_errors(model, part):
        program = torch.onnx.export(
            exported, input_names=[input_name], output_names=[output_name], dynamo=True, verbose=False
        )
    if program is None:
        raise AekitError(f"the ONNX exporter returned nothing for the {part} of {type(model).__name__}")
    shape = program.model.graph.inputs[0].shape
    batch = None if shape is None else shape[0]
    if batch is None or isinstance(batch, int):
        raise AekitError(
            f"could not export the {part} of {type(model).__name__} to ONNX with a dynamic batch: the "
            f"exported graph has a fixed batch size{f' of {batch}' if batch else ''}"
        )
    program.rename_axes({batch: "batch"})
    return program


def check_exportable(model: AbstractAutoencoder, parts: tuple[Part, ...] = EXPORT_PARTS) -> list[str]:
    """Trace ``parts`` with ``torch.export`` (the step where models fail to export) and write nothing.

    Returns:
        The parts that trace.

    Raises:
        AekitError: The model takes labels beside its inputs, or a part cannot be traced with a dynamic
            batch.
    """
    _refuse_unsupported(model, parts)
    model = model.eval()
    for part in parts:
        _exported(model, part)
    return list(parts)


def export_onnx(
    model: AbstractAutoencoder, folder: str | os.PathLike[str], parts: tuple[Part, ...] = EXPORT_PARTS
) -> dict[str, Path]:
    """Write ``encoder.onnx``, ``decoder.onnx`` and ``autoencoder.onnx`` (those in ``parts``) to ``folder``.

    Returns:
        Part name → written file.

    Raises:
        AekitError: The ONNX exporter's packages are missing, the model takes labels beside its inputs
            (conditional and multi-decoder models), or a part cannot be traced with a dynamic batch
            (nothing is written then).
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
    programs = {part: _onnx_program(model, part) for part in parts}  # every part, before writing any
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for part, program in programs.items():
        path = target / f"{part}.onnx"
        with atomic_path(path) as temp:
            program.save(str(temp))
        written[part] = path
    return written
