"""Find, verify and download the files of the public datasets aekit can fetch (MNIST, Fashion-MNIST).

Every file is checked against published checksums before it is used, whether it was downloaded or put
in place by hand, so a truncated download or a file of the wrong dataset (MNIST and Fashion-MNIST use
the same file names) fails loudly instead of training on the wrong data. Downloads go to a temporary
file in the destination folder and are renamed into place only after the checksum matched, so an
interrupted download never leaves a file that looks complete.
"""

from __future__ import annotations

import dataclasses
import difflib
import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from aekit.errors import DataError

__all__ = [
    "DATASET_FILES",
    "DatasetFiles",
    "RemoteFile",
    "dataset_folder",
    "ensure_files",
    "resolve_data_dir",
    "verify_file",
]

_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One published file and the digests that identify it.

    A file is accepted when its bytes match ``sha256`` or ``md5`` (the digests the publisher lists for
    the file as distributed), or when its gzip-decompressed content matches ``content_sha256``. The last
    one accepts copies that were recompressed (same data, different gzip header), which the byte
    digests would reject.

    Attributes:
        name: File name, the same locally and on every mirror.
        sha256: Hex SHA-256 of the published file, or None if unknown.
        md5: Hex MD5 of the published file, or None if unknown.
        content_sha256: Hex SHA-256 of the decompressed content, or None if unknown.
    """

    name: str
    sha256: str | None = None
    md5: str | None = None
    content_sha256: str | None = None

    def __post_init__(self) -> None:
        if not (self.sha256 or self.md5 or self.content_sha256):
            raise DataError(f"RemoteFile {self.name!r} needs at least one of sha256, md5, content_sha256")


@dataclasses.dataclass(frozen=True)
class DatasetFiles:
    """The files of one downloadable dataset.

    Attributes:
        title: Name shown in messages, e.g. ``"MNIST"``.
        folder: Sub-folder of the data folder that holds the files, e.g. ``"mnist"``.
        mirrors: Base URLs ending in ``/``, tried in order; each file is ``mirror + file.name``.
        files: The files.
    """

    title: str
    folder: str
    mirrors: tuple[str, ...]
    files: tuple[RemoteFile, ...]

    def file(self, name: str) -> RemoteFile:
        """Return the file called ``name``; an unknown name is a :class:`DataError` listing the known ones."""
        for remote in self.files:
            if remote.name == name:
                return remote
        known = ", ".join(f.name for f in self.files)
        raise DataError(f"{self.title} has no file {name!r}; its files are: {known}")


# Byte digests of the files as distributed, and the SHA-256 of their decompressed IDX content (the same
# on every mirror; computed from verified copies, they also accept recompressed ones).
_MNIST = DatasetFiles(
    title="MNIST",
    folder="mnist",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    files=(
        RemoteFile(
            "train-images-idx3-ubyte.gz",
            sha256="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
            content_sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ),
        RemoteFile(
            "train-labels-idx1-ubyte.gz",
            sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            md5="d53e105ee54ea40749a09fcbcd1e9432",
            content_sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            md5="9fb629c4189551a2d022fa330f9573f3",
            content_sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ),
        RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            md5="ec29112dd5afa0611ce80d1b7f02629c",
            content_sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    ),
)

# SHA-256 and MD5 as published for the files in zalandoresearch/fashion-mnist.
_FASHION_MNIST = DatasetFiles(
    title="Fashion-MNIST",
    folder="fashion-mnist",
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    files=(
        RemoteFile(
            "train-images-idx3-ubyte.gz",
            sha256="08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
            md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ),
        RemoteFile(
            "train-labels-idx1-ubyte.gz",
            sha256="b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
            md5="25c81989df183df01b3e8a0aad5dffbe",
        ),
        RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            sha256="78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
            md5="bef4ecab320f06d8554ea6380940ec79",
        ),
        RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            sha256="42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
            md5="bb300cfdad3c16e7a12a480ee83cd310",
        ),
    ),
)

DATASET_FILES: Mapping[str, DatasetFiles] = MappingProxyType(
    {"mnist": _MNIST, "fashion-mnist": _FASHION_MNIST}
)
"""Downloadable datasets by name (read-only)."""


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Choose the folder that holds downloaded datasets.

    The first of: ``data_dir`` if given; the environment variable ``AEKIT_DATA`` if set and non-empty;
    ``$XDG_CACHE_HOME/aekit``; ``~/.cache/aekit``. The folder is not created here.

    Args:
        data_dir: An explicit folder, e.g. from a ``--data-dir`` option.

    Returns:
        The folder, with ``~`` expanded.
    """
    if data_dir is not None:
        return Path(data_dir).expanduser()
    from_env = os.environ.get("AEKIT_DATA")
    if from_env:
        return Path(from_env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / "aekit"


def _lookup(dataset: str | DatasetFiles) -> DatasetFiles:
    if isinstance(dataset, DatasetFiles):
        return dataset
    key = dataset.lower().replace("_", "-")
    if key in DATASET_FILES:
        return DATASET_FILES[key]
    close = difflib.get_close_matches(key, list(DATASET_FILES), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise DataError(f"unknown dataset {dataset!r}{hint} (downloadable: {', '.join(DATASET_FILES)})")


def dataset_folder(dataset: str | DatasetFiles, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder where ``dataset``'s files live: ``resolve_data_dir(data_dir) / <folder>``.

    If that sub-folder does not hold the files but the data folder itself holds all of them, the data
    folder is used, so ``--data-dir path/to/mnist`` works as well as ``--data-dir path/to``. (Checksums
    still decide whether they are the right files.)
    """
    spec = _lookup(dataset)
    base = resolve_data_dir(data_dir)
    folder = base / spec.folder
    if not folder.is_dir() and all((base / f.name).is_file() for f in spec.files):
        return base
    return folder


def _digests(path: Path) -> tuple[str, str]:
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha256.update(chunk)
            md5.update(chunk)
    return sha256.hexdigest(), md5.hexdigest()


def _content_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error):
        return None
    return digest.hexdigest()


def _checksum_problem(path: Path, remote: RemoteFile) -> str | None:
    """Return None when ``path`` is the published ``remote`` file, else a description of the mismatch."""
    sha256, md5 = _digests(path)
    if sha256 == remote.sha256 or md5 == remote.md5:
        return None
    if remote.content_sha256 is not None and _content_sha256(path) == remote.content_sha256:
        return None
    expected = remote.sha256 or remote.content_sha256 or remote.md5
    return f"checksum mismatch (SHA-256 {sha256}, expected {expected})"


def verify_file(path: str | os.PathLike[str], remote: RemoteFile) -> None:
    """Check that ``path`` holds the published file ``remote``.

    Raises:
        DataError: The digests do not match, naming the file and what was expected.
    """
    path = Path(path)
    problem = _checksum_problem(path, remote)
    if problem is not None:
        raise DataError(
            f"{path} has a {problem}: it is corrupt, incomplete or a different dataset's file; "
            "delete it to download it again"
        )


def _download(url: str, destination: Path, remote: RemoteFile, timeout: float) -> None:
    """Fetch ``url`` into a temporary file next to ``destination``, verify it, then rename it into place."""
    request = urllib.request.Request(url, headers={"User-Agent": "aekit"})
    handle, temporary_name = tempfile.mkstemp(
        prefix=f".{remote.name}.", suffix=".part", dir=destination.parent
    )
    temporary = Path(temporary_name)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
        problem = _checksum_problem(temporary, remote)
        if problem is not None:
            raise DataError(f"downloaded {url} has a {problem}")
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


def _missing_message(spec: DatasetFiles, folder: Path, names: Sequence[str], reason: str) -> str:
    return (
        f"{spec.title} {reason}; put {', '.join(names)} into {folder} "
        "(or point AEKIT_DATA / --data-dir at a folder that has them)"
    )


def ensure_files(
    dataset: str | DatasetFiles,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    *,
    files: Sequence[str] | None = None,
    mirrors: Sequence[str] | None = None,
    timeout: float = 30.0,
) -> dict[str, Path]:
    """Make sure a dataset's files are present and verified, downloading missing ones if allowed.

    Args:
        dataset: A name in :data:`DATASET_FILES` (``"mnist"``, ``"fashion-mnist"``) or a spec.
        data_dir: Data folder (see :func:`resolve_data_dir`); files go into its dataset sub-folder.
        download: Fetch missing files; when False a missing file is an error.
        files: Only these file names (default: all of the dataset's files).
        mirrors: Base URLs to use instead of the dataset's own (e.g. a local ``file://`` copy).
        timeout: Seconds to wait on a connection before trying the next mirror.

    Returns:
        File name -> verified local path.

    Raises:
        DataError: A present file fails its checksum (naming the file); or a missing file cannot be
            downloaded (one line naming the folder and the file names to put there).
    """
    spec = _lookup(dataset)
    wanted = [spec.file(name) for name in files] if files is not None else list(spec.files)
    folder = dataset_folder(spec, data_dir)
    paths: dict[str, Path] = {}
    missing: list[RemoteFile] = []
    for remote in wanted:
        path = folder / remote.name
        if path.is_file():
            verify_file(path, remote)
            paths[remote.name] = path
        else:
            missing.append(remote)
    if not missing:
        return paths
    missing_names = [remote.name for remote in missing]
    if not download:
        raise DataError(_missing_message(spec, folder, missing_names, "files are missing and download=False"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(
            _missing_message(spec, folder, missing_names, f"folder cannot be created ({error.strerror})")
        ) from None
    for remote in missing:
        failures = []
        for mirror in mirrors if mirrors is not None else spec.mirrors:
            url = mirror + remote.name
            try:
                _download(url, folder / remote.name, remote, timeout)
                break
            except (OSError, http.client.HTTPException, ValueError) as error:  # URLError is an OSError
                failures.append(
                    f"{url}: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
                )
        else:
            left = [name for name in missing_names if not (folder / name).is_file()]
            reason = f"could not be downloaded ({'; '.join(failures) or 'no mirrors'})"
            raise DataError(_missing_message(spec, folder, left, reason))
        paths[remote.name] = folder / remote.name
    return {remote.name: paths[remote.name] for remote in wanted}
