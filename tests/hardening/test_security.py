"""Security promises that cut across the rooms (issue 11, point 5).

- A batch folder cannot make the pipeline read or write outside it: names that climb out ("..",
  absolute paths, symlinks, a claim id used as a folder) are refused on their claim, the bytes they
  point at are never stored, and nothing is written outside the data dir. (The intake API's upload
  names: tests/intake/test_api.py; the review app's URLs: tests/review/test_access.py.)
- Secrets come from the environment only: no setting that could hold one has a default, none is read
  from a file in the working folder, and no password, key or credential is written in the code. The
  review app has no signing secret at all: sessions are random tokens kept (hashed) in the database.
- `claims serve` keeps its two doors apart: an API key opens no page of the review app, and a review
  session opens nothing in the API.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from pipeline.ingest import ingest_batch
from pipeline.settings import Settings
from pipeline.store import DocumentRow, open_store

REPO = Path(__file__).resolve().parents[2]


def jpeg(seed: int) -> bytes:
    arr = (np.random.default_rng(seed).random((32, 48, 3)) * 255).astype("uint8")
    out = io.BytesIO()
    Image.fromarray(arr).save(out, "JPEG")
    return out.getvalue()


def tree(root: Path) -> set[Path]:
    return set(root.rglob("*"))


# --- a batch folder cannot reach out ---------------------------------------------------------------


def test_a_batch_folder_cannot_make_the_pipeline_read_or_write_outside_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.jpg"
    secret.write_bytes(jpeg(1))
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "good.jpg").write_bytes(jpeg(2))
    (batch / "link.jpg").symlink_to(secret)
    (batch / "C3").symlink_to(outside, target_is_directory=True)  # a claim folder that is elsewhere
    names = ["good.jpg", "../outside/secret.jpg", str(secret), "link.jpg", "..\\outside\\secret.jpg"]
    rows = [
        {"claim_id": "C1", "documents": ";".join(names)},
        {"claim_id": "../outside", "documents": ""},  # a claim id that would name a folder outside
        {"claim_id": "C3", "documents": ""},
    ]
    with (batch / "claims.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, ["claim_id", "policy_number", "claimant", "incident_date", "submitted_at",
                                "channel", "documents"])  # fmt: skip
        w.writeheader()
        for r in rows:
            w.writerow({"policy_number": "P1", "claimant": "张伟", "incident_date": "2025-06-01",
                        "submitted_at": "2025-06-02 10:00", "channel": "app", **r})  # fmt: skip
    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    before = tree(tmp_path)

    report = ingest_batch(batch, store, settings)

    secret_sha = hashlib.sha256(secret.read_bytes()).hexdigest()
    with store.session() as s:
        assert s.get(DocumentRow, secret_sha) is None  # the outside file's bytes were never taken in
    assert not any(secret_sha in p.name for p in tree(settings.data_dir))
    c1 = store.get_claim("C1")
    assert c1 is not None
    stored = [d for d in c1.documents if d.status.value == "stored"]
    assert [d.filename for d in stored] == ["good.jpg"]
    problems = " ".join(report.summary()["problems"].get("C1", []))
    for why in ("'..' is not allowed", "absolute paths are not allowed", "outside the batch folder"):
        assert why in problems, problems
    for cid in ("../outside", "C3"):
        assert report.summary()["problems"].get(cid), report.summary()
    new = tree(tmp_path) - before
    assert all(p.is_relative_to(settings.data_dir) for p in new), sorted(new)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.jpg"]  # nothing written beside it


# --- secrets from the environment only -------------------------------------------------------------

SECRET_NAME = re.compile(r"secret|password|passwd|token|api_?key|credential|private|dsn|_url$", re.I)


def test_no_setting_that_could_hold_a_secret_has_a_default() -> None:
    risky = [name for name in Settings.model_fields if SECRET_NAME.search(name)]
    assert {"database_url", "intake_redis_url"} <= set(risky)
    for name in risky:
        field = Settings.model_fields[name]
        assert field.default is None and field.default_factory is None, name
    # nothing like a session or CSRF signing key exists to be left at a default
    assert not [n for n in Settings.model_fields if re.search(r"secret|signing|session_key", n)]


def test_secrets_are_read_from_the_environment_and_not_from_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CLAIMS_DATABASE_URL=postgresql+psycopg://u:from-file@127.0.0.1/x\n")
    for name in ("CLAIMS_DATABASE_URL", "CLAIMS_INTAKE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().database_url is None  # a .env lying in the working folder is not read
    url = "postgresql+psycopg://claims:from-env@127.0.0.1/claims"
    monkeypatch.setenv("CLAIMS_DATABASE_URL", url)
    monkeypatch.setenv("CLAIMS_INTAKE_REDIS_URL", "redis://:from-env@127.0.0.1:6379/0")
    s = Settings()
    assert s.database_url == url and s.intake_redis_url == "redis://:from-env@127.0.0.1:6379/0"


CODE_DIRS = ("pipeline", "intake", "review", "flows", "adjudication", "fraud", "classifiers", "ocr", "synth",
             "bench")  # fmt: skip
CONFIG_FILES = ("alembic.ini", "prefect.yaml", "pyproject.toml", "Makefile", "README.md")
HARD_CODED = [
    re.compile(r"\b\w+://[^\s/:@'\"]+:[^\s/@'\"]+@"),  # user:password@host in a URL
    re.compile(
        r"(?i)\b(password|passwd|secret(_key)?|api_key|access_key|private_key|token)\b\s*[:=]\s*[rbu]?['\"][^'\"\s]{8,}['\"]"
    ),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bcdi_[0-9a-f]{12}_[A-Za-z0-9_\-]{20,}"),  # one of our own API keys
]


def test_no_password_key_or_credential_is_written_in_the_code() -> None:
    files = [
        p for d in CODE_DIRS for p in (REPO / d).rglob("*") if p.suffix in (".py", ".yaml", ".ini", ".toml")
    ]
    files += [REPO / f for f in CONFIG_FILES if (REPO / f).exists()]
    assert len(files) > 50
    found = [
        f"{p.relative_to(REPO)}: {m.group(0)}"
        for p in files
        for pattern in HARD_CODED
        for m in pattern.finditer(p.read_text(encoding="utf-8", errors="replace"))
    ]
    assert found == []


def test_review_sessions_need_no_signing_secret(tmp_path: Path) -> None:
    """Each sign-in gets fresh random tokens; the database keeps only the session token's hash."""
    from pipeline.review_tables import WebSessionRow
    from review.auth import hash_token, start_session

    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    from review.auth import add_user

    add_user(store, "adj1", secrets.token_urlsafe(12), "adjuster")
    a, b = (start_session(store, settings, "adj1", None) for _ in range(2))
    assert a != b and len(a) >= 40
    with store.session() as s:
        rows = {r.id: r.csrf_token for r in s.query(WebSessionRow)}
    assert set(rows) == {hash_token(a), hash_token(b)} and a not in rows and len(set(rows.values())) == 2


