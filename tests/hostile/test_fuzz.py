"""Property-based fuzzing of the readers that take files from users: model ``config.json``, training
checkpoints and ``.npy`` headers. Whatever the content, the reader either loads it or raises an aekit
error (one line, naming the file); nothing else escapes. Few examples each, so the suite stays fast."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import torch
from hostile_cases import npy_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aekit.errors import AekitError

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
CONFIG_KEYS = ("model", "config", "normalization", "metadata", "weights_sha256", "format_version", "format")
MODEL_FIELDS = ("latent_dim", "hidden_dims", "input_shape", "activation", "batch_norm", "dropout", "typo")


def _one_line_aekit_error(error: BaseException) -> None:
    assert isinstance(error, AekitError), f"{type(error).__name__}: {error}"
    assert str(error).strip()


@FAST
@given(
    key=st.sampled_from(CONFIG_KEYS),
    value=json_values,
    field=st.sampled_from(MODEL_FIELDS),
    inner=json_values,
)
def test_model_config_json(
    assets: Path, tmp_path_factory, key: str, value: object, field: str, inner: object
) -> None:
    from aekit.models.files import load

    folder = tmp_path_factory.mktemp("model")
    shutil.copy(assets / "mlp" / "model.safetensors", folder / "model.safetensors")
    document = json.loads((assets / "mlp" / "config.json").read_text())
    document["config"][field] = inner
    document[key] = value
    (folder / "config.json").write_text(json.dumps(document))
    try:
        load(folder)
    except Exception as error:
        _one_line_aekit_error(error)


CHECKPOINT_KEYS = (
    "epoch",
    "model",
    "optimizers",
    "schedulers",
    "generator",
    "torch_rng",
    "torch_rng_by_rank",
    "history",
    "best_loss",
    "best_state",
    "epochs_without_improvement",
)
tensorish = st.one_of(
    json_values,
    st.builds(torch.zeros, st.integers(0, 3)),
    st.builds(lambda n: torch.full((n,), float("nan")), st.integers(1, 3)),
    st.builds(lambda n: torch.zeros(n, dtype=torch.uint8), st.integers(0, 8)),
)


@FAST
@given(
    changes=st.dictionaries(st.sampled_from(CHECKPOINT_KEYS), tensorish, max_size=3),
    drop=st.sets(st.sampled_from(CHECKPOINT_KEYS), max_size=2),
)
def test_checkpoint_structure(tmp_path_factory, changes: dict, drop: set) -> None:
    from aekit.models import create
    from aekit.training.checkpoint import load_checkpoint, save_checkpoint

    model = create("mlp", input_shape=(8,), latent_dim=2, hidden_dims=(16,), seed=0)
    state = {
        "model_name": "mlp",
        "model_config": model.config.to_dict(),
        "epoch": 1,
        "model": model.state_dict(),
        "optimizers": {"main": {"state": {}, "param_groups": []}},
        "schedulers": {},
        "generator": torch.Generator().get_state(),
        "torch_rng": torch.get_rng_state(),
        "history": [{"epoch": 1}],
        "best_loss": 1.0,
        "best_state": None,
        "epochs_without_improvement": 0,
        **changes,
    }
    for key in drop:
        state.pop(key, None)
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    save_checkpoint(path, state)
    try:
        loaded = load_checkpoint(
            path, model_name="mlp", model_config=model.config.to_dict(), model_state=model.state_dict()
        )
    except Exception as error:
        _one_line_aekit_error(error)
        return
    assert 0 <= loaded["epoch"] <= 10**6 and isinstance(loaded["model"], dict)


shapes = st.lists(st.integers(min_value=-3, max_value=10**12), min_size=0, max_size=4).map(tuple)
descrs = st.sampled_from(["<f4", "<f8", "|u1", "<i8", "|O", "<c8", "|b1", "<q9", ">f4", "V8", "<U3", "zz"])


@FAST
@given(
    descr=descrs,
    shape=shapes,
    fortran=st.booleans(),
    extra=st.binary(max_size=64),
    raw=st.one_of(st.none(), st.text(max_size=40)),
    version=st.sampled_from([1, 2]),
)
def test_npy_headers(
    tmp_path_factory, descr: str, shape: tuple, fortran: bool, extra: bytes, raw: str | None, version: int
) -> None:
    from aekit.data.datasets import load_array
    from aekit.formats.arrays import read_npy_header
    from aekit.formats.matrices import read_matrix

    header = (
        raw
        if raw is not None
        else f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape!r}, }}"
    )
    path = tmp_path_factory.mktemp("npy") / "x.npy"
    try:
        content = npy_bytes(header, extra, version)
    except UnicodeEncodeError:
        return
    path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    for reader in (read_npy_header, load_array, read_matrix):
        try:
            reader(path)
        except Exception as error:
            _one_line_aekit_error(error)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
