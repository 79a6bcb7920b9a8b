"""Similarity search over latent codes: nearest-neighbour indexes, queries by image or code, and scores.

Two indexes share one interface (:class:`AbstractCodeIndex`):

* :class:`ExactIndex` compares a query with every stored code (the default; exact).
* :class:`IVFIndex`, an inverted-file index for large collections: a k-means coarse quantiser splits the
  codes into ``n_lists`` cells, and a query only scans the ``n_probe`` cells whose centroids are nearest
  (Sivic & Zisserman, "Video Google", ICCV 2003; Jégou et al., "Product quantization for nearest
  neighbor search", TPAMI 2011, §IV). It trades recall for speed; ``n_probe = n_lists`` is exact.

An index folder holds ``index.safetensors`` (codes, labels, cell structure) and ``index.json`` (kind,
metric, item names, the checksum of the model that made the codes); nothing is pickled. Scores against
labels: precision@k and mean average precision over the full ranking.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor

from aekit._version import __version__
from aekit.apps.inference import decode_codes, encode_dataset, encode_with_labels
from aekit.config import check_choice
from aekit.data.normalization import Normalizer, rescale_to_model
from aekit.errors import ConfigError, DataError, ModelFileError, ShapeError
from aekit.formats.files import atomic_path, atomic_write_text, make_output_folder
from aekit.formats.images import open_with_pillow
from aekit.models.files import ModelBundle, read_config

__all__ = [
    "INDEX_KINDS",
    "METRICS",
    "AbstractCodeIndex",
    "ExactIndex",
    "IVFIndex",
    "IndexKind",
    "Metric",
    "RetrievalScores",
    "SearchResult",
    "average_precision",
    "build_index",
    "evaluate_retrieval",
    "index_dataset",
    "load_index",
    "load_query_images",
    "neighbour_images",
    "precision_at_k",
    "ranking_average_precision",
    "recall_at_k",
    "save_index",
    "search_images",
]

Metric = Literal["euclidean", "cosine"]
IndexKind = Literal["exact", "ivf"]
METRICS: tuple[str, ...] = ("euclidean", "cosine")
INDEX_KINDS: tuple[str, ...] = ("exact", "ivf")
INDEX_FORMAT_VERSION = 1
INDEX_CONFIG = "index.json"
INDEX_TENSORS = "index.safetensors"


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """The ``k`` nearest stored items of each query, nearest first.

    Attributes:
        indices: Positions of the items in the index ``(Q, k)``; ``−1`` where fewer than ``k`` items were
            scanned (an IVF search over small cells).
        distances: Their distances ``(Q, k)`` (Euclidean, or ``1 − cosine similarity``); ``inf`` beside
            ``−1`` indices.
    """

    indices: Tensor
    distances: Tensor


def _as_codes(codes: Tensor | np.ndarray, name: str, latent_dim: int | None = None) -> Tensor:
    tensor = torch.as_tensor(np.asarray(codes) if not isinstance(codes, Tensor) else codes)
    if tensor.dim() != 2:
        raise ShapeError(f"{name} must have shape (N, latent_dim); got {tuple(tensor.shape)}")
    if latent_dim is not None and tensor.shape[1] != latent_dim:
        raise ShapeError(f"{name} must have shape (N, {latent_dim}); got {tuple(tensor.shape)}")
    if not (tensor.is_floating_point() or tensor.dtype in (torch.int32, torch.int64)):
        raise DataError(f"{name} must be numeric; got dtype {tensor.dtype}")
    tensor = tensor.detach().to("cpu", torch.float32).contiguous()
    if not torch.isfinite(tensor).all():
        raise DataError(f"{name} contains NaN or infinite values")
    return tensor


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be a positive integer; got {k!r}")


def _pairwise_distances(queries: Tensor, codes: Tensor, metric: str) -> Tensor:
    """Distances ``(Q, N)``; for cosine both sides must already be unit vectors."""
    if metric == "cosine":
        return 1.0 - queries @ codes.T
    squared = (queries * queries).sum(1, keepdim=True) - 2.0 * queries @ codes.T + (codes * codes).sum(1)
    return squared.clamp_min(0.0).sqrt()


def _direct_distances(queries: Tensor, candidates: Tensor, metric: str) -> Tensor:
    """Distances ``(Q, C)`` of queries ``(Q, D)`` to their own candidates ``(Q, C, D)``, computed directly."""
    if metric == "cosine":
        return 1.0 - torch.einsum("qd,qcd->qc", queries, candidates)
    difference = candidates - queries[:, None, :]
    return (difference * difference).sum(-1).sqrt()


def _normalise(codes: Tensor) -> Tensor:
    return codes / codes.norm(dim=1, keepdim=True).clamp_min(1e-12)


class AbstractCodeIndex(ABC):
    """A searchable collection of codes with optional labels and item names.

    Args:
        codes: Stored codes ``(N, latent_dim)``.
        labels: Integer class of each item ``(N,)`` (for precision@k and mAP), or None.
        names: A name for each item (file names, row ids), or None.
        metric: ``euclidean`` or ``cosine`` (``1 − cosine similarity``).
        model_sha256: Checksum of the weights of the model that made the codes, so a query encoded by
            another model is refused; None when unknown.
        source: The folder the item names are paths in (image folders), so results can show the items'
            own files; None otherwise.
        class_names: Name of each label value, for showing results; None when unknown.
    """

    kind: ClassVar[str] = ""

    def __init__(
        self,
        codes: Tensor | np.ndarray,
        *,
        labels: Tensor | np.ndarray | None = None,
        names: Sequence[str] | None = None,
        metric: Metric = "euclidean",
        model_sha256: str | None = None,
        source: str | None = None,
        class_names: Sequence[str] | None = None,
    ) -> None:
        check_choice("metric", metric, METRICS)
        self.codes = _as_codes(codes, "codes")
        if len(self.codes) == 0:
            raise DataError("an index needs at least one code; got 0")
        self.labels = None if labels is None else torch.as_tensor(np.asarray(labels)).long().reshape(-1)
        if self.labels is not None and len(self.labels) != len(self.codes):
            raise ShapeError(f"labels must have shape ({len(self.codes)},); got {tuple(self.labels.shape)}")
        self.names = None if names is None else tuple(str(n) for n in names)
        if self.names is not None and len(self.names) != len(self.codes):
            raise ShapeError(f"names must list {len(self.codes)} items; got {len(self.names)}")
        self.metric: Metric = metric
        self.model_sha256 = model_sha256
        self.source = source
        self.class_names = None if class_names is None else tuple(str(n) for n in class_names)
        self._search_codes = _normalise(self.codes) if metric == "cosine" else self.codes

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def latent_dim(self) -> int:
        """Size of the stored codes."""
        return int(self.codes.shape[1])

    def search(self, queries: Tensor | np.ndarray, k: int = 10, *, batch_size: int = 256) -> SearchResult:
        """The ``k`` nearest items of each query code ``(Q, latent_dim)`` (``k`` is capped at ``len``)."""
        _check_k(k)
        query_codes = _as_codes(queries, "queries", self.latent_dim)
        if self.metric == "cosine":
            query_codes = _normalise(query_codes)
        k = min(k, len(self))
        parts = [
            self._search_batch(query_codes[start : start + batch_size], k)
            for start in range(0, len(query_codes), batch_size)
        ]
        if not parts:
            empty = torch.empty(0, k)
            return SearchResult(empty.long(), empty)
        return SearchResult(torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]))

    @abstractmethod
    def _search_batch(self, queries: Tensor, k: int) -> tuple[Tensor, Tensor]:
        """``(indices, distances)`` ``(Q, k)`` for prepared (normalised if cosine) queries."""

    def _extra_tensors(self) -> dict[str, Tensor]:
        return {}

    def _settings(self) -> dict[str, Any]:
        return {}


class ExactIndex(AbstractCodeIndex):
    """Brute-force search: every query is compared with every stored code (matrix products, batched)."""

    kind = "exact"

    def _search_batch(self, queries: Tensor, k: int) -> tuple[Tensor, Tensor]:
        # The matrix-product form of the distance loses precision for near-identical codes, so the k
        # winners' distances are computed again directly and the winners re-sorted by them.
        distances = _pairwise_distances(queries, self._search_codes, self.metric)
        indices = distances.topk(k, dim=1, largest=False, sorted=True).indices
        exact = _direct_distances(queries, self._search_codes[indices], self.metric)
        order = exact.argsort(dim=1, stable=True)
        return indices.gather(1, order), exact.gather(1, order)


class IVFIndex(AbstractCodeIndex):
    """Inverted-file index: search only the ``n_probe`` k-means cells nearest to each query.

    Args:
        codes, labels, names, metric, model_sha256: As in :class:`AbstractCodeIndex`.
        n_lists: Number of cells; about ``sqrt(N)`` is usual. Capped at ``N``.
        n_probe: Cells scanned per query (more → higher recall, slower).
        n_iterations: Lloyd iterations of the coarse k-means.
        random_state: Seed of the k-means initialisation.
        centroids: Cell centres ``(n_lists, latent_dim)`` to reuse instead of training (loading).
    """

    kind = "ivf"

    def __init__(
        self,
        codes: Tensor | np.ndarray,
        *,
        labels: Tensor | np.ndarray | None = None,
        names: Sequence[str] | None = None,
        metric: Metric = "euclidean",
        model_sha256: str | None = None,
        source: str | None = None,
        class_names: Sequence[str] | None = None,
        n_lists: int = 64,
        n_probe: int = 8,
        n_iterations: int = 20,
        random_state: int = 0,
        centroids: Tensor | None = None,
    ) -> None:
        super().__init__(
            codes,
            labels=labels,
            names=names,
            metric=metric,
            model_sha256=model_sha256,
            source=source,
            class_names=class_names,
        )
        for name, value in (("n_lists", n_lists), ("n_probe", n_probe), ("n_iterations", n_iterations)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer; got {value!r}")
        self.n_lists = min(n_lists, len(self))
        self.n_probe = min(n_probe, self.n_lists)
        self.random_state = random_state
        if centroids is None:
            centroids = _kmeans(self._search_codes, self.n_lists, n_iterations, random_state, self.metric)
        self.centroids = _as_codes(centroids, "centroids", self.latent_dim)
        self.n_lists = len(self.centroids)
        self.n_probe = min(self.n_probe, self.n_lists)
        cells = _nearest(self._search_codes, self.centroids, self.metric)
        sizes = torch.bincount(cells, minlength=self.n_lists)
        order = torch.argsort(cells, stable=True)
        # Cells padded to the largest one (members first), so a batch of queries gathers its candidates
        # in one go; each batch then keeps only as many columns as its largest probed cell needs.
        self.sizes = sizes
        width = int(sizes.max())
        offsets = torch.cumsum(sizes, 0) - sizes
        self.lists = torch.full((self.n_lists, width), -1, dtype=torch.int64)
        rank_in_cell = torch.arange(len(order)) - offsets[cells[order]]
        self.lists[cells[order], rank_in_cell] = order

    def _search_batch(self, queries: Tensor, k: int) -> tuple[Tensor, Tensor]:
        to_centroids = _pairwise_distances(queries, self.centroids, self.metric)
        probes = to_centroids.topk(self.n_probe, dim=1, largest=False).indices  # (Q, P)
        width = int(self.sizes[probes].max())
        # Keep the gathered block (queries × candidates × D) near 16 M floats (64 MB).
        chunk = max(1, 16_000_000 // max(1, self.n_probe * width * self.latent_dim))
        if len(queries) > chunk:
            parts = [self._search_batch(queries[i : i + chunk], k) for i in range(0, len(queries), chunk)]
            return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
        candidates = self.lists[probes][:, :, :width].reshape(len(queries), -1)  # (Q, P·width)
        valid = candidates >= 0
        distances = _direct_distances(queries, self._search_codes[candidates.clamp_min(0)], self.metric)
        distances = distances.masked_fill(~valid, float("inf"))
        take = min(k, distances.shape[1])
        values, positions = distances.topk(take, dim=1, largest=False, sorted=True)
        indices = candidates.gather(1, positions).masked_fill(~torch.isfinite(values), -1)
        if take < k:
            pad = k - take
            indices = torch.cat([indices, indices.new_full((len(queries), pad), -1)], dim=1)
            values = torch.cat([values, values.new_full((len(queries), pad), float("inf"))], dim=1)
        return indices, values

    def _extra_tensors(self) -> dict[str, Tensor]:
        return {"centroids": self.centroids}

    def _settings(self) -> dict[str, Any]:
        return {"n_lists": self.n_lists, "n_probe": self.n_probe, "random_state": self.random_state}


def _nearest(points: Tensor, centres: Tensor, metric: str, batch_size: int = 4096) -> Tensor:
    return torch.cat(
        [
            _pairwise_distances(points[i : i + batch_size], centres, metric).argmin(1)
            for i in range(0, len(points), batch_size)
        ]
    )


def _kmeans(points: Tensor, n_clusters: int, n_iterations: int, seed: int, metric: str) -> Tensor:
    """Lloyd's k-means from ``n_clusters`` distinct random points (seeded); empty cells keep their centre."""
    generator = torch.Generator().manual_seed(seed)
    centres = points[torch.randperm(len(points), generator=generator)[:n_clusters]].clone()
    for _ in range(n_iterations):
        cells = _nearest(points, centres, metric)
        sums = torch.zeros_like(centres).index_add_(0, cells, points)
        counts = torch.bincount(cells, minlength=n_clusters).to(points.dtype)
        filled = counts > 0
        updated = centres.clone()
        updated[filled] = sums[filled] / counts[filled, None]
        if metric == "cosine":
            updated = _normalise(updated)
        if torch.equal(updated, centres):
            break
        centres = updated
    return centres


