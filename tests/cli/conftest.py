"""Fixtures for command-line tests."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from aekit.cli._console import STATE


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def _fresh_cli_state() -> None:
    """The root callback sets global flags; start every test from the defaults."""
    STATE.quiet = STATE.verbose = STATE.json = STATE.debug = False
