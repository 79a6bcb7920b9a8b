"""A mask-aware inpainter returns a hole-free image unchanged, so it is measured on the training step's
holes: its run folder and ``aekit evaluate`` never report a perfect 0 MSE / 100 dB for an untrained model."""

from __future__ import annotations

import torch

from aekit.data.tensors import TensorData
from aekit.models import create
from aekit.workflows.run import evaluation_metrics, restoration_examples


def test_a_mask_aware_inpainter_is_measured_on_holes() -> None:
    model = create("photo_inpainter", input_shape=(1, 16, 16), seed=0).eval()
    data = TensorData(torch.rand(6, 1, 16, 16, generator=torch.Generator().manual_seed(0)))
    with torch.no_grad():
        assert torch.equal(model.reconstruct(data.x), data.x)  # no mask: nothing to fill
    metrics = evaluation_metrics(model, data)
    assert metrics["mse_per_pixel"] > 0 and metrics["psnr_db"] < 100
    examples = restoration_examples(model, data)
    assert examples is not None
    corrupted, restored, clean = examples
    assert not torch.equal(corrupted, clean)  # the holes are shown blank
    error = float((restored - clean).square().flatten(1).mean(1).mean())
    assert abs(error - metrics["mse_per_pixel"]) < 1e-6  # the metric is the restoration's error