# ---------------------------------------------------------------------------------------- building


def build_index(
    codes: Tensor | np.ndarray,
    *,
    kind: IndexKind = "exact",
    labels: Tensor | np.ndarray | None = None,
    names: Sequence[str] | None = None,
    metric: Metric = "euclidean",
    model_sha256: str | None = None,
    source: str | None = None,
    class_names: Sequence[str] | None = None,
    **ivf_options: Any,
) -> AbstractCodeIndex:
    """Build an :class:`ExactIndex` or an :class:`IVFIndex` (``n_lists``, ``n_probe``... as options)."""
    check_choice("kind", kind, INDEX_KINDS)
    common: dict[str, Any] = {
        "labels": labels,
        "names": names,
        "metric": metric,
        "model_sha256": model_sha256,
        "source": source,
        "class_names": class_names,
    }
    if kind == "exact":
        if ivf_options:
            raise ConfigError(f"options {sorted(ivf_options)} apply to kind 'ivf' only")
        return ExactIndex(codes, **common)
    return IVFIndex(codes, **common, **ivf_options)


def _model_sha256(bundle: ModelBundle) -> str | None:
    try:
        return str(read_config(bundle.path)["weights_sha256"])
    except (ModelFileError, OSError):
        return None


def index_dataset(
    bundle: ModelBundle,
    x: Tensor,
    *,
    kind: IndexKind = "exact",
    labels: Tensor | np.ndarray | None = None,
    names: Sequence[str] | None = None,
    metric: Metric = "euclidean",
    batch_size: int = 1024,
    source: str | None = None,
    class_names: Sequence[str] | None = None,
    **ivf_options: Any,
) -> AbstractCodeIndex:
    """Encode raw inputs ``x`` with a saved model and index their codes (remembering the model).

    ``source`` (the folder ``names`` are paths in) and ``class_names`` are kept so that search results
    can show the items' own files and label names; ``labels`` also go beside the inputs of a model that
    encodes with labels (CVAE).
    """
    codes = encode_with_labels(bundle, x, labels, batch_size=batch_size)
    return build_index(
        codes,
        kind=kind,
        labels=labels,
        names=names,
        metric=metric,
        model_sha256=_model_sha256(bundle),
        source=source,
        class_names=class_names,
        **ivf_options,
    )


