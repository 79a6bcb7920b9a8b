"""The anomaly pictures draw without a display and refuse mismatched inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aekit.errors import ShapeError
from aekit.report.anomaly_plots import roc_curve_figure, score_histogram_figure, worst_reconstructions_figure
from aekit.report.plots import save_figure


def test_figures_render_and_save(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    scores = np.r_[rng.gamma(2.0, size=90), rng.gamma(6.0, size=10)]
    labels = np.r_[np.zeros(90), np.ones(10)]
    histogram = score_histogram_figure(scores, labels, threshold=5.0, log_scale=True)
    assert len(histogram.axes[0].patches) > 0
    save_figure(histogram, tmp_path / "hist.png")
    roc = roc_curve_figure({"ae": scores, "random": rng.random(100)}, labels)
    assert "AUROC" in roc.axes[0].get_legend().get_texts()[0].get_text()
    save_figure(roc, tmp_path / "roc.png")
    images = rng.random((100, 1, 6, 6))
    worst = worst_reconstructions_figure(images, images * 0.5, scores, n_samples=4, error_maps=images * 0.25)
    assert len(worst.axes) == 12
    assert worst.axes[0].get_title() == f"{scores.max():.3g}"
    save_figure(worst, tmp_path / "worst.png")
    assert all((tmp_path / name).stat().st_size > 0 for name in ("hist.png", "roc.png", "worst.png"))
    save_figure(score_histogram_figure(scores), tmp_path / "plain.png")


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ShapeError, match=r"labels must have one entry per score \(3\); got 2"):
        score_histogram_figure([1.0, 2.0, 3.0], [0, 1])
    with pytest.raises(ShapeError, match="must describe the same samples"):
        worst_reconstructions_figure(np.zeros((3, 4)), np.zeros((3, 5)), [1.0, 2.0, 3.0])
