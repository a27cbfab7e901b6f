"""Every production module is imported by at least one test, by its own dotted name.

A module no test imports is tested, if at all, only through another one: when it is split, moved or
broken, nothing points at it. Package `__init__` and `__main__` files are wiring, and the Alembic
migrations are run (not imported) by the store tests, so they are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

from helpers.rooms import ROOMS

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
PACKAGES = ROOMS
WIRING = {"__init__", "__main__"}


def production_modules() -> list[str]:
    """The dotted name of every module of our packages, wiring and migrations left out."""
    out = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] in WIRING or "migrations" in parts:
                continue
            out.append(".".join(parts))
    return out


def imported_names(source: str) -> set[str]:
    """What one file imports: `import a.b` gives a.b, `from a.b import c` gives a.b and a.b.c (c may
    be a module of the package a.b); relative imports are left out."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_scan_sees_every_form_of_import() -> None:
    source = (
        "import a.b\n"
        "from c.d import e, f as g\n"
        "def h():\n"
        "    from i import (\n"
        "        j,\n"
        "    )\n"
        "from . import k\n"
    )
    assert imported_names(source) == {"a.b", "c.d", "c.d.e", "c.d.f", "i", "i.j"}
    assert "pipeline.records" in production_modules() and "pipeline.__init__" not in production_modules()


def test_every_production_module_is_imported_by_a_test() -> None:
    imported: set[str] = set()
    for path in TESTS.rglob("*.py"):
        imported |= imported_names(path.read_text(encoding="utf-8"))
    untested = [m for m in production_modules() if m not in imported]
    assert untested == [], (
        "no test imports these modules: write a test of their public functions in the mirrored test "
        f"file (tests/<package>/test_<module>.py): {untested}"
    )


def test_no_two_test_files_share_a_name() -> None:
    # the test folders are no packages, so pytest imports each file by its bare name: two alike
    # stop the whole run at collection (tests/review/test_render.py beside tests/synth/test_render.py)
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted(TESTS.rglob("test_*.py")):
        if path.name in seen:
            clashes.append(f"{seen[path.name].relative_to(TESTS)} and {path.relative_to(TESTS)}")
        seen.setdefault(path.name, path)
    assert clashes == [], f"rename one of each: {clashes}"
