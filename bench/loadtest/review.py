"""Load part (a), the review app: adjusters and seniors racing over one queue, then the store checked.

N simulated people (two of them senior adjusters) sign in and take claims from the queue, open them,
decide (approve, partial, deny, request documents), sometimes release, sometimes post the same
decision twice at once (a double click), sometimes go for a claim someone else holds; seniors also
race each other to approve proposals above the authority limit. Then the store must show every
claim decided at most once, every accepted decision as recorded, and an audit trail that matches
what the clients saw (views, locks, decisions, approvals, sign-ins).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import secrets
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench.loadtest.harness import Calls, latency, running_server, timed
from pipeline.reasons import system_source
from pipeline.records import Reason
from pipeline.settings import Authority, Settings
from pipeline.stages import Stage

__all__ = ["Person", "ReviewLog", "ReviewSeed", "check_review", "review_load", "run_review", "seed_review"]

PASSWORD = secrets.token_urlsafe(16)
"""The simulated people's password: made per run, like the databases it opens."""
LOAD_TEST = Reason(code="LOAD_TEST", message="for a person", source=system_source("load test"))
"""Why every seeded claim waits for a person, whatever the engine decided."""


@dataclass
class ReviewSeed:
    claimed: dict[str, Decimal | None]
    """Each routed claim and the most a decision may pay on it (`review.casefile.payable_cap`)."""
    adjusters: list[str]
    seniors: list[str]
    approval_limit: Decimal


def seed_review(
    store: Any, settings: Settings, *, claims: int, adjusters: int, seniors: int, seed: int = 11
) -> ReviewSeed:
    """`claims` claims from the synthetic book, decided by the rules and all routed to a person, plus
    the accounts. The authority limit is set near the 70th percentile of the amounts, so about a
    third of approvals need a senior's second approval (four-eyes)."""
    from adjudication.decide import decide
    from adjudication.rules import load_rule_book
    from intake.structured import canonical_json
    from pipeline import decisions
    from pipeline.records import DocStatus, Document, Route
    from review.auth import Role, add_user
    from review.casefile import payable_cap
    from synth.book import make_book
    from synth.facts import facts_from_truth

    rules = load_rule_book()
    now = dt.datetime.now(dt.UTC)
    store.start_batch("load-review", "bench.load")
    for truth in make_book(claims, seed):
        facts = facts_from_truth(truth)
        cid = facts.claim.claim_id
        data = canonical_json({"claim": cid, "bills": [b.model_dump(mode="json") for b in truth.bills]})
        sha = hashlib.sha256(data).hexdigest()
        with tempfile.NamedTemporaryFile() as tmp:
            tmp.write(data)
            tmp.flush()
            store.files.put(Path(tmp.name), sha)
        doc = Document(
            id=sha,
            claim_id=cid,
            filename="bills.json",
            media_type="application/json",
            size_bytes=len(data),
            page_count=0,
            status=DocStatus.STORED,
        )
        store.save_claim(facts.claim.model_copy(update={"documents": [doc]}), batch_id="load-review")
        bundle = decide(facts, rules=rules, history=None, gate=None, fraud=None, settings=settings, now=now)
        outcome = bundle.outcome.model_copy(
            update={"route": Route.ADJUSTER, "reasons": [*bundle.outcome.reasons, LOAD_TEST]}
        )
        bundle = bundle.model_copy(update={"outcome": outcome})
        if facts.policy is not None:
            store.put_result(cid, Stage.POLICY, facts.policy)
        store.put_result(cid, Stage.FACTS, facts)
        decisions.record_machine_decision(
            store,
            outcome,
            routing=decisions.Routing(bundle.triage.priority, bundle.triage.due_at, outcome.reasons),
            result=(Stage.DECISION, lambda v, b=bundle: b.model_copy(update={"decision_version": v})),
        )
    ids = [t["claim_id"] for t in store.review_tasks()]
    claimed = {cid: payable_cap(store, cid)[0] for cid in ids}
    amounts = sorted(a for a in claimed.values() if a)
    limit = amounts[int(len(amounts) * 0.7)] if amounts else Decimal("10000.00")
    names = [f"adj{n:02d}" for n in range(1, adjusters + 1)] + [f"sen{n:02d}" for n in range(1, seniors + 1)]
    for name in names:
        add_user(store, name, PASSWORD, Role.SENIOR if name.startswith("sen") else Role.ADJUSTER)
    return ReviewSeed(claimed, names[:adjusters], names[adjusters:], limit.quantize(Decimal("0.01")))


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_OPEN = re.compile(r'data-testid="open-([^"]+)"')
_STATE = re.compile(r'class="state(?: (awaiting|locked))?">(?:🔒\s*)?([^<]*)<')
_VERSION = re.compile(
    r'action="/claims/[^"]+/approve">\s*<input[^>]+>\s*<input type="hidden" name="version" value="(\d+)"'
)


