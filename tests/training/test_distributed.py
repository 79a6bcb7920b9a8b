"""DDP through torchrun: 2 CPU processes (gloo) reach the weights of 1 process on the same global batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = """
import sys, torch
from aekit.data import TensorData
from aekit.models import create
from aekit.training import TrainConfig, Trainer
from aekit.training.distributed import DistributedContext, end_worker_process

torch.set_num_threads(1)
x = torch.rand(192, 12, generator=torch.Generator().manual_seed(0))
model = create("mlp", input_shape=(12,), latent_dim=3, hidden_dims=[16], seed=0)
history = Trainer(TrainConfig(epochs=2, batch_size=int(sys.argv[1]), seed=0, checkpoint_dir=sys.argv[3])).fit(
    model, TensorData(x)
)
context = DistributedContext.from_environment()
if context.is_main:
    torch.save({"state": model.state_dict(), "loss": history["train_loss"]}, sys.argv[2])
end_worker_process(0)
"""


def _run(arguments: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(arguments, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.timeout(240)
def test_two_gloo_processes_match_one_process_on_the_same_global_batch(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    _run([sys.executable, str(script), "32", "single.pt", "ckpt1"], tmp_path)
    _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            str(script),
            "16",
            "ddp.pt",
            "ckpt2",
        ],
        tmp_path,
    )
    single = torch.load(tmp_path / "single.pt", weights_only=True)
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)
    for name, value in single["state"].items():
        torch.testing.assert_close(ddp["state"][name], value, rtol=1e-4, atol=1e-5, msg=name)
    assert ddp["loss"] == pytest.approx(single["loss"], rel=1e-4)
    # only rank 0 wrote files
    assert sorted(p.name for p in (tmp_path / "ckpt2").iterdir()) == ["checkpoint.pt", "losses.csv"]


RESUME_SCRIPT = """
import sys, torch
from aekit.data import TensorData
from aekit.models import create
from aekit.training import TrainConfig, Trainer
from aekit.training.distributed import DistributedContext, end_worker_process

torch.set_num_threads(1)
x = torch.rand(64, 12, generator=torch.Generator().manual_seed(0))
# (epochs, folder, resume) per run: a VAE samples a code per step, from each process's own RNG
runs = [(1, "stopped", False), (2, "straight", False)] if sys.argv[1] == "first" else [(2, "stopped", True)]
for epochs, folder, resume in runs:
    model = create("vae", input_shape=(12,), latent_dim=3, hidden_dims=[16], seed=0)
    config = TrainConfig(epochs=epochs, batch_size=8, seed=0, checkpoint_dir=folder, resume=resume)
    Trainer(config).fit(model, TensorData(x))
    if DistributedContext.from_environment().is_main:
        torch.save(model.state_dict(), folder + ".pt")
end_worker_process(0)
"""


@pytest.mark.timeout(240)
def test_a_resumed_ddp_run_draws_the_noise_each_process_would_have(tmp_path: Path) -> None:
    """Each process samples its own noise; a checkpoint kept rank 0's RNG state alone, so after a resume
    rank 1 repeated rank 0's draws and the run left the course of one that was never stopped."""
    script = tmp_path / "resume.py"
    script.write_text(RESUME_SCRIPT)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    _run([*torchrun, str(script), "first"], tmp_path)  # one epoch, stopped; and two epochs, straight
    _run([*torchrun, str(script), "resume"], tmp_path)  # the stopped run resumed to two epochs
    straight = torch.load(tmp_path / "straight.pt", weights_only=True)
    resumed = torch.load(tmp_path / "stopped.pt", weights_only=True)
    for name, value in straight.items():
        torch.testing.assert_close(resumed[name], value, rtol=0, atol=0, msg=name)
