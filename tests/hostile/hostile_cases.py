"""The hostile-input corpus: crafted files and option values for every command, generated per case.

A case is a command line with placeholders (``{A}``: the shared assets folder, ``{W}``: the case's own
empty folder) and an optional ``setup`` that crafts files in ``{W}``. Every case must end with exit status 2
and exactly one ``error:`` line, no traceback, and no file that existed before changed or removed.
``memory`` cases also run in a subprocess whose address space is capped (see ``test_corpus.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

Setup = Callable[[Path, Path], None]


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    setup: Setup | None = None
    memory: bool = False

    def command(self, assets: Path, work: Path) -> list[str]:
        return [part.replace("{A}", str(assets)).replace("{W}", str(work)) for part in self.argv]


def _case(name: str, *argv: str, setup: Setup | None = None, memory: bool = False) -> Case:
    return Case(name, tuple(argv), setup, memory)


# ------------------------------------------------------------------------------------------ crafting


def npy_bytes(header: str, data: bytes = b"", version: int = 1) -> bytes:
    """A ``.npy`` file with a hand-written header dictionary (any shape, even a lying one)."""
    text = header.encode("latin1")
    if version == 1:
        pad = -(10 + len(text) + 1) % 64
        return (
            b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text) + pad + 1) + text + b" " * pad + b"\n" + data
        )
    pad = -(12 + len(text) + 1) % 64
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text) + pad + 1) + text + b" " * pad + b"\n" + data


def _write(name: str, content: bytes | str) -> Setup:
    def setup(work: Path, assets: Path) -> None:
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)

    return setup


def _both(*setups: Setup) -> Setup:
    def setup(work: Path, assets: Path) -> None:
        for step in setups:
            step(work, assets)

    return setup


def _copy_model(
    source: str,
    target: str = "model",
    edit: Callable[[dict], None] | None = None,
    weights: Callable[[dict], None] | None = None,
) -> Setup:
    """Copy a model folder from the assets, optionally editing config.json or the weights (with the
    checksum updated, so the edit itself is what gets tested)."""

    def setup(work: Path, assets: Path) -> None:
        from safetensors.torch import load_file, save_file

        folder = work / target
        folder.mkdir(parents=True, exist_ok=True)
        document = json.loads((assets / source / "config.json").read_text())
        tensors = load_file(str(assets / source / "model.safetensors"))
        if weights is not None:
            weights(tensors)
        save_file(tensors, str(folder / "model.safetensors"))
        document["weights_sha256"] = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
        if edit is not None:
            edit(document)
        (folder / "config.json").write_text(
            json.dumps(document) if edit is None or "raw" not in document else document["raw"]
        )

    return setup


def _png_header_only(width: int, height: int, colour: int = 2) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
        + chunk(b"IEND", b"")
    )


def _big_png(side: int) -> bytes:
    """A valid grey PNG of ``side × side`` black pixels (small on disk: rows of zeros deflate well)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", data)
        + chunk(b"IEND", b"")
    )


