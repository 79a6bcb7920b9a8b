"""Per-epoch record of every loss term, learning rate and speed."""

from __future__ import annotations

import csv
import dataclasses
import io
import os

from aekit.formats.files import atomic_write_text

__all__ = ["History"]


@dataclasses.dataclass
class History:
    """Rows of per-epoch values.

    Columns: ``epoch``, ``train_<term>``, ``val_<term>``, ``lr``, ``seconds``, ``samples_per_second``.
    ``pretraining`` holds one history per layer of a layer-wise family's greedy pretraining, bottom
    first (empty for other families).
    """

    rows: list[dict[str, float]] = dataclasses.field(default_factory=list)
    pretraining: list[History] = dataclasses.field(default_factory=list)

    def append(self, row: dict[str, float]) -> None:
        """Add one epoch's row."""
        self.rows.append(dict(row))

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: str) -> list[float]:
        """All epochs' values of one column, e.g. ``history["val_loss"]``."""
        if not self.rows or key not in self.rows[-1]:
            raise KeyError(f"no column {key!r} in history; columns: {', '.join(self.columns)}")
        return [row[key] for row in self.rows]

    @property
    def columns(self) -> list[str]:
        """Column names in first-seen order."""
        names: dict[str, None] = {}
        for row in self.rows:
            names.update(dict.fromkeys(row))
        return list(names)

    def to_csv_text(self) -> str:
        """The history as CSV text with a header row."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return buffer.getvalue()

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_csv_text` to ``path`` atomically."""
        atomic_write_text(path, self.to_csv_text())

    def pretraining_rows(self) -> list[dict[str, float]]:
        """Every pretraining row with its ``layer`` (0-based) first, for one CSV file."""
        return [{"layer": float(k), **row} for k, stage in enumerate(self.pretraining) for row in stage.rows]

    @classmethod
    def from_rows(cls, rows: list[dict[str, float]]) -> History:
        """Rebuild from stored rows (checkpoints)."""
        return cls([dict(row) for row in rows])