@dataclass
class ReviewLog:
    """What the simulated people saw: accepted decisions and approvals, claim pages shown."""

    calls: Calls = field(default_factory=Calls)
    decisions: list[tuple[str, str, str, str | None, str]] = field(default_factory=list)
    """(user, claim, action, amount, note): each decision the app accepted (303)."""
    approvals: list[tuple[str, str]] = field(default_factory=list)
    pages: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(user, claim): claim pages the app rendered for the user, each one a view on the trail."""
    conflicts: Counter[str] = field(default_factory=Counter)
    signed_in: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """A simulated person who stopped on an exception of the client's own."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, fn: Callable[[], None]) -> None:
        with self.lock:
            fn()


class Person:
    """One adjuster or senior in a browser: a cookie jar, the session's CSRF token, and habits."""

    def __init__(self, base: str, user: str, rng: random.Random, log: ReviewLog, seed: ReviewSeed) -> None:
        self.base, self.user, self.rng, self.log, self.seed = base, user, rng, log, seed
        self.client = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
        self.csrf = ""

    def close(self) -> None:
        self.client.close()

    def _page(self, claim_id: str, r: httpx.Response | None) -> str:
        """Count a rendered claim page (a view on the audit trail); return its HTML."""
        if r is not None and 'data-testid="claim-id"' in r.text:
            self.log.note(lambda: self.log.pages.update([(self.user, claim_id)]))
            return r.text
        return ""

    def sign_in(self) -> None:
        r = timed(self.log.calls, "login_form", lambda: self.client.get("/login"))
        token = _CSRF.search(r.text).group(1) if r is not None else ""  # type: ignore[union-attr]
        form = {"username": self.user, "password": PASSWORD, "csrf_token": token, "next": "/queue"}
        r = timed(self.log.calls, "login", lambda: self.client.post("/login", data=form))
        if r is None or r.status_code != 303:
            raise RuntimeError(f"{self.user} could not sign in: {r.status_code if r else 'no answer'}")
        self.log.note(lambda: self.log.signed_in.append(self.user))

    def queue(self, status: str) -> list[tuple[str, str]]:
        """(claim, state) from top to bottom; state: open, awaiting, or the holder's name."""
        r = timed(self.log.calls, "queue", lambda: self.client.get(f"/queue?status={status}"))
        if r is None or r.status_code != 200:
            return []
        self.csrf = (m.group(1) if (m := _CSRF.search(r.text)) else self.csrf) or self.csrf
        rows = []
        for chunk in r.text.split("<tr")[1:]:
            claim, state = _OPEN.search(chunk), _STATE.search(chunk)
            if claim and state:
                kind, holder = state.groups()
                rows.append((claim.group(1), "awaiting" if kind == "awaiting" else holder.strip() or "open"))
        return rows

    def open(self, claim_id: str) -> str:
        r = timed(self.log.calls, "claim", lambda: self.client.get(f"/claims/{claim_id}"))
        return self._page(claim_id, r)

    def post(self, kind: str, claim_id: str, path: str, data: dict[str, Any]) -> httpx.Response | None:
        form = {"csrf_token": self.csrf, **data}
        r = timed(self.log.calls, kind, lambda: self.client.post(f"/claims/{claim_id}/{path}", data=form))
        self._page(claim_id, r)  # a refused action shows the claim page again, with the reason
        if r is not None and r.status_code == 409:
            self.log.note(lambda: self.log.conflicts.update([kind]))
        return r

    def decision_form(self, claim_id: str) -> dict[str, Any]:
        claimed = self.seed.claimed.get(claim_id)
        ceiling = Decimal("100.00") if claimed is None else claimed
        roll = self.rng.random()
        if ceiling <= 0:
            return {"action": "deny", "reason": "没有可赔付的费用"}
        if roll < 0.65:
            return {"action": "approve", "amount": str(ceiling)}
        if roll < 0.8:
            amount = max(Decimal("0.01"), (ceiling * Decimal("0.8")).quantize(Decimal("0.01")))
            return {"action": "partial", "amount": str(amount), "reason": "部分费用不在保障范围内"}
        if roll < 0.9:
            return {"action": "deny", "reason": "不属于保险责任"}
        return {"action": "request_info", "missing_documents": ["id_card"], "reason": "请补充身份证"}

    def decide(self, claim_id: str, double: bool) -> None:
        form = self.decision_form(claim_id)
        answers: list[httpx.Response | None] = []

        def send() -> None:
            answers.append(self.post("decision", claim_id, "decision", form))

        if double:  # a double click: the same form twice at once
            twin = threading.Thread(target=send)
            twin.start()
            send()
            twin.join()
        else:
            send()
        for r in answers:
            if r is not None and r.status_code == 303:
                note = r.headers["location"].split("note=", 1)[-1]
                self.log.note(
                    lambda n=note: self.log.decisions.append(
                        (self.user, claim_id, form["action"], form.get("amount"), n)
                    )
                )

    def work_once(self) -> bool:
        """Take a claim from the queue and decide it (or let it go); False when nothing is open."""
        rows = self.queue("open")
        free = [c for c, state in rows if state == "open"]
        held = [c for c, state in rows if state not in ("open", "awaiting", self.user)]
        mine = [c for c, state in rows if state == self.user]
        if not free and not held and not mine:
            return False
        if held and (not free or self.rng.random() < 0.2):
            target = self.rng.choice(held)  # somebody else's: the app must say no
        elif mine:
            target = mine[0]
        else:
            target = free[0] if self.rng.random() < 0.6 else self.rng.choice(free[:4])
        page = self.open(target)
        if 'data-testid="decide-form"' not in page:
            r = self.post("lock", target, "lock", {})
            if r is None or r.status_code != 303:
                if self.rng.random() < 0.5:  # decide anyway: a stale page's form
                    self.decide(target, double=False)
                return True
        time.sleep(self.rng.uniform(0.02, 0.2))  # reading the claim
        if self.rng.random() < 0.05:
            self.post("release", target, "release", {})
            return True
        self.decide(target, double=self.rng.random() < 0.15)
        return True

    def approve_once(self) -> bool:
        """Give the second approval to the top proposal (the other seniors go for it too)."""
        rows = [c for c, state in self.queue("awaiting_approval") if state == "awaiting"]
        if not rows:
            return False
        target = rows[0] if self.rng.random() < 0.7 else self.rng.choice(rows[:3])
        m = _VERSION.search(self.open(target))
        if m is None:
            return True  # approved meanwhile, or the proposal is this senior's own
        r = self.post("approve", target, "approve", {"version": m.group(1)})
        if r is not None and r.status_code == 303:
            self.log.note(lambda: self.log.approvals.append((self.user, target)))
        return True

    def run(self, deadline: float, senior: bool) -> None:
        try:
            self.sign_in()
            idle = 0
            while time.monotonic() < deadline and idle < 3:
                busy = (self.approve_once() or self.work_once()) if senior else self.work_once()
                idle = 0 if busy else idle + 1
                if not busy:
                    time.sleep(0.2)
            form = {"csrf_token": self.csrf}
            timed(self.log.calls, "logout", lambda: self.client.post("/logout", data=form))
        except Exception as exc:  # the bench's own failure: counted, never hidden
            why = f"{self.user}: {type(exc).__name__}: {exc}"
            self.log.note(lambda: self.log.errors.append(why))


