"""The ledger: payment instructions issued once, each leaving in exactly one payment file.

Paying is one transaction that locks the claim's row and pays what its latest decision still owes:
decided amount minus everything the ledger already holds for the claim, never more, under the key
claim id + decision version (unique in the table, as is the decision version per claim). Whoever
asks (the batch, the intake flow, `apply_review`, a re-run after a crash), a decision pays once.

Instructions leave in payment files (`export_pending`): one CSV plus one JSON per export, every
instruction in exactly one. The rows are claimed for the export and the files written and synced in
one transaction; the files take their final names only after it commits, and an export whose files
are missing (a crash in between) is written again from the database, byte for byte, as
`claims payments export --again` does. `reconcile` proves the whole: every paid yuan belongs to a
final decision, no decision is paid twice or above its amount, every instruction is in one file.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import tempfile
import unicodedata
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import func, select, update

from pipeline.decisions import FINAL, PAYING, latest_row, lock_claim
from pipeline.errors import ClaimsError
from pipeline.extract.checks import luhn_valid
from pipeline.records import ClaimFacts, DirectSettlement, PaymentInstruction, Route, money
from pipeline.store import CaseStore, DecisionRow, PaymentExportRow, PaymentRow, as_utc, utcnow

log = logging.getLogger(__name__)

PAYMENT_COLUMNS = (
    "idempotency_key",
    "claim_id",
    "payee",
    "bank",
    "account",
    "amount",
    "decision_version",
    "rule_set_version",
    "model_versions",
    "created_at",
)


class Payee(BaseModel):
    name: str
    bank: str
    account: str
    corporate: bool = False
    """A hospital's corporate account (对公账户, 医疗直付): no card number, so no Luhn check digit."""


class PayoutResult(BaseModel):
    """What happened to one claim at payout: paid now, already paid, or held with the reasons."""

    claim_id: str
    instruction: PaymentInstruction | None = None
    already_paid: bool = False
    held: list[str] = []


def _name(s: str) -> str:
    return re.sub(r"[\s·•.]", "", unicodedata.normalize("NFKC", s))


def account_problems(payee: Payee | None, claimant: str) -> list[str]:
    """Why money must not go to this account: Luhn fails, or the holder is not the claimant.

    For direct settlement `claimant` is the hospital that is owed the money.
    """
    if payee is None or not payee.account:
        return ["no bank account: the claim form and bank card give none"]
    problems = []
    if not payee.corporate and not luhn_valid(payee.account):
        problems.append(f"bank account {mask_account(payee.account)} fails the Luhn check")
    if _name(payee.name) != _name(claimant):
        problems.append(f"account holder {payee.name} is not the claimant {claimant}")
    return problems


def mask_account(account: str) -> str:
    digits = re.sub(r"\D", "", account)
    return f"{digits[:4]}****{digits[-4:]}" if len(digits) >= 8 else "****"


def settle_directly(facts: ClaimFacts, settlement: DirectSettlement | None) -> ClaimFacts:
    """The facts with their payee: 医疗直付 (`settlement` recorded at intake) pays the hospital, on the
    account it gave, not the claimant; without one the facts are returned as they are."""
    if settlement is None:
        return facts
    return facts.model_copy(
        update={
            "direct_settlement": True,
            "payee_name": settlement.account_name,
            "payee_bank": settlement.bank,
            "payee_account": settlement.account,
        }
    )


def payee_of(facts: ClaimFacts | None, claimant: str) -> tuple[Payee | None, str]:
    """Who is paid, and whose name the account must carry.

    医疗直付: the hospital that submitted the claim is paid on its corporate account and must be the
    hospital that issued the invoices; everything else pays the claimant on their own card.
    """
    if facts is None or not facts.payee_account:
        return None, claimant
    payee = Payee(
        name=facts.payee_name or facts.claim.claimant,
        bank=facts.payee_bank or "",
        account=facts.payee_account,
        corporate=facts.direct_settlement,
    )
    return payee, (facts.hospital or "") if facts.direct_settlement else facts.claim.claimant


def idempotency_key(claim_id: str, decision_version: int) -> str:
    return f"{claim_id}:d{decision_version}"


