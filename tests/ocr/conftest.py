"""Fixtures for the OCR tests; pages are rendered on the spot (see ocr_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ocr_fixtures import SHARED, render_page


@pytest.fixture(scope="session")
def page_image() -> np.ndarray:
    return render_page()


@pytest.fixture(scope="session")
def engine():
    from ocr.engine import get_engine

    return get_engine()


@pytest.fixture(scope="session")
def shared_invoices() -> Path:
    if not (SHARED / "train.corrected.json").is_file():
        pytest.skip(f"real invoices not found at {SHARED.resolve()} (a fresh clone has no ../shared)")
    return SHARED.resolve()
