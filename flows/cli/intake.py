"""`claims intake ...`: the intake API's keys per channel, and running its queue now."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from flows.cli.common import console, emit_json, fail, out
from pipeline.errors import ClaimsError
from pipeline.settings import get_settings

intake_app = typer.Typer(
    help="The intake API: API keys per channel, and the intake queue.", no_args_is_help=True
)


@intake_app.command("addkey")
def intake_addkey(
    channel: Annotated[str, typer.Option("--channel", help="app, agent or hospital.")],
    name: Annotated[str, typer.Option("--name", help="Whose key: the app, agency or hospital (名称).")],
    rate: Annotated[
        float | None,
        typer.Option("--rate", help="Requests per minute (default CLAIMS_INTAKE_RATE_PER_MINUTE)."),
    ] = None,
    burst: Annotated[
        int | None, typer.Option("--burst", help="Requests at once (default CLAIMS_INTAKE_BURST).")
    ] = None,
    bank: Annotated[
        str | None, typer.Option("--bank", help="Hospital: the settlement account's bank.")
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", help="Hospital: corporate account for direct settlement (医疗直付)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the key as JSON (last line).")] = False,
) -> None:
    """Make an API key for a channel; it is printed once and only its SHA-256 is stored."""
    from intake.keys import create_key
    from pipeline.store import open_store

    try:
        key, who = create_key(
            open_store(get_settings()),
            channel,
            name,
            rate_per_minute=rate,
            burst=burst,
            settlement_bank=bank,
            settlement_account=account,
        )
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    console.print(f"key {who.key_id} for {who.owner}: store it now, it is shown only this once")
    if as_json:
        emit_json({"ok": True, "key": key, "key_id": who.key_id, "channel": who.channel, "name": who.name})
    else:  # alone on stdout, so KEY=$(claims intake addkey ...) captures it
        sys.stdout.write(key + "\n")


@intake_app.command("keys")
def intake_keys(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON (last line).")] = False,
) -> None:
    """List the API keys (ids, channels, names, limits; never the keys)."""
    from intake.keys import list_keys
    from pipeline.store import open_store

    keys = list_keys(open_store(get_settings()))
    table = Table(title="intake API keys")
    for col in ("key id", "channel", "name", "rate/min", "created", "revoked"):
        table.add_column(col)
    for k in keys:
        revoked = f"{k['revoked_at']:%Y-%m-%d %H:%M}" if k["revoked_at"] else ""
        rate = str(k["rate_per_minute"] or "default")
        table.add_row(
            k["key_id"], k["channel"], k["name"], rate, f"{k['created_at']:%Y-%m-%d %H:%M}", revoked
        )
    out.print(table)
    if as_json:
        emit_json({"keys": keys})


@intake_app.command("revokekey")
def intake_revokekey(
    key_id: Annotated[str, typer.Argument(help="The key id (from claims intake keys).")],
) -> None:
    """Revoke an API key at once (a running server stops accepting it within 30 seconds)."""
    from intake.keys import revoke_key
    from pipeline.store import open_store

    if not revoke_key(open_store(get_settings()), key_id):
        fail(ClaimsError(f"no active key {key_id}"), False)
    out.print(f"key {key_id} revoked")


@intake_app.command("run")
def intake_run(
    as_json: Annotated[bool, typer.Option("--json", help="Print the batch result as the last line.")] = False,
) -> None:
    """Run the intake batch now: every claim the intake API queued, to an outcome."""
    from flows.intake import intake_batch
    from flows.models import ensure_models
    from flows.progress import open_progress

    settings = get_settings()
    for card in ensure_models(settings):
        console.print(f"trained {card.name} {card.version} from synthetic data (first run)")
    with open_progress("claims intake run", console) as progress:
        result = intake_batch(
            data_dir=str(settings.data_dir), database_url=settings.database_url, report=progress
        )
    if result is None:
        out.print("no claims queued")
        if as_json:
            emit_json({"claims": []})
        return
    table = Table(title=f"batch {result.batch_id}")
    for col in ("claim", "route", "payable", "paid", "reasons"):
        table.add_column(col)
    for r in result.claims:
        table.add_row(r.claim_id, r.route, r.payable, r.paid or "", "; ".join(r.reasons)[:90])
    out.print(table)
    if as_json:
        emit_json(result.model_dump(mode="json"))
