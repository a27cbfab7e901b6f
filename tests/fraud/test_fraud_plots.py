"""Model-card plots: PNGs drawn without a display, the curves only where both classes are present."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from fraud.plots import PLOTS, model_plots


def _png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"
        return im.size


def test_the_four_plots_of_a_model_card() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(5000) < 0.05).astype(int)
    score = np.clip(0.6 * y + rng.random(5000) * 0.5, 0, 1)
    plots = model_plots(y, score, {"amount_claimed": 40.0, "n_documents": 10.0, "phone_shared": 0.0})
    assert tuple(plots) == PLOTS
    assert _png_size(plots["roc"]) == (500, 500)  # 5 x 5 inches at 100 dpi
    assert all(_png_size(p)[0] > 0 for p in plots.values())


def test_curves_over_a_single_class_are_left_out() -> None:
    plots = model_plots(np.zeros(100), np.linspace(0, 1, 100), {"amount_claimed": 1.0})
    assert list(plots) == ["importance"]
    assert model_plots(np.ones(10), np.ones(10), {}) == {}
