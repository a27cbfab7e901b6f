"""Load on PostgreSQL: adjusters racing in the review app, uploads retried at the intake API, and a
batch of synthetic claims taken end to end; every run checks the store for what must never happen.

`python -m bench.load [--json] [--pg URL] [--seconds 60] [--adjusters 20] [--uploaders 50]
[--claims 1000]`. Each part gets a fresh PostgreSQL database (created beside `--pg`, loopback
only, dropped afterwards) and a real uvicorn server on a free loopback port running `claims serve`'s
app (intake API at /api, review app at /), in a subprocess so clients and server do not share a GIL.

- review: N simulated people (two of them senior adjusters) sign in and, for `--seconds`, take claims
  from the queue, open them, decide (approve, partial, deny, request documents), sometimes release,
  sometimes post the same decision twice at once (a double click), sometimes go for a claim someone
  else holds; seniors also race each other to approve proposals above the authority limit. Then the
  store must show every claim decided at most once, every accepted decision as recorded, and an
  audit trail that matches what the clients saw (views, locks, decisions, approvals, sign-ins).
- intake: M clients upload claims (multipart, 2-4 images, some shared between claims) at once, with
  retries of the same Idempotency-Key mixed in: after the answer, at the same moment (a double
  send), and after a client-side timeout. Then: one claim per key, the same answer to every retry,
  and every document stored with its name and bytes.
- batch: K claims from the synthetic book, sent as hospitals' structured submissions (医疗信息直连,
  no OCR: the hospital's e-invoice, expense list and visit as JSON) to /api/claims/hospital, then
  taken to an outcome by the intake-batch Prefect flow (`--runner flow`, with small models trained
  here) or by the same steps in a plain loop (`--runner steps`, no models: what the tests run).
  Then: an outcome for every accepted claim, no claim twice, no payment twice, no invoice paid twice.

The last stdout line is one JSON object (also written to bench/results/load.json): p50/p95 latencies,
throughput and counts; every count under `anomalies` must be 0. The tests run the same functions on
a few claims for a few seconds (tests/hardening/test_load.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import math
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from pipeline.settings import Authority, Settings

log = logging.getLogger(__name__)

RESULTS = Path(__file__).resolve().parent / "results" / "load.json"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = os.environ.get("CLAIMS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
PASSWORD = secrets.token_urlsafe(16)
"""The simulated people's password: made per run, like the databases it opens."""
EXPECTED = frozenset({200, 201, 202, 303, 409})
"""What a well-behaved server answers here; anything else (a 5xx above all) is an anomaly."""
CUT_SHORT = "cut_short"
"""A call the client gave up on on purpose (a retry after a client-side timeout follows)."""


# --- figures ---------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100), linearly interpolated; None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def latency(seconds: list[float]) -> dict[str, Any]:
    """Count, p50 and p95 in milliseconds."""
    p50, p95 = percentile(seconds, 50), percentile(seconds, 95)
    return {
        "n": len(seconds),
        "p50_ms": None if p50 is None else round(p50 * 1000, 1),
        "p95_ms": None if p95 is None else round(p95 * 1000, 1),
    }


