"""``aekit encode``, ``aekit decode`` and ``aekit reconstruct``: a saved model applied to data files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aekit.cli._console import data_out, guarded, message, progress_iter
from aekit.cli.options import check_positive_option, parse_size

if TYPE_CHECKING:
    from torch import Tensor

    from aekit.models.files import ModelBundle

__all__ = ["register"]

ModelOption = Annotated[Path, typer.Option("--model", help="Model folder (config.json + model.safetensors).")]
OutputOption = Annotated[Path, typer.Option("--output", "-o", help="Output file: .npy, .csv or .parquet.")]


def encode(
    source: Annotated[
        str,
        typer.Argument(help="Dataset name or path (.npy/.npz/.csv/.parquet, an image or an image folder)."),
    ],
    model_dir: ModelOption,
    output: OutputOption,
    split: Annotated[str, typer.Option(help="train or test (MNIST/Fashion-MNIST).")] = "train",
    data_dir: Annotated[Path | None, typer.Option(help="Folder of the MNIST/Fashion-MNIST files.")] = None,
    image_size: Annotated[str | None, typer.Option(help="Resize images, e.g. 28.")] = None,
    batch_size: Annotated[int, typer.Option(help="Samples per batch.")] = 1024,
    chunk_rows: Annotated[
        int, typer.Option(help="Rows read at once when streaming .npy/.parquet files.")
    ] = 8192,
) -> None:
    """Encode inputs to latent codes (normalised as at training time).

    ``.npy`` and Parquet inputs are streamed in chunks, so files larger than memory work.

    Example:

      aekit encode digits --model runs/demo/model -o codes.npy
    """
    from aekit.apps.inference import encode_chunks, encode_dataset, needs_condition
    from aekit.formats.matrices import MatrixWriter, write_matrix
    from aekit.formats.streaming import STREAMABLE_SUFFIXES, open_chunks
    from aekit.models.files import load

    check_positive_option("batch_size", batch_size)
    check_positive_option("chunk_rows", chunk_rows)
    bundle = load(model_dir)
    path = Path(source)
    streamable = path.name.lower().endswith(STREAMABLE_SUFFIXES) and path.is_file()
    if streamable and not needs_condition(bundle.model):
        # Stream: memory stays bounded whatever the file size.
        n_rows, chunks = open_chunks(path, rows_per_chunk=chunk_rows, columns=bundle.feature_names)
        with MatrixWriter(output, n_rows, bundle.model.latent_dim, prefix="z") as writer:
            for codes in encode_chunks(
                bundle, progress_iter(chunks, -(-n_rows // chunk_rows), "encoding"), batch_size=batch_size
            ):
                writer.write(codes.numpy())
        n_samples = n_rows
    else:
        x, labels = _model_inputs(bundle, source, split, data_dir, image_size)
        codes = encode_dataset(bundle, x, batch_size=batch_size, condition=labels)
        write_matrix(output, codes.numpy(), prefix="z")
        n_samples = len(codes)
    plural = "" if n_samples == 1 else "s"
    message(f"encoded {n_samples} sample{plural} to {bundle.model.latent_dim}-D codes")
    data_out(
        {"output": str(output), "n_samples": n_samples, "latent_dim": bundle.model.latent_dim}, str(output)
    )


def decode(
    codes_file: Annotated[
        Path, typer.Argument(help="Codes: .npy, .csv or .parquet with latent_dim columns.")
    ],
    model_dir: ModelOption,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Output .npy of decoded samples (original scale).")
    ],
    label: Annotated[
        int | None,
        typer.Option(help="Class (cvae, caae) or domain (multi_decoder) every code is decoded with."),
    ] = None,
) -> None:
    """Decode latent codes to samples in the data's original scale.

    Examples:

      aekit decode codes.npy --model runs/demo/model -o decoded.npy

      aekit decode codes.npy --model runs/cvae/model --label 3 -o threes.npy
    """
    import torch

    from aekit.apps.inference import decode_codes, needs_condition
    from aekit.errors import ConfigError
    from aekit.formats.files import check_output_suffix
    from aekit.formats.matrices import read_matrix, write_array
    from aekit.models.files import load

    check_output_suffix(output, (".npy",), "decoded samples")
    bundle = load(model_dir)
    codes = read_matrix(codes_file)
    if label is not None and not needs_condition(bundle.model):
        raise ConfigError("--label is for models that decode with a class or domain; this one does not")
    if label is None and needs_condition(bundle.model):
        raise ConfigError(f"{model_dir} decodes with a class or domain label: pass --label")
    condition = None if label is None else torch.full((len(codes),), label, dtype=torch.long)
    decoded = decode_codes(bundle, codes, condition=condition)
    write_array(output, decoded.numpy())
    data_out({"output": str(output), "shape": list(decoded.shape)}, str(output))


def reconstruct(
    source: Annotated[str, typer.Argument(help="Dataset name or path.")],
    model_dir: ModelOption,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Output .npy of reconstructions (original scale).")
    ],
    split: Annotated[str, typer.Option(help="train or test.")] = "train",
    data_dir: Annotated[Path | None, typer.Option(help="Folder of the MNIST/Fashion-MNIST files.")] = None,
    image_size: Annotated[str | None, typer.Option(help="Resize images, e.g. 28.")] = None,
) -> None:
    """Reconstruct inputs through the model (encode then decode), in the original scale.

    Example:

      aekit reconstruct digits --model runs/demo/model -o recon.npy
    """
    from aekit.apps.inference import reconstruct_dataset
    from aekit.formats.files import check_output_suffix
    from aekit.formats.matrices import write_array
    from aekit.models.files import load

    check_output_suffix(output, (".npy",), "reconstructions")
    bundle = load(model_dir)
    x, labels = _model_inputs(bundle, source, split, data_dir, image_size)
    result = reconstruct_dataset(bundle, x, condition=labels)
    write_array(output, result.numpy())
    data_out({"output": str(output), "shape": list(result.shape)}, str(output))


def _model_inputs(
    bundle: ModelBundle, source: str, split: str, data_dir: Path | None, image_size: str | None
) -> tuple[Tensor, Tensor | None]:
    """Raw samples of ``source`` as the model takes them, and their labels when it needs them: a table's
    columns by the model's names; image files and folders resized to its input (unless ``image_size``
    says otherwise), their pixels and channels fitted to it (:func:`~aekit.data.sources.as_model_inputs`)."""
    from aekit.apps.inference import needs_condition
    from aekit.data.datasets import load_dataset
    from aekit.data.sources import as_model_inputs
    from aekit.formats.suffixes import kind_of

    shape, path = bundle.model.input_shape, Path(source)
    is_images = path.is_dir() or (path.is_file() and kind_of(path) == "image")
    model_size = (int(shape[1]), int(shape[2])) if len(shape) == 3 and is_images else None
    loaded = load_dataset(
        source,
        split=split,  # type: ignore[arg-type]
        data_dir=data_dir,
        image_size=parse_size(image_size) or model_size,
        columns=bundle.feature_names,
    )
    x = as_model_inputs(loaded.data.x, loaded, shape, bundle.normalizer)
    return x, loaded.data.y if needs_condition(bundle.model) else None


def register(app: typer.Typer) -> None:
    """Add this file's commands to the root app."""
    app.command()(guarded(encode))
    app.command()(guarded(decode))
    app.command()(guarded(reconstruct))
