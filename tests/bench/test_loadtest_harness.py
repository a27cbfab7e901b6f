"""What the load benches share: percentiles and per-kind figures of every call, a throwaway loopback
PostgreSQL database, and `claims serve`'s app. No figure here is a timing: only what is counted."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bench.loadtest.harness import (
    CUT_SHORT,
    DEFAULT_PG,
    EXPECTED,
    RESULTS,
    Calls,
    latency,
    percentile,
    pg_database,
    serve_app,
    timed,
)


def test_percentiles_are_interpolated_between_the_values() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 100) == 5.0
    assert percentile([0.0, 10.0], 95) == pytest.approx(9.5)


def test_latency_is_counted_in_milliseconds() -> None:
    assert latency([]) == {"n": 0, "p50_ms": None, "p95_ms": None}
    assert latency([0.010, 0.020, 0.030]) == {"n": 3, "p50_ms": 20.0, "p95_ms": 29.0}


def test_calls_count_the_unexpected_answers_but_not_those_cut_short_on_purpose() -> None:
    calls = Calls()
    for kind, status in [("upload", 201), ("replay", 201), ("in_progress", 409), ("upload", 500),
                         ("no_answer", 0), (CUT_SHORT, 0), ("upload", 422)]:  # fmt: skip
        calls.add(kind, status, 0.01)
    assert {201, 409} <= EXPECTED and 500 not in EXPECTED
    assert calls.unexpected() == 3  # the 500, the 422 and the call that got no answer
    assert calls.statuses() == {"0": 2, "201": 2, "409": 1, "422": 1, "500": 1}
    assert calls.by_kind(201)["upload"]["n"] == 1 and set(calls.by_kind(201)) == {"upload", "replay"}
    assert calls.by_kind()["upload"]["n"] == 3


def test_timed_records_each_answer_and_a_transport_error_as_status_0() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/down":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(202)

    calls = Calls()
    with httpx.Client(transport=httpx.MockTransport(answer), base_url="http://bench") as client:
        r = timed(calls, "ok", lambda: client.get("/up"))
        assert r is not None and r.status_code == 202
        assert timed(calls, "down", lambda: client.get("/down")) is None
    assert [(k, s) for k, s, _ in calls.items] == [("ok", 202), ("down", 0)]


def test_results_go_to_the_benchs_own_results_folder() -> None:
    assert (
        RESULTS.name == "load.json"
        and RESULTS.parent.name == "results"
        and RESULTS.parent.parent.name == "bench"
    )


def test_only_a_loopback_postgresql_is_used() -> None:
    with pytest.raises(SystemExit, match="loopback"), pg_database("postgresql+psycopg://u@db.example.com/x"):
        pass


@pytest.mark.postgres
def test_a_fresh_database_is_made_beside_the_admin_one_and_dropped(pg_available: str | None) -> None:
    if pg_available:
        pytest.skip(pg_available)
    with pg_database(DEFAULT_PG, prefix="claims_harness") as url:
        name = url.rsplit("/", 1)[1]
        assert name.startswith("claims_harness_")
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar() == name
        engine.dispose()
    admin = create_engine(DEFAULT_PG)
    with admin.connect() as conn:
        left = conn.execute(text("select count(*) from pg_database where datname = :n"), {"n": name}).scalar()
    admin.dispose()
    assert left == 0


def test_the_server_factory_builds_claims_serves_app_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path / "data"))
    client = TestClient(serve_app())
    assert client.get("/healthz").status_code == 200
    assert (tmp_path / "data").is_dir()  # the environment's data dir, not the default one
    client.close()