def search_images(
    bundle: ModelBundle, index: AbstractCodeIndex, x: Tensor, k: int = 10, *, check_model: bool = True
) -> SearchResult:
    """The ``k`` nearest indexed items of raw inputs ``x`` ``(Q, *input_shape)``, encoded by ``bundle``.

    Raises:
        ModelFileError: ``check_model`` and the index was built with another model's codes.
    """
    if check_model and index.model_sha256 is not None:
        current = _model_sha256(bundle)
        if current is not None and current != index.model_sha256:
            raise ModelFileError(
                f"the index was built with another model (weights {index.model_sha256[:12]}…); "
                f"{bundle.path} has weights {current[:12]}… — rebuild the index with this model"
            )
    if bundle.model.latent_dim != index.latent_dim:
        raise ShapeError(
            f"the model makes {bundle.model.latent_dim}-D codes but the index holds "
            f"{index.latent_dim}-D codes"
        )
    return index.search(encode_dataset(bundle, x), k)


def load_query_images(
    paths: Sequence[str | os.PathLike[str]], input_shape: Sequence[int], normalizer: Normalizer | None = None
) -> Tensor:
    """Read image files as raw model inputs ``(Q, C, H, W)``, resized and converted to fit: 0..255, or,
    with the model's ``normalizer``, moved onto the pixel range it was trained in (:func:`rescale_to_model`).

    Raises:
        DataError: A file cannot be read as an image.
        ShapeError: The model does not take images ``(C, H, W)`` with 1 or 3 channels.
    """
    from PIL import Image

    shape = tuple(input_shape)
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise ShapeError(f"image queries need a model of images (1 or 3, H, W); this one takes {shape}")
    channels, height, width = shape
    arrays = []
    for path in paths:
        with open_with_pillow(Path(path)) as image:
            converted = image.convert("L" if channels == 1 else "RGB")
        if converted.size != (width, height):
            converted = converted.resize((width, height), Image.Resampling.BILINEAR)
        array = np.asarray(converted, dtype=np.float32).reshape(height, width, channels)
        arrays.append(array.transpose(2, 0, 1))
    if not arrays:
        raise DataError("no query images given")
    pixels = torch.from_numpy(np.stack(arrays))
    return pixels if normalizer is None else rescale_to_model(pixels, (0.0, 255.0), normalizer)


