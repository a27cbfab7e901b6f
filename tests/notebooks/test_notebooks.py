"""The data-science notebooks run top to bottom on small data, so they never rot.

Each notebook in `notebooks/` is executed by nbclient in a kernel of this very interpreter: a
kernelspec written to a temporary folder names `sys.executable`, so neither a system-wide
`ipykernel install` nor whatever `python` is first on PATH decides which packages the kernel sees.
`CLAIMS_NOTEBOOK_SMALL=1` picks each notebook's small sizes. The committed notebooks carry no
outputs (they are data-science documents, not data).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL = "claims-di-test"
EXPECTED = ["01-fraud-model.ipynb", "02-triage-and-straight-through.ipynb", "03-ocr-errors.ipynb"]


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernelspec for this interpreter, found only by the kernel managers made here."""
    folder = tmp_path_factory.mktemp("kernels")
    spec = folder / KERNEL
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "claims-di (test)",
                "language": "python",
            }
        )
    )
    return KernelSpecManager(kernel_dirs=[str(folder)])


def test_every_notebook_is_here_and_committed_without_outputs() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED
    for name in EXPECTED:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), f"{name}: clear its outputs"
        assert any("parameters" in c.metadata.get("tags", []) for c in code), f"{name}: no parameters cell"


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_on_small_data(name: str, kernels: KernelSpecManager) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernels)
    client = NotebookClient(
        nb, km=km, kernel_name=KERNEL, timeout=600, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    env = {**os.environ, "CLAIMS_NOTEBOOK_SMALL": "1", "PYTHONHASHSEED": "0"}
    started = time.perf_counter()
    client.execute(env=env)
    seconds = time.perf_counter() - started
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 2, f"{name}: the plots did not render"
    print(f"{name}: {seconds:.1f} s")