def review_load(base: str, seed: ReviewSeed, seconds: float, rng_seed: int = 5) -> tuple[ReviewLog, float]:
    """Everyone at work at once for `seconds` (or until the queue is empty); returns the log and the
    wall time."""
    log = ReviewLog()
    people = [
        Person(base, user, random.Random(f"{rng_seed}-{user}"), log, seed)
        for user in [*seed.adjusters, *seed.seniors]
    ]
    deadline = time.monotonic() + seconds
    t0 = time.perf_counter()
    threads = [
        threading.Thread(target=p.run, args=(deadline, p.user in seed.seniors), name=p.user) for p in people
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in people:
        p.close()
    return log, time.perf_counter() - t0


def check_review(store: Any, seed: ReviewSeed, log: ReviewLog) -> dict[str, int]:
    """What must never happen, counted from the store against what the clients were told."""
    from pipeline.store import ReviewTaskRow

    events = store.audit_events()
    with store.session() as s:
        tasks = {t.claim_id: (t.status, t.decision) for t in s.scalars(select(ReviewTaskRow))}
    trail: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        if e["claim_id"]:
            trail[e["claim_id"]].append(e)
    terminal = ("decide", "propose_decision", "approve_decision")

    double = 0
    for evs in trail.values():  # nothing is sent back in this load, so each happens at most once
        made = Counter(e["action"] for e in evs if e["action"] in terminal)
        double += max(made.values(), default=0) > 1 or made["decide"] + made["propose_decision"] > 1
    accepted = Counter(c for _, c, *_ in log.decisions)
    lost = 0
    for user, cid, action, amount, note in log.decisions:
        status, decision = tasks.get(cid, (None, None))
        d = decision or {}
        want = "awaiting_approval" if note == "proposed" else "done"  # approved meanwhile: done
        kept = status in (want, "done") and d.get("reviewer") == user and d.get("action") == action
        if not kept or (amount is not None and Decimal(str(d.get("amount"))) != Decimal(amount)):
            lost += 1
    for user, cid in log.approvals:
        status, decision = tasks.get(cid, (None, None))
        if status != "done" or not decision or decision.get("approved_by") != user:
            lost += 1
    # every task out of `open` is one accepted decision, every approval one accepted approval
    moved = sum(1 for status, _ in tasks.values() if status != "open")
    approved = sum(1 for status, d in tasks.values() if status == "done" and d and d.get("approved_by"))

    audit_missing = 0
    for user, cid, _, _, note in log.decisions:
        want = "propose_decision" if note == "proposed" else "decide"
        if not any(e["actor"] == user and e["action"] == want for e in trail[cid]):
            audit_missing += 1
    for user, cid in log.approvals:
        if not any(e["actor"] == user and e["action"] == "approve_decision" for e in trail[cid]):
            audit_missing += 1
    views = Counter((e["actor"], e["claim_id"]) for e in events if e["action"] == "view_claim")
    audit_missing += sum(abs(views[k] - log.pages[k]) for k in set(views) | set(log.pages))
    for evs in trail.values():  # whoever decided held the claim first, on the trail
        for i, e in enumerate(evs):
            if e["action"] in ("decide", "propose_decision") and not any(
                p["actor"] == e["actor"] and p["action"] in ("lock", "take_over") for p in evs[:i]
            ):
                audit_missing += 1
    signs = Counter(e["action"] for e in events if e["action"] in ("sign_in", "sign_out"))
    audit_missing += abs(signs["sign_in"] - len(log.signed_in)) + abs(signs["sign_out"] - len(log.signed_in))
    return {
        "client_errors": len(log.errors),
        "unexpected_status": log.calls.unexpected(),
        "double_decisions": double,
        "accepted_twice": sum(1 for n in accepted.values() if n > 1),
        "lost_updates": lost + abs(moved - len(log.decisions)) + abs(approved - len(log.approvals)),
        "audit_missing": audit_missing,
        "forbidden": sum(1 for e in events if e["action"] == "forbidden"),
    }


def run_review(
    pg_url: str, root: Path, *, claims: int, adjusters: int, seniors: int, seconds: float, in_process: bool
) -> dict[str, Any]:
    """Part (a): seed, serve, load, check."""
    from pipeline.store import open_store

    settings = Settings(data_dir=root / "review", database_url=pg_url, intake_dispatch="queue")
    store = open_store(settings)
    t0 = time.perf_counter()
    seed = seed_review(store, settings, claims=claims, adjusters=adjusters, seniors=seniors)
    seeded = time.perf_counter() - t0
    # the adjusters' limit from the seed; seniors without one, so every proposal has an approver here
    authority = Authority(adjuster=seed.approval_limit, senior_adjuster=None)
    settings = settings.model_copy(update={"authority": authority})
    with running_server(settings, in_process=in_process) as base:
        log, wall = review_load(base, seed, seconds)
    anomalies = check_review(store, seed, log)
    store.engine.dispose()
    work = {"queue", "claim", "lock", "decision", "approve", "release"}
    return {
        "people": adjusters + seniors,
        "seniors": seniors,
        "claims": len(seed.claimed),
        "approval_limit": str(seed.approval_limit),
        "seconds": round(wall, 1),
        "seed_seconds": round(seeded, 1),
        "requests": len(log.calls.items),
        "requests_per_second": round(len(log.calls.items) / wall, 1),
        "latency": log.calls.by_kind(),
        "latency_all": latency([s for k, _, s in log.calls.items if k in work]),
        "statuses": log.calls.statuses(),
        "decisions_accepted": len(log.decisions),
        "proposals_accepted": sum(1 for *_, note in log.decisions if note == "proposed"),
        "approvals_accepted": len(log.approvals),
        "conflicts": dict(log.conflicts),
        "anomalies": anomalies,
    }
