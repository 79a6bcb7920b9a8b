"""The ``aekit`` command line: a thin shell over the Python API.

Exit status: 0 success, 1 a task failed (e.g. training diverged), 2 bad usage or input.
Heavy imports (torch, matplotlib) happen inside commands so that ``aekit --help`` is instant.
"""

from __future__ import annotations

import inspect
import logging
import sys
import traceback
from types import ModuleType
from typing import Annotated

import typer

from aekit._version import __version__
from aekit.cli._console import STATE
from aekit.cli.compress import register as register_compress
from aekit.cli.detect import register as register_detect
from aekit.cli.export import register as register_export
from aekit.cli.generate import register as register_generate
from aekit.cli.infer import register as register_infer
from aekit.cli.latent import register as register_latent
from aekit.cli.models import register as register_models
from aekit.cli.report import register as register_report
from aekit.cli.restore import register as register_restore
from aekit.cli.retrieval import register as register_retrieval
from aekit.cli.sweep import register as register_sweep
from aekit.cli.train import register as register_train

__all__ = ["app", "main"]

app = typer.Typer(
    name="aekit",
    help="Autoencoders of every family and their applications. Try: aekit demo",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"aekit {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors on stderr; no progress bars.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log details (INFO level) on stderr.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print results as JSON on stdout.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    """Autoencoders of every family and their applications."""
    STATE.quiet, STATE.verbose, STATE.json, STATE.debug = quiet, verbose, json_output, debug
    if verbose:
        logging.basicConfig(
            level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
        )


register_train(app)
register_infer(app)
register_models(app)
register_export(app)
register_detect(app)
register_report(app)
register_restore(app)
register_latent(app)
register_retrieval(app)
register_generate(app)
register_sweep(app)
register_compress(app)


def _keep_examples_unwrapped(typer_app: typer.Typer) -> None:
    """Mark help paragraphs that are commands (lines starting with ``aekit ``) with click's ``\\b`` so
    ``--help`` prints them as written instead of re-wrapping them mid-command."""
    for info in typer_app.registered_commands:
        text = info.help or (inspect.getdoc(info.callback) if info.callback else None)
        if not text:
            continue
        paragraphs = text.split("\n\n")
        info.help = "\n\n".join(
            "\b\n" + p if p.strip().startswith("aekit ") and not p.startswith("\b") else p for p in paragraphs
        )


_keep_examples_unwrapped(app)  # after every register_* call


def main() -> None:
    """Console entry point (``aekit = "aekit.cli:main"``)."""
    try:
        app()
    except SystemExit as stop:
        _end_torchrun_worker(stop.code)
        raise
    except Exception:
        if _torchrun_context() is not None:
            traceback.print_exc()
            _end_torchrun_worker(1)
        raise
    _end_torchrun_worker(None)


def _torchrun_context() -> ModuleType | None:
    """``aekit.training.distributed`` when a command joined a ``torchrun`` process group, else None
    (the module is looked up, not imported, to keep ``aekit --help`` free of torch)."""
    distributed = sys.modules.get("aekit.training.distributed")
    return distributed if distributed is not None and distributed.joined_process_group() else None


def _end_torchrun_worker(code: object) -> None:
    """End a ``torchrun`` worker with the exit status ``sys.exit(code)`` gives (no-op outside one)."""
    distributed = _torchrun_context()
    if distributed is None:
        return
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    distributed.end_worker_process(status)
