"""The deployments build without a server: right flows, parameters and schedules, and prefect.yaml
declares the same ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from flows.serve import INTAKE_EVERY, NIGHTLY_CRON, REVIEW_EVERY, TIMEZONE, deployments

ROOT = Path(__file__).resolve().parents[2]


def test_deployments_build_with_schedules_and_parameters() -> None:
    batch, review, nightly, intake = deployments(folder="/srv/batches/today", data_dir="/srv/claims")
    assert (batch.name, batch.flow_name) == ("claims-batch", "claims-batch")
    assert batch.parameters == {"folder": "/srv/batches/today", "data_dir": "/srv/claims"}
    assert batch.schedules in (None, [])  # ops start batches; nothing runs by itself
    assert batch.entrypoint and batch.entrypoint.endswith("claims_batch.py:claims_batch")

    assert review.flow_name == "apply-review"
    (s,) = review.schedules
    assert dt.timedelta(seconds=s.schedule.interval.total_seconds()) == REVIEW_EVERY

    assert nightly.flow_name == "retrain"
    (c,) = nightly.schedules
    assert c.schedule.cron == NIGHTLY_CRON and c.schedule.timezone == TIMEZONE
    assert nightly.entrypoint and nightly.entrypoint.endswith("retrain.py:retrain")

    assert intake.flow_name == "intake-batch"
    assert intake.parameters == {"data_dir": "/srv/claims"}  # every queued claim, not a list
    (i,) = intake.schedules
    assert dt.timedelta(seconds=i.schedule.interval.total_seconds()) == INTAKE_EVERY


def test_prefect_yaml_matches_the_served_deployments() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    by_name = {d["name"]: d for d in spec["deployments"]}
    assert set(by_name) == {d.name for d in deployments()}
    for d in by_name.values():
        module, _, attr = d["entrypoint"].partition(":")
        assert (ROOT / module).exists()
        mod = __import__(module.removesuffix(".py").replace("/", "."), fromlist=[attr])
        assert hasattr(getattr(mod, attr), "to_deployment")
    assert by_name["nightly-retrain"]["schedules"][0]["cron"] == NIGHTLY_CRON
    assert by_name["apply-review"]["schedules"][0]["interval"] == REVIEW_EVERY.total_seconds()
    assert by_name["intake-batch"]["schedules"][0]["interval"] == INTAKE_EVERY.total_seconds()
    assert by_name["claims-batch"]["parameters"] == {"folder": "sample_docs"}