def pay(
    store: CaseStore,
    claim_id: str,
    payee: Payee | None,
    *,
    entitled: str,
    issued_by: str,
    decision_version: int | None = None,
    now: dt.datetime | None = None,
) -> PayoutResult:
    """Issue the instruction the claim's latest decision still owes, once (see the module's text).

    `decision_version`, when given, is the decision the caller means to pay: if a later one has been
    recorded meanwhile, nothing is paid here (the later one is paid by whoever recorded it).
    """
    result = PayoutResult(claim_id=claim_id)
    with store.session() as s:
        claim = lock_claim(s, claim_id)
        decision = latest_row(s, claim_id)
        if decision is None or Route(decision.route) not in PAYING:
            return result
        if decision_version is not None and decision.decision_version != decision_version:
            return result
        version = decision.decision_version
        rows = s.scalars(select(PaymentRow).where(PaymentRow.claim_id == claim_id)).all()
        if any(r.decision_version == version for r in rows):
            result.already_paid = True
            return result
        paid = sum((r.amount for r in rows), Decimal(0))
        due = money(decision.payable - paid)
        if due <= 0:
            result.already_paid = bool(rows)
            if not rows:
                result.held.append("nothing payable")
            return result
        result.held = account_problems(payee, entitled)
        if result.held:
            return result
        assert payee is not None and paid + due <= decision.payable
        outcome_record = decision.record
        instruction = PaymentInstruction(
            idempotency_key=idempotency_key(claim_id, version),
            claim_id=claim_id,
            payee=payee.name,
            bank=payee.bank,
            account=re.sub(r"\D", "", payee.account),
            amount=due,
            decision_version=str(version),
            rule_set_version=outcome_record.get("rule_set_version"),
            model_versions=outcome_record.get("model_versions") or {},
            created_at=(now or utcnow()).replace(microsecond=0),
        )
        s.add(
            PaymentRow(
                idempotency_key=instruction.idempotency_key,
                claim_id=claim_id,
                decision_version=version,
                amount=due,
                record=instruction.model_dump(mode="json"),
                issued_by=issued_by,
            )
        )
        claim.paid_at = as_utc(instruction.created_at)
    result.instruction = instruction
    return result


# --- payment files -------------------------------------------------------------------------------


class Export(BaseModel):
    """One payment file pair, as recorded in `payment_exports`."""

    export_id: int
    source: str
    created_at: dt.datetime
    count: int
    total: Decimal
    csv_path: Path
    json_path: Path

    @property
    def file_id(self) -> str:
        return f"{self.export_id:06d}"


def export_paths(out_dir: Path, export_id: int) -> tuple[Path, Path]:
    stem = f"payments-{export_id:06d}"
    return out_dir / f"{stem}.csv", out_dir / f"{stem}.json"


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def render_export(
    export_id: int, source: str, created_at: dt.datetime, instructions: list[PaymentInstruction]
) -> tuple[str, str]:
    """The two files' text; the same rows always give the same bytes (a rewrite is a copy)."""
    ordered = sorted(instructions, key=lambda p: p.idempotency_key)
    rows = [
        {**p.model_dump(mode="json"), "model_versions": json.dumps(p.model_versions, sort_keys=True)}
        for p in ordered
    ]
    total = sum((p.amount for p in ordered), Decimal(0))
    doc = {
        "export_id": export_id,
        "file_id": f"{export_id:06d}",
        "source": source,
        "created_at": _aware(created_at).astimezone(dt.UTC).isoformat(),
        "count": len(ordered),
        "total": format(money(total), "f"),
        "payments": [p.model_dump(mode="json") for p in ordered],
    }
    return _csv_text(rows), json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def export_pending(
    store: CaseStore, out_dir: Path, *, source: str, now: dt.datetime | None = None
) -> Export | None:
    """Put every instruction not yet in a payment file into a new one; None if none is waiting."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_missing_files(store, out_dir)
    if unexported_count(store) == 0:  # (a number is not taken for nothing: PostgreSQL keeps no gaps)
        return None
    created = (now or utcnow()).replace(microsecond=0)
    staged: list[tuple[Path, Path]] = []
    try:
        with store.session() as s:
            row = PaymentExportRow(source=source, created_at=created, count=0, total=Decimal(0))
            s.add(row)
            s.flush()
            claimed = s.execute(
                update(PaymentRow)
                .where(PaymentRow.export_id.is_(None))
                .values(export_id=row.id)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount == 0:
                raise _NothingToExport
            instructions = [
                PaymentInstruction.model_validate(r)
                for r in s.scalars(select(PaymentRow.record).where(PaymentRow.export_id == row.id))
            ]
            csv_text, json_text = render_export(row.id, source, created, instructions)
            row.count = len(instructions)
            row.total = money(sum((p.amount for p in instructions), Decimal(0)))
            row.csv_sha256, row.json_sha256 = _digest(csv_text), _digest(json_text)
            for final, text in zip(export_paths(out_dir, row.id), (csv_text, json_text), strict=True):
                staged.append((_staged_write(final, text), final))
            export = Export(
                export_id=row.id,
                source=source,
                created_at=created,
                count=row.count,
                total=row.total,
                csv_path=staged[0][1],
                json_path=staged[1][1],
            )
    except _NothingToExport:
        return None
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in staged:  # committed: the files take their names
        os.replace(tmp, final)
    _sync_dir(out_dir)
    log.info("payment file %s: %d instructions, %s yuan", export.file_id, export.count, export.total)
    return export


class _NothingToExport(Exception):
    pass


def parse_file_id(file_id: str) -> int:
    """`000012`, `12` or a file name `payments-000012.csv` to the export's number."""
    m = re.fullmatch(r"(?:payments-)?0*(\d+)(?:\.(?:csv|json))?", file_id.strip())
    if m is None:
        raise ClaimsError(
            f"{file_id!r} is not a payment file id (e.g. 000012, as `claims payments export` printed)"
        )
    return int(m.group(1))