# --- claims serve: two doors, two kinds of key -------------------------------------------------------


def test_claims_serve_keeps_the_api_key_and_the_review_session_apart(tmp_path: Path) -> None:
    from flows.web import build_app
    from intake.keys import create_key
    from review.auth import add_user

    settings = Settings(data_dir=tmp_path / "data", intake_dispatch="queue")
    store = open_store(settings)
    key, _ = create_key(store, "app", "安康APP")
    password = secrets.token_urlsafe(12)
    add_user(store, "adj1", password, "adjuster")
    with TestClient(build_app(settings), follow_redirects=False) as c:
        for path in ("/queue", "/claims/C1", "/audit"):  # an API key is no way into the review app
            r = c.get(path, headers={"X-API-Key": key})
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        form = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        signed = c.post("/login", data={"username": "adj1", "password": password, "csrf_token": token})
        assert signed.status_code == 303 and c.get("/queue").status_code == 200
        assert c.get("/api/claims/X").status_code == 401  # nor a review session into the API
        r = c.post(
            "/api/claims",
            headers={"Idempotency-Key": "k1"},
            data={"policy_number": "P1", "claimant": "张伟", "incident_date": "2025-06-01"},
            files=[("documents", ("a.jpg", jpeg(3), "image/jpeg"))],
        )
        assert r.status_code == 401 and store.count_claims() == 0
        assert c.get("/api/claims/X", headers={"X-API-Key": key}).status_code == 404
