"""Generating with a trained model: prior samples, interpolation and latent arithmetic.

* Sampling draws codes from the prior of a VAE (``N(0, I)``) or an adversarial autoencoder (its Gaussian
  or mixture prior) and decodes them. A temperature ``T`` scales the draw's spread around the prior's
  mean (``z = μ + T·(z' − μ)``): below 1 gives cleaner, less varied samples. Conditional models (CVAE,
  conditional AAE) decode with a class label, given or drawn uniformly.
* Interpolation decodes codes on the path between the codes of two inputs: linear, or spherical
  (slerp; Shoemake, "Animating rotation with quaternion curves", SIGGRAPH 1985), which for Gaussian
  latents keeps the path at the typical radius instead of cutting through the low-norm centre (White,
  "Sampling generative networks", 2016).
* Latent arithmetic adds an attribute vector, the mean code of one labelled group minus that of another,
  to the codes of inputs (Larsen et al., "Autoencoding beyond pixels", ICML 2016, §5).

Every function accepts a :class:`~aekit.models.files.ModelBundle` (outputs in the data's scale) or a bare
model (outputs in the model's scale).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from aekit.apps.inference import ModelLike, needs_condition, run_batches, unpack
from aekit.config import check_choice
from aekit.data.normalization import Normalizer
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models.base import AbstractAutoencoder, AbstractGenerativeAutoencoder

__all__ = [
    "INTERPOLATIONS",
    "AttributeEdit",
    "GeneratedSamples",
    "Interpolation",
    "InterpolationMethod",
    "apply_attribute",
    "attribute_vector",
    "interpolate",
    "interpolate_codes",
    "is_conditional",
    "lerp",
    "prior_codes",
    "sample",
    "sample_rows",
    "slerp",
]

InterpolationMethod = Literal["linear", "spherical"]
INTERPOLATIONS: tuple[str, ...] = ("linear", "spherical")


def is_conditional(model: ModelLike) -> bool:
    """True for generative models that decode with a class label (CVAE, conditional AAE)."""
    network, _ = unpack(model)
    return network.generative and network.conditional


def _labels_for(
    network: AbstractAutoencoder, n_samples: int, labels: Tensor | Sequence[int] | int | None, generator
) -> Tensor | None:
    n_classes = network.n_classes if network.conditional else 0
    if n_classes == 0:
        if labels is not None:
            raise ConfigError(
                f"{network.registry_name or type(network).__name__} is not conditional; labels must be None"
            )
        return None
    if labels is None:
        return torch.randint(n_classes, (n_samples,), generator=generator)
    tensor = torch.as_tensor(labels, dtype=torch.int64).reshape(-1)
    if len(tensor) == 1:
        tensor = tensor.expand(n_samples).clone()
    if len(tensor) != n_samples:
        raise ShapeError(f"labels must be one label or {n_samples}; got {len(tensor)}")
    if int(tensor.min()) < 0 or int(tensor.max()) >= n_classes:
        raise DataError(f"labels must lie in [0, {n_classes}); got {tensor.tolist()[:10]}")
    return tensor


def prior_codes(
    model: ModelLike,
    n_samples: int,
    *,
    temperature: float = 1.0,
    labels: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw ``n_samples`` codes ``(n_samples, latent_dim)`` from the model's prior, with temperature.

    ``z = μ + T · (z' − μ)`` where ``z'`` is a prior draw and ``μ`` the mean of its component (0 for a
    standard normal). For a mixture-prior AAE, ``labels`` pick the components (drawn uniformly if None).

    Raises:
        ConfigError: The model has no prior (not a VAE or an adversarial autoencoder), or ``T ≤ 0``.
    """
    network, _ = unpack(model)
    if not isinstance(network, AbstractGenerativeAutoencoder):
        raise ConfigError(
            f"{network.registry_name or type(network).__name__} has no prior to sample; use a VAE, CVAE, "
            "AAE or conditional AAE"
        )
    return network.prior_codes(n_samples, temperature=temperature, labels=labels, generator=generator)


@dataclasses.dataclass(frozen=True)
class GeneratedSamples:
    """Decoded samples with the codes and labels they came from.

    Attributes:
        images: Decoded samples ``(N, *input_shape)`` (original data scale for bundles).
        codes: The codes ``(N, latent_dim)``.
        labels: Class labels used by a conditional model ``(N,)``, else None.
    """

    images: Tensor
    codes: Tensor
    labels: Tensor | None = None


def _decode(
    network: AbstractAutoencoder, normalizer: Normalizer, codes: Tensor, labels: Tensor | None
) -> Tensor:
    return run_batches(
        network,
        lambda z, y: normalizer.inverse_transform(network.decode(z, y).cpu()),
        codes,
        batch_size=max(len(codes), 1),
        condition=labels,
        normalize=False,
    )


