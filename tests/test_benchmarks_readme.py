"""benchmarks/README.md is exactly its summary plus every section file, so no measured section is left out."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _assembler():
    spec = importlib.util.spec_from_file_location("assemble_readme", REPO_ROOT / "benchmarks" / "assemble_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmarks_readme_is_what_the_assembler_writes():
    assert (REPO_ROOT / "benchmarks" / "README.md").read_text() == _assembler().assembled(), (
        "benchmarks/README.md is stale: run `python benchmarks/assemble_readme.py`"
    )


def test_every_section_file_is_in_the_assembly_order():
    module = _assembler()
    files = {p.stem for p in module.SECTIONS.glob("*.md")} - {"_summary"}
    assert files == set(module.ORDER)