def _bmp_header_only(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info


@functools.cache
def _shipped_codec():  # type: ignore[no-untyped-def]
    from aekit.apps.compression import load_default_codec

    return load_default_codec()


def aek_bytes(
    height: int,
    width: int,
    payload: bytes | None = None,
    version: int = 2,
    fingerprint: bytes | None = None,
    channels: int = 3,
) -> bytes:
    """A valid-CRC ``.aek`` file of the shipped codec declaring ``height × width`` with ``payload``."""
    from aekit.apps.compression import model_fingerprint
    from aekit.apps.compression.bitstream import CodecHeader, pack

    codec = _shipped_codec()
    header = CodecHeader(
        height, width, channels, 0, "codec", fingerprint or model_fingerprint(codec), version
    )
    return pack(header, b"" if payload is None else payload)


def crafted_aek(codec, height: int, width: int) -> bytes:  # type: ignore[no-untyped-def]
    """A valid ``.aek`` of a large flat image, made without encoding (see ``flat_image_file``)."""
    from aekit.apps.compression.codec import flat_image_file

    return flat_image_file(codec, height, width)


def _aek(name: str, *args: object, **kwargs: object) -> Setup:
    def setup(work: Path, assets: Path) -> None:
        (work / name).write_bytes(aek_bytes(*args, **kwargs))  # type: ignore[arg-type]

    return setup


def _checkpoint(edit: Callable[[dict], None]) -> Setup:
    """A run folder ``run/`` with a checkpoint made for the corpus's MLP on data.npy, then ``edit``ed."""

    def setup(work: Path, assets: Path) -> None:
        import torch

        from aekit.models import create

        model = create("mlp", input_shape=(8,), latent_dim=2, hidden_dims=(16,), seed=0)
        state = {
            "format": "aekit-checkpoint",
            "version": 1,
            "model_name": "mlp",
            "model_config": model.config.to_dict(),
            "epoch": 1,
            "model": model.state_dict(),
            "optimizers": {"main": {"state": {}, "param_groups": []}},
            "schedulers": {},
            "generator": torch.Generator().get_state(),
            "torch_rng": torch.get_rng_state(),
            "history": [{"epoch": 1, "train_loss": 1.0}],
            "best_loss": 1.0,
            "best_state": None,
            "epochs_without_improvement": 0,
        }
        edit(state)
        folder = work / "run" / "checkpoint"
        folder.mkdir(parents=True)
        torch.save(state, folder / "checkpoint.pt")

    return setup


def _set(key: str, value: object) -> Callable[[dict], None]:
    def edit(document: dict) -> None:
        document[key] = value

    return edit


def _set_config(key: str, value: object) -> Callable[[dict], None]:
    def edit(document: dict) -> None:
        document["config"][key] = value

    return edit


def _poison(value: float) -> Callable[[dict], None]:
    def edit(tensors: dict) -> None:
        name = sorted(k for k, v in tensors.items() if v.is_floating_point())[0]
        tensors[name] = tensors[name].clone()
        tensors[name].view(-1)[0] = value

    return edit


def _scale_all(factor: float) -> Callable[[dict], None]:
    """Finite weights so large that the model's outputs overflow to infinity."""

    def edit(tensors: dict) -> None:
        for name, tensor in tensors.items():
            if tensor.is_floating_point() and "weight" in name:
                tensors[name] = tensor * factor

    return edit


def _reshape_first(tensors: dict) -> None:
    name = sorted(tensors)[0]
    tensors[name] = tensors[name].flatten()[:3].clone()


# ------------------------------------------------------------------------------------------ the corpus

TRAIN = (
    "train",
    "--dataset",
    "{A}/data.npy",
    "--model",
    "mlp",
    "--set",
    "hidden_dims=[16]",
    "--epochs",
    "1",
    "--no-report",
    "-o",
    "{W}/run",
)


def cases() -> Iterator[Case]:
    """Every case of the corpus."""
    # 1, 15: .aek decompression bombs and streams that run out
    yield _case(
        "aek-16384-square",
        "decompress",
        "{W}/bomb.aek",
        "-o",
        "{W}/out.png",
        setup=_aek("bomb.aek", 16384, 16384, payload=b"\0" * 8),
        memory=True,
    )
    yield _case(
        "aek-16384-square-v1",
        "decompress",
        "{W}/bomb.aek",
        "-o",
        "{W}/out.png",
        setup=_aek("bomb.aek", 16384, 16384, payload=b"\0" * 8, version=1),
        memory=True,
    )
    yield _case(
        "aek-one-row-wide",
        "decompress",
        "{W}/bomb.aek",
        "-o",
        "{W}/out.png",
        setup=_aek("bomb.aek", 1, 1 << 28, payload=b""),
        memory=True,
    )
    yield _case(
        "aek-11000-empty-tiles",
        "decompress",
        "{W}/bomb.aek",
        "-o",
        "{W}/out.png",
        setup=_aek("bomb.aek", 11000, 11000, payload=b""),
        memory=True,
    )
    yield _case(
        "aek-8192-v1-tiny-payload",
        "decompress",
        "{W}/bomb.aek",
        "-o",
        "{W}/out.png",
        setup=_aek("bomb.aek", 8192, 8192, payload=b"\1\0\0\0\2\0\0\0", version=1),
        memory=True,
    )
    yield _case(
        "aek-empty-payload",
        "decompress",
        "{W}/x.aek",
        "-o",
        "{W}/out.png",
        setup=_aek("x.aek", 64, 64, payload=b"", version=1),
    )
    yield _case(
        "aek-stream-runs-out",
        "decompress",
        "{W}/x.aek",
        "-o",
        "{W}/out.png",
        setup=_aek("x.aek", 256, 256, payload=b"\0\0\0\0\0\0\0\1", version=1),
    )
    yield _case(
        "aek-tile-lengths-lie",
        "decompress",
        "{W}/x.aek",
        "-o",
        "{W}/out.png",
        setup=_aek("x.aek", 2048, 1100, payload=struct.pack("<I", 400) + b"\0" * 8, version=2),
    )
    yield _case(
        "aek-tile-zero-length",
        "decompress",
        "{W}/x.aek",
        "-o",
        "{W}/out.png",
        setup=_aek("x.aek", 2048, 1100, payload=struct.pack("<I", 0) * 4, version=2),
    )
    yield _case(
        "aek-other-model",
        "decompress",
        "{W}/x.aek",
        "-o",
        "{W}/out.png",
        setup=_aek("x.aek", 64, 64, payload=b"\0" * 8, version=1, fingerprint=b"\1" * 32),
    )
    yield _case(
        "aek-garbage",
        "decompress",
        "{W}/x.aek",
        "-o",
        "{W}/out.png",
        setup=_write("x.aek", b"AEKC\x01" + b"\xff" * 40),
    )
    yield _case("aek-zero-bytes", "decompress", "{W}/x.aek", "-o", "{W}/out.png", setup=_write("x.aek", b""))
    yield _case("aek-missing", "decompress", "{W}/nothing.aek", "-o", "{W}/out.png")
    yield _case(
        "aek-out-unknown-suffix",
        "decompress",
        "{W}/x.aek",
        "-o",
        "{W}/out.xyz",
        setup=_aek("x.aek", 64, 64, payload=b"\0" * 8, version=1),
    )
    yield _case(
        "aek-max-pixels-flag",
        "decompress",
        "{W}/x.aek",
        "-o",
        "{W}/out.png",
        "--max-pixels",
        "100",
        setup=_aek("x.aek", 64, 64, payload=b"\0" * 8, version=1),
    )
    # 2: compress on huge or hostile images
    for kind, content in {
        "png-header-100000": _png_header_only(100000, 100000),
        "png-header-2e9-wide": _png_header_only(2_000_000_000, 1),
        "bmp-header-60000": _bmp_header_only(60000, 60000),
        "png-zero-bytes": b"",
        "png-garbage": b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 10,
        "png-truncated": _big_png(64)[:60],
    }.items():
        yield _case(
            f"compress-{kind}",
            "compress",
            "{W}/in.png",
            "-o",
            "{W}/out.aek",
            setup=_write("in.png", content),
            memory=kind.startswith(("png-header", "bmp")),
        )
    # 2b: the same size guard on the restoration commands (its advice must name only what they accept)
    for command in ("denoise", "inpaint"):
        extra = ("--rect", "1,1,4,4") if command == "inpaint" else ()
        yield _case(
            f"{command}-png-header-100000",
            command,
            "{W}/in.png",
            "-o",
            "{W}/out.png",
            *extra,
            setup=_write("in.png", _png_header_only(100000, 100000)),
        )
    yield _case(
        "compress-png-16384-real",
        "compress",
        "{W}/in.png",
        "-o",
        "{W}/out.aek",
        setup=_write("in.png", _big_png(16384)),
        memory=True,
    )
    yield _case("compress-max-pixels", "compress", "{A}/image.png", "-o", "{W}/out.aek", "--max-pixels", "10")
    yield _case("compress-to-jpg", "compress", "{A}/image.png", "-o", "{W}/photo.jpg")
    yield _case("compress-to-png", "compress", "{A}/image.png", "-o", "{W}/photo.png")
    yield _case(
        "compress-level-out-of-range", "compress", "{A}/image.png", "-o", "{W}/x.aek", "--level", "99"
    )
    yield _case("compress-bad-codec", "compress", "{A}/image.png", "-o", "{W}/x.aek", "--codec", "jpeg")
    yield _case(
        "compress-model-not-codec", "compress", "{A}/image.png", "-o", "{W}/x.aek", "--model", "{A}/mlp"
    )
    # 3: an existing run folder is not replaced without --overwrite
    yield _case(
        "train-into-finished-run",
        *TRAIN,
        setup=_both(_write("run/settings.json", "{}"), _write("run/model/config.json", "{}")),
    )
    yield _case(
        "sweep-into-finished-sweep",
        "sweep",
        "digits",
        "--latent-dims",
        "2",
        "--max-samples",
        "100",
        "-o",
        "{W}/sweep",
        setup=_both(
            _write("sweep/sweep.csv", "model,latent_dim\n"), _write("sweep/mlp_latent_2/config.json", "{}")
        ),
    )
    # 4: output = input
    yield _case(
        "same-compress",
        "compress",
        "{W}/in.aek",
        "-o",
        "{W}/in.aek",
        setup=lambda w, a: (w / "in.aek").write_bytes((a / "image.png").read_bytes()),
    )
    yield _case(
        "same-decompress",
        "decompress",
        "{W}/x.png",
        "-o",
        "{W}/x.png",
        setup=_aek("x.png", 64, 64, payload=b"\0" * 8, version=1),
    )
    yield _case(
        "same-encode",
        "encode",
        "{W}/d.npy",
        "--model",
        "{A}/mlp",
        "-o",
        "{W}/d.npy",
        setup=lambda w, a: (w / "d.npy").write_bytes((a / "data.npy").read_bytes()),
    )
    yield _case(
        "same-encode-csv",
        "encode",
        "{W}/t.csv",
        "--model",
        "{A}/mlp",
        "-o",
        "{W}/t.csv",
        setup=lambda w, a: (w / "t.csv").write_bytes((a / "table.csv").read_bytes()),
    )
    yield _case(
        "same-decode",
        "decode",
        "{W}/c.npy",
        "--model",
        "{A}/mlp",
        "-o",
        "{W}/c.npy",
        setup=lambda w, a: (w / "c.npy").write_bytes((a / "codes.npy").read_bytes()),
    )
    yield _case(
        "same-reconstruct",
        "reconstruct",
        "{W}/d.npy",
        "--model",
        "{A}/mlp",
        "-o",
        "{W}/d.npy",
        setup=lambda w, a: (w / "d.npy").write_bytes((a / "data.npy").read_bytes()),
    )
    yield _case(
        "same-detect",
        "detect",
        "--model",
        "{A}/mlp",
        "-i",
        "{W}/t.csv",
        "-o",
        "{W}/t.csv",
        "--threshold",
        "1",
        setup=lambda w, a: (w / "t.csv").write_bytes((a / "table.csv").read_bytes()),
    )
    yield _case(
        "same-denoise",
        "denoise",
        "{W}/i.png",
        "-o",
        "{W}/i.png",
        setup=lambda w, a: (w / "i.png").write_bytes((a / "image.png").read_bytes()),
    )
    yield _case(
        "same-denoise-folder",
        "denoise",
        "{W}/imgs",
        "-o",
        "{W}/imgs",
        setup=lambda w, a: (
            (w / "imgs").mkdir(),
            (w / "imgs" / "a.png").write_bytes((a / "image.png").read_bytes()),
        ),
    )
    yield _case(
        "report-over-model-config",
        "report",
        "{W}/run",
        "-o",
        "{W}/run/model/config.json",
        setup=_copy_model("conv", "run/model"),
    )
    yield _case(
        "report-over-weights",
        "report",
        "{W}/run",
        "-o",
        "{W}/run/model/model.safetensors",
        setup=_copy_model("conv", "run/model"),
    )
    yield _case(
        "encode-over-model-config",
        "encode",
        "{A}/data.npy",
        "--model",
        "{W}/m",
        "-o",
        "{W}/m/config.json",
        setup=_copy_model("mlp", "m"),
    )
    # 5: non-finite weights
    for value, label in ((float("nan"), "nan"), (float("inf"), "inf")):
        yield _case(
            f"weights-{label}-encode",
            "encode",
            "{A}/data.npy",
            "--model",
            "{W}/m",
            "-o",
            "{W}/z.npy",
            setup=_copy_model("mlp", "m", weights=_poison(value)),
        )
        yield _case(
            f"weights-{label}-decode",
            "decode",
            "{A}/codes.npy",
            "--model",
            "{W}/m",
            "-o",
            "{W}/x.npy",
            setup=_copy_model("mlp", "m", weights=_poison(value)),
        )
        yield _case(
            f"weights-{label}-detect",
            "detect",
            "--model",
            "{W}/m",
            "-i",
            "{A}/table.csv",
            "-o",
            "{W}/s.csv",
            "--threshold",
            "1",
            setup=_copy_model("mlp", "m", weights=_poison(value)),
        )
    yield _case(
        "weights-wrong-shape",
        "encode",
        "{A}/data.npy",
        "--model",
        "{W}/m",
        "-o",
        "{W}/z.npy",
        setup=_copy_model("mlp", "m", weights=_reshape_first),
    )
    yield _case(
        "weights-missing-tensor",
        "encode",
        "{A}/data.npy",
        "--model",
        "{W}/m",
        "-o",
        "{W}/z.npy",
        setup=_copy_model("mlp", "m", weights=lambda t: t.pop(sorted(t)[0])),
    )
    for command in ("decode", "reconstruct", "encode"):
        source = "{A}/codes.npy" if command == "decode" else "{A}/data.npy"
        yield _case(
            f"outputs-overflow-{command}",
            command,
            source,
            "--model",
            "{W}/m",
            "-o",
            "{W}/x.npy",
            setup=_copy_model("mlp", "m", weights=_scale_all(1e30)),
        )
    # 6: config.json of valid JSON but wrong types
    for label, edit in {
        "model-object": _set("model", {"x": 1}),
        "model-list": _set("model", ["mlp"]),
        "config-null": _set("config", None),
        "config-list": _set("config", [1, 2]),
        "config-string": _set("config", "latent_dim=2"),
        "normalization-list": _set("normalization", [1]),
        "normalization-bad-kind": _set("normalization", {"kind": "weird"}),
        "metadata-list": _set("metadata", [1]),
        "sha-number": _set("weights_sha256", 5),
        "format-version-string": _set("format_version", "1"),
        "latent-dim-text": _set_config("latent_dim", "two"),
        "latent-dim-float": _set_config("latent_dim", 8.5),
        "latent-dim-huge": _set_config("latent_dim", 10**12),
        "hidden-dims-float": _set_config("hidden_dims", [2.5]),
        "hidden-dims-nested": _set_config("hidden_dims", [[16]]),
        "batch-norm-text": _set_config("batch_norm", "yes"),
        "unknown-field": _set_config("latnt_dim", 2),
        "input-shape-text": _set_config("input_shape", "8"),
        "deep-nesting": lambda d: d.update(raw='{"a":' * 100000 + "1" + "}" * 100000),
        "not-json": lambda d: d.update(raw="{not json"),
        "latin1": lambda d: d.update(raw=b"\xff\xfe{".decode("latin1")),
    }.items():
        yield _case(
            f"config-json-{label}",
            "encode",
            "{A}/data.npy",
            "--model",
            "{W}/m",
            "-o",
            "{W}/z.npy",
            setup=_copy_model("mlp", "m", edit=edit),
        )
    # 7: integers, NaN and ceilings on sizes
    for value in ("8.5", "NaN", "1e12", "1000000000000", "-3", "0", "true", '"8"'):
        yield _case(f"latent-dim-{value}", *TRAIN, "--set", f"latent_dim={value}")
    for value in ("[2.5]", "[0]", "[-1]", '["a"]', "[[1]]", "5", "[1000000000000]"):
        yield _case(f"hidden-dims-{value}", *TRAIN[:-2], "--set", f"hidden_dims={value}", "-o", "{W}/run")
    yield _case(
        "image-size-100000", "train", "--dataset", "digits", "--image-size", "100000", "-o", "{W}/run"
    )
    yield _case(
        "image-size-20000-memory",
        "train",
        "--dataset",
        "digits",
        "--image-size",
        "16000",
        "-o",
        "{W}/run",
        memory=True,
    )
    yield _case("image-size-garbage", "train", "--image-size", "big", "-o", "{W}/run")
    yield _case(
        "interpolate-steps-huge",
        "interpolate",
        "--model",
        "{A}/conv",
        "--data",
        "{A}/images",
        "-o",
        "{W}/p.png",
        "--steps",
        "10000000",
        memory=True,
    )
    yield _case(
        "interpolate-steps-1e7",
        "interpolate",
        "--model",
        "{A}/conv",
        "--data",
        "{A}/images",
        "-o",
        "{W}/p.png",
        "--steps",
        "1e7",
    )
    yield _case(
        "interpolate-steps-0",
        "interpolate",
        "--model",
        "{A}/conv",
        "--data",
        "{A}/images",
        "-o",
        "{W}/p.png",
        "--steps",
        "0",
    )
    yield _case("plan-input-huge", "plan", "--model", "conv", "--input-shape", "1,100000,100000", memory=True)
    yield _case("plan-input-huge-mlp", "plan", "--model", "mlp", "--input-shape", "10000000000", memory=True)
    yield _case("plan-input-zero", "plan", "--model", "mlp", "--input-shape", "0")
    yield _case("plan-input-negative", "plan", "--model", "conv", "--input-shape", "1,-28,28")
    yield _case(
        "plan-latent-huge",
        "plan",
        "--model",
        "mlp",
        "--input-shape",
        "8",
        "--set",
        "latent_dim=1e12",
        memory=True,
    )
    yield _case(
        "sample-huge", "sample", "--model", "{A}/conv", "-o", "{W}/s.png", "-n", "100000000", memory=True
    )
    yield _case("sample-zero", "sample", "--model", "{A}/conv", "-o", "{W}/s.png", "-n", "0")
    # 8, 9: readers of encode (streaming and not), decode, detect, train, reconstruct
    bad_npy = {
        "garbage": b"this is not an array at all" * 3,
        "zero-bytes": b"",
        "magic-only": b"\x93NUMPY",
        "negative-shape": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-5, 8), }"),
        "huge-shape": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 784), }"),
        "huge-shape-v2": npy_bytes(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 784), }", version=2
        ),
        "truncated": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (24, 8), }", b"\0" * 40),
        "object-dtype": npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }", b"\0" * 32),
        "header-not-dict": npy_bytes("[1, 2, 3]"),
        "header-code": npy_bytes("__import__('os').system('echo hi')"),
        "bad-descr": npy_bytes("{'descr': '<q9', 'fortran_order': False, 'shape': (2, 2), }", b"\0" * 64),
        "one-dimensional": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }", b"\0" * 32),
        "zero-rows": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 8), }"),
        "nan-values": npy_bytes(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 8), }",
            np.full(8, np.nan, np.float32).tobytes(),
        ),
        "complex": npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1, 8), }", b"\0" * 64),
    }
    for label, content in bad_npy.items():
        memory = label.startswith("huge")
        yield _case(
            f"encode-npy-{label}",
            "encode",
            "{W}/x.npy",
            "--model",
            "{A}/mlp",
            "-o",
            "{W}/z.npy",
            setup=_write("x.npy", content),
            memory=memory,
        )
        yield _case(
            f"train-npy-{label}",
            "train",
            "--dataset",
            "{W}/x.npy",
            "--model",
            "mlp",
            "--epochs",
            "1",
            "-o",
            "{W}/run",
            setup=_write("x.npy", content),
            memory=memory,
        )
        yield _case(
            f"decode-npy-{label}",
            "decode",
            "{W}/x.npy",
            "--model",
            "{A}/mlp",
            "-o",
            "{W}/z.npy",
            setup=_write("x.npy", content),
            memory=memory,
        )
        yield _case(
            f"reconstruct-npy-{label}",
            "reconstruct",
            "{W}/x.npy",
            "--model",
            "{A}/mlp",
            "-o",
            "{W}/z.npy",
            setup=_write("x.npy", content),
            memory=memory,
        )
    yield _case(
        "train-npz-huge-member",
        "train",
        "--dataset",
        "{W}/x.npz",
        "--model",
        "mlp",
        "-o",
        "{W}/run",
        setup=_npz_huge,
        memory=True,
    )
    yield _case(
        "train-npz-garbage",
        "train",
        "--dataset",
        "{W}/x.npz",
        "-o",
        "{W}/run",
        setup=_write("x.npz", b"PK\x03\x04" + b"\0" * 30),
    )
    bad_tables = {
        "csv-zero-bytes": ("x.csv", b""),
        "csv-garbage": ("x.csv", bytes(range(256)) * 4),
        "csv-latin1": ("x.csv", "f0,f1\n1,\xe9\n".encode("latin1")),
        "csv-ragged": ("x.csv", b"f0,f1\n1,2\n3,4,5,6\n"),
        "csv-text": ("x.csv", b"f0,f1\na,b\nc,d\n"),
        "csv-header-only": ("x.csv", b"f0,f1,f2,f3,f4,f5,f6,f7\n"),
        "csv-nan": ("x.csv", b"f0,f1,f2,f3,f4,f5,f6,f7\n1,2,3,4,5,6,7,nan\n"),
        "csv-wrong-width": ("x.csv", b"f0,f1,f2\n1,2,3\n"),
        "parquet-garbage": ("x.parquet", b"PAR1" + b"\x00" * 50 + b"PAR1"),
        "parquet-zero-bytes": ("x.parquet", b""),
        "parquet-text": ("x.parquet", b"hello world\n" * 10),
    }
    for label, (name, content) in bad_tables.items():
        yield _case(
            f"encode-{label}",
            "encode",
            f"{{W}}/{name}",
            "--model",
            "{A}/mlp",
            "-o",
            "{W}/z.npy",
            setup=_write(name, content),
        )
        yield _case(
            f"detect-{label}",
            "detect",
            "--model",
            "{A}/mlp",
            "-i",
            f"{{W}}/{name}",
            "-o",
            "{W}/s.csv",
            "--threshold",
            "1",
            setup=_write(name, content),
        )
        yield _case(
            f"decode-{label}",
            "decode",
            f"{{W}}/{name}",
            "--model",
            "{A}/mlp",
            "-o",
            "{W}/z.npy",
            setup=_write(name, content),
        )
        yield _case(
            f"train-{label}",
            "train",
            "--dataset",
            f"{{W}}/{name}",
            "--model",
            "mlp",
            "-o",
            "{W}/run",
            setup=_write(name, content),
        )
    # 10: devices
    for device in ("cuda", "cuda:7", "bogus", "tpu", "mps", ""):
        yield _case(f"device-{device or 'empty'}", *TRAIN, "--device", device)
    # 11: batch sizes and chunk rows
    for option, value in (
        ("--batch-size", "0"),
        ("--batch-size", "-1"),
        ("--chunk-rows", "0"),
        ("--chunk-rows", "-5"),
    ):
        yield _case(
            f"encode{option}{value}",
            "encode",
            "{A}/data.npy",
            "--model",
            "{A}/mlp",
            "-o",
            "{W}/z.npy",
            option,
            value,
        )
        yield _case(
            f"encode-table{option}{value}",
            "encode",
            "{A}/table.csv",
            "--model",
            "{A}/mlp",
            "-o",
            "{W}/z.npy",
            option,
            value,
        )
    yield _case(
        "detect-batch-size-0",
        "detect",
        "--model",
        "{A}/mlp",
        "-i",
        "{A}/table.csv",
        "-o",
        "{W}/s.csv",
        "--threshold",
        "1",
        "--batch-size",
        "0",
    )
    yield _case("train-batch-size-0", *TRAIN, "--batch-size", "0")
    yield _case("train-batch-size-negative", *TRAIN, "--batch-size", "-4")
    yield _case("train-epochs-negative", *TRAIN, "--epochs", "-1")
    # 12: TOML --config values and keys
    for label, text in {
        "epochs-text": '[train]\nepochs = "many"\n',
        "image-size-text": 'image_size = "big"\n',
        "image-size-huge": "image_size = [100000, 100000]\n",
        "image-size-three": "image_size = [1, 2, 3]\n",
        "model-options-number": "model_options = 3\n",
        "train-list": "train = [1, 2]\n",
        "dataset-number": "dataset = 5\n",
        "max-samples-negative": "max_samples = -1\n",
        "max-samples-text": 'max_samples = "all"\n',
        "unknown-key": "epochz = 3\n",
        "unknown-train-key": "[train]\nepochz = 3\n",
        "unknown-model-key": "[model_options]\nlatnt_dim = 3\n",
        "batch-size-float": "[train]\nbatch_size = 2.5\n",
        "learning-rate-nan": "[train]\nlearning_rate = nan\n",
        "seed-huge": "[train]\nseed = 9223372036854775807\nepochs = 1e400\n",
        "invalid-toml": "this is = = not toml\n",
        "augmentation-list": "augmentation = [1]\n",
        "resume-text": '[train]\nresume = "yes"\n',
    }.items():
        yield _case(
            f"toml-{label}",
            "train",
            "--config",
            "{W}/run.toml",
            "-o",
            "{W}/run",
            setup=_write("run.toml", text),
        )
    yield _case(
        "toml-latin1",
        "train",
        "--config",
        "{W}/run.toml",
        "-o",
        "{W}/run",
        setup=_write("run.toml", "dataset = '\xe9'\n".encode("latin1")),
    )
    yield _case("toml-missing", "train", "--config", "{W}/none.toml", "-o", "{W}/run")
    # 13: accepted silently before
    yield _case("set-batch-norm-yes", *TRAIN, "--set", 'batch_norm="yes"')
    yield _case("train-set-resume-yes", *TRAIN, "--train-set", 'resume="yes"')
    yield _case("train-set-unknown", *TRAIN, "--train-set", "epochz=3")
    yield _case(
        "detect-threshold-nan",
        "detect",
        "--model",
        "{A}/mlp",
        "-i",
        "{A}/table.csv",
        "-o",
        "{W}/s.csv",
        "--threshold",
        "nan",
    )
    yield _case(
        "detect-threshold-inf",
        "detect",
        "--model",
        "{A}/mlp",
        "-i",
        "{A}/table.csv",
        "-o",
        "{W}/s.csv",
        "--threshold",
        "inf",
    )
    yield _case("train-max-samples-negative", *TRAIN, "--max-samples", "-1")
    yield _case("train-max-samples-zero", *TRAIN, "--max-samples", "0")
    yield _case(
        "map-max-samples-negative",
        "map",
        "{A}/images",
        "--model",
        "{A}/conv",
        "-o",
        "{W}/m.png",
        "--max-samples",
        "-3",
    )
    yield _case(
        "encode-zero-row-table",
        "encode",
        "{W}/x.csv",
        "--model",
        "{A}/mlp",
        "-o",
        "{W}/z.npy",
        setup=_write("x.csv", "f0,f1,f2,f3,f4,f5,f6,f7\n"),
    )
    yield _case(
        "encode-zero-row-parquet",
        "encode",
        "{W}/x.parquet",
        "--model",
        "{A}/mlp",
        "-o",
        "{W}/z.npy",
        setup=_empty_parquet,
    )
    yield _case("map-to-txt", "map", "{A}/images", "--model", "{A}/conv", "-o", "{W}/m.txt")
    yield _case("sample-to-txt", "sample", "--model", "{A}/conv", "-o", "{W}/s.txt")
    yield _case(
        "interpolate-to-npy", "interpolate", "--model", "{A}/conv", "--data", "{A}/images", "-o", "{W}/p.npy"
    )
    yield _case("decode-to-png", "decode", "{A}/codes.npy", "--model", "{A}/mlp", "-o", "{W}/x.png")
    yield _case("reconstruct-to-csv", "reconstruct", "{A}/data.npy", "--model", "{A}/mlp", "-o", "{W}/x.txt")
    yield _case("encode-to-txt", "encode", "{A}/data.npy", "--model", "{A}/mlp", "-o", "{W}/z.txt")
    yield _case(
        "detect-to-txt",
        "detect",
        "--model",
        "{A}/mlp",
        "-i",
        "{A}/table.csv",
        "-o",
        "{W}/s.txt",
        "--threshold",
        "1",
    )
    yield _case("learning-rate-nan", *TRAIN, "--learning-rate", "nan")
    yield _case("learning-rate-inf", *TRAIN, "--learning-rate", "inf")
    yield _case("learning-rate-negative", *TRAIN, "--learning-rate", "-1")
    yield _case("seed-above-2-63", *TRAIN, "--seed", str(2**64))
    yield _case("seed-negative-huge", *TRAIN, "--seed", str(-(2**70)))
    yield _case("set-input-shape", *TRAIN, "--set", "input_shape=[5]")
    yield _case("set-no-equals", *TRAIN, "--set", "latent_dim")
    yield _case("set-deep-json", *TRAIN, "--set", "latent_dim=" + "[" * 100000 + "]" * 100000)
    yield _case("augment-bad", *TRAIN, "--augment", "max_shift=-1")
    # 14: checkpoints of the wrong structure, indexes whose names are not a list
    resume = (*TRAIN[:-1], "{W}/run", "--resume", "--set", "latent_dim=2")
    for label, edit in {
        "missing-model": lambda s: s.pop("model"),
        "missing-epoch": lambda s: s.pop("epoch"),
        "epoch-negative": lambda s: s.update(epoch=-5),
        "epoch-huge": lambda s: s.update(epoch=10**9),
        "epoch-text": lambda s: s.update(epoch="3"),
        "history-dict": lambda s: s.update(history={"a": 1}),
        "generator-float": lambda s: s.update(generator=__import__("torch").zeros(3)),
        "model-wrong-shapes": lambda s: s["model"].update(
            {k: v.flatten()[:2].clone() for k, v in s["model"].items()}
        ),
        "model-nan": lambda s: s["model"].update({k: v * float("nan") for k, v in s["model"].items()}),
        "optimizer-not-dict": lambda s: s.update(optimizers={"main": 5}),
        "optimizer-wrong-groups": lambda s: s.update(
            optimizers={"main": {"state": {}, "param_groups": [{"params": [0]}]}}
        ),
        "other-model": lambda s: s.update(model_name="vae"),
        "not-a-checkpoint": lambda s: s.update(format="nope"),
        "best-loss-text": lambda s: s.update(best_loss="low"),
    }.items():
        yield _case(f"checkpoint-{label}", *resume, setup=_checkpoint(edit))
    yield _case("checkpoint-garbage", *resume, setup=_write("run/checkpoint/checkpoint.pt", b"garbage" * 10))
    yield _case("checkpoint-zero-bytes", *resume, setup=_write("run/checkpoint/checkpoint.pt", b""))
    for label, names in {
        "names-dict": {"a": 1},
        "names-number": 5,
        "names-short": ["a"],
        "names-nested": [[1]],
    }.items():
        yield _case(f"index-{label}", "search", "{W}/index", "{A}/image.png", setup=_index(names))
    # 16: multi-line library errors become one line
    yield _case("model-folder-missing", "encode", "{A}/data.npy", "--model", "{W}/none", "-o", "{W}/z.npy")
    yield _case(
        "model-folder-is-file", "encode", "{A}/data.npy", "--model", "{A}/data.npy", "-o", "{W}/z.npy"
    )
    yield _case(
        "model-weights-garbage",
        "encode",
        "{A}/data.npy",
        "--model",
        "{W}/m",
        "-o",
        "{W}/z.npy",
        setup=_garbage_weights,
    )
    yield _case(
        "image-folder-empty",
        "train",
        "--dataset",
        "{W}/empty",
        "-o",
        "{W}/run",
        setup=lambda w, a: (w / "empty").mkdir(),
    )
    yield _case(
        "image-folder-bad-png",
        "train",
        "--dataset",
        "{W}/imgs",
        "-o",
        "{W}/run",
        setup=_write("imgs/a.png", b"\x89PNG\r\n\x1a\nbroken"),
    )
    yield _case(
        "image-folder-bomb-png",
        "train",
        "--dataset",
        "{W}/imgs",
        "-o",
        "{W}/run",
        setup=_write("imgs/a.png", _png_header_only(100000, 100000)),
        memory=True,
    )
    yield _case(
        "denoise-bomb-png",
        "denoise",
        "{W}/a.png",
        "-o",
        "{W}/b.png",
        setup=_write("a.png", _png_header_only(100000, 100000)),
        memory=True,
    )
    yield _case("denoise-garbage", "denoise", "{W}/a.png", "-o", "{W}/b.png", setup=_write("a.png", b"nope"))
    yield _case(
        "inpaint-garbage-mask",
        "inpaint",
        "{A}/image.png",
        "--mask",
        "{W}/m.png",
        "-o",
        "{W}/b.png",
        "--model",
        "{A}/conv",
        setup=_write("m.png", b"nope"),
    )


