"""Fixtures of the hostile-input corpus: small real model folders and data files, made once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aekit.cli._console import STATE


@pytest.fixture(autouse=True)
def _fresh_cli_state() -> None:
    STATE.quiet = STATE.verbose = STATE.json = STATE.debug = False


@pytest.fixture(scope="session")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-mostly folder: ``mlp/`` (8 features, latent 2), ``conv/`` (1×8×8, latent 2), ``table.csv``,
    ``data.npy``, ``codes.npy``, ``image.png``, ``images/``, ``run/`` (a finished run folder)."""
    from PIL import Image

    from aekit.data.normalization import Normalizer
    from aekit.models import create
    from aekit.models.files import save_model

    root = tmp_path_factory.mktemp("assets")
    rng = np.random.default_rng(0)
    table = rng.normal(size=(24, 8)).astype(np.float32)
    save_model(
        create("mlp", input_shape=(8,), latent_dim=2, hidden_dims=(16,), seed=0),
        root / "mlp",
        normalizer=Normalizer.fit(__import__("torch").from_numpy(table), "standardize"),
    )
    save_model(create("conv", input_shape=(1, 8, 8), latent_dim=2, channels=(4,), seed=0), root / "conv")
    header = ",".join(f"f{i}" for i in range(8))
    (root / "table.csv").write_text(
        header + "\n" + "\n".join(",".join(f"{v:.4f}" for v in row) for row in table) + "\n"
    )
    np.save(root / "data.npy", table)
    np.save(root / "codes.npy", rng.normal(size=(5, 2)).astype(np.float32))
    Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(root / "image.png")
    (root / "images").mkdir()
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(root / "images" / f"{i}.png")
    run = root / "run"
    (run / "model").mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        (run / "model" / name).write_bytes((root / "conv" / name).read_bytes())
    (run / "settings.json").write_text('{"run": {}, "train": {}}\n')
    (run / "metrics.json").write_text('{"test_mse_per_pixel": 0.1}\n')
    return root
