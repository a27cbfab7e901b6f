"""Progress on long work: what the `claims` command shows while a batch runs or a model trains.

A batch of 166 documents reads for minutes; an operator must see that it moves and how long is left,
and a log file must not get a line per document. So a `Progress` counts the work planned and done
(documents read, claims decided with their route, or a trainer's steps) and hands a `Snapshot` to
one of two renderers: `LiveRenderer` redraws a rich display in place on a terminal; `LineRenderer`
writes a plain line at each tenth of the work (or after 30 s without one), never one per task.

The flows report through a plain callable (`Report`) that receives `Planned`, `DocumentRead` and
`ClaimDecided` events; a `Progress` is such a callable. The stages and the runner know none of this:
they take, at most, a callback of their own (`ingest_batch(progress=...)`, `generate_corpus(progress=...)`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

Clock = Callable[[], float]


def now() -> float:
    """The clock a `Progress` reads unless it is given one (seconds, only differences matter)."""
    return time.monotonic()


STEPS = "steps"
"""The counter of a trainer's steps."""

LINE_EVERY = 30.0
"""Seconds after which a plain line is written even if the work has not moved by a tenth."""


# --- what the flows report -----------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """The work a batch run has ahead: documents to read and claims to take to an outcome."""

    documents: int
    claims: int


@dataclass(frozen=True)
class DocumentRead:
    """One document read (or found already read), whether or not it could be read."""

    document_id: str


@dataclass(frozen=True)
class ClaimDecided:
    """One claim taken to an outcome; `route` is its route, or why it waits."""

    claim_id: str
    route: str


BatchEvent = Planned | DocumentRead | ClaimDecided
Report = Callable[[BatchEvent], None]
"""How a flow reports its progress: a plain callable, so the flow needs no renderer."""


def ignore(event: BatchEvent) -> None:
    """The report of a run nobody watches (a deployment, a test)."""


# --- what is shown ---------------------------------------------------------------------------------


def clock_text(seconds: float) -> str:
    """1:05, or 1:02:05 past an hour."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class Snapshot:
    """The state of the work at one moment: what the renderers draw."""

    title: str
    counters: tuple[tuple[str, int, int], ...]
    """(label, done, total) of each kind of work planned: documents, claims, a trainer's steps."""
    routes: tuple[tuple[str, int], ...]
    step: str
    """A trainer's current step ("step 2 of 4: fitting"), else empty."""
    elapsed: float
    started: bool
    working: float = 0.0
    """Seconds since the work was planned: the pace is measured from then, not from start-up."""

    @property
    def fraction(self) -> float:
        """The share of all planned work done (every task counts the same)."""
        total = sum(t for _, _, t in self.counters)
        return min(1.0, sum(d for _, d, _ in self.counters) / total) if total else 0.0

    @property
    def remaining(self) -> float | None:
        """Seconds left at the pace so far; None until something is done."""
        f = self.fraction
        return self.working * (1 - f) / f if f > 0 else None

    def routes_text(self) -> str:
        return ", ".join(f"{route} {n}" for route, n in self.routes)

    def _parts(self) -> list[str]:
        parts = [f"{label} {d}/{t}" for label, d, t in self.counters if label != STEPS]
        if self.routes and parts:
            parts[-1] += f" ({self.routes_text()})"
        if self.step:
            parts.append(self.step)
        elif any(label == STEPS for label, _, _ in self.counters):
            parts += [f"{d} of {t} steps" for label, d, t in self.counters if label == STEPS]
        return parts

    def line(self, *, done: bool = False) -> str:
        """The state in one plain line."""
        parts = self._parts()
        if not self.started:
            parts.append("starting")
        if done:
            return f"{self.title} done: {', '.join(parts)} in {clock_text(self.elapsed)}"
        timing = f"{clock_text(self.elapsed)} elapsed"
        if self.remaining is not None:
            timing += f", about {clock_text(self.remaining)} left"
        return f"{self.title}: {', '.join(parts)}; {timing}"


class Renderer(Protocol):
    """Shows snapshots: `update` on every change and tick, `close` once at the end."""

    def update(self, snap: Snapshot) -> None: ...

    def close(self, snap: Snapshot, *, ok: bool) -> None: ...


class LineRenderer:
    """Plain lines for a log or a pipe: one when the work starts, one at each further tenth of it
    (or after `every` seconds without a line, so a long task still shows life), one at the end."""

    def __init__(self, write: Callable[[str], None], *, every: float = LINE_EVERY) -> None:
        self.write = write
        self.every = every
        self._last_at = 0.0
        self._tenth = 0
        self._step = ""
        self._started = False

    def update(self, snap: Snapshot) -> None:
        tenth = int(snap.fraction * 10 + 1e-9)  # the tenth reached; the last one is the summary's
        due = (
            (snap.started and not self._started)
            or self._tenth < tenth < 10
            or snap.step != self._step
            or snap.elapsed - self._last_at >= self.every
        )
        self._tenth, self._step, self._started = max(self._tenth, tenth), snap.step, snap.started
        if due:
            self._last_at = snap.elapsed
            self.write(snap.line())

    def close(self, snap: Snapshot, *, ok: bool) -> None:
        if ok and snap.started:
            self.write(snap.line(done=True))


class LiveRenderer:
    """A rich display redrawn in place: a bar per kind of work, routes so far, elapsed and left."""

    def __init__(self, console: Console) -> None:
        # stdout stays the command's own output; log lines written to stderr go above the display
        self.live = Live(console=console, auto_refresh=False, redirect_stdout=False)
        self.live.start()

    def update(self, snap: Snapshot) -> None:
        self.live.update(render(snap), refresh=True)

    def close(self, snap: Snapshot, *, ok: bool) -> None:
        # the last state stays on the screen (where it stopped, if it failed); nothing if nothing began
        self.live.update(render(snap, done=ok) if snap.started else Text(""))
        self.live.stop()


