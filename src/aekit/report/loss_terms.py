"""Small multiples of a run's loss terms: one panel per named term, training and validation together."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from aekit.errors import DataError
from aekit.report.plots import _pyplot

__all__ = ["figure_png_bytes", "loss_term_names", "loss_terms_figure"]


def loss_term_names(rows: Sequence[dict[str, float]]) -> list[str]:
    """Term names found in ``train_<term>``/``val_<term>`` columns, in first-seen order."""
    names: dict[str, None] = {}
    for row in rows:
        for column in row:
            for prefix in ("train_", "val_"):
                if column.startswith(prefix):
                    names[column[len(prefix) :]] = None
    return list(names)


def loss_terms_figure(
    rows: Sequence[dict[str, float]], n_columns: int = 3, terms: Sequence[str] | None = None
) -> Any:
    """One panel per loss term against epoch: training solid, validation dashed.

    A panel uses a log scale when its values are positive and span more than a decade, so a term
    falling by orders of magnitude stays readable next to one that barely moves.

    Args:
        rows: History rows (``epoch``, ``train_<term>``, ``val_<term>`` ...), e.g. read from ``losses.csv``.
        n_columns: Panels per row of the figure.
        terms: The terms to draw (default: all of :func:`loss_term_names`).

    Raises:
        DataError: ``rows`` is empty or holds no ``train_``/``val_`` column.
    """
    terms = list(terms) if terms is not None else loss_term_names(rows)
    if not rows or not terms:
        raise DataError("loss rows must hold at least one train_<term> or val_<term> column")
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    n_columns = max(1, min(n_columns, len(terms)))
    n_rows = math.ceil(len(terms) / n_columns)
    figure, axes = plt.subplots(n_rows, n_columns, figsize=(3.6 * n_columns, 2.7 * n_rows), squeeze=False)
    epochs = [row.get("epoch", index + 1) for index, row in enumerate(rows)]
    for index, term in enumerate(terms):
        axis = axes[index // n_columns, index % n_columns]
        shown: list[float] = []
        for prefix, style in (("train_", "-"), ("val_", "--")):
            values = [row.get(prefix + term, math.nan) for row in rows]
            if all(math.isnan(v) for v in values):
                continue
            axis.plot(epochs, values, linestyle=style, marker="o", markersize=2.5, label=prefix.rstrip("_"))
            shown.extend(v for v in values if not math.isnan(v))
        if shown and min(shown) > 0 and max(shown) > 10 * min(shown):
            axis.set_yscale("log")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_title(term, fontsize=10)
        axis.set_xlabel("epoch", fontsize=8)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    for index in range(len(terms), n_rows * n_columns):
        axes[index // n_columns, index % n_columns].axis("off")
    figure.tight_layout()
    return figure


def figure_png_bytes(figure: Any, dpi: int = 100) -> bytes:
    """Render ``figure`` to PNG bytes in memory and release it."""
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=dpi, format="png")
    plt.close(figure)
    return buffer.getvalue()
