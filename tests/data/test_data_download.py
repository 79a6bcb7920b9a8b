from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from aekit.data import DATASET_FILES, DatasetFiles, RemoteFile, dataset_folder, ensure_files, resolve_data_dir
from aekit.data import download as download_module
from aekit.errors import DataError

MNIST_NAMES = [f.name for f in DATASET_FILES["mnist"].files]


def _tiny_dataset(source: Path, *, wrong_digest: bool = False) -> DatasetFiles:
    """A one-file dataset served from ``source`` with its real (or a wrong) SHA-256."""
    source.mkdir(exist_ok=True)
    payload = gzip.compress(b"tiny payload", mtime=0)
    (source / "tiny.gz").write_bytes(payload)
    digest = hashlib.sha256(payload + (b"x" if wrong_digest else b"")).hexdigest()
    return DatasetFiles("Tiny", "tiny", (source.as_uri() + "/",), (RemoteFile("tiny.gz", sha256=digest),))


def test_resolve_data_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv("AEKIT_DATA", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir() == tmp_path / "env"
    monkeypatch.setenv("AEKIT_DATA", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir() == tmp_path / "xdg" / "aekit"
    monkeypatch.delenv("AEKIT_DATA")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_data_dir() == tmp_path / "home" / ".cache" / "aekit"


def test_file_lists_are_the_standard_four():
    for spec in DATASET_FILES.values():
        names = sorted(f.name for f in spec.files)
        assert names == sorted(MNIST_NAMES)
        assert all(f.sha256 and len(f.sha256) == 64 and f.md5 and len(f.md5) == 32 for f in spec.files)
        assert all(m.endswith("/") for m in spec.mirrors)


def test_real_mnist_files_verify(mnist_dir):
    paths = ensure_files("mnist", mnist_dir.parent, download=False)
    assert sorted(paths) == sorted(MNIST_NAMES)
    assert all(path.parent == mnist_dir for path in paths.values())


def test_folder_may_be_given_directly(mnist_dir):
    assert dataset_folder("mnist", mnist_dir) == mnist_dir
    assert dataset_folder("mnist", mnist_dir.parent) == mnist_dir


def test_modified_copy_fails_the_checksum(mnist_dir, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    content = bytearray(gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    content[100] = (content[100] + 1) % 10  # one label changed, still a valid gzip IDX file
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz has a checksum mismatch"):
        ensure_files("mnist", tmp_path, download=False, files=["t10k-labels-idx1-ubyte.gz"])


def test_fashion_mnist_checksums_reject_mnist_files(mnist_dir, tmp_path):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    shutil.copy(mnist_dir / "t10k-labels-idx1-ubyte.gz", folder)
    with pytest.raises(DataError, match="checksum mismatch"):
        ensure_files("fashion-mnist", tmp_path, download=False, files=["t10k-labels-idx1-ubyte.gz"])


def test_md5_alone_is_accepted(tmp_path):
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "f.bin").write_bytes(b"abc")
    spec = DatasetFiles("Only", "only", (), (RemoteFile("f.bin", md5=hashlib.md5(b"abc").hexdigest()),))
    assert ensure_files(spec, tmp_path, download=False) == {"f.bin": tmp_path / "only" / "f.bin"}


def test_download_via_file_url_is_atomic_and_verified(tmp_path, monkeypatch):
    spec = _tiny_dataset(tmp_path / "server")
    replaced = []
    real_replace = os.replace

    def recording_replace(source, destination):
        source, destination = Path(source), Path(destination)
        assert source.parent == destination.parent  # same folder: the rename is atomic
        assert not destination.exists()  # nothing visible before the verified file is complete
        replaced.append((source.name, destination.name))
        real_replace(source, destination)

    monkeypatch.setattr(download_module.os, "replace", recording_replace)
    paths = ensure_files(spec, tmp_path / "data")
    target = tmp_path / "data" / "tiny" / "tiny.gz"
    assert paths == {"tiny.gz": target}
    assert target.read_bytes() == (tmp_path / "server" / "tiny.gz").read_bytes()
    assert len(replaced) == 1 and replaced[0][0].endswith(".part")
    assert sorted(p.name for p in target.parent.iterdir()) == ["tiny.gz"]
    assert ensure_files(spec, tmp_path / "data") == paths  # present now: verified, not fetched again
    assert len(replaced) == 1


def test_download_with_wrong_checksum_leaves_nothing(tmp_path):
    spec = _tiny_dataset(tmp_path / "server", wrong_digest=True)
    with pytest.raises(
        DataError, match=r"Tiny could not be downloaded .*checksum mismatch.*put tiny\.gz into"
    ):
        ensure_files(spec, tmp_path / "data")
    assert list((tmp_path / "data" / "tiny").iterdir()) == []


def test_second_mirror_is_tried(tmp_path):
    spec = _tiny_dataset(tmp_path / "server")
    dead = (tmp_path / "dead").as_uri() + "/"
    ensure_files(spec, tmp_path / "data", mirrors=[dead, *spec.mirrors])
    assert (tmp_path / "data" / "tiny" / "tiny.gz").is_file()


def test_real_mnist_downloads_from_a_local_mirror(mnist_dir, tmp_path):
    name = "t10k-labels-idx1-ubyte.gz"
    paths = ensure_files("mnist", tmp_path, files=[name], mirrors=[mnist_dir.as_uri() + "/"])
    assert paths[name].read_bytes() == (mnist_dir / name).read_bytes()


def test_offline_error_is_one_line_naming_folder_and_files(tmp_path):
    unreachable = (tmp_path / "no-network").as_uri() + "/"
    with pytest.raises(DataError) as caught:
        ensure_files("mnist", tmp_path / "data", mirrors=[unreachable])
    message = str(caught.value)
    assert "\n" not in message
    assert "MNIST could not be downloaded" in message
    assert str(tmp_path / "data" / "mnist") in message
    assert all(name in message for name in MNIST_NAMES)
    assert "AEKIT_DATA" in message and "--data-dir" in message


def test_network_failure_from_opener_is_a_data_error(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise TimeoutError("timed out")

    monkeypatch.setattr(download_module.urllib.request, "urlopen", refuse)
    with pytest.raises(DataError, match=r"timed out.*put train-images-idx3-ubyte\.gz"):
        ensure_files("mnist", tmp_path, files=["train-images-idx3-ubyte.gz"])


def test_missing_without_download_names_the_files(tmp_path):
    with pytest.raises(DataError, match=r"missing and download=False; put t10k-images-idx3-ubyte\.gz into"):
        ensure_files("mnist", tmp_path, download=False, files=["t10k-images-idx3-ubyte.gz"])


def test_unknown_dataset_and_file_names(tmp_path):
    with pytest.raises(DataError, match="unknown dataset 'mnsit'; did you mean 'mnist'"):
        ensure_files("mnsit", tmp_path)
    with pytest.raises(DataError, match=r"MNIST has no file 'x\.gz'"):
        ensure_files("mnist", tmp_path, files=["x.gz"])