def neighbour_images(bundle: ModelBundle, index: AbstractCodeIndex, found: Tensor) -> tuple[Tensor, str]:
    """Pictures of the indexed items ``found`` (positions, any shape): their own image files when the
    index knows its image folder and the files are still there, else their decoded codes.

    Returns:
        Raw images ``(found.numel(), *input_shape)`` and what they are (``"the files"`` or
        ``"the decoded codes"``).
    """
    positions = found.reshape(-1).tolist()
    if index.source is not None and index.names is not None:
        files = [Path(index.source) / index.names[i] for i in positions]
        if all(path.is_file() for path in files):
            return load_query_images(files, bundle.model.input_shape, bundle.normalizer), "the files"
    return decode_codes(bundle, index.codes[found.reshape(-1)]), "the decoded codes"


# ------------------------------------------------------------------------------------------- files


def save_index(index: AbstractCodeIndex, folder: str | os.PathLike[str]) -> Path:
    """Write ``index`` to ``folder`` as ``index.safetensors`` + ``index.json`` (atomic writes)."""
    target = make_output_folder(folder, "an index")
    tensors = {"codes": index.codes, **index._extra_tensors()}
    if index.labels is not None:
        tensors["labels"] = index.labels
    with atomic_path(target / INDEX_TENSORS) as temp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(temp))
    document = {
        "format": "aekit-index",
        "format_version": INDEX_FORMAT_VERSION,
        "aekit_version": __version__,
        "kind": index.kind,
        "metric": index.metric,
        "n_items": len(index),
        "latent_dim": index.latent_dim,
        "settings": index._settings(),
        "model_sha256": index.model_sha256,
        "names": list(index.names) if index.names is not None else None,
        "source": index.source,
        "class_names": list(index.class_names) if index.class_names is not None else None,
    }
    atomic_write_text(target / INDEX_CONFIG, json.dumps(document, indent=1) + "\n")
    return target


