"""Versioned model artifacts with model cards and an atomically swapped champion pointer.

Every model (doc type, triage, adjudication gate, fraud) is saved as `models/<name>/<version>/` with
`model.joblib` and `model_card.json` (data hash, code version, library versions, metrics). Decisions
record the version they used, so any decision can be traced to the exact model that made it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import joblib
from pydantic import BaseModel, Field

from pipeline.errors import ClaimsError

LIBRARIES = ("scikit-learn", "lightgbm", "numpy", "pandas", "rapidocr", "onnxruntime", "claims-di")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class ModelCard(BaseModel):
    name: str
    version: str
    created_at: dt.datetime
    data_hash: str
    code_version: str
    libraries: dict[str, str]
    metrics: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""


def data_hash(*parts: bytes | str | Path) -> str:
    """SHA-256 over the training data snapshot (file contents, or bytes/str given directly)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        else:
            h.update(part.encode() if isinstance(part, str) else part)
    return h.hexdigest()


def code_version() -> str:
    """The git commit the code runs from (with +dirty), else the installed package version."""
    root = Path(__file__).resolve().parents[1]
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty=+dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        if rev:
            return rev
    except (OSError, subprocess.SubprocessError):
        pass
    return _version("claims-di")


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


class ModelRegistry:
    """Folders of model versions under `root`; `CHAMPION` files point at the one in service."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ClaimsError(f"model name {name!r}: use lower-case letters, digits, '-' or '_'")
        return self.root / name

    def versions(self, name: str) -> list[str]:
        d = self._dir(name)
        if not d.is_dir():
            return []
        return sorted(p.name for p in d.iterdir() if p.is_dir() and (p / "model_card.json").exists())

    def register(
        self,
        name: str,
        model: Any,
        *,
        data_hash: str,
        metrics: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        notes: str = "",
    ) -> ModelCard:
        """Save a new version (never overwriting one) and return its card; it is not yet champion."""
        d = self._dir(name)
        d.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        seq = len(self.versions(name)) + 1
        version = f"v{seq:04d}-{now:%Y%m%dT%H%M%S}"
        card = ModelCard(
            name=name,
            version=version,
            created_at=now,
            data_hash=data_hash,
            code_version=code_version(),
            libraries={lib: _version(lib) for lib in LIBRARIES},
            metrics=metrics or {},
            params=params or {},
            notes=notes,
        )
        tmp = Path(tempfile.mkdtemp(dir=d, prefix=".incoming-"))
        try:
            joblib.dump(model, tmp / "model.joblib")
            (tmp / "model_card.json").write_text(card.model_dump_json(indent=2), encoding="utf-8")
            os.rename(tmp, d / version)  # a version appears whole or not at all
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return card

    def card(self, name: str, version: str) -> ModelCard:
        path = self._dir(name) / version / "model_card.json"
        if not path.exists():
            raise ClaimsError(f"model {name} has no version {version} under {self.root}")
        return ModelCard.model_validate_json(path.read_text(encoding="utf-8"))

    def load(self, name: str, version: str | None = None) -> tuple[Any, ModelCard]:
        """The model and its card: the champion unless a version is given."""
        version = version or self.champion(name)
        if version is None:
            raise ClaimsError(
                f"no champion for model {name!r} under {self.root}: train and promote one first"
            )
        card = self.card(name, version)
        return joblib.load(self._dir(name) / version / "model.joblib"), card

    def champion(self, name: str) -> str | None:
        pointer = self._dir(name) / "CHAMPION"
        return pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None

    def promote(self, name: str, version: str) -> None:
        """Make `version` the champion; readers see the old or the new pointer, never half of one."""
        self.card(name, version)  # must exist
        d = self._dir(name)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".champion-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(version + "\n")
        os.replace(tmp, d / "CHAMPION")

    def promote_if_better(
        self, name: str, version: str, metric: str, *, min_gain: float = 0.0, higher_is_better: bool = True
    ) -> bool:
        """Champion/challenger: the challenger replaces the champion only if it beats it on `metric`."""
        current = self.champion(name)
        challenger = self.card(name, version).metrics.get(metric)
        if challenger is None:
            raise ClaimsError(f"model {name} {version} has no metric {metric!r} in its card")
        if current is not None:
            incumbent = self.card(name, current).metrics.get(metric)
            if incumbent is not None:
                gain = (challenger - incumbent) if higher_is_better else (incumbent - challenger)
                if gain < min_gain:
                    return False
        self.promote(name, version)
        return True

    def cards(self, name: str) -> list[ModelCard]:
        return [self.card(name, v) for v in self.versions(name)]
