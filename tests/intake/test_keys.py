"""API keys (made once, shown once, kept as a digest), the `claims intake` commands, rate-limit
buckets in memory and in Redis, the web server's composition, and the schema migration."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from helpers.files import image_bytes
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from flows.cli import app as cli
from intake.keys import KeyRing, create_key, digest, list_keys, revoke_key
from intake.ratelimit import MemoryBuckets, RedisBuckets
from pipeline.errors import ClaimsError
from pipeline.intake_tables import ApiKeyRow
from pipeline.settings import Settings
from pipeline.store import MIGRATIONS, Base, migrate, open_store


def test_a_key_is_stored_only_as_its_digest_and_checked_in_full(settings: Settings) -> None:
    store = open_store(settings)
    key, who = create_key(
        store, "hospital", "安康市第一人民医院", settlement_bank="工行", settlement_account="0200 0012 3456"
    )
    with store.session() as s:
        row = s.get(ApiKeyRow, who.key_id)
        assert row is not None and row.secret_hash == digest(key) and key not in repr(row.__dict__)
        assert row.owner == "hospital:安康市第一人民医院" and row.settlement_account == "020000123456"
    ring = KeyRing(store)
    assert ring.authenticate(key) == who
    assert ring.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None  # right id, wrong secret
    assert ring.authenticate("cdi_000000000000_" + key.split("_", 2)[2]) is None
    assert ring.authenticate("Bearer " + key) is None and ring.authenticate(None) is None
    assert revoke_key(store, who.key_id) and not revoke_key(store, who.key_id)
    ring.forget(who.key_id)
    assert ring.authenticate(key) is None
    assert [k["key_id"] for k in list_keys(store)] == [who.key_id]
    with pytest.raises(ClaimsError, match="unknown channel"):
        create_key(store, "fax", "x")
    with pytest.raises(ClaimsError, match="only a hospital key"):
        create_key(store, "app", "x", settlement_bank="b", settlement_account="12345678")


def test_claims_intake_addkey_prints_the_key_once_and_keys_lists_without_it(cli_home: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["intake", "addkey", "--channel", "hospital", "--name", "仁和医院", "--json"])
    assert made.exit_code == 0, made.output
    out = json.loads(made.stdout.strip().splitlines()[-1])
    assert out["key"].startswith(f"cdi_{out['key_id']}_") and out["channel"] == "hospital"
    listed = runner.invoke(cli, ["intake", "keys", "--json"])
    assert listed.exit_code == 0 and out["key"] not in listed.stdout
    assert json.loads(listed.stdout.strip().splitlines()[-1])["keys"][0]["key_id"] == out["key_id"]
    bad = runner.invoke(cli, ["intake", "addkey", "--channel", "fax", "--name", "x", "--json"])
    assert bad.exit_code == 2 and "unknown channel" in bad.stdout
    assert runner.invoke(cli, ["intake", "revokekey", out["key_id"]]).exit_code == 0
    assert runner.invoke(cli, ["intake", "revokekey", out["key_id"]]).exit_code == 2
    store = open_store(Settings(data_dir=cli_home / "data"))
    assert KeyRing(store).authenticate(out["key"]) is None


def test_memory_buckets_refill_at_the_rate() -> None:
    now = [0.0]
    buckets = MemoryBuckets(clock=lambda: now[0])
    assert [buckets.take("k", 60, 2) for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]
    now[0] = 0.5
    assert buckets.take("k", 60, 2) == pytest.approx(0.5)
    now[0] = 1.0
    assert buckets.take("k", 60, 2) == 0.0
    assert buckets.take("other", 60, 2) == 0.0


def test_redis_buckets_are_shared_and_fall_back_when_redis_is_gone() -> None:
    url = os.environ.get("CLAIMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    a, b = RedisBuckets(url), RedisBuckets(url)  # two API processes
    key = f"test-{uuid.uuid4().hex}"
    slow = 0.01  # a token an hour and more: no refill between the calls, however busy the machine
    try:
        first = a.take(key, slow, 2)
    except Exception as exc:  # pragma: no cover - environment
        pytest.skip(f"Redis not usable at {url}: {exc}")
    if a._warned:
        pytest.skip(f"Redis not reachable at {url}")
    assert first == 0.0 and b.take(key, slow, 2) == 0.0 and not b._warned
    assert a.take(key, slow, 2) > 0  # the second process used the shared bucket's last token
    down = RedisBuckets("redis://127.0.0.1:1/0")
    assert [down.take("k", 60, 1) > 0 for _ in range(2)] == [False, True]  # limited in-process


def test_claims_serve_mounts_the_api_under_api_and_the_review_app_at_root(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from flows.web import build_app

    key, _ = create_key(open_store(settings), "app", "安康APP")
    with TestClient(build_app(settings.model_copy(update={"intake_dispatch": "queue"}))) as client:
        assert client.get("/api/openapi.json").status_code == 200
        assert client.get("/api/claims/X").status_code == 401  # the gate holds under the mount
        r = client.get("/api/claims/X", headers={"X-API-Key": key})
        assert r.status_code == 404 and r.json()["error"] == "claim_not_found"
        r = client.post(
            "/api/claims",
            headers={"X-API-Key": key, "Idempotency-Key": "m1"},
            data={"policy_number": "P1", "claimant": "张三", "incident_date": "2025-06-01"},
            files=[("documents", ("a.jpg", image_bytes(), "image/jpeg"))],
        )
        assert r.status_code == 201, r.text
        status_url = r.json()["status_url"]
        assert status_url == f"http://testserver/api/claims/{r.json()['claim_id']}"
        assert client.get(status_url, headers={"X-API-Key": key}).status_code == 200
        root = client.get("/", follow_redirects=False)
        assert root.status_code in (200, 303, 307)  # the review app's login, or the API's docs


def test_the_migration_creates_exactly_the_intake_models(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext

    import pipeline.intake_tables  # noqa: F401  (registers the tables on Base)

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diff if "intake_" in repr(d)]
    assert ours == []
    assert {t for t in inspect(engine).get_table_names() if t.startswith("intake_")} == {
        "intake_api_keys",
        "intake_claims",
        "intake_idempotency",
        "intake_document_requests",
    }
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:  # and back down to the review app's revision
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    names = inspect(engine).get_table_names()
    assert "review_users" in names and not [t for t in names if t.startswith("intake_")]


def test_dispatchers_queue_run_here_or_start_the_deployment(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import prefect.deployments

    from flows.dispatch import DeploymentDispatcher, FlowDispatcher, QueueDispatcher, make_dispatcher

    kinds = {
        m: type(make_dispatcher(settings.model_copy(update={"intake_dispatch": m})))
        for m in ("queue", "flow", "deployment")
    }
    assert kinds == {"queue": QueueDispatcher, "flow": FlowDispatcher, "deployment": DeploymentDispatcher}

    runs: list[int] = []
    running, release = threading.Event(), threading.Event()

    def run(_settings: Settings) -> None:  # one run at a time; a failing run does not stop the thread
        runs.append(len(runs))
        running.set()
        release.wait(5)
        if len(runs) == 1:
            raise RuntimeError("database went away")

    flow = FlowDispatcher(settings, run=run)
    flow.submit(["A"])
    assert running.wait(5)
    flow.submit(["B"])  # arrive during the first run: one more run takes both
    flow.submit(["C"])
    release.set()
    assert flow.wait_idle(10)
    assert runs == [0, 1]
    flow.close()

    started: list[tuple[str, dict[str, object], object]] = []
    done = threading.Event()

    def fake_run_deployment(name: str, parameters: dict[str, object], timeout: object) -> None:
        started.append((name, parameters, timeout))
        done.set()

    monkeypatch.setattr(prefect.deployments, "run_deployment", fake_run_deployment)
    DeploymentDispatcher(settings).submit(["HSP-1"])
    assert done.wait(10)
    assert started == [("intake-batch/intake-batch", {"claim_ids": ["HSP-1"]}, 0)]