def load_index(folder: str | os.PathLike[str]) -> AbstractCodeIndex:
    """Load an index folder written by :func:`save_index` (no pickle; the structure is checked).

    Raises:
        ModelFileError: Missing files, invalid JSON, another format or a newer version, or tensors that
            do not match the description.
    """
    path = Path(folder) / INDEX_CONFIG
    tensors_path = Path(folder) / INDEX_TENSORS
    if not path.is_file() or not tensors_path.is_file():
        raise ModelFileError(
            f"{Path(folder)} is not an aekit index folder: {INDEX_CONFIG} or {INDEX_TENSORS} is missing"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != "aekit-index":
        raise ModelFileError(f"{path} is not an aekit index description")
    version = document.get("format_version")
    if not isinstance(version, int) or version > INDEX_FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has format_version {version!r}; this aekit reads up to {INDEX_FORMAT_VERSION}"
        )
    try:
        tensors = load_file(str(tensors_path))
    except (SafetensorError, OSError) as error:
        raise ModelFileError(f"cannot read {tensors_path}: {error}") from None
    if "codes" not in tensors or tuple(tensors["codes"].shape) != (
        document.get("n_items"),
        document.get("latent_dim"),
    ):
        raise ModelFileError(
            f"{tensors_path} does not hold the {document.get('n_items')} codes {path} describes"
        )
    source, class_names = document.get("source"), document.get("class_names")
    names_ok = class_names is None or (
        isinstance(class_names, list) and all(isinstance(n, str) for n in class_names)
    )
    if not (source is None or isinstance(source, str)) or not names_ok:
        raise ModelFileError(f"{path}: source must be a string and class_names a list of strings")
    common: dict[str, Any] = {
        "labels": tensors.get("labels"),
        "names": document.get("names"),
        "metric": document.get("metric", "euclidean"),
        "model_sha256": document.get("model_sha256"),
        "source": document.get("source"),
        "class_names": document.get("class_names"),
    }
    kind = document.get("kind")
    try:
        if kind == "exact":
            return ExactIndex(tensors["codes"], **common)
        if kind == "ivf":
            settings = document.get("settings", {})
            if "centroids" not in tensors:
                raise ModelFileError(f"{tensors_path} lacks the IVF centroids")
            return IVFIndex(
                tensors["codes"],
                **common,
                n_lists=int(settings.get("n_lists", len(tensors["centroids"]))),
                n_probe=int(settings.get("n_probe", 8)),
                random_state=int(settings.get("random_state", 0)),
                centroids=tensors["centroids"],
            )
    except (ConfigError, DataError, ShapeError) as error:
        raise ModelFileError(f"{path}: {error}") from None
    raise ModelFileError(f"{path} names unknown index kind {kind!r}; known: {', '.join(INDEX_KINDS)}")


