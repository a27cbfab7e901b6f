"""A small rendered corpus shared by the synth tests (rendering is the slow part: do it once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth.documents import CorpusSummary, generate_corpus

SEED = 11


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CorpusSummary]:
    out = tmp_path_factory.mktemp("corpus")
    return out, generate_corpus(out, 10, seed=SEED, problem_rate=0.3)
