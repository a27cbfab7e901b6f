"""The intake app as the tests drive it: a fresh store, one key per channel, a test clock for the
rate limits; and data dirs sharing the session's models and OCR cache. (Not in conftest.py: test
modules import these, and `conftest` is a name every test folder has.)"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from helpers.prefect_harness import link_shared
from intake_files import HOSPITAL, HOSPITAL_ACCOUNT, policies_csv

from intake.app import create_app
from intake.dispatch import Dispatcher, QueueDispatcher
from intake.keys import create_key
from intake.ratelimit import MemoryBuckets
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store


@dataclass
class Api:
    """An intake app under test with a key per channel (two hospitals, so scoping can be seen)."""

    client: TestClient
    store: CaseStore
    settings: Settings
    keys: dict[str, str]
    dispatcher: Any
    clock: list[float]

    def headers(self, who: str = "app", idem: str | None = None, **extra: str) -> dict[str, str]:
        h = {"X-API-Key": self.keys[who], **extra}
        if idem is not None:
            h["Idempotency-Key"] = idem
        return h


def make_api(
    settings: Settings, dispatcher: Dispatcher | None = None, more_policies: Path | None = None
) -> Api:
    """The app over a fresh store, its policy extract the test policies (plus `more_policies`' rows)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    policies = settings.data_dir / "policies.csv"
    extra = more_policies.read_text(encoding="utf-8").split("\n", 1)[1] if more_policies else ""
    policies.write_text(policies_csv() + extra, encoding="utf-8")
    settings = settings.model_copy(update={"intake_policies": policies})
    store = open_store(settings)
    keys = {
        "app": create_key(store, "app", "安康APP")[0],
        "agent": create_key(store, "agent", "城东营业部")[0],
        "hospital": create_key(
            store, "hospital", HOSPITAL, settlement_bank="中国工商银行", settlement_account=HOSPITAL_ACCOUNT
        )[0],
        "other_hospital": create_key(store, "hospital", "仁和医院")[0],
    }
    clock = [1000.0]
    dispatcher = dispatcher or QueueDispatcher()
    app = create_app(
        settings, store=store, dispatcher=dispatcher, limiter=MemoryBuckets(clock=lambda: clock[0])
    )
    return Api(TestClient(app), store, settings, keys, dispatcher, clock)


def linked_settings(
    data_dir: Path, models_dir: Path, ocr_cache: Path, database_url: str | None = None
) -> Settings:
    """A fresh data dir (its own store) sharing the session's models, OCR cache and page images."""
    return link_shared(data_dir, models_dir, ocr_cache, page_images=True, database_url=database_url)
