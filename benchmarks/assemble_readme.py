"""Assemble benchmarks/README.md from its summary (sections/_summary.md) and sections/<area>.md, in data-flow order.

Run ``python benchmarks/assemble_readme.py`` after editing a section; tests/test_benchmarks_readme.py
fails when README.md is not what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTIONS = HERE / "sections"
ORDER = (
    "ingest", "lake", "synthetic", "control", "vendors", "indicators", "validation", "labels", "options",
    "execution", "faults", "restructure", "curate", "equities_xs", "research", "portfolio", "backtest", "training",
)


def assembled() -> str:
    """The README text: the summary, then every section of ORDER (each must exist; none may be left out)."""
    present = {p.stem for p in SECTIONS.glob("*.md")} - {"_summary"}
    unknown, missing = sorted(present - set(ORDER)), [a for a in ORDER if a not in present]
    if unknown or missing:
        raise SystemExit(f"benchmarks/sections: not in ORDER: {unknown or '-'}; missing files: {missing or '-'}")
    parts = [(SECTIONS / "_summary.md").read_text().rstrip("\n")]
    parts += [(SECTIONS / f"{area}.md").read_text().rstrip("\n") for area in ORDER]
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    (HERE / "README.md").write_text(assembled())
    sys.stdout.write(f"wrote {HERE / 'README.md'} ({len(ORDER)} sections)\n")