def sample(
    model: ModelLike,
    n_samples: int,
    *,
    temperature: float = 1.0,
    labels: Tensor | Sequence[int] | int | None = None,
    generator: torch.Generator | None = None,
) -> GeneratedSamples:
    """Decode ``n_samples`` prior draws (see :func:`prior_codes`); conditional models use ``labels``.

    Args:
        model: A VAE/AAE (conditional or not), or a bundle of one.
        n_samples: Number of samples.
        temperature: Spread of the draw around the prior mean (1 = the prior itself).
        labels: Conditional models: one label for all, or one per sample; drawn uniformly when None.
        generator: Source of the codes and drawn labels (CPU generator).
    """
    network, normalizer = unpack(model)
    chosen = _labels_for(network, n_samples, labels, generator)
    codes = prior_codes(model, n_samples, temperature=temperature, labels=chosen, generator=generator)
    return GeneratedSamples(_decode(network, normalizer, codes, chosen), codes.cpu(), chosen)


def sample_rows(images: Tensor, columns: int) -> np.ndarray:
    """``images`` ``(N, ...)`` as rows of ``columns`` ``(rows, columns, ...)`` for a picture; the last row is
    padded with the images' smallest value (blank in the picture).

    Raises:
        ConfigError: ``columns`` < 1.
    """
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ConfigError(f"--columns must be ≥ 1; got {columns}")
    values = images.detach().cpu().numpy()
    rows = -(-len(values) // columns)
    padded = np.full((rows * columns, *values.shape[1:]), values.min(), dtype=np.float32)
    padded[: len(values)] = values
    return padded.reshape(rows, columns, *values.shape[1:])


# ------------------------------------------------------------------------------------- interpolation


def _weights(n_steps: int) -> Tensor:
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 2:
        raise ConfigError(f"n_steps must be an integer ≥ 2 (both endpoints included); got {n_steps!r}")
    return torch.linspace(0.0, 1.0, n_steps)


def lerp(start: Tensor, end: Tensor, weights: Tensor) -> Tensor:
    """Linear interpolation ``(1 − t)·a + t·b`` of codes ``(D,)``, one row per ``t`` in ``weights``."""
    t = weights.to(start.dtype)[:, None]
    return (1 - t) * start[None] + t * end[None]


def slerp(start: Tensor, end: Tensor, weights: Tensor, *, eps: float = 1e-7) -> Tensor:
    """Spherical interpolation of codes ``(D,)``: ``(T, D)``.

    ``slerp(a, b; t) = sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b`` with ``Ω`` the angle between ``a``
    and ``b``. Endpoints are exact; for ``‖a‖ = ‖b‖`` every point has that norm. Nearly parallel codes
    (``sin Ω < eps``) fall back to :func:`lerp`.
    """
    t = weights.to(torch.float64)[:, None]
    a, b = start.to(torch.float64), end.to(torch.float64)
    cosine = (a @ b) / (a.norm() * b.norm()).clamp_min(1e-300)
    omega = torch.arccos(cosine.clamp(-1.0, 1.0))
    if torch.sin(omega) < eps:
        return lerp(start, end, weights)
    path = (torch.sin((1 - t) * omega) * a[None] + torch.sin(t * omega) * b[None]) / torch.sin(omega)
    return path.to(start.dtype)


def interpolate_codes(
    start: Tensor, end: Tensor, n_steps: int = 8, method: InterpolationMethod = "linear"
) -> Tensor:
    """Codes ``(n_steps, D)`` from ``start`` to ``end`` (both ``(D,)``), endpoints included."""
    check_choice("method", method, INTERPOLATIONS)
    if start.shape != end.shape or start.dim() != 1:
        raise ShapeError(
            "start and end must be codes of the same shape (D,); "
            f"got {tuple(start.shape)} and {tuple(end.shape)}"
        )
    weights = _weights(n_steps)
    return slerp(start, end, weights) if method == "spherical" else lerp(start, end, weights)


@dataclasses.dataclass(frozen=True)
class Interpolation:
    """A decoded path between two codes.

    Attributes:
        images: Decoded samples along the path ``(n_steps, *input_shape)``; first and last are the
            reconstructions of the two inputs.
        codes: The codes ``(n_steps, latent_dim)``.
        weights: The interpolation weights ``t`` in [0, 1] ``(n_steps,)``.
        method: ``linear`` or ``spherical``.
    """

    images: Tensor
    codes: Tensor
    weights: Tensor
    method: str


def _encode(network: AbstractAutoencoder, normalizer: Normalizer, x: Tensor, labels: Tensor | None) -> Tensor:
    return run_batches(
        network, network.encode, x, batch_size=max(len(x), 1), condition=labels, normalizer=normalizer
    )


def interpolate(
    model: ModelLike,
    start: Tensor,
    end: Tensor,
    *,
    n_steps: int = 8,
    method: InterpolationMethod = "linear",
    label: int | None = None,
) -> Interpolation:
    """Decode the path between the codes of two raw inputs ``start`` and ``end`` (each ``(*input_shape)``).

    Args:
        model: Any autoencoder (or bundle); spherical interpolation suits Gaussian latents (VAE, AAE).
        start, end: One input each, or a batch of one.
        n_steps: Points on the path, endpoints included.
        method: ``linear`` or ``spherical``.
        label: The class (conditional models) or domain (multi-decoder models) label, used to encode
            both inputs and decode the path.
    """
    network, normalizer = unpack(model)
    shape = tuple(network.input_shape)
    pair = []
    for name, value in (("start", start), ("end", end)):
        tensor = torch.as_tensor(value)
        if tuple(tensor.shape) == shape:
            tensor = tensor[None]
        if tuple(tensor.shape) != (1, *shape):
            raise ShapeError(f"{name} must have shape {shape} or (1, *{shape}); got {tuple(tensor.shape)}")
        pair.append(tensor)
    conditional = needs_condition(network)  # class labels (cvae, caae) or domains (multi_decoder)
    if conditional and label is None:
        raise ConfigError(
            "this model decodes with a label; pass label=the class (or domain) to interpolate within "
            "(--label on the command line)"
        )
    labels = None if not conditional else torch.tensor([int(label)])  # type: ignore[arg-type]
    codes = _encode(network, normalizer, torch.cat(pair), None if labels is None else labels.expand(2))
    path = interpolate_codes(codes[0], codes[1], n_steps, method)
    path_labels = None if labels is None else labels.expand(len(path)).clone()
    images = _decode(network, normalizer, path, path_labels)
    return Interpolation(images, path.cpu(), _weights(n_steps), method)


# ---------------------------------------------------------------------------------- latent arithmetic


def attribute_vector(
    codes: Tensor | np.ndarray,
    labels: Tensor | np.ndarray,
    positive: int,
    negative: int | None = None,
) -> Tensor:
    """Mean code of the samples labelled ``positive`` minus that of those labelled ``negative``.

    With ``negative=None`` the second mean is over every sample not labelled ``positive``.

    Raises:
        DataError: A group has no samples.
    """
    code_tensor = torch.as_tensor(np.asarray(codes) if not isinstance(codes, Tensor) else codes).float()
    label_tensor = torch.as_tensor(np.asarray(labels) if not isinstance(labels, Tensor) else labels).reshape(
        -1
    )
    if code_tensor.dim() != 2 or len(label_tensor) != len(code_tensor):
        raise ShapeError(
            f"codes must be (N, latent_dim) and labels (N,); got {tuple(code_tensor.shape)} "
            f"and {tuple(label_tensor.shape)}"
        )
    chosen = label_tensor == positive
    other = ~chosen if negative is None else label_tensor == negative
    for name, mask, value in (("positive", chosen, positive), ("negative", other, negative)):
        if not bool(mask.any()):
            raise DataError(f"no sample has the {name} label {value!r}")
    return code_tensor[chosen].mean(0) - code_tensor[other].mean(0)


@dataclasses.dataclass(frozen=True)
class AttributeEdit:
    """Inputs moved along an attribute vector.

    Attributes:
        images: Decoded samples ``(N, S, *input_shape)``: row ``n`` is input ``n`` at each strength.
        codes: The edited codes ``(N, S, latent_dim)``.
        strengths: The multiples of the vector added ``(S,)`` (0 = plain reconstruction).
    """

    images: Tensor
    codes: Tensor
    strengths: Tensor


def apply_attribute(
    model: ModelLike,
    x: Tensor,
    vector: Tensor,
    strengths: Sequence[float] = (-1.0, -0.5, 0.0, 0.5, 1.0),
) -> AttributeEdit:
    """Decode ``encode(x) + s·vector`` for every raw input in ``x`` ``(N, *input_shape)`` and strength ``s``.

    Unconditional models only (a conditional decoder takes the class from its label instead).
    """
    network, normalizer = unpack(model)
    if is_conditional(network):
        raise ConfigError(
            "latent arithmetic needs an unconditional model; change the label of a conditional one"
        )
    vector = torch.as_tensor(vector).float().reshape(-1)
    if len(vector) != network.latent_dim:
        raise ShapeError(
            f"vector must have {network.latent_dim} entries (the latent size); got {len(vector)}"
        )
    steps = torch.as_tensor(list(strengths), dtype=torch.float32)
    if steps.dim() != 1 or len(steps) == 0:
        raise ConfigError(f"strengths must be a non-empty list of numbers; got {list(strengths)!r}")
    codes = _encode(network, normalizer, x, None)
    edited = codes[:, None, :] + steps[None, :, None].to(codes.device) * vector.to(codes.device)
    flat = edited.reshape(-1, network.latent_dim)
    images = _decode(network, normalizer, flat, None)
    return AttributeEdit(images.reshape(len(x), len(steps), *images.shape[1:]), edited.cpu(), steps)