def export_again(store: CaseStore, out_dir: Path, file_id: str) -> Export:
    """Write an earlier payment file again, byte for byte as first written (checked by its digest)."""
    export_id = parse_file_id(file_id)
    with store.session() as s:
        row = s.get(PaymentExportRow, export_id)
        if row is None:
            raise ClaimsError(f"no payment file {export_id:06d}: `claims payments reconcile` lists them")
        if row.csv_sha256 is None:
            raise ClaimsError(
                f"payment file {export_id:06d} stands for the files written before exports were recorded"
                f" ({row.source}); it cannot be written again"
            )
        instructions = [
            PaymentInstruction.model_validate(r)
            for r in s.scalars(select(PaymentRow.record).where(PaymentRow.export_id == export_id))
        ]
        source, created, count, total = row.source, row.created_at, row.count, row.total
        digests = (row.csv_sha256, row.json_sha256)
    texts = render_export(export_id, source, created, instructions)
    if (_digest(texts[0]), _digest(texts[1])) != digests:
        raise ClaimsError(
            f"payment file {export_id:06d} would not come out as first written (its rows changed):"
            " run `claims payments reconcile`"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = export_paths(out_dir, export_id)
    for path, text in zip(paths, texts, strict=True):
        os.replace(_staged_write(path, text), path)
    _sync_dir(out_dir)
    return Export(
        export_id=export_id,
        source=source,
        created_at=_aware(created),
        count=count,
        total=total,
        csv_path=paths[0],
        json_path=paths[1],
    )


def write_missing_files(store: CaseStore, out_dir: Path) -> list[Export]:
    """Write again the recorded exports whose files are not on disk (a crash after the commit)."""
    with store.session() as s:
        rows = (
            s.execute(
                select(PaymentExportRow.id)
                .where(PaymentExportRow.csv_sha256.is_not(None))
                .order_by(PaymentExportRow.id)
            )
            .scalars()
            .all()
        )
    written = []
    for i in rows:
        if all(p.exists() for p in export_paths(out_dir, i)):
            continue
        try:
            written.append(export_again(store, out_dir, str(i)))
        except ClaimsError as exc:  # its rows changed: reconcile names it; new payments still leave
            log.error("payment file %06d cannot be written again: %s", i, exc)
    return written


def exports(store: CaseStore) -> list[dict[str, object]]:
    with store.session() as s:
        return [
            {
                "export_id": r.id,
                "source": r.source,
                "created_at": _aware(r.created_at),
                "count": r.count,
                "total": r.total,
                "csv_sha256": r.csv_sha256,
                "json_sha256": r.json_sha256,
            }
            for r in s.scalars(select(PaymentExportRow).order_by(PaymentExportRow.id))
        ]


def unexported_count(store: CaseStore) -> int:
    with store.session() as s:
        return (
            s.scalar(select(func.count()).select_from(PaymentRow).where(PaymentRow.export_id.is_(None))) or 0
        )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A payee called "=HYPERLINK(...)" stays text when the payment CSV is opened in a spreadsheet."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            Decimal(value)
        except ArithmeticError:
            return "'" + value
    return value


def _csv_text(rows: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=PAYMENT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def _staged_write(path: Path, text: str) -> Path:
    """`text` in a hidden file beside `path`, on the disk (fsync) but not yet under its name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _sync_dir(path: Path) -> None:
    """The renames themselves on the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- reconcile -----------------------------------------------------------------------------------


class Reconciliation(BaseModel):
    """What `reconcile` found: the figures, what is still owed, and every break (none when ok)."""

    claims: int
    decisions: int
    instructions: int
    paid: Decimal
    exports: int
    owed: list[str] = []
    """Final decisions not (fully) paid yet: a held account, or a run to finish."""
    breaks: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.breaks


def reconcile(store: CaseStore, out_dir: Path) -> Reconciliation:
    """Prove the ledger: every paid yuan belongs to a final decision, no decision is paid twice or
    above its amount, every instruction is in exactly one payment file, and the files on disk are
    the ones recorded."""
    if store.count_claims() == 0:
        raise ClaimsError(
            f"the case store ({store.engine.url.render_as_string()}) holds no claims: nothing to reconcile"
        )
    with store.session() as s:
        decided = s.scalars(
            select(DecisionRow).order_by(DecisionRow.claim_id, DecisionRow.decision_version)
        ).all()
        payments = s.scalars(
            select(PaymentRow).order_by(PaymentRow.claim_id, PaymentRow.decision_version)
        ).all()
        files = s.scalars(select(PaymentExportRow).order_by(PaymentExportRow.id)).all()
    by_claim: dict[str, list[DecisionRow]] = {}
    for d in decided:
        by_claim.setdefault(d.claim_id, []).append(d)
    paid_by: dict[str, list[PaymentRow]] = {}
    for p in payments:
        paid_by.setdefault(p.claim_id, []).append(p)
    result = Reconciliation(
        claims=store.count_claims(),
        decisions=len(decided),
        instructions=len(payments),
        paid=money(sum((p.amount for p in payments), Decimal(0))),
        exports=len(files),
    )
    for claim_id in sorted(set(by_claim) | set(paid_by)):
        _reconcile_claim(claim_id, by_claim.get(claim_id, []), paid_by.get(claim_id, []), result)
    _reconcile_files(payments, files, out_dir, result)
    return result


def _reconcile_claim(
    claim_id: str, decided: list[DecisionRow], paid: list[PaymentRow], result: Reconciliation
) -> None:
    versions = {d.decision_version: d for d in decided}
    running = Decimal(0)
    seen: set[int] = set()
    for p in paid:
        running += p.amount
        d = versions.get(p.decision_version)
        if p.decision_version in seen:
            result.breaks.append(f"claim {claim_id}: decision v{p.decision_version} paid twice")
        seen.add(p.decision_version)
        if d is None:
            result.breaks.append(
                f"{p.idempotency_key}: pays decision v{p.decision_version}, which does not exist"
            )
        elif Route(d.route) not in PAYING:
            result.breaks.append(
                f"{p.idempotency_key}: pays decision v{d.decision_version}, which is {d.route}"
            )
        elif running > d.payable:
            result.breaks.append(
                f"claim {claim_id}: {money(running)} paid by decision v{d.decision_version},"
                f" above its {d.payable}"
            )
    final = next((d for d in reversed(decided) if Route(d.route) in FINAL), None)
    total = money(running)
    if final is None:
        if paid:
            result.breaks.append(f"claim {claim_id}: {total} paid without a final decision")
        return
    amount = final.payable if Route(final.route) in PAYING else Decimal("0.00")
    if total > amount:
        result.breaks.append(
            f"claim {claim_id}: {total} paid, above its final decision v{final.decision_version}"
            f" ({final.route} {amount}): {money(total - amount)} to recover"
        )
    elif total < amount and decided[-1] is final:
        result.owed.append(
            f"claim {claim_id}: {money(amount - total)} of v{final.decision_version} not paid yet"
        )


def _reconcile_files(
    payments: list[PaymentRow], files: list[PaymentExportRow], out_dir: Path, result: Reconciliation
) -> None:
    for p in payments:
        if p.export_id is None:
            result.breaks.append(f"{p.idempotency_key}: in no payment file yet (`claims payments export`)")
    in_export: dict[int, list[PaymentRow]] = {}
    for p in payments:
        if p.export_id is not None:
            in_export.setdefault(p.export_id, []).append(p)
    known = {}
    for f in files:
        rows = in_export.get(f.id, [])
        total = money(sum((p.amount for p in rows), Decimal(0)))
        if len(rows) != f.count or total != money(f.total):
            result.breaks.append(
                f"payment file {f.id:06d}: records {f.count} instructions, {f.total} yuan; the ledger has"
                f" {len(rows)}, {total}"
            )
        if f.csv_sha256 is None:
            continue
        for path, digest in zip(export_paths(out_dir, f.id), (f.csv_sha256, f.json_sha256), strict=True):
            known[path.name] = f.id
            if not path.exists():
                result.breaks.append(f"{path.name} is missing: `claims payments export --again {f.id:06d}`")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                result.breaks.append(
                    f"{path.name} differs from the file written: `--again {f.id:06d}` restores it"
                )
    where: dict[str, list[str]] = {}
    for path in sorted(out_dir.glob("payments-*.csv")) if out_dir.is_dir() else []:
        if re.fullmatch(r"payments-\d{6}\.csv", path.name) and path.name not in known:
            result.breaks.append(f"{path.name}: no such payment file in the case store")
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                where.setdefault(row.get("idempotency_key", ""), []).append(path.name)
    for key, names in sorted(where.items()):
        if len(names) > 1:
            result.breaks.append(f"{key}: in {len(names)} payment files ({', '.join(names)})")
