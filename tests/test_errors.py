"""Every error class a user may catch is importable from ``aekit.errors``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import aekit.errors

SOURCE = Path(__file__).resolve().parents[1] / "src" / "aekit"
INTERNAL = {"PayloadError"}  # turned into CodecFileError before it reaches a user


def test_errors_defined_elsewhere_are_reexported() -> None:
    defined = {
        node.name
        for path in SOURCE.rglob("*.py")
        if path.name != "errors.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and any(isinstance(base, ast.Name) and base.id.endswith("Error") for base in node.bases)
    }
    missing = sorted(defined - INTERNAL - set(aekit.errors.__all__))
    assert not missing, f"re-export these from aekit.errors: {missing}"
    for name in aekit.errors.__all__:
        error = getattr(aekit.errors, name)
        assert issubclass(error, aekit.errors.AekitError), name


def test_importing_errors_stays_light() -> None:
    code = "import sys, aekit.errors; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