def _npz_huge(work: Path, assets: Path) -> None:
    import zipfile

    member = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 784), }")
    with zipfile.ZipFile(work / "x.npz", "w") as archive:
        archive.writestr("x.npy", member)


def _empty_parquet(work: Path, assets: Path) -> None:
    import pandas as pd

    pd.DataFrame({f"f{i}": pd.Series([], dtype="float32") for i in range(8)}).to_parquet(work / "x.parquet")


def _garbage_weights(work: Path, assets: Path) -> None:
    _copy_model("mlp", "m")(work, assets)
    (work / "m" / "model.safetensors").write_bytes(b"\xff" * 64)
    document = json.loads((work / "m" / "config.json").read_text())
    document["weights_sha256"] = hashlib.sha256(b"\xff" * 64).hexdigest()
    (work / "m" / "config.json").write_text(json.dumps(document))


def _index(names: object) -> Setup:
    def setup(work: Path, assets: Path) -> None:
        from typer.testing import CliRunner

        from aekit.cli import app

        result = CliRunner().invoke(
            app,
            [
                "--quiet",
                "index",
                str(assets / "images"),
                "--model",
                str(assets / "conv"),
                "-o",
                str(work / "index"),
            ],
        )
        assert result.exit_code == 0, result.output
        description = next(p for p in (work / "index").iterdir() if p.suffix == ".json")
        document = json.loads(description.read_text())
        document["names"] = names
        description.write_text(json.dumps(document))

    return setup