# ------------------------------------------------------------------------------------------ scores


def precision_at_k(retrieved_labels: Tensor | np.ndarray, query_labels: Tensor | np.ndarray) -> float:
    """Mean share of the ``k`` retrieved items that have the query's label.

    ``P@k = (1/Q) Σ_q (1/k) Σ_{i ≤ k} [label(r_qi) = label(q)]`` for retrieved labels ``(Q, k)``.
    """
    retrieved = torch.as_tensor(np.asarray(retrieved_labels))
    queries = torch.as_tensor(np.asarray(query_labels))
    if retrieved.dim() != 2 or queries.shape != (retrieved.shape[0],):
        raise ShapeError(
            f"retrieved_labels must be (Q, k) and query_labels (Q,); got {tuple(retrieved.shape)} and "
            f"{tuple(queries.shape)}"
        )
    if retrieved.numel() == 0:
        raise DataError("no retrieved items to score")
    return float((retrieved == queries[:, None]).float().mean())


def recall_at_k(approximate: Tensor, exact: Tensor) -> float:
    """Share of the exact ``k`` nearest neighbours that an approximate search also returned.

    Both are index tensors ``(Q, k)`` (``−1`` entries of the approximate search never match).
    """
    if approximate.shape != exact.shape:
        raise ShapeError(
            f"both searches must have the same shape; got {tuple(approximate.shape)} and {tuple(exact.shape)}"
        )
    hits = (approximate[:, :, None] == exact[:, None, :]).any(dim=1)
    return float(hits.float().mean())


def average_precision(relevance: Tensor | np.ndarray) -> Tensor:
    """Average precision of each ranked list of relevance flags ``(Q, N)`` (best-ranked first): ``(Q,)``.

    ``AP = (1/R) Σ_n P@n · rel_n`` with ``R = Σ_n rel_n`` relevant items; a list with none scores 0.
    """
    flags = torch.as_tensor(np.asarray(relevance)).float()
    if flags.dim() != 2:
        raise ShapeError(f"relevance must have shape (Q, N); got {tuple(flags.shape)}")
    ranks = torch.arange(1, flags.shape[1] + 1, dtype=torch.float32)
    precision = flags.cumsum(1) / ranks
    relevant = flags.sum(1)
    return torch.where(relevant > 0, (precision * flags).sum(1) / relevant.clamp_min(1), 0.0)


