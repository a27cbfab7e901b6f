"""Versioned model artifacts with model cards, plots, a frozen holdout and an atomically swapped champion.

Every model (doc type, triage, adjudication gate, fraud) is saved as `models/<name>/<version>/` with
`model.joblib`, `model_card.json` (data hash, code version, library versions, parameters, metrics,
the holdout's hash, its verdicts as challenger) and the PNG plots its trainer made (`plots/*.png`).
Decisions record the version they used, so any decision can be traced to the exact model that made it.

Beside the versions, each model's folder holds:

- `CHAMPION`: the version in service, one line, replaced by `os.replace` (readers see the old or the
  new pointer, never half of one);
- `champion_history.jsonl`: every change of champion (promotion, rollback), so `rollback` can return
  to the previous champion and anyone can see who served when;
- `holdout/`: the frozen holdout (固定留出集), saved once by the first trainer that brings one and
  never replaced, so every later challenger is judged against the champion on the same claims;
- `challenges.jsonl`: every champion/challenger comparison, promoted or not, with both scores.

Scoring a model on a holdout is the trainer's business (the registry stores bytes, not pandas):
`challenge(..., evaluate=fn)` loads champion and challenger and calls `fn(model, holdout_file)` on
each. The registry itself only needs the standard library, pydantic and joblib.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import importlib.metadata
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import joblib
from pydantic import BaseModel, Field

from pipeline.errors import ClaimsError

try:  # POSIX advisory locks; without them (Windows) promotions are not serialised between processes
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LIBRARIES = (
    "scikit-learn",
    "lightgbm",
    "numpy",
    "pandas",
    "pyarrow",
    "matplotlib",
    "rapidocr",
    "onnxruntime",
    "claims-di",
)
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_PLOT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
POINTER = "CHAMPION"
HISTORY = "champion_history.jsonl"
CHALLENGES = "challenges.jsonl"
HOLDOUT = "holdout"


class Holdout(BaseModel):
    """A frozen evaluation set: saved once per model name, never replaced, identified by its hash."""

    name: str
    hash: str
    file: str
    created_at: dt.datetime
    source_hash: str
    rows: int | None = None
    description: str = ""


class ChampionEvent(BaseModel):
    """One change of champion, as written to `champion_history.jsonl`."""

    at: dt.datetime
    action: Literal["promote", "rollback"]
    version: str
    previous: str | None
    reason: str = ""
    by: str = ""


class Challenge(BaseModel):
    """A champion/challenger comparison and its verdict."""

    name: str
    challenger: str
    champion: str | None
    metric: str
    higher_is_better: bool
    margin: float
    on: Literal["holdout", "card-holdout", "card", "none"]
    """holdout: both scored now on the frozen holdout; card-holdout: both cards' scores on that same
    holdout, written at registration; card: the metrics each trainer wrote (no common holdout)."""
    holdout_hash: str | None = None
    challenger_value: float | None = None
    champion_value: float | None = None
    gain: float | None = None
    promoted: bool
    reason: str
    at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    challenger_metrics: dict[str, Any] = Field(default_factory=dict)
    champion_metrics: dict[str, Any] = Field(default_factory=dict)


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
    holdout_hash: str | None = None
    """The frozen holdout `metrics["holdout"]` was measured on (None: the model has none)."""
    plots: list[str] = Field(default_factory=list)
    """PNG files inside the version folder, e.g. `plots/roc.png`."""
    challenges: list[Challenge] = Field(default_factory=list)
    """Its verdicts as challenger (`ModelRegistry.challenge`), added as they are given."""


Evaluate = Callable[[Any, Path], Mapping[str, Any]]
"""Scores one loaded model on the holdout file; returns metrics (the compared one among them)."""


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


def _write_atomic(path: Path, text: str) -> None:
    """Replace `path` whole: a reader sees the old file or the new one, never a half-written one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class ModelRegistry:
    """Folders of model versions under `root`; `CHAMPION` files point at the one in service."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _dir(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ClaimsError(f"model name {name!r}: use lower-case letters, digits, '-' or '_'")
        return self.root / name

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[Path]:
        """An exclusive lock on the model's folder, so two promoters cannot interleave their swaps."""
        d = self._dir(name)
        d.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover
            yield d
            return
        fd = os.open(d, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield d
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # --- versions -------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every model that has at least one version."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if _NAME.match(p.name) and self.versions(p.name))

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
        holdout_hash: str | None = None,
        plots: Mapping[str, bytes | Path] | None = None,
    ) -> ModelCard:
        """Save a new version (never overwriting one) and return its card; it is not yet champion.

        `plots` maps a short name (`roc`, `pr`, ...) to PNG bytes or a PNG file; they are stored as
        `plots/<name>.png` inside the version and listed in the card.
        """
        d = self._dir(name)
        d.mkdir(parents=True, exist_ok=True)
        pngs = {key: _png_bytes(key, value) for key, value in (plots or {}).items()}
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
            holdout_hash=holdout_hash,
            plots=[f"plots/{key}.png" for key in sorted(pngs)],
        )
        tmp = Path(tempfile.mkdtemp(dir=d, prefix=".incoming-"))
        try:
            joblib.dump(model, tmp / "model.joblib")
            if pngs:
                (tmp / "plots").mkdir()
                for key, data in pngs.items():
                    (tmp / "plots" / f"{key}.png").write_bytes(data)
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

    def cards(self, name: str) -> list[ModelCard]:
        return [self.card(name, v) for v in self.versions(name)]

    def plots(self, name: str, version: str) -> dict[str, Path]:
        """The version's plots by name (`roc`, `pr`, ...), as paths to PNG files."""
        card = self.card(name, version)
        folder = self._dir(name) / version
        return {Path(p).stem: folder / p for p in card.plots if (folder / p).exists()}

    def load(self, name: str, version: str | None = None) -> tuple[Any, ModelCard]:
        """The model and its card: the champion unless a version is given."""
        version = version or self.champion(name)
        if version is None:
            raise ClaimsError(
                f"no champion for model {name!r} under {self.root}: train and promote one first"
            )
        card = self.card(name, version)
        return joblib.load(self._dir(name) / version / "model.joblib"), card

    # --- champion pointer and its history -------------------------------------------------------

    def champion(self, name: str) -> str | None:
        pointer = self._dir(name) / POINTER
        if not pointer.exists():
            return None
        return pointer.read_text(encoding="utf-8").strip() or None

    def history(self, name: str) -> list[ChampionEvent]:
        """Every change of champion, oldest first."""
        return _read_jsonl(self._dir(name) / HISTORY, ChampionEvent)

    def challenges(self, name: str) -> list[Challenge]:
        """Every champion/challenger comparison made, oldest first."""
        return _read_jsonl(self._dir(name) / CHALLENGES, Challenge)

    def promote(self, name: str, version: str, *, reason: str = "") -> None:
        """Make `version` the champion; readers see the old or the new pointer, never half of one."""
        self.card(name, version)  # must exist
        with self._locked(name):
            self._swap(name, version, "promote", reason or "promoted by hand")

    def rollback(self, name: str, *, reason: str = "") -> str:
        """Return the champion pointer to the champion before the current one; returns that version.

        The champions form a stack in `champion_history.jsonl`: a promotion pushes, a rollback pops,
        so rolling back twice goes two champions back, not back and forth.
        """
        with self._locked(name):
            stack = self._stack(name)
            if len(stack) < 2:
                raise ClaimsError(
                    f"model {name!r} has no earlier champion to roll back to"
                    f" (champion: {stack[-1] if stack else 'none'}); see `claims models show {name}`"
                )
            target = stack[-2]
            self.card(name, target)
            self._swap(name, target, "rollback", reason or f"rolled back from {stack[-1]}")
        return target

    def _stack(self, name: str) -> list[str]:
        """The champions in service order, replayed from the history; the last one serves now."""
        stack: list[str] = []
        for event in self.history(name):
            if event.action == "promote":
                if event.previous is not None and (not stack or stack[-1] != event.previous):
                    stack.append(event.previous)  # a champion set without a history line (older registries)
                stack.append(event.version)
            elif stack:
                stack.pop()
                if not stack or stack[-1] != event.version:  # a history written by hand: trust it
                    stack.append(event.version)
        current = self.champion(name)
        if current is not None and (not stack or stack[-1] != current):
            stack.append(current)  # a pointer set without a history line (older registries)
        return stack

    def _swap(self, name: str, version: str, action: Literal["promote", "rollback"], reason: str) -> None:
        """Pointer first (what readers use), then the history line; caller holds the lock."""
        d = self._dir(name)
        previous = self.champion(name)
        if previous == version:  # already serving: nothing changes, nothing to record
            return
        _write_atomic(d / POINTER, version + "\n")
        event = ChampionEvent(
            at=dt.datetime.now(dt.UTC),
            action=action,
            version=version,
            previous=previous,
            reason=reason,
            by=_user(),
        )
        _append_jsonl(d / HISTORY, event)
        log.info("%s: champion %s -> %s (%s)", name, previous, version, action)

    # --- the frozen holdout ---------------------------------------------------------------------

    def holdout(self, name: str) -> Holdout | None:
        meta = self._dir(name) / HOLDOUT / "holdout.json"
        if not meta.exists():
            return None
        return Holdout.model_validate_json(meta.read_text(encoding="utf-8"))

    def holdout_file(self, name: str) -> Path:
        frozen = self.holdout(name)
        if frozen is None:
            raise ClaimsError(f"model {name!r} has no frozen holdout under {self.root}")
        return self._dir(name) / HOLDOUT / frozen.file

    def freeze_holdout(
        self,
        name: str,
        write: Callable[[Path], None],
        *,
        filename: str,
        source_hash: str,
        rows: int | None = None,
        description: str = "",
    ) -> Holdout:
        """Save the model's holdout once: `write(path)` writes the file. An existing one is kept.

        Returns the holdout in force, which is the earlier one when there is one (its `write` is
        then never called): a holdout that moved with every challenger would judge nothing.
        """
        if "/" in filename or filename.startswith("."):
            raise ClaimsError(f"holdout file name {filename!r}: a plain file name, please")
        with self._locked(name) as d:
            existing = self.holdout(name)
            if existing is not None:
                return existing
            tmp = Path(tempfile.mkdtemp(dir=d, prefix=".incoming-holdout-"))
            try:
                write(tmp / filename)
                frozen = Holdout(
                    name=name,
                    hash=data_hash(tmp / filename),
                    file=filename,
                    created_at=dt.datetime.now(dt.UTC),
                    source_hash=source_hash,
                    rows=rows,
                    description=description,
                )
                (tmp / "holdout.json").write_text(frozen.model_dump_json(indent=2), encoding="utf-8")
                os.rename(tmp, d / HOLDOUT)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        log.info("%s: froze holdout %s (%s rows)", name, frozen.hash[:12], rows)
        return frozen

    # --- champion / challenger ------------------------------------------------------------------

    def challenge(
        self,
        name: str,
        version: str,
        metric: str,
        *,
        evaluate: Evaluate | None = None,
        margin: float = 0.0,
        higher_is_better: bool = True,
        promote: bool = True,
    ) -> Challenge:
        """Judge challenger `version` against the champion; promote it if it wins by `margin`.

        With `evaluate`, both models are loaded and scored now on the model's frozen holdout, so
        they are compared on the same claims whatever data each was trained on. Without it, the
        `metric` written in each card at training time is compared (for models whose trainer has
        no holdout scorer). The verdict is appended to `challenges.jsonl` either way.
        """
        card = self.card(name, version)
        with self._locked(name):
            current = self.champion(name)
            result = self._judge(name, card, current, metric, evaluate, margin, higher_is_better)
            if result.promoted and promote:
                self._swap(name, version, "promote", result.reason)
            elif result.promoted:
                result.promoted = False
                result.reason += "; not promoted (judged only)"
            _append_jsonl(self._dir(name) / CHALLENGES, result)
            noted = self.card(name, version)  # the challenger's card keeps its verdicts
            noted.challenges.append(result)
            _write_atomic(self._dir(name) / version / "model_card.json", noted.model_dump_json(indent=2))
        return result

    def _judge(
        self,
        name: str,
        card: ModelCard,
        current: str | None,
        metric: str,
        evaluate: Evaluate | None,
        margin: float,
        higher: bool,
    ) -> Challenge:
        base: dict[str, Any] = {
            "name": name,
            "challenger": card.version,
            "champion": current,
            "metric": metric,
            "higher_is_better": higher,
            "margin": margin,
        }
        if current == card.version:
            return Challenge(**base, on="none", promoted=False, reason=f"{card.version} is already champion")
        if evaluate is not None:
            frozen = self.holdout(name)
            if frozen is None:
                raise ClaimsError(f"model {name!r} has no frozen holdout: train one with a holdout first")
            path = self._dir(name) / HOLDOUT / frozen.file
            base.update(on="holdout", holdout_hash=frozen.hash)
            challenger_metrics = dict(evaluate(self.load(name, card.version)[0], path))
            value = challenger_metrics.get(metric)
            base.update(challenger_metrics=challenger_metrics, challenger_value=value)
            if value is None:
                return Challenge(**base, promoted=False, reason=f"challenger has no {metric} on the holdout")
            if current is None:
                return Challenge(**base, promoted=True, reason="no champion yet")
            try:
                champion_metrics = dict(evaluate(self.load(name, current)[0], path))
            except Exception as exc:  # a champion that cannot score the holdout cannot be compared
                log.warning("%s: champion %s could not be scored on the holdout: %s", name, current, exc)
                return Challenge(
                    **base,
                    promoted=False,
                    reason=f"champion {current} could not be scored on the holdout ({exc}); promote by hand",
                )
            incumbent = champion_metrics.get(metric)
            base.update(champion_metrics=champion_metrics, champion_value=incumbent)
        else:
            value, incumbent, base["on"] = self._card_values(name, card, current, metric)
            base.update(challenger_value=value, champion_value=incumbent)
            if base["on"] == "card-holdout":
                base["holdout_hash"] = card.holdout_hash
            if value is None:
                raise ClaimsError(f"model {name} {card.version} has no metric {metric!r} in its card")
            if current is None:
                return Challenge(**base, promoted=True, reason="no champion yet")
        if incumbent is None:
            return Challenge(**base, promoted=True, reason=f"champion {current} has no {metric}")
        gain = (value - incumbent) if higher else (incumbent - value)
        base["gain"] = gain
        short = str(base.get("holdout_hash"))[:12]
        where = {
            "holdout": f"holdout {short}, scored now",
            "card-holdout": f"holdout {short}, scored at registration",
        }.get(base["on"], "training-time cards (no common holdout)")
        verdict = f"{metric} {value:.4f} vs champion {incumbent:.4f} on {where}: gain {gain:+.4f}"
        if gain >= margin:
            return Challenge(**base, promoted=True, reason=f"{verdict} >= margin {margin}")
        return Challenge(**base, promoted=False, reason=f"{verdict} < margin {margin}")

    def _card_values(
        self, name: str, card: ModelCard, current: str | None, metric: str
    ) -> tuple[Any, Any, Literal["card-holdout", "card"]]:
        """The metric from both cards: their holdout scores when both were measured on the frozen
        holdout in force, else what each trainer measured on its own test data."""
        champion = self.card(name, current) if current is not None else None
        frozen = self.holdout(name)
        if frozen is not None and champion is not None:
            pair = [c.metrics.get("holdout") or {} for c in (card, champion)]
            same = all(c.holdout_hash == frozen.hash for c in (card, champion))
            if same and all(metric in p for p in pair):
                return pair[0][metric], pair[1][metric], "card-holdout"
        incumbent = champion.metrics.get(metric) if champion is not None else None
        return card.metrics.get(metric), incumbent, "card"


def _png_bytes(key: str, value: bytes | Path) -> bytes:
    if not _PLOT.match(key):
        raise ClaimsError(f"plot name {key!r}: use lower-case letters, digits, '-' or '_'")
    data = Path(value).read_bytes() if isinstance(value, Path | str) else bytes(value)
    if not data.startswith(_PNG_MAGIC):
        raise ClaimsError(f"plot {key!r} is not a PNG image")
    return data


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _append_jsonl(path: Path, record: BaseModel) -> None:
    """Add one line, rewriting the file atomically (the caller holds the model's lock)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    _write_atomic(path, old + record.model_dump_json() + "\n")


_Record = TypeVar("_Record", bound=BaseModel)


def _read_jsonl(path: Path, kind: type[_Record]) -> list[_Record]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [kind.model_validate(json.loads(line)) for line in lines if line.strip()]
