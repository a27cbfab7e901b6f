"""`claims models ...`: train, list, show, promote and roll back the versioned models.

Every model is a folder with a model card in the registry; a challenger becomes champion only if it
beats the champion on the frozen holdout (`flows.models.challenge`), or by hand with `--force`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from flows.cli.common import emit_json, fail, out
from pipeline.errors import ClaimsError
from pipeline.settings import get_settings

models_app = typer.Typer(help="Train, list and promote models (doc-type, gate, fraud).", no_args_is_help=True)


@models_app.command("train")
def models_train(
    name: Annotated[str, typer.Argument(help="doc-type, gate (adjudication gate) or fraud.")],
    claims: Annotated[int, typer.Option("--claims", min=10, help="Synthetic claims to learn from.")] = 4000,
    corpus: Annotated[
        list[Path] | None,
        typer.Option("--corpus", help="doc-type: generated corpus folder(s) to learn from."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 2027,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as the last line.")] = False,
) -> None:
    """Train a model, register it as a challenger, and promote it if it beats the champion.

    The first training of a model freezes its holdout; every later one is judged on it."""
    settings = get_settings()
    if name == "doc-type":
        from flows.models import train_doc_type_model

        try:
            card = train_doc_type_model(settings, claims=min(claims, 400), seed=seed, corpus=corpus or [])
        except ClaimsError as exc:
            fail(exc, as_json)
            return
    elif name == "gate":
        from flows.models import train_gate_model

        try:
            card = train_gate_model(settings, claims=claims, seed=seed)
        except ClaimsError as exc:
            fail(exc, as_json)
            return
    elif name == "fraud":
        import tempfile

        from fraud.training import train_fraud_model
        from pipeline.registry import ModelRegistry
        from synth.history import generate_history

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "history.parquet"
            generate_history(claims, path, seed=seed)
            _, report = train_fraud_model(path, registry=ModelRegistry(settings.models_dir))
        card = ModelRegistry(settings.models_dir).card("fraud", report.version or "")
    else:
        fail(ClaimsError(f"unknown model {name!r}: choose doc-type, gate or fraud"), as_json)
        return
    from pipeline.registry import ModelRegistry

    champion = ModelRegistry(settings.models_dir).champion(card.name)
    out.print(f"{card.name} {card.version} registered; champion is {champion}", markup=False)
    for c in card.challenges:
        out.print(f"{'promoted' if c.promoted else 'not promoted'}: {c.reason}", markup=False)
    out.print_json(data=card.metrics)
    if as_json:
        emit_json(card.model_dump(mode="json"))


@models_app.command("list")
def models_list(
    name: Annotated[
        str | None, typer.Argument(help="One model (doc-type, adjudication-gate, fraud...).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the versions as the last line.")] = False,
) -> None:
    """List model versions with their champion, data hash and headline metric."""
    from flows.models import PROMOTION_METRICS
    from pipeline.registry import ModelRegistry

    registry = ModelRegistry(get_settings().models_dir)
    try:
        names = [name] if name else registry.names()
        rows = []
        for n in names:
            champion = registry.champion(n)
            metric = PROMOTION_METRICS.get(n, ("", True))[0]
            for card in registry.cards(n):
                rows.append(
                    {
                        "name": n,
                        "version": card.version,
                        "champion": card.version == champion,
                        "created_at": card.created_at.isoformat(timespec="seconds"),
                        "data_hash": card.data_hash[:12],
                        "holdout_hash": (card.holdout_hash or "")[:12] or None,
                        "metric": metric or None,
                        "value": card.metrics.get(metric) if metric else None,
                        "holdout_value": (card.metrics.get("holdout") or {}).get(metric) if metric else None,
                    }
                )
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    table = Table(title=f"models in {registry.root}")
    for col in ("name", "version", "champion", "created", "data", "metric", "test", "holdout"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"],
            r["version"],
            "*" if r["champion"] else "",
            r["created_at"],
            r["data_hash"],
            r["metric"] or "",
            _metric(r["value"]),
            _metric(r["holdout_value"]) + (f" @{r['holdout_hash'][:8]}" if r["holdout_hash"] else ""),
        )
    out.print(table if rows else f"no models under {registry.root}")
    if as_json:
        emit_json({"root": str(registry.root), "models": rows})


def _metric(value: Any) -> str:
    return "" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


@models_app.command("show")
def models_show(
    name: Annotated[str, typer.Argument(help="The model: doc-type, adjudication-gate, fraud...")],
    version: Annotated[str | None, typer.Argument(help="A version; the champion if left out.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the card as the last line.")] = False,
) -> None:
    """Show a model card: data and code version, libraries, parameters, metrics, plots and history."""
    from pipeline.registry import ModelRegistry

    registry = ModelRegistry(get_settings().models_dir)
    try:
        version = version or registry.champion(name)
        if version is None:
            raise ClaimsError(f"model {name!r} has no champion; give a version (claims models list {name})")
        card = registry.card(name, version)
        plots = registry.plots(name, version)
        holdout = registry.holdout(name)
        history = registry.history(name)
        challenges = [c for c in registry.challenges(name) if c.challenger == version]
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    champion = registry.champion(name)
    table = Table(title=f"{name} {version}{' [champion]' if version == champion else ''}", show_header=False)
    table.add_row("created", card.created_at.isoformat(timespec="seconds"))
    table.add_row("data hash", card.data_hash)
    table.add_row("code version", card.code_version)
    table.add_row("holdout hash", card.holdout_hash or "none")
    table.add_row("libraries", ", ".join(f"{k} {v}" for k, v in card.libraries.items()))
    for key, value in card.metrics.items():
        if not isinstance(value, dict | list):
            table.add_row(key, _metric(value))
    for key in ("holdout", "valid"):
        inner = card.metrics.get(key)
        if isinstance(inner, dict):
            table.add_row(
                key,
                ", ".join(f"{k} {_metric(v)}" for k, v in inner.items() if not isinstance(v, dict | list)),
            )
    for plot, path in plots.items():
        table.add_row(f"plot {plot}", str(path))
    if card.notes:
        table.add_row("notes", card.notes)
    out.print(table)
    for c in challenges:
        out.print(f"challenge {c.at:%Y-%m-%d %H:%M}: {'promoted' if c.promoted else 'refused'}: {c.reason}")
    for e in history[-10:]:
        out.print(f"{e.at:%Y-%m-%d %H:%M} {e.action} {e.previous or '-'} -> {e.version} ({e.reason})")
    if as_json:
        emit_json(
            {
                "card": card.model_dump(mode="json"),
                "champion": champion,
                "plots": {k: str(v) for k, v in plots.items()},
                "holdout": holdout.model_dump(mode="json") if holdout else None,
                "history": [e.model_dump(mode="json") for e in history],
                "challenges": [c.model_dump(mode="json") for c in challenges],
            }
        )


@models_app.command("promote")
def models_promote(
    name: Annotated[str, typer.Argument(help="The model: doc-type, adjudication-gate, fraud...")],
    version: Annotated[str, typer.Argument(help="The challenger version to promote.")],
    margin: Annotated[
        float | None,
        typer.Option("--margin", help="Gain the challenger needs over the champion (default: setting)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote without a comparison (recorded as forced).")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Judge only; change nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as the last line.")] = False,
) -> None:
    """Promote a challenger if it beats the champion on the frozen holdout by the margin (exit 1 if not)."""
    from flows.models import challenge
    from pipeline.registry import ModelRegistry

    settings = get_settings()
    registry = ModelRegistry(settings.models_dir)
    try:
        before = registry.champion(name)
        if force:
            registry.card(name, version)
            if not dry_run:
                registry.promote(name, version, reason="forced by hand (claims models promote --force)")
            summary: dict[str, Any] = {
                "name": name,
                "challenger": version,
                "champion": before,
                "promoted": not dry_run,
                "reason": "forced by hand",
            }
        else:
            summary = challenge(settings, name, version, margin=margin, promote=not dry_run).model_dump(
                mode="json"
            )
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    verdict = "promoted" if summary["promoted"] else "not promoted"
    out.print(f"{name} {version}: {verdict}: {summary['reason']}", markup=False)
    out.print(f"champion of {name}: {registry.champion(name)} (was {before})", markup=False)
    if as_json:
        emit_json(summary)
    if not summary["promoted"] and not dry_run:
        raise typer.Exit(code=1)


@models_app.command("rollback")
def models_rollback(
    name: Annotated[str, typer.Argument(help="The model: doc-type, adjudication-gate, fraud...")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as the last line.")] = False,
) -> None:
    """Return the champion pointer to the previous champion (from the champion history)."""
    from pipeline.registry import ModelRegistry

    registry = ModelRegistry(get_settings().models_dir)
    try:
        before = registry.champion(name)
        after = registry.rollback(name, reason="rolled back by hand (claims models rollback)")
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    out.print(f"champion of {name}: {after} (was {before})", markup=False)
    if as_json:
        emit_json({"name": name, "champion": after, "previous": before})
