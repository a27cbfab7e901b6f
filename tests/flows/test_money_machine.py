"""The whole money path as a state machine: batch runs and re-runs crashing at random store writes,
adjusters deciding and releasing, senior approvals, apply_review, retakes answering a request, reopens,
exports and reconciles, in any order hypothesis finds. After every step:

- no payment ever took a claim above the decision it paid, and a claim paid above its final decision
  (a reopen decided lower) is named by `reconcile` as money to recover;
- no decision is lost: decision rows never change or vanish, and every adjuster decision is either
  waiting in its task or recorded as the claim's decision;
- every payment instruction is in at most one payment file, and in exactly one once an export finished;
- every claim is decided, waiting with a reason (documents asked for, a run to finish), or in a queue.

It drives the runner (`flows.steps`), `pipeline.decisions`, `pipeline.payout`, `review.work` and
`flows.apply_review` as the flows do, without Prefect; extraction is replaced by the claim's facts
(this is about money, not reading). A crash is an exception raised as a store session opens, so
every write before it committed and none after it happened. SQLite in every run; PostgreSQL too
(CI). Examples: CLAIMS_MONEY_EXAMPLES (SQLite, default 150), CLAIMS_MONEY_PG_EXAMPLES (default 40).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers.facts import OUTPATIENT_DOCS, items, make_facts
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select, text

from adjudication.rules import load_rule_book
from flows import steps
from flows.apply_review import apply_decision, pending_decisions
from pipeline import decisions
from pipeline.payout import export_pending, reconcile
from pipeline.records import ClaimFacts, ClaimType, DocType, Route
from pipeline.settings import Authority, Settings
from pipeline.store import CaseStore, DecisionRow, DocumentFiles, PaymentRow, make_engine, migrate
from review import casefile, work
from review.auth import Role, Viewer, add_user

NOW = dt.datetime(2025, 9, 10, 9, 0, tzinfo=dt.UTC)
CARD = "4111111111111111"
CLAIM_IDS = ("M1", "M2", "M3", "M4", "M5", "M6")
PEOPLE = {
    "adj1": Role.ADJUSTER,
    "adj2": Role.ADJUSTER,
    "senior1": Role.SENIOR,
    "senior2": Role.SENIOR,
}
AUTHORITY = Authority(adjuster=Decimal("100"), senior_adjuster=Decimal("1000"))
"""Low limits, so that second approvals (and their refusals) happen often."""
SQLITE_EXAMPLES = int(os.environ.get("CLAIMS_MONEY_EXAMPLES", "150"))
PG_EXAMPLES = int(os.environ.get("CLAIMS_MONEY_PG_EXAMPLES", "40"))


SEEN: Counter[str] = Counter()
"""What the examples reached, so a machine that never pays or never crashes fails instead of passing."""
MUST_SEE = (
    "crash",
    "paid",
    "applied",
    "reopened",
    "resumed",
    "processing error",
    "awaiting approval",
    "recover",
    "route flash_pay",
    "route auto_approve",
    "route adjuster",
    "route deny",
    "route request_info",
)


class Crash(BaseException):
    """The process dies: not an Exception, so nothing in the product catches it."""


def _facts(claim_id: str, *, complete: bool = True) -> ClaimFacts:
    """Six kinds of claim: flash pay, documents missing, above the machine's limit, auto approve,
    denied (incident before the policy), and one whose processing fails until its cause is fixed."""
    n = CLAIM_IDS.index(claim_id)
    kw: dict[str, Any] = {"claim_id": claim_id, "invoice_number": f"10000{n}", "account": CARD}
    if claim_id == "M2" and not complete:
        kw["documents"] = [d for d in OUTPATIENT_DOCS if d is not DocType.BANK_CARD]
    if claim_id == "M3":
        kw.update(claim_type=ClaimType.INPATIENT, days=5, sum_insured="100000",
                  line_items=items(("手术费", "手术费", "甲", "30000.00")))  # fmt: skip
    if claim_id == "M4":
        kw.update(
            claim_type=ClaimType.INPATIENT, days=3, line_items=items(("床位费", "床位费", "甲", "4000.00"))
        )
    if claim_id == "M5":
        kw["effective"] = dt.date(2025, 10, 1)
    return make_facts(**kw)


class SafeGate:
    """A gate that trusts small amounts: some claims go straight through, the rest to a person."""

    version = "test-gate"
    threshold = 0.9

    def probability(self, facts: Any, triage: Any, adjudication: Any) -> float:
        return 0.95 if adjudication.payable < Decimal("5000") else 0.5


class MoneyPath(RuleBasedStateMachine):
    """One store, six claims, and everyone who touches their money."""

    make_store: Callable[[], tuple[CaseStore, Settings]]

    def __init__(self) -> None:
        super().__init__()
        self.store, self.settings = self.make_store()
        self.out = self.settings.payments_dir
        self.facts = {c: _facts(c, complete=False) for c in CLAIM_IDS}
        self.broken = {"M6"}  # its processing fails until the cause is fixed
        self.models = steps.Models(doc_type=None, rules=RULES, gate=SafeGate(), fraud=None)  # type: ignore[arg-type]
        for f in self.facts.values():
            self.store.save_claim(f.claim)
        self.decisions_seen: dict[tuple[str, int], tuple[Any, ...]] = {}
        self.payments_seen: dict[str, tuple[Any, ...]] = {}
        self.people_decided: dict[str, Any] = {}  # claim -> the adjuster decision a task recorded
        self.needs_run: set[str] = set(CLAIM_IDS)  # no completed run has looked at these since
        self.export_clean = True  # the last export finished (no crash after it started)
        self.runs = 0

    def teardown(self) -> None:
        self.store.engine.dispose()

    # --- what can happen ------------------------------------------------------------------------

    @contextmanager
    def crashing(self, at: int | None) -> Iterator[None]:
        """Raise `Crash` as the `at`-th store session opens (None: no crash); swallow it after."""
        real = self.store.session
        count = [0]

        @contextmanager
        def session() -> Iterator[Any]:
            count[0] += 1
            if at is not None and count[0] == at:
                raise Crash(f"crash before store session {at}")
            with real() as s:
                yield s

        self.store.session = session  # type: ignore[method-assign]
        try:
            yield
        except Crash:
            SEEN["crash"] += 1
        finally:
            del self.store.session

    def _assemble(self, claim: Any, extractions: Any, policy: Any) -> ClaimFacts:
        if claim.claim_id in self.broken:
            raise ValueError(f"claim {claim.claim_id}: the extractor failed (a bug)")
        return self.facts[claim.claim_id]

    @rule(
        subset=st.sets(st.sampled_from(CLAIM_IDS), min_size=1),
        crash=st.one_of(st.none(), st.integers(1, 60)),
    )
    def batch_run(self, subset: set[str], crash: int | None) -> None:
        """A batch run (or an intake take-over) over some claims, then its payment file."""
        self.runs += 1
        ids = sorted(subset)
        self.export_clean = False
        finished = False
        with self.crashing(crash):
            results = steps.decide_claims(
                self.store, ids, "key", self.models, self.settings, issued_by=f"run {self.runs}"
            )
            SEEN.update(f"route {r.route}" for r in results)
            SEEN.update("paid" for r in results if r.paid)
            SEEN.update("processing error" for r in results if r.route == Route.ERROR.value)
            steps.export_payments(self.store, self.settings, f"run {self.runs}")
            finished = True
        if finished:
            self.needs_run -= subset
            self.export_clean = True

    @rule(claim_id=st.sampled_from(CLAIM_IDS))
    def fix_the_cause(self, claim_id: str) -> None:
        self.broken.discard(claim_id)

    def _tasks(self, *states: str) -> list[str]:
        return sorted(t["claim_id"] for t in self.store.review_tasks(status=None) if t["status"] in states)

    def _latest_in(self, routes: frozenset[Route]) -> list[str]:
        latest = {c: decisions.latest(self.store, c) for c in CLAIM_IDS}
        return [c for c, r in latest.items() if r is not None and r.outcome.route in routes]

    @precondition(lambda self: self._tasks(work.OPEN))
    @rule(
        data=st.data(),
        who=st.sampled_from(sorted(PEOPLE)),
        action=st.sampled_from(["approve", "approve", "deny", "request_info"]),
        share=st.sampled_from([1, 30, 60, 90, 100, 100]),
    )
    def person_decides(self, data: st.DataObject, who: str, action: str, share: int) -> None:
        claim_id = data.draw(st.sampled_from(self._tasks(work.OPEN)))
        viewer = _viewer(who)
        if not work.take_lock(self.store, self.settings, claim_id, who).ok:
            return
        cap, _ = casefile.payable_cap(self.store, claim_id)
        amount = (cap or Decimal("20000")) * share / 100
        form = work.DecisionForm(
            action=action,
            amount=str(max(Decimal("0.01"), amount.quantize(Decimal("0.01")))),
            reason="不属于保险责任" if action == "deny" else "",
            missing_documents=("bank_card",) if action == "request_info" else (),
        )
        try:
            state = work.decide(self.store, self.settings, viewer, claim_id, form)
        except work.ReviewError:
            return
        if state == work.DONE:
            self._remember_task(claim_id)
        else:
            SEEN["awaiting approval"] += 1

    @precondition(lambda self: self._tasks(work.OPEN))
    @rule(data=st.data(), who=st.sampled_from(sorted(PEOPLE)))
    def person_releases(self, data: st.DataObject, who: str) -> None:
        work.release_lock(self.store, data.draw(st.sampled_from(self._tasks(work.OPEN))), who)

    @precondition(lambda self: self._tasks(work.AWAITING))
    @rule(data=st.data(), who=st.sampled_from(["senior1", "senior2"]))
    def senior_approves(self, data: st.DataObject, who: str) -> None:
        claim_id = data.draw(st.sampled_from(self._tasks(work.AWAITING)))
        [task] = [t for t in self.store.review_tasks(status=None) if t["claim_id"] == claim_id]
        try:
            work.approve(self.store, self.settings, _viewer(who), claim_id, task["version"])
        except work.ReviewError:
            return
        self._remember_task(claim_id)

    def _remember_task(self, claim_id: str) -> None:
        [task] = [t for t in self.store.review_tasks(status=None) if t["claim_id"] == claim_id]
        self.people_decided[claim_id] = task["decision"]

    @rule(crash=st.one_of(st.none(), st.integers(1, 40)))
    def apply_review(self, crash: int | None) -> None:
        """The apply_review flow: every adjuster decision to its outcome and payment, then the file."""
        self.export_clean = False
        finished = False
        with self.crashing(crash):
            for pending in pending_decisions(self.store):
                apply_decision(self.store, pending.decision, pending.routed_version)
                SEEN["applied"] += 1
            steps.export_payments(self.store, self.settings, "apply_review")
            finished = True
        self.export_clean = finished

    @precondition(lambda self: self._latest_in(frozenset({Route.REQUEST_INFO})))
    @rule(data=st.data(), crash=st.one_of(st.none(), st.integers(1, 3)))
    def retake_answers_the_request(self, data: st.DataObject, crash: int | None) -> None:
        claim_id = data.draw(st.sampled_from(self._latest_in(frozenset({Route.REQUEST_INFO}))))
        self.facts[claim_id] = _facts(claim_id, complete=True)
        with self.crashing(crash):
            decisions.resume(self.store, claim_id, actor="app")
            self.needs_run.add(claim_id)
            SEEN["resumed"] += 1

    @precondition(lambda self: self._latest_in(decisions.FINAL))
    @rule(data=st.data(), who=st.sampled_from(["senior1", "senior2"]))
    def senior_reopens(self, data: st.DataObject, who: str) -> None:
        claim_id = data.draw(st.sampled_from(self._latest_in(decisions.FINAL)))
        decisions.reopen(self.store, claim_id, by=who, reason="客户投诉")
        SEEN["reopened"] += 1

    @rule(crash=st.one_of(st.none(), st.integers(1, 4)))
    def operator_exports(self, crash: int | None) -> None:
        self.export_clean = False
        finished = False
        with self.crashing(crash):
            export_pending(self.store, self.out, source="claims payments export")
            finished = True
        self.export_clean = finished

    @precondition(lambda self: self.export_clean)
    @rule()
    def operator_reconciles(self) -> None:
        result = reconcile(self.store, self.out)
        assert [b for b in result.breaks if "to recover" not in b] == [], result.breaks

    # --- what must always hold -------------------------------------------------------------------

    @invariant()
    def no_payment_above_its_decision(self) -> None:
        with self.store.session() as s:
            rows = s.scalars(
                select(PaymentRow).order_by(PaymentRow.claim_id, PaymentRow.decision_version)
            ).all()
            decided = {(d.claim_id, d.decision_version): d for d in s.scalars(select(DecisionRow))}
        paid: Counter[str] = Counter()
        for p in rows:
            paid[p.claim_id] += p.amount  # type: ignore[assignment]
            d = decided[(p.claim_id, p.decision_version)]
            assert Route(d.route) in decisions.PAYING, (p.idempotency_key, d.route)
            assert paid[p.claim_id] <= d.payable, (p.idempotency_key, paid[p.claim_id], d.payable)
            seen = self.payments_seen.setdefault(p.idempotency_key, (p.amount, p.decision_version))
            assert seen == (p.amount, p.decision_version), p.idempotency_key
        assert len({p.idempotency_key for p in rows}) == len(self.payments_seen)  # none vanished
        over = [c for c in paid if paid[c] > (decisions.final_amount(self.store, c) or 0)]
        if over:
            breaks = " ".join(reconcile(self.store, self.out).breaks)
            SEEN["recover"] += 1
            for c in over:  # a reopen decided lower: the money left under an earlier final decision
                assert f"claim {c}: " in breaks and "to recover" in breaks, (c, breaks)

    @invariant()
    def no_decision_lost(self) -> None:
        with self.store.session() as s:
            rows = s.scalars(select(DecisionRow)).all()
            by_key = {(d.claim_id, d.decision_version): (d.route, d.payable, d.decided_by) for d in rows}
        for key, value in self.decisions_seen.items():
            assert by_key.get(key) == value, (key, value, by_key.get(key))
        self.decisions_seen.update(by_key)
        tasks = {t["claim_id"]: t for t in self.store.review_tasks(status=None)}
        for claim_id, decided in list(self.people_decided.items()):
            task = tasks[claim_id]
            if task["decision"] == decided and task["status"] == work.DONE:
                continue  # waiting for apply_review
            applied = [
                r for r in rows if r.claim_id == claim_id and r.decided_by == f"review:{decided['reviewer']}"
            ]
            assert any(r.record["decided_at"][:19] == decided["decided_at"][:19] for r in applied), (
                claim_id,
                decided,
                task,
            )
            del self.people_decided[claim_id]

    @invariant()
    def every_instruction_in_one_file(self) -> None:
        keys: Counter[str] = Counter()
        for path in sorted(self.out.glob("payments-*.csv")) if self.out.is_dir() else []:
            keys.update(r["idempotency_key"] for r in csv.DictReader(path.open(encoding="utf-8")))
        assert all(n == 1 for n in keys.values()), keys
        if self.export_clean:
            with self.store.session() as s:
                issued = set(s.scalars(select(PaymentRow.idempotency_key)))
            assert set(keys) == issued, issued - set(keys)

    @invariant()
    def every_claim_has_an_owner(self) -> None:
        tasks = {t["claim_id"]: t for t in self.store.review_tasks(status=None)}
        for claim_id in CLAIM_IDS:
            latest = decisions.latest(self.store, claim_id)
            if latest is None or self.store.claim_status(claim_id) == decisions.RESUMED:
                assert claim_id in self.needs_run, claim_id  # a run that crashed, or none yet
                continue
            route = latest.outcome.route
            if route in decisions.FINAL:
                continue
            if route is Route.REQUEST_INFO:
                assert latest.outcome.reasons, claim_id  # which documents
                continue
            task = tasks.get(claim_id)
            assert task is not None and task["decision_version"] == latest.version, (claim_id, latest, task)
            assert task["status"] in (work.OPEN, work.AWAITING, work.DONE), task
            assert task["due_at"] is not None or route is Route.ADJUSTER, task


RULES = load_rule_book()


def _viewer(username: str) -> Viewer:
    return Viewer(
        username=username, display_name=username, role=PEOPLE[username], csrf_token="", session_id=""
    )


def _run_machine(make_store: Callable[[], tuple[CaseStore, Settings]], examples: int) -> None:
    original = steps.assemble_facts

    class Machine(MoneyPath):
        pass

    Machine.make_store = staticmethod(make_store)  # type: ignore[assignment]
    Machine.TestCase.settings = settings(
        max_examples=examples,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
        derandomize=True,  # the same paths every run: MUST_SEE must not rest on luck (once missed 'recover')
    )
    machines: list[MoneyPath] = []

    def assemble(claim: Any, extractions: Any, policy: Any) -> ClaimFacts:
        return machines[-1]._assemble(claim, extractions, policy)

    init = Machine.__init__

    def tracked_init(self: MoneyPath) -> None:
        init(self)
        machines.append(self)

    Machine.__init__ = tracked_init  # type: ignore[method-assign]
    steps.assemble_facts = assemble  # type: ignore[assignment]
    SEEN.clear()
    try:
        Machine.TestCase().runTest()
    finally:
        steps.assemble_facts = original
    print(f"money path, {examples} examples:", dict(sorted(SEEN.items())))
    if examples >= 100:  # fewer may miss a rare path by chance
        assert [m for m in MUST_SEE if not SEEN[m]] == [], SEEN


def _people(store: CaseStore) -> None:
    for username, role in PEOPLE.items():
        add_user(store, username, "a-long-password", role)


@pytest.mark.timeout(max(600, SQLITE_EXAMPLES * 3))  # examples, not the clock, bound the work
def test_money_path_on_sqlite(tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    engine = make_engine(f"sqlite:///{template}")
    migrate(engine)
    _people(CaseStore(engine, DocumentFiles(tmp_path / "d", tmp_path / "q")))
    engine.dispose()

    def make() -> tuple[CaseStore, Settings]:
        root = Path(tempfile.mkdtemp(dir=tmp_path))
        shutil.copy(template, root / "claims.db")
        settings_ = Settings(data_dir=root, authority=AUTHORITY)
        store = CaseStore(
            make_engine(settings_.db_url), DocumentFiles(settings_.documents_dir, settings_.quarantine_dir)
        )
        return store, settings_

    _run_machine(make, SQLITE_EXAMPLES)


@pytest.mark.postgres
@pytest.mark.timeout(max(600, PG_EXAMPLES * 10))
def test_money_path_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    engine = make_engine(pg_url)
    migrate(engine)
    _people(CaseStore(engine, DocumentFiles(tmp_path / "d", tmp_path / "q")))
    keep = ("alembic_version", "review_users")
    with engine.connect() as conn:
        listed = conn.execute(text("select tablename from pg_tables where schemaname = 'public'"))
        tables = [r[0] for r in listed if r[0] not in keep]
    engine.dispose()

    def make() -> tuple[CaseStore, Settings]:
        root = Path(tempfile.mkdtemp(dir=tmp_path))
        settings_ = Settings(data_dir=root, database_url=pg_url, authority=AUTHORITY)
        eng = make_engine(pg_url)
        with eng.begin() as conn:
            conn.execute(text(f"truncate {', '.join(tables)} restart identity cascade"))
        return CaseStore(eng, DocumentFiles(settings_.documents_dir, settings_.quarantine_dir)), settings_

    _run_machine(make, PG_EXAMPLES)
