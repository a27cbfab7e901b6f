"""What every `claims` sub-command shares: the consoles, the JSON summary line, the one-line error."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import typer
from rich.console import Console

console = Console(stderr=True)
"""Errors and progress: stderr, so stdout stays the command's output."""

out = Console()
"""The command's output: stdout."""


def emit_json(summary: dict[str, Any]) -> None:
    """The machine-readable summary, always the last line of stdout."""
    sys.stdout.write(json.dumps(summary, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(exc: Exception, as_json: bool) -> NoReturn:
    """One line naming the problem, the JSON summary if asked for, exit code 2; nothing else."""
    console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    if as_json:
        emit_json({"ok": False, "error": str(exc)})
    raise typer.Exit(code=2)


class StderrLog(logging.StreamHandler):  # type: ignore[type-arg]
    """Log lines on whatever stderr is when they are written (a live progress display puts its own
    in place, so they appear above it); Prefect's own lines below WARNING only when verbose."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.verbose and record.name.startswith("prefect") and record.levelno < logging.WARNING:
            return False  # flow-run chatter ("Beginning flow run", "Finished in state ...")
        return bool(super().filter(record))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def log_to_stderr(verbose: bool) -> Callable[[], None]:
    """The command's logging: INFO with --verbose, else WARNING, on stderr; returns its undoing (a
    command run in-process, as tests do, leaves the process's logging as it found it)."""
    root = logging.getLogger()
    level = root.level
    handler = StderrLog(verbose)
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)

    def undo() -> None:
        root.removeHandler(handler)
        root.setLevel(level)

    return undo
