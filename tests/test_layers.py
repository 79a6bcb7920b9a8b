"""Imports only go down the layer list of docs/architecture.md."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "aekit"

_ABOVE_DATA = (
    "aekit.models",
    "aekit.training",
    "aekit.apps",
    "aekit.estimators",
    "aekit.cli",
    "aekit.workflows",
)

FORBIDDEN = {
    "models": (
        "aekit.training",
        "aekit.apps",
        "aekit.estimators",
        "aekit.cli",
        "aekit.workflows",
        "aekit.report",
    ),
    "nn": _ABOVE_DATA,
    "losses": _ABOVE_DATA,
    "formats": (
        "aekit.data",
        "aekit.models",
        "aekit.training",
        "aekit.apps",
        "aekit.estimators",
        "aekit.cli",
        "aekit.workflows",
        "aekit.report",
    ),
    "data": _ABOVE_DATA,
    "training": ("aekit.apps", "aekit.estimators", "aekit.cli", "aekit.workflows"),
    "apps": ("aekit.cli", "aekit.estimators", "aekit.workflows", "aekit.training"),
    "estimators": ("aekit.cli", "aekit.workflows"),
    "workflows": ("aekit.cli",),
}

KNOWN_EXCEPTIONS: set[str] = set()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_lower_layers(package: str) -> None:
    offenders = []
    for path in (SOURCE / package).rglob("*.py"):
        for name in _imports(path):
            if name.startswith(FORBIDDEN[package]):
                offenders.append(f"{path.relative_to(SOURCE)} imports {name}")
    offenders = [line for line in offenders if line not in KNOWN_EXCEPTIONS]
    hint = "\n(code that trains models belongs in aekit.workflows, above training/; apps use trained ones)"
    assert not offenders, "\n".join(offenders) + (hint if package == "apps" else "")


def test_library_code_never_prints_or_seeds_globally() -> None:
    offenders = []
    for path in SOURCE.rglob("*.py"):
        if path.parts[-2] == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                owner = getattr(getattr(func, "value", None), "id", "")
                if name == "print" or (name == "seed" and owner == "random"):
                    offenders.append(f"{path.relative_to(SOURCE)}:{node.lineno} {name}")
    assert not offenders, "\n".join(offenders)
