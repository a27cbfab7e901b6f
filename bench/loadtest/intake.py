"""Load part (b), the intake API: clients uploading claims at once, retries of the same
Idempotency-Key mixed in (after the answer, a double send, after a client-side timeout). Then: one
claim per key, the same answer to every retry, and every document stored with its name and bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.loadtest.harness import CUT_SHORT, Calls, latency, running_server
from pipeline.settings import Settings

__all__ = [
    "IntakeLog",
    "Upload",
    "check_intake",
    "image",
    "intake_load",
    "run_intake",
    "upload_one",
    "uploads",
]


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
    from intake.service import safe_filename
    from pipeline.intake_tables import IdempotencyRow, IntakeClaimRow
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
