"""What the three load benches share: figures (percentiles, every call timed), a fresh loopback
PostgreSQL database per part, and `claims serve`'s app on a free port (a subprocess by default).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
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
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pipeline.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "CUT_SHORT",
    "DEFAULT_PG",
    "EXPECTED",
    "RESULTS",
    "Calls",
    "latency",
    "percentile",
    "pg_database",
    "running_server",
    "serve_app",
    "timed",
]

log = logging.getLogger(__name__)

RESULTS = Path(__file__).resolve().parents[1] / "results" / "load.json"
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PG = os.environ.get("CLAIMS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
EXPECTED = frozenset({200, 201, 202, 303, 409})
"""What a well-behaved server answers here; anything else (a 5xx above all) is an anomaly."""
CUT_SHORT = "cut_short"
"""A call the client gave up on on purpose (a retry after a client-side timeout follows)."""


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


def timed(calls: Calls, kind: str, send: Callable[[], httpx.Response]) -> httpx.Response | None:
    t0 = time.perf_counter()
    try:
        r = send()
    except httpx.HTTPError:
        calls.add(kind, 0, time.perf_counter() - t0)
        return None
    calls.add(kind, r.status_code, time.perf_counter() - t0)
    return r


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
        "bench.loadtest.harness:serve_app",
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