def ranking_average_precision(
    index: AbstractCodeIndex,
    query_codes: Tensor | np.ndarray,
    query_labels: Tensor | np.ndarray,
    *,
    exclude_self: bool = False,
    batch_size: int = 128,
) -> Tensor:
    """Average precision of each query over the exact ranking of every indexed item ``(Q,)``.

    Args:
        exclude_self: The queries are the indexed items themselves, in order; each query's own item is
            left out of its ranking.
    """
    if index.labels is None:
        raise DataError("the index has no labels; build it with labels to score retrieval")
    codes = _as_codes(query_codes, "query_codes", index.latent_dim)
    if index.metric == "cosine":
        codes = _normalise(codes)
    labels = torch.as_tensor(np.asarray(query_labels)).long().reshape(-1)
    if len(labels) != len(codes):
        raise ShapeError(f"query_labels must have shape ({len(codes)},); got {tuple(labels.shape)}")
    if exclude_self and len(codes) != len(index):
        raise ShapeError("exclude_self needs the queries to be the indexed items (same count)")
    scores = []
    for start in range(0, len(codes), batch_size):
        batch = codes[start : start + batch_size]
        distances = _pairwise_distances(batch, index._search_codes, index.metric)
        if exclude_self:
            rows = torch.arange(len(batch))
            distances[rows, rows + start] = float("inf")
        order = distances.argsort(dim=1, stable=True)
        relevance = index.labels[order] == labels[start : start + batch_size, None]
        if exclude_self:
            relevance = relevance[:, :-1]  # the query itself, ranked last
        scores.append(average_precision(relevance))
    return torch.cat(scores)


@dataclasses.dataclass(frozen=True)
class RetrievalScores:
    """Retrieval quality of an index against labels.

    Attributes:
        k: Neighbours retrieved per query.
        precision_at_k: Mean share of the ``k`` retrieved items with the query's label.
        mean_average_precision: Mean over queries of the average precision of the full exact ranking
            (None when not computed).
        n_queries: Queries scored for precision@k.
        n_map_queries: Queries scored for mAP.
        milliseconds_per_query: Search time per query of the index's own search (batched).
    """

    k: int
    precision_at_k: float
    mean_average_precision: float | None
    n_queries: int
    n_map_queries: int
    milliseconds_per_query: float

    def to_dict(self) -> dict[str, float | int | None]:
        """Plain values for JSON."""
        return dataclasses.asdict(self)


def evaluate_retrieval(
    index: AbstractCodeIndex,
    query_codes: Tensor | np.ndarray,
    query_labels: Tensor | np.ndarray,
    *,
    k: int = 10,
    exclude_self: bool = False,
    max_map_queries: int | None = None,
    batch_size: int = 256,
) -> RetrievalScores:
    """Precision@k (from the index's own search) and mAP (full exact ranking) of labelled queries.

    Args:
        index: An index built with labels.
        query_codes: Codes of the queries ``(Q, latent_dim)``.
        query_labels: Their labels ``(Q,)``.
        k: Neighbours per query.
        exclude_self: The queries are the indexed items (leave-one-out).
        max_map_queries: Score mAP on the first this many queries only (it ranks the whole index per
            query); 0 skips mAP, None uses all.
        batch_size: Queries searched at once.
    """
    _check_k(k)
    if index.labels is None:
        raise DataError("the index has no labels; build it with labels to score retrieval")
    labels = torch.as_tensor(np.asarray(query_labels)).long().reshape(-1)
    codes = _as_codes(query_codes, "query_codes", index.latent_dim)
    if len(labels) != len(codes):
        raise ShapeError(f"query_labels must have shape ({len(codes)},); got {tuple(labels.shape)}")
    started = time.perf_counter()
    result = index.search(codes, k + 1 if exclude_self else k, batch_size=batch_size)
    seconds = time.perf_counter() - started
    indices = result.indices
    if exclude_self:
        own = torch.arange(len(codes))[:, None]
        keep = indices != own
        # Drop the query's own item where found, else the last neighbour.
        drop_last = keep.all(dim=1, keepdim=True)
        keep = keep & ~(drop_last & (torch.arange(indices.shape[1]) == indices.shape[1] - 1))
        indices = indices[keep].reshape(len(codes), -1)
    retrieved = torch.where(indices >= 0, index.labels[indices.clamp_min(0)], -1)
    precision = precision_at_k(retrieved, labels)
    n_map = len(codes) if max_map_queries is None else min(max_map_queries, len(codes))
    mean_ap = None
    if n_map > 0:
        if exclude_self and n_map != len(codes):
            raise ConfigError("exclude_self scores mAP on every query; leave max_map_queries as None")
        mean_ap = float(
            ranking_average_precision(index, codes[:n_map], labels[:n_map], exclude_self=exclude_self).mean()
        )
    return RetrievalScores(k, precision, mean_ap, len(codes), n_map, 1000.0 * seconds / max(len(codes), 1))