def render(snap: Snapshot, *, done: bool = False) -> RenderableType:
    """The display: title, one bar per counter, the routes, the step, the clock."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold")
    grid.add_column(width=40)
    grid.add_column(justify="right")
    for label, d, t in snap.counters:
        grid.add_row(label, ProgressBar(total=t, completed=d, width=40), f"{d}/{t}")
    rows: list[RenderableType] = [Text(f"{snap.title}{' done' if done else ''}", style="bold cyan"), grid]
    if snap.routes:
        rows.append(Text(f"routes: {snap.routes_text()}"))
    if snap.step:
        rows.append(Text(snap.step))
    timing = f"elapsed {clock_text(snap.elapsed)}"
    if not done and snap.remaining is not None:
        timing += f", about {clock_text(snap.remaining)} left"
    elif not snap.started:
        timing += ", starting"
    rows.append(Text(timing, style="dim"))
    return Group(*rows)


# --- the sink ---------------------------------------------------------------------------------------


class Progress:
    """Counts work planned and done and shows it through a renderer; a flow's `Report` too."""

    def __init__(
        self,
        title: str,
        renderer: Renderer,
        *,
        clock: Clock | None = None,
        documents: str = "documents read",
        claims: str = "claims decided",
    ) -> None:
        self.title = title
        self.renderer = renderer
        self.clock = clock if clock is not None else now
        self.labels = (documents, claims)
        self._t0 = self.clock()
        self._lock = threading.Lock()
        self._totals = [0, 0]
        self._done = [0, 0]
        self._routes: Counter[str] = Counter()
        self._steps = 0
        self._step = ""
        self._step_number = 0
        self._steps_done = 0
        self._started_at: float | None = None
        self._finished = False

    # the batch
    def start(self, total_docs: int, total_claims: int) -> None:
        with self._lock:
            self._totals = [total_docs, total_claims]
            self._begin()
            self._show()

    def document_read(self) -> None:
        with self._lock:
            self._done[0] += 1
            self._show()

    def claim_decided(self, route: str | None = None) -> None:
        """One more claim done (decided, or generated), counted by its route if it has one."""
        with self._lock:
            self._done[1] += 1
            if route:
                self._routes[route] += 1
            self._show()

    def claims_counted(self, done: int, total: int) -> None:
        """A stage's own `progress(done, total)` callback (`generate_corpus`): claims done of total."""
        with self._lock:
            self._totals[1], self._done[1] = total, done
            self._begin()
            self._show()

    def __call__(self, event: BatchEvent) -> None:
        """The flows' `Report`."""
        match event:
            case Planned(documents=docs, claims=claims):
                self.start(docs, claims)
            case DocumentRead():
                self.document_read()
            case ClaimDecided(route=route):
                self.claim_decided(route)

    # a trainer's steps
    def start_steps(self, total: int) -> None:
        """`total` steps ahead; shown from the first `step`."""
        with self._lock:
            self._steps = total

    def step(self, name: str) -> None:
        """The next step begins (the one before it is done)."""
        with self._lock:
            self._steps_done = self._step_number
            self._step_number += 1
            self._steps = max(self._steps, self._step_number)
            self._step = f"step {self._step_number} of {self._steps}: {name}"
            self._begin()
            self._show()

    # either
    def poll(self) -> None:
        """Show the clock moving though no work finished (a ticker calls this)."""
        with self._lock:
            if not self._finished:
                self._show()

    def finish(self, *, ok: bool = True) -> None:
        """The work is over: the final state (a summary line, or the display left in place)."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            if ok and self._steps:
                self._steps_done, self._step = self._steps, ""
            self.renderer.close(self.snapshot(), ok=ok)

    def snapshot(self) -> Snapshot:
        now = self.clock()
        counters = tuple(
            (label, done, total)
            for label, done, total in zip(self.labels, self._done, self._totals, strict=True)
            if total
        )
        if self._steps:
            counters += ((STEPS, self._steps_done, self._steps),)
        return Snapshot(
            title=self.title,
            counters=counters,
            routes=tuple(sorted(self._routes.items())),
            step=self._step,
            elapsed=now - self._t0,
            started=self._started_at is not None,
            working=now - (self._started_at if self._started_at is not None else now),
        )

    def _begin(self) -> None:
        if self._started_at is None:
            self._started_at = self.clock()

    def _show(self) -> None:
        if not self._finished:
            self.renderer.update(self.snapshot())


@contextmanager
def open_progress(
    title: str,
    console: Console,
    *,
    documents: str = "documents read",
    claims: str = "claims decided",
    tick: float = 1.0,
) -> Iterator[Progress]:
    """A `Progress` drawn live on a terminal, in plain lines otherwise, with a ticker that keeps the
    clock moving; finished when the block ends (without a summary if it raised)."""
    renderer: Renderer
    if console.is_terminal:
        renderer = LiveRenderer(console)
    else:
        renderer = LineRenderer(
            lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)
        )
    progress = Progress(title, renderer, documents=documents, claims=claims)
    stop = threading.Event()

    def ticker() -> None:
        while not stop.wait(tick):
            progress.poll()

    thread = threading.Thread(target=ticker, name="progress-ticker", daemon=True)
    thread.start()
    ok = False
    try:
        progress.poll()
        yield progress
        ok = True
    finally:
        stop.set()
        thread.join()
        progress.finish(ok=ok)
