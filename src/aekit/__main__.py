"""``python -m aekit``: the same command line as ``aekit`` (also what ``torchrun -m aekit`` runs)."""

from __future__ import annotations

from aekit.cli import main

if __name__ == "__main__":
    main()