@dataclass
class Calls:
    """Every HTTP call a part made: (kind, status, seconds); status 0 is a transport error."""

    items: list[tuple[str, int, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.items.append((kind, status, seconds))

    def unexpected(self) -> int:
        """Answers outside EXPECTED, and calls without an answer the client did not cut short itself."""
        return sum(1 for kind, status, _ in self.items if status not in EXPECTED and kind != CUT_SHORT)

    def by_kind(self, *statuses: int) -> dict[str, dict[str, Any]]:
        kinds: dict[str, list[float]] = defaultdict(list)
        for kind, status, seconds in self.items:
            if not statuses or status in statuses:
                kinds[kind].append(seconds)
        return {k: latency(v) for k, v in sorted(kinds.items())}

    def statuses(self) -> dict[str, int]:
        return {str(k): v for k, v in sorted(Counter(s for _, s, _ in self.items).items())}


def _timed(calls: Calls, kind: str, send: Callable[[], httpx.Response]) -> httpx.Response | None:
    t0 = time.perf_counter()
    try:
        r = send()
    except httpx.HTTPError:
        calls.add(kind, 0, time.perf_counter() - t0)
        return None
    calls.add(kind, r.status_code, time.perf_counter() - t0)
    return r


# --- PostgreSQL and the server ---------------------------------------------------------------------


@contextlib.contextmanager
def pg_database(admin_url: str = DEFAULT_PG, prefix: str = "claims_load") -> Iterator[str]:
    """A fresh database beside `admin_url` (loopback only), dropped afterwards; yields its URL."""
    url = make_url(admin_url)
    if url.host not in LOOPBACK:
        raise SystemExit(f"bench.load runs on a loopback PostgreSQL only, not on {url.host!r}")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def serve_app() -> Any:
    """The uvicorn factory of the server subprocess: `claims serve`'s app over the environment's settings."""
    from flows.web import build_app

    return build_app(Settings())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER_SETTINGS = (
    "data_dir",
    "database_url",
    "intake_dispatch",
    "intake_policies",
    "authority",
    "intake_rate_per_minute",
    "intake_burst",
)


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for name in SERVER_SETTINGS:
        value = getattr(settings, name)
        if value is not None:  # a table (the authority) goes as JSON, as pydantic-settings reads it
            env[f"CLAIMS_{name.upper()}"] = (
                value.model_dump_json() if isinstance(value, BaseModel) else str(value)
            )
    return env


def _wait_healthy(base: str, alive: Callable[[], bool], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the server exited before it answered")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {base} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def running_server(settings: Settings, *, in_process: bool = False) -> Iterator[str]:
    """`claims serve`'s app on a free loopback port; yields its base URL.

    A subprocess by default (the bench: clients and server each have their own interpreter); in this
    process, in a thread, for the tests, where the few seconds of a second interpreter's imports count.
    """
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    if in_process:
        import uvicorn

        from flows.web import build_app

        config = uvicorn.Config(  # log_config=None: the host process's logging stays as it was
            build_app(settings),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            log_config=None,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="load-server", daemon=True)
        thread.start()
        try:
            _wait_healthy(base, thread.is_alive)
            yield base
        finally:
            server.should_exit = True
            thread.join(timeout=15)
        return
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.load:serve_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(settings), stdout=subprocess.DEVNULL, stderr=errors)
        try:
            try:
                _wait_healthy(base, lambda: proc.poll() is None)
            except RuntimeError as exc:
                errors.seek(0)
                raise RuntimeError(f"{exc}: {errors.read().decode(errors='replace')[-2000:]}") from None
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- (a) the review app ----------------------------------------------------------------------------


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
    from pipeline.stages import Stage
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
            update={"route": Route.ADJUSTER, "reasons": [*bundle.outcome.reasons, "LOAD_TEST: for a person"]}
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
        r = _timed(self.log.calls, "login_form", lambda: self.client.get("/login"))
        token = _CSRF.search(r.text).group(1) if r is not None else ""  # type: ignore[union-attr]
        form = {"username": self.user, "password": PASSWORD, "csrf_token": token, "next": "/queue"}
        r = _timed(self.log.calls, "login", lambda: self.client.post("/login", data=form))
        if r is None or r.status_code != 303:
            raise RuntimeError(f"{self.user} could not sign in: {r.status_code if r else 'no answer'}")
        self.log.note(lambda: self.log.signed_in.append(self.user))

    def queue(self, status: str) -> list[tuple[str, str]]:
        """(claim, state) from top to bottom; state: open, awaiting, or the holder's name."""
        r = _timed(self.log.calls, "queue", lambda: self.client.get(f"/queue?status={status}"))
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
        r = _timed(self.log.calls, "claim", lambda: self.client.get(f"/claims/{claim_id}"))
        return self._page(claim_id, r)

    def post(self, kind: str, claim_id: str, path: str, data: dict[str, Any]) -> httpx.Response | None:
        form = {"csrf_token": self.csrf, **data}
        r = _timed(self.log.calls, kind, lambda: self.client.post(f"/claims/{claim_id}/{path}", data=form))
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
            _timed(self.log.calls, "logout", lambda: self.client.post("/logout", data=form))
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


# --- (b) the intake API ----------------------------------------------------------------------------


def image(seed: int, size: tuple[int, int], fmt: str = "JPEG") -> bytes:
    """Noise: every seed other bytes, and real decoding work for the byte checks."""
    import numpy as np
    from PIL import Image

    arr = (np.random.default_rng(seed).random((size[1], size[0], 3)) * 255).astype("uint8")
    out = io.BytesIO()
    Image.fromarray(arr).save(out, fmt)
    return out.getvalue()


@dataclass
class Upload:
    key: str
    api_key: str
    form: dict[str, str]
    files: list[tuple[str, bytes]]
    retry: str
    """none, after (resent once answered), double (sent twice at once), timeout (first try cut short)."""


def uploads(api_keys: list[str], n: int, size: tuple[int, int], seed: int = 3) -> list[Upload]:
    """`n` claims to upload, spread over the keys; a third carry the same shared file (an ID card
    sent with several family members' claims), a quarter are retried one way or another."""
    from synth.people import make_person

    rng = random.Random(seed)
    shared = image(10_000 + seed, size)
    out = []
    for i in range(n):
        person = make_person(rng, dt.date(2025, 6, 1), min_age=18)
        files = []
        for j in range(rng.randint(2, 3)):
            fmt = "PNG" if (i + j) % 3 == 0 else "JPEG"
            files.append((f"page_{j + 1}.{fmt.lower().replace('jpeg', 'jpg')}", image(i * 10 + j, size, fmt)))
        if rng.random() < 0.33:
            files.append(("id_card.jpg", shared))
        roll = rng.random()
        retry = "after" if roll < 0.1 else "double" if roll < 0.2 else "timeout" if roll < 0.27 else "none"
        out.append(
            Upload(
                key=f"load-{seed}-{i:05d}",
                api_key=api_keys[i % len(api_keys)],
                form={
                    "policy_number": f"PLOAD{i % 500:06d}",
                    "claimant": person.name,
                    "claimant_id_number": person.id_number,
                    "incident_date": (dt.date(2025, 5, 1) + dt.timedelta(days=i % 30)).isoformat(),
                    "claim_type": "outpatient",
                },
                files=files,
                retry=retry,
            )
        )
    return out


@dataclass
class IntakeLog:
    calls: Calls = field(default_factory=Calls)
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    """Idempotency-Key -> every 201 body it got (first answer and replays)."""
    unanswered: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _send(client: httpx.Client, up: Upload, log: IntakeLog, path: str, timeout: float | None = None) -> int:
    """One try; the status (0: no answer)."""
    files = [("documents", (name, data, "application/octet-stream")) for name, data in up.files]
    headers = {"X-API-Key": up.api_key, "Idempotency-Key": up.key}
    t0 = time.perf_counter()
    try:
        r = client.post(
            path, headers=headers, data=up.form, files=files, timeout=timeout if timeout is not None else 120
        )
    except httpx.HTTPError:
        log.calls.add(CUT_SHORT if timeout is not None else "no_answer", 0, time.perf_counter() - t0)
        return 0
    seconds = time.perf_counter() - t0
    replayed = r.headers.get("Idempotent-Replayed") == "true"
    kind = "replay" if replayed else "in_progress" if r.status_code == 409 else "upload"
    log.calls.add(kind, r.status_code, seconds)
    if r.status_code == 201:
        with log.lock:
            log.answers[up.key].append(r.json())
    return r.status_code


def _until_answered(client: httpx.Client, up: Upload, log: IntakeLog, path: str) -> None:
    """Retry with the same key until the claim is answered, as a client told to retry does."""
    for attempt in range(60):
        status = _send(client, up, log, path)
        if status == 201:
            return
        if status not in (0, 409) and status < 500:
            break  # refused for good: a bug in this bench, reported as unanswered
        time.sleep(min(2.0, 0.1 * (attempt + 1)))
    with log.lock:
        log.unanswered.append(up.key)


def upload_one(client: httpx.Client, up: Upload, log: IntakeLog, path: str = "/api/claims") -> None:
    if up.retry == "timeout":
        _send(client, up, log, path, timeout=0.05)  # the client gives up; the server may finish
        _until_answered(client, up, log, path)
    elif up.retry == "double":
        twin = threading.Thread(target=_until_answered, args=(client, up, log, path))
        twin.start()
        _until_answered(client, up, log, path)
        twin.join()
    else:
        _until_answered(client, up, log, path)
        if up.retry == "after":
            _send(client, up, log, path)


def intake_load(base: str, work: list[Upload], clients: int) -> tuple[IntakeLog, float]:
    """`clients` threads sending the uploads at once; returns the log and the wall time."""
    log = IntakeLog()
    lanes = [work[i::clients] for i in range(clients)]
    start = threading.Barrier(clients)

    def lane(items: list[Upload]) -> None:
        with httpx.Client(base_url=base) as client:
            start.wait()
            for up in items:
                upload_one(client, up, log)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=lane, args=(items,)) for items in lanes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return log, time.perf_counter() - t0


def check_intake(store: Any, work: list[Upload], log: IntakeLog) -> dict[str, int]:
    """One claim per key, one answer per key, every document stored with its name and its bytes."""
    from intake.db import IdempotencyRow, IntakeClaimRow
    from intake.service import safe_filename
    from pipeline.store import ClaimRow

    different = sum(1 for bodies in log.answers.values() if any(b != bodies[0] for b in bodies))
    claim_of = {k: bodies[0]["claim_id"] for k, bodies in log.answers.items() if bodies}
    with store.session() as s:
        claims = set(s.scalars(select(ClaimRow.claim_id)))
        intake = s.scalar(select(func.count()).select_from(IntakeClaimRow)) or 0
        pending = (
            s.scalar(select(func.count()).select_from(IdempotencyRow).where(IdempotencyRow.state != "done"))
            or 0
        )
    answered = set(claim_of.values())
    lost = extra = missing_files = 0
    for up in work:
        cid = claim_of.get(up.key)
        claim = store.get_claim(cid) if cid else None
        if claim is None:
            continue  # counted as unanswered
        stored = {d.filename: d.id for d in claim.documents}
        sent = {safe_filename(n, i): hashlib.sha256(d).hexdigest() for i, (n, d) in enumerate(up.files, 1)}
        lost += sum(1 for name, sha in sent.items() if stored.get(name) != sha)
        extra += len(set(stored) - set(sent))
        for sha in stored.values():
            path = store.files.path(sha)
            if path is None or hashlib.sha256(path.read_bytes()).hexdigest() != sha:
                missing_files += 1
    received = Counter(e["claim_id"] for e in store.audit_events() if e["action"] == "claim_received")
    return {
        "unexpected_status": log.calls.unexpected(),
        "unanswered": len(log.unanswered),
        "different_answers": different,
        "duplicate_claims": len(claims - answered)
        + abs(intake - len(claims))
        + len(claim_of)
        - len(answered),
        "lost_claims": len(answered - claims),
        "lost_documents": lost,
        "extra_documents": extra,
        "missing_files": missing_files,
        "keys_left_pending": pending,
        "audit_mismatch": sum(1 for c in claims if received[c] != 1),
    }


def run_intake(
    pg_url: str,
    root: Path,
    *,
    clients: int,
    per_client: int,
    size: tuple[int, int],
    keys: int,
    in_process: bool,
) -> dict[str, Any]:
    """Part (b): keys, serve, upload, check."""
    from intake.keys import create_key
    from pipeline.store import open_store

    settings = Settings(data_dir=root / "intake", database_url=pg_url, intake_dispatch="queue")
    store = open_store(settings)
    api_keys = [
        create_key(store, ("app", "agent")[i % 2], f"load-{i}", rate_per_minute=1e6, burst=1_000_000)[0]
        for i in range(keys)
    ]
    work = uploads(api_keys, clients * per_client, size)
    with running_server(settings, in_process=in_process) as base:
        log, wall = intake_load(base, work, clients)
    anomalies = check_intake(store, work, log)
    store.engine.dispose()
    first = [s for k, status, s in log.calls.items if k == "upload" and status == 201]
    return {
        "clients": clients,
        "uploads": len(work),
        "retried": dict(Counter(u.retry for u in work if u.retry != "none")),
        "files": sum(len(u.files) for u in work),
        "megabytes": round(sum(len(d) for u in work for _, d in u.files) / 1e6, 1),
        "seconds": round(wall, 1),
        "claims_per_second": round(len(work) / wall, 1),
        "latency_upload": latency(first),
        "latency": log.calls.by_kind(),
        "statuses": log.calls.statuses(),
        "anomalies": anomalies,
    }


# --- (c) a batch end to end ------------------------------------------------------------------------


def _hospital_account(name: str) -> str:
    return "02" + str(int(hashlib.sha256(name.encode()).hexdigest(), 16))[:17]


def submission(truth: Any) -> dict[str, Any]:
    """A synthetic claim as its hospital's billing system would send it (医疗信息直连): the first bill
    as the e-invoice with its fee categories, its items as the expense list, the visit's diagnoses."""
    bill, inc, row = truth.bills[0], truth.incident, truth.row
    inpatient = inc.admission_date is not None and inc.discharge_date is not None
    categories: dict[str, Decimal] = defaultdict(Decimal)
    for item in bill.items:
        categories[item.category] += item.amount
    dates = (
        {"admission_date": inc.admission_date, "discharge_date": inc.discharge_date}
        if inpatient
        else {"visit_date": inc.incident_date}
    )
    when = {k: v.isoformat() for k, v in dates.items()}
    hospital_number = inc.hospital_number
    if not re.fullmatch(r"[A-Za-z]{0,3}\d{4,}", hospital_number):
        hospital_number = "ZY" + (re.sub(r"\D", "", hospital_number) or "0000").rjust(4, "0")
    return {
        "policy_number": row.policy_number,
        "claimant": row.claimant,
        "claimant_id_number": row.claimant_id_number,
        "insured": row.insured,
        "claim_type": row.claim_type.value,
        "incident_date": row.incident_date.isoformat(),
        "amount_claimed": str(bill.printed_total),
        "invoice": {
            "kind": "inpatient" if inpatient else "outpatient",
            "invoice_code": bill.invoice_code,
            "invoice_number": bill.invoice_number,
            "check_code": bill.check_code or hashlib.sha256(bill.invoice_number.encode()).hexdigest()[:8],
            "issue_date": bill.issue_date.isoformat(),
            "hospital": inc.hospital,
            "patient_name": truth.insured.name,
            "patient_id_number": truth.insured.id_number,
            "sex": truth.insured.sex,
            "hospital_number": hospital_number,
            "total": str(bill.printed_total),
            "total_in_words": bill.printed_words,
            "fund_paid": str(bill.fund_paid),
            "account_paid": str(bill.account_paid),
            "cash_paid": str(bill.cash_paid),
            "self_pay": str(bill.self_pay),
            "fee_items": [{"category": c, "amount": str(a)} for c, a in categories.items()],
            **when,
        },
        "expense_list": {
            "hospital_number": hospital_number,
            "patient_name": truth.insured.name,
            "department": inc.department,
            "items": [
                {
                    "date": item.date.isoformat(),
                    "code": item.code,
                    "name": item.name,
                    "category": item.category,
                    "insurance_class": item.insurance_class,
                    "unit": item.unit,
                    "quantity": str(item.quantity),
                    "unit_price": str(item.unit_price),
                    "amount": str(item.amount),
                }
                for item in bill.items
            ],
            "total": str(bill.items_total),
            **when,
        },
        "visit": {
            "department": inc.department,
            "doctor": inc.doctor,
            "diagnoses": [{"code": code, "name": name} for code, name in inc.diagnoses],
            **when,
        },
    }


POLICY_COLUMNS = (
    "policy_number",
    "product_id",
    "product_version",
    "policyholder",
    "insured",
    "insured_id_number",
    "effective_date",
    "sum_insured",
    "social_insurance",
    "cumulative_annualised_premium",
    "star_tier",
    "prior_paid_this_year",
    "deductible_used_this_year",
)


def hospital_book(claims: int, seed: int, policies: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(hospital, Idempotency-Key, submission) for `claims` synthetic claims with a bill, and their
    policies written as the policy extract the API matches claims against."""
    import csv

    from synth.book import make_book

    book = [t for t in make_book(int(claims * 1.15) + 10, seed) if t.bills][:claims]
    with policies.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, POLICY_COLUMNS)
        w.writeheader()
        seen = set()
        for t in book:
            if t.policy.policy_number not in seen:
                seen.add(t.policy.policy_number)
                w.writerow(t.policy.model_dump(mode="json"))
    return [(t.incident.hospital, f"his-{seed}-{t.claim_id}", submission(t)) for t in book]


def submit_hospitals(
    base: str, work: list[tuple[str, str, dict[str, Any]]], keys: dict[str, str], clients: int
) -> tuple[Calls, dict[str, str], list[str], float]:
    """Every submission, `clients` at a time; the calls, key -> claim id, refusals, wall time."""
    calls, claims, refused = Calls(), {}, []
    lock = threading.Lock()

    def lane(items: list[tuple[str, str, dict[str, Any]]]) -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            for hospital, key, body in items:
                headers = {"X-API-Key": keys[hospital], "Idempotency-Key": key}

                def post(h: dict[str, str] = headers, b: dict[str, Any] = body) -> httpx.Response:
                    return client.post("/api/claims/hospital", headers=h, json=b)

                r = _timed(calls, "hospital", post)
                with lock:
                    if r is not None and r.status_code == 201:
                        claims[key] = r.json()["claim_id"]
                    else:
                        refused.append(f"{key}: {r.status_code if r else 0} {r.text[:200] if r else ''}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=lane, args=(work[i::clients],)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return calls, claims, refused, time.perf_counter() - t0


def train_models(settings: Settings) -> dict[str, float]:
    """Small champions for the flow: doc-type, gate and fraud, trained here from synthetic data."""
    from flows.models import train_doc_type_model, train_fraud_on_synthetic, train_gate_model
    from pipeline.registry import ModelRegistry

    registry = ModelRegistry(settings.models_dir)
    took = {}
    for name, train in (
        ("doc-type", lambda: train_doc_type_model(settings, claims=20)),
        ("adjudication-gate", lambda: train_gate_model(settings, claims=1000)),
        ("fraud", lambda: train_fraud_on_synthetic(settings, rows=20_000)),
    ):
        t0 = time.perf_counter()
        registry.promote(name, train().version)
        took[name] = round(time.perf_counter() - t0, 1)
    return took


def process_steps(store: Any, settings: Settings, chunk: int = 50) -> None:
    """The intake batch's steps in a plain loop, without Prefect and without models (a hospital's
    claims need no doc-type model; with no gate and no fraud model every claim goes the cautious way)."""
    from adjudication.rules import load_rule_book
    from flows import steps
    from intake.db import DONE, finish_claims, take_queued

    models = steps.Models(doc_type=None, rules=load_rule_book(), gate=None, fraud=None)  # type: ignore[arg-type]
    taken = take_queued(store)
    for i in range(0, len(taken), chunk):
        facts = []
        for cid in taken[i : i + chunk]:
            try:
                facts.append(steps.extract_step(store, cid, "none", models))
            except Exception as exc:  # recorded on the claim, as the flow does
                steps.error_outcome(store, cid, f"extraction failed: {exc}")
        scores = steps.fraud_step(store, facts, models)
        for f in facts:
            steps.decide_step(store, f, scores.get(f.claim.claim_id), models, settings)
            steps.payout_step(store, f, f.claim.claim_id, issued_by="bench.load")
    finish_claims(store, taken, status=DONE)


def check_batch(store: Any, claims: dict[str, str]) -> tuple[dict[str, int], dict[str, int]]:
    """Anomalies, and the routes the claims took."""
    from intake.db import DONE, IntakeClaimRow
    from pipeline.records import ClaimFacts
    from pipeline.stages import Stage
    from pipeline.store import ClaimRow, PaymentRow

    accepted = set(claims.values())
    with store.session() as s:
        stored = set(s.scalars(select(ClaimRow.claim_id)))
        not_done = s.scalar(select(func.count()).where(IntakeClaimRow.status != DONE)) or 0
        paid = Counter(s.scalars(select(PaymentRow.claim_id)))
    outcomes = {cid: store.latest_outcome(cid) for cid in accepted}
    by_invoice: dict[tuple[str, str], set[str]] = defaultdict(set)
    overpaid = 0
    for cid in paid:
        facts = store.get_result(cid, Stage.FACTS, ClaimFacts)
        if facts is None:
            continue
        for inv in facts.invoices:
            by_invoice[(inv.invoice_code or "", inv.invoice_number or "")].add(cid)
        amount = sum((p.amount for p in store.payments(cid)), Decimal(0))
        if amount > facts.total_claimed:
            overpaid += 1
    anomalies = {
        "lost_claims": sum(1 for o in outcomes.values() if o is None) + not_done,
        "duplicate_claims": len(stored - accepted) + abs(len(claims) - len(accepted)),
        "paid_twice": sum(1 for n in paid.values() if n > 1),
        "invoice_paid_twice": sum(1 for ids in by_invoice.values() if len(ids) > 1),
        "overpaid": overpaid,
    }
    routes = Counter(o.route.value for o in outcomes.values() if o is not None)
    return anomalies, dict(sorted(routes.items()))


def run_batch(
    pg_url: str,
    root: Path,
    *,
    claims: int,
    clients: int,
    runner: str,
    in_process: bool,
    models: Path | None = None,
) -> dict[str, Any]:
    """Part (c): hospitals' keys and policies, serve, submit, process, check."""
    from intake.db import IntakeClaimRow
    from intake.keys import create_key
    from pipeline.store import open_store

    data = root / "batch"
    data.mkdir(parents=True, exist_ok=True)
    policies = data / "policies.csv"
    work = hospital_book(claims, 23, policies)
    settings = Settings(data_dir=data, database_url=pg_url, intake_dispatch="queue", intake_policies=policies)
    store = open_store(settings)
    keys = {
        h: create_key(
            store,
            "hospital",
            h,
            rate_per_minute=1e6,
            burst=1_000_000,
            settlement_bank="中国工商银行",
            settlement_account=_hospital_account(h),
        )[0]
        for h in sorted({h for h, _, _ in work})
    }
    trained: dict[str, float] = {}
    if runner == "flow":
        if models is not None:
            settings.models_dir.symlink_to(models.resolve(), target_is_directory=True)
        else:
            trained = train_models(settings)
    with running_server(settings, in_process=in_process) as base:
        calls, accepted, refused, submit_wall = submit_hospitals(base, work, keys, clients)
    t0 = time.perf_counter()
    if runner == "flow":
        from flows.intake import intake_batch

        intake_batch(data_dir=str(settings.data_dir), database_url=pg_url, chunk_size=50)
    else:
        process_steps(store, settings)
    process_wall = time.perf_counter() - t0
    anomalies, routes = check_batch(store, accepted)
    with store.session() as s:
        direct = s.scalar(select(func.count()).where(IntakeClaimRow.structured.is_(True))) or 0
    store.engine.dispose()
    anomalies["unexpected_status"] = calls.unexpected()
    return {
        "claims": len(work),
        "runner": runner,
        "path": "hospital structured submissions (POST /api/claims/hospital, no OCR) -> "
        + ("intake-batch Prefect flow with trained models" if runner == "flow" else "batch steps, no models"),
        "accepted": len(accepted),
        "refused": len(refused),
        "refusals": refused[:5],
        "structured_claims": direct,
        "submit_seconds": round(submit_wall, 1),
        "submit_per_second": round(len(work) / submit_wall, 1),
        "latency_submit": latency([s for _, st, s in calls.items if st == 201]),
        "process_seconds": round(process_wall, 1),
        "claims_per_minute": round(len(accepted) / process_wall * 60, 1) if process_wall else None,
        "models_trained_seconds": trained,
        "routes": routes,
        "anomalies": anomalies,
    }


# --- the bench -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="(the JSON line is always printed last)")
    parser.add_argument("--pg", default=DEFAULT_PG, help="a loopback PostgreSQL to create databases beside")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the adjusters work")
    parser.add_argument("--adjusters", type=int, default=20, help="people in the review app (2 seniors)")
    parser.add_argument("--review-claims", type=int, default=600)
    parser.add_argument("--uploaders", type=int, default=50, help="concurrent intake clients")
    parser.add_argument("--uploads-each", type=int, default=6)
    parser.add_argument("--claims", type=int, default=1000, help="claims in the end-to-end batch")
    parser.add_argument("--runner", choices=("flow", "steps"), default="flow")
    parser.add_argument(
        "--models", type=Path, default=None, help="a models folder to use instead of training"
    )
    parser.add_argument("--parts", default="review,intake,batch")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    root = Path(tempfile.mkdtemp(prefix="bench-load-"))
    for key, value in Settings(data_dir=root).prefect_env().items():  # before anything imports prefect
        os.environ.setdefault(key, value)
    parts = set(args.parts.split(","))
    out: dict[str, Any] = {"bench": "load", "database": "postgresql (loopback)", "cpus": os.cpu_count()}
    try:
        if "review" in parts:
            with pg_database(args.pg) as url:
                out["review"] = run_review(
                    url,
                    root,
                    claims=args.review_claims,
                    adjusters=args.adjusters - 2,
                    seniors=2,
                    seconds=args.seconds,
                    in_process=False,
                )
        if "intake" in parts:
            with pg_database(args.pg) as url:
                out["intake"] = run_intake(
                    url,
                    root,
                    clients=args.uploaders,
                    per_client=args.uploads_each,
                    size=(320, 240),
                    keys=10,
                    in_process=False,
                )
        if "batch" in parts:
            with pg_database(args.pg) as url:
                out["batch"] = run_batch(
                    url,
                    root,
                    claims=args.claims,
                    clients=8,
                    runner=args.runner,
                    in_process=False,
                    models=args.models,
                )
    finally:  # the data dirs (documents, models, Prefect's home): about 100 MB a run
        shutil.rmtree(root, ignore_errors=True)
    out["anomalies"] = sum(sum(p["anomalies"].values()) for p in out.values() if isinstance(p, dict))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return out


if __name__ == "__main__":
    main()
