"""Progress on long work: plain lines by tenths (or 30 s) and never one per task, a live rich display
on a terminal, and a real `claims run` that shows its progress and hides Prefect's own lines unless
--verbose. The clock is always injected: nothing here depends on how fast the machine is."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest
from helpers.fake_reading import fake_ocr, structured_batch, truth_facts
from helpers.prefect_harness import link_shared
from rich.console import Console
from typer.testing import CliRunner

from flows import progress as progress_module
from flows.cli import app
from flows.progress import (
    ClaimDecided,
    DocumentRead,
    LineRenderer,
    LiveRenderer,
    Planned,
    Progress,
    open_progress,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def plain(clock: Clock, title: str = "claims run") -> tuple[Progress, list[str]]:
    lines: list[str] = []
    return Progress(title, LineRenderer(lines.append), clock=clock), lines


def test_a_hundred_tasks_make_a_line_per_tenth_and_a_summary_never_one_per_task() -> None:
    clock = Clock()
    progress, lines = plain(clock)
    progress(Planned(documents=80, claims=20))
    for i in range(80):
        clock.now += 1  # a document a second: the tenths come before 30 s pass
        progress(DocumentRead(f"d{i}"))
    for i in range(20):
        progress(ClaimDecided(f"C{i}", "flash_pay" if i % 4 else "adjuster"))
    progress.finish()

    assert 2 <= len(lines) <= 11, lines  # the start, a line per tenth reached, the summary
    assert lines[0] == "claims run: documents read 0/80, claims decided 0/20; 0:00 elapsed"
    assert lines[4] == "claims run: documents read 40/80, claims decided 0/20; 0:40 elapsed, about 1:00 left"
    assert lines[-1] == (
        "claims run done: documents read 80/80, claims decided 20/20 (adjuster 5, flash_pay 15) in 1:20"
    )


def test_a_slow_task_still_gets_a_line_every_30_seconds() -> None:
    clock = Clock()
    progress, lines = plain(clock)
    progress.start(total_docs=1000, total_claims=0)
    for _ in range(3):
        clock.now += 29
        progress.poll()
        clock.now += 1
        progress.document_read()  # far from the next tenth: only the clock says a line is due
    assert lines == [
        "claims run: documents read 0/1000; 0:00 elapsed",
        "claims run: documents read 1/1000; 0:30 elapsed, about 8:19:30 left",
        "claims run: documents read 2/1000; 1:00 elapsed, about 8:19:00 left",
        "claims run: documents read 3/1000; 1:30 elapsed, about 8:18:30 left",
    ]


def test_waiting_before_the_work_is_planned_shows_the_clock_and_is_not_in_the_pace() -> None:
    clock = Clock()
    progress, lines = plain(clock)
    clock.now = 12
    progress.poll()
    assert lines == []
    clock.now = 31
    progress.poll()
    assert lines == ["claims run: starting; 0:31 elapsed"]
    progress.start(10, 0)
    for _ in range(5):
        clock.now += 2
        progress.document_read()
    # the pace is the work's since it was planned: start-up (Prefect's server, ingest) is not in it
    assert lines[-1] == "claims run: documents read 5/10; 0:41 elapsed, about 0:10 left"


def test_nothing_to_do_ends_without_a_summary() -> None:
    progress, lines = plain(Clock(), "claims intake run")
    progress.finish()
    assert lines == []


def test_a_failed_run_stops_without_a_summary() -> None:
    progress, lines = plain(Clock())
    progress.start(4, 2)
    progress.finish(ok=False)
    progress.document_read()  # too late: nothing more is shown
    assert lines == ["claims run: documents read 0/4, claims decided 0/2; 0:00 elapsed"]


def test_a_trainer_shows_each_step_of_the_total() -> None:
    clock = Clock()
    progress, lines = plain(clock, "claims fraud train")
    progress.start_steps(3)
    for name in ("reading the claims", "computing features", "fitting the classifier"):
        progress.step(name)
        clock.now += 20
    progress.finish()
    assert lines == [
        "claims fraud train: step 1 of 3: reading the claims; 0:00 elapsed",
        "claims fraud train: step 2 of 3: computing features; 0:20 elapsed, about 0:40 left",
        "claims fraud train: step 3 of 3: fitting the classifier; 0:40 elapsed, about 0:20 left",
        "claims fraud train done: 3 of 3 steps in 1:00",
    ]


def test_a_stage_callback_counts_claims() -> None:
    progress, lines = plain(Clock(), "claims synth docs")
    for done in range(1, 5):
        progress.claims_counted(done, 4)
    progress.finish()
    assert lines[-1] == "claims synth docs done: claims decided 4/4 in 0:00"


def test_the_live_display_draws_bars_routes_and_time_on_a_terminal() -> None:
    file = io.StringIO()
    console = Console(force_terminal=True, file=file, width=100, color_system=None)
    clock = Clock()
    progress = Progress("claims run", LiveRenderer(console), clock=clock)
    progress(Planned(documents=10, claims=4))
    for i in range(5):
        clock.now += 6
        progress(DocumentRead(f"d{i}"))
    shown = file.getvalue()
    assert "documents read" in shown and "5/10" in shown and "0/4" in shown
    assert "elapsed 0:30, about 0:54 left" in shown
    for i, route in enumerate(("flash_pay", "deny")):
        progress(ClaimDecided(f"C{i}", route))
    progress.finish()
    shown = file.getvalue()
    assert "claims run done" in shown and "routes: deny 1, flash_pay 1" in shown
    assert "\x1b[?25h" in shown  # the display is closed: the cursor is shown again


def test_open_progress_draws_live_on_a_terminal_and_lines_elsewhere() -> None:
    for terminal in (True, False):
        file = io.StringIO()
        console = Console(force_terminal=terminal, file=file, width=100, color_system=None)
        with open_progress("claims run", console, tick=60) as progress:
            assert isinstance(progress.renderer, LiveRenderer if terminal else LineRenderer)
            progress.start(1, 1)
            progress.document_read()
            progress.claim_decided("flash_pay")
        assert "claims run done" in file.getvalue()


def test_open_progress_on_an_error_leaves_no_summary() -> None:
    file = io.StringIO()
    console = Console(force_terminal=False, file=file, width=100)
    with pytest.raises(RuntimeError), open_progress("claims run", console, tick=60) as progress:
        progress.start(2, 1)
        raise RuntimeError("the database went away")
    assert "done" not in file.getvalue()


# --- a real `claims run` -----------------------------------------------------------------------

PROGRESS_LINE = re.compile(r"^claims run( done)?: ")
CLAIMS = 8


@pytest.mark.usefixtures("prefect_harness")
def test_claims_run_shows_progress_lines_and_prefect_lines_only_when_verbose(
    cli_home: Path, tmp_path: Path, models_dir: Path, ocr_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole command on a batch of 8 claims (some 40 documents; the fake OCR and the truth's facts,
    so it takes seconds): a few progress lines and the summary, no line per task, Prefect's own lines
    with --verbose only."""
    batch = structured_batch(tmp_path / "batch", CLAIMS, seed=5)
    fake_ocr(monkeypatch)
    truth_facts(monkeypatch, batch)
    link_shared(cli_home / "data", models_dir, ocr_cache)
    monkeypatch.setattr(progress_module, "now", lambda: 0.0)  # no line by the clock: by the work only
    runner = CliRunner()

    quiet = runner.invoke(app, ["run", str(batch)])
    assert quiet.exit_code == 0, quiet.output
    lines = [line for line in quiet.stderr.splitlines() if PROGRESS_LINE.match(line)]
    found = re.match(
        rf"claims run done: documents read (\d+)/\1, claims decided {CLAIMS}/{CLAIMS} \(", lines[-1]
    )
    assert found, lines
    assert int(found.group(1)) > 2 * CLAIMS  # so that a line per task would show
    assert 2 <= len(lines) <= 11, lines  # the start, the tenths, the summary: never a line per task
    assert "prefect.flow_runs" not in quiet.output and "Beginning flow run" not in quiet.output

    verbose = runner.invoke(app, ["--verbose", "run", str(batch)])  # decided before: nothing redone
    assert verbose.exit_code == 0, verbose.output
    assert "INFO prefect.flow_runs: Beginning flow run" in verbose.stderr
    assert f"claims run done: claims decided {CLAIMS}/{CLAIMS}" in verbose.stderr


def test_reports_from_several_threads_are_all_counted() -> None:
    """Tasks finish on worker threads while the ticker polls: every report counts, lines stay few."""
    progress, lines = plain(Clock())
    progress.start(0, 400)
    threads = [
        threading.Thread(target=lambda: [progress.claim_decided("deny") for _ in range(100)])
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    progress.finish()
    assert lines[-1] == "claims run done: claims decided 400/400 (deny 400) in 0:00"
    assert len(lines) == 11  # the start, nine tenths, the summary
