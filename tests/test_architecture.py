"""The rooms of DESIGN.md and the arrows between them, enforced.

The import-linter contracts in `pyproject.toml` ([tool.importlinter]) are run on this tree: a module
importing a room the table does not allow it (an `ocr` module importing `pipeline`, a door importing
`flows`, a stage importing Prefect) fails here, naming the arrow. The test proves the checker bites
by adding such an arrow to a copy of the packages. Two rules import-linter cannot see are checked
by reading the source: the Alembic migrations (not a package) import nothing above `pipeline`, and
stage keys are written as `Stage.X`, never as string literals.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.rooms import ROOMS

ROOT = Path(__file__).resolve().parent.parent
STAGE_KEYS = {"policy", "extract", "facts", "fraud", "decision", "direct_settlement", "review_applied"}
STAGE_ARGUMENT = {"put_result": 1, "get_result": 1, "results": 1, "stage_record": 2}
"""Calls whose argument at this position is a stage key."""


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the packages under `root`, with `root` first on the import path."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--no-cache",
            str(root / "pyproject.toml"),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_of_the_rooms(target: Path) -> Path:
    """The packages' Python files and `pyproject.toml`, copied under `target`."""
    for room in ROOMS:
        shutil.copytree(
            ROOT / room,
            target / room,
            ignore=lambda folder, names: [
                n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()
            ],
        )
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def production_modules() -> list[Path]:
    return sorted(p for room in ROOMS for p in (ROOT / room).rglob("*.py"))


def test_every_arrow_is_one_the_table_allows() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout, run.stdout


@pytest.mark.parametrize(
    ("module", "arrow", "shown"),
    [
        ("ocr/layout.py", "import pipeline.records", "ocr.layout -> pipeline.records"),
        ("pipeline/payout.py", "import adjudication.rules", "pipeline.payout -> adjudication.rules"),
        ("classifiers/triage.py", "import fraud.rows", "classifiers.triage -> fraud.rows"),
        ("intake/notice.py", "import flows.steps", "intake.notice -> flows.steps"),
        ("review/ops.py", "import ocr.images", "review.ops -> ocr.images"),
        ("adjudication/benefit.py", "import prefect", "adjudication.benefit -> prefect"),
    ],
)
def test_an_arrow_against_the_table_fails(tmp_path: Path, module: str, arrow: str, shown: str) -> None:
    tree = copy_of_the_rooms(tmp_path)
    assert lint_imports(tree).returncode == 0  # the copy is as good as the original
    target = tree / module
    source = target.read_text(encoding="utf-8")
    head, sep, rest = source.partition("from __future__ import annotations\n")
    target.write_text(head + sep + f"\n{arrow}  # noqa: F401\n" + rest, encoding="utf-8")
    run = lint_imports(tree)
    assert run.returncode != 0, run.stdout
    assert "BROKEN" in run.stdout
    assert shown in run.stdout, run.stdout


def test_migrations_import_nothing_above_the_spine() -> None:
    """Alembic loads `pipeline/migrations` by path (it is no package, so import-linter skips it)."""
    ours_above = set(ROOMS) - {"ocr", "pipeline"}
    for path in sorted((ROOT / "pipeline" / "migrations").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert not roots & ours_above, (
                f"{path.relative_to(ROOT)}:{node.lineno} imports {roots & ours_above}"
            )


def test_stage_keys_are_written_as_the_enum() -> None:
    """`pipeline.stages.Stage` is the only spelling of a stage key: no literal "facts" at a store call."""
    found = []
    for path in production_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                at = STAGE_ARGUMENT.get(name)
                arg = node.args[at] if at is not None and len(node.args) > at else None
                if isinstance(arg, ast.Constant) and arg.value in STAGE_KEYS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}(..., {arg.value!r})")
            if (
                isinstance(node, ast.Compare)
                and isinstance(node.left, ast.Attribute)
                and node.left.attr == "stage"
            ):
                for right in node.comparators:
                    if isinstance(right, ast.Constant) and right.value in STAGE_KEYS:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .stage == {right.value!r}")
    assert found == [], "use pipeline.stages.Stage:\n" + "\n".join(found)
