"""What every `claims` sub-command shares: the consoles, the JSON summary line, the one-line error."""

from __future__ import annotations

import json
import sys
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
