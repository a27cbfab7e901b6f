"""`claims payments ...`: how money leaves, and the proof that it left right.

- `claims payments export` puts every payment instruction not yet in a file into a new payment file
  (one CSV plus one JSON); `--again FILE_ID` writes an earlier one again, byte for byte.
- `claims payments reconcile` proves the ledger and exits 1 naming each break.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from flows.cli.common import emit_json, fail, out
from pipeline.errors import ClaimsError
from pipeline.settings import get_settings

payments_app = typer.Typer(
    help="Payment files: export the instructions not yet sent, re-export one, reconcile the ledger.",
    no_args_is_help=True,
)


@payments_app.command("export")
def payments_export(
    again: Annotated[
        str | None,
        typer.Option("--again", metavar="FILE_ID", help="Write this earlier file again, byte for byte."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary as the last line.")] = False,
) -> None:
    """Write the payment instructions not yet in any file to a new payment file (CSV and JSON)."""
    from pipeline.payout import export_again, export_pending
    from pipeline.store import open_store

    settings = get_settings()
    try:
        store = open_store(settings)
        if again is not None:
            export = export_again(store, settings.payments_dir, again)
        else:
            export = export_pending(store, settings.payments_dir, source="claims payments export")
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    if export is None:
        out.print("no payment instruction is waiting for a file")
        if as_json:
            emit_json({"ok": True, "file_id": None, "count": 0})
        return
    verb = "written again" if again is not None else "written"
    out.print(f"payment file {export.file_id} {verb}: {export.count} instructions, {export.total} yuan")
    out.print(f"  {export.csv_path}\n  {export.json_path}", markup=False)
    if as_json:
        emit_json(
            {
                "ok": True,
                "file_id": export.file_id,
                "count": export.count,
                "total": format(export.total, "f"),
                "files": [str(export.csv_path), str(export.json_path)],
            }
        )


@payments_app.command("reconcile")
def payments_reconcile(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary as the last line.")] = False,
) -> None:
    """Prove the ledger: paid yuan against final decisions, instructions against payment files.

    Exits 1 when anything does not reconcile, naming each break.
    """
    from pipeline.payout import reconcile
    from pipeline.store import open_store

    settings = get_settings()
    try:
        result = reconcile(open_store(settings), settings.payments_dir)
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    table = Table(title="ledger", show_header=False)
    for label, value in (
        ("claims", result.claims),
        ("decisions", result.decisions),
        ("payment instructions", result.instructions),
        ("paid (yuan)", result.paid),
        ("payment files", result.exports),
        ("decided, not yet paid", len(result.owed)),
        ("breaks", len(result.breaks)),
    ):
        table.add_row(label, str(value))
    out.print(table)
    for line in result.owed:
        out.print(f"[yellow]owed:[/] {line}", highlight=False)
    for line in result.breaks:
        out.print(f"[bold red]break:[/] {line}", highlight=False)
    if result.ok:
        out.print("no break: every paid yuan belongs to a final decision, every instruction is in one file")
    if as_json:
        emit_json({"ok": result.ok, **result.model_dump(mode="json")})
    if not result.ok:
        raise typer.Exit(code=1)
