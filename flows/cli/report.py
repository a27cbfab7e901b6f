"""`claims report`: the regulator's and the insurer's service indicators over a period of the store.

Each figure is printed with its definition beside it and the plan's target (`pipeline.indicators`);
`--by` splits the claims by product, channel or month; `--json` prints the report as the last line,
`--csv` writes one row per group and indicator to stdout, `--html FILE` writes the self-contained
page with every indicator plotted over time against its target (`pipeline.report_html`). A period in
which no claim was decided prints so and exits 0, with an empty table (an empty CSV keeps its header).
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from flows.cli.common import console, emit_json, fail, out
from pipeline.errors import ClaimsError
from pipeline.settings import get_settings

if TYPE_CHECKING:
    from pipeline.indicators import Report

DEFAULT_DAYS = 30
"""The period when none is given: the last 30 days, today included."""
CSV_COLUMNS = ("group", "claims", "indicator", "name", "value", "count", "of", "text", "target", "definition")


def report(
    start: Annotated[
        str | None, typer.Option("--from", metavar="DATE", help="First day (YYYY-MM-DD, Beijing time).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help="Last day, included (default: today).")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", metavar="product|channel|month", help="Figures per group as well.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (last line).")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Write the figures to stdout as CSV.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", metavar="FILE", help="Write the HTML report with its plots.")
    ] = None,
) -> None:
    """Service indicators over the claims decided in a period (default: the last 30 days), with their
    definitions and the insurer's targets: 理赔服务时效, 获赔率, flash pay, straight through, ..."""
    from pipeline.indicators import from_store, last_days, parse_day
    from pipeline.report_html import render
    from pipeline.store import open_store

    settings = get_settings()
    try:
        last = parse_day(end, "--to") if end else last_days(1)[1]
        first = parse_day(start, "--from") if start else last - dt.timedelta(days=DEFAULT_DAYS - 1)
        rep, series = from_store(open_store(settings), first, last, by=by, targets=settings.service_targets)
        if html is not None:
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(render(rep, series), encoding="utf-8")
    except ValueError as exc:  # a bad date or --by, or a period ending before it starts
        fail(ClaimsError(str(exc)), as_json)
        return
    except (ClaimsError, OSError) as exc:
        fail(exc if isinstance(exc, ClaimsError) else ClaimsError(f"--html {html}: {exc}"), as_json)
        return
    machine = as_json or as_csv
    if rep.empty:
        (console if machine else out).print(f"no claims decided between {first} and {last}")
    if as_csv:
        _write_csv(rep)
    elif not as_json:
        _print_table(rep)
    if html is not None:
        console.print(f"report written: {html}", highlight=False)
    if as_json:
        emit_json({"ok": True, **rep.model_dump(mode="json"), "html": str(html) if html else None})


def _print_table(rep: Report) -> None:
    from pipeline.report_html import value_text

    table = Table(title=f"claims service indicators {rep.start} – {rep.end}", show_lines=False)
    table.add_column("indicator")
    groups = [] if rep.empty else rep.groups
    for g in groups:
        table.add_column(f"{g.name} ({g.claims})", justify="right")
    table.add_column("target", justify="right")
    table.add_column("definition", style="dim")
    for ind in rep.indicators:
        if not groups:
            break
        target = value_text(ind, ind.target) if ind.target is not None else ""
        table.add_row(ind.name, *(g.figure(ind.key).text for g in groups), target, ind.definition)
    out.print(table)


def _write_csv(rep: Report) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    if not rep.empty:
        for g in rep.groups:
            for ind in rep.indicators:
                f = g.figure(ind.key)
                writer.writerow(
                    [
                        g.name,
                        g.claims,
                        ind.key,
                        ind.name,
                        "" if f.value is None else f"{f.value:.6g}",
                        f.count,
                        f.of,
                        f.text,
                        "" if ind.target is None else ind.target,
                        ind.definition,
                    ]
                )
    sys.stdout.flush()
