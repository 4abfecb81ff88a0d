"""The Makefile's install stamps and `make ui PORT=...`, checked with `make -n` (nothing is run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the Makefile and the files its stamps depend on, with a venv python in place."""
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text("#!/bin/sh\n")
    (bin_dir / "python").chmod(0o755)
    old = time.time() - 60
    for name in ("pyproject.toml", "constraints.txt"):
        os.utime(tmp_path / name, (old, old))
    return tmp_path


def _dry_run(checkout: Path, *argv: str) -> str:
    return subprocess.run(["make", "-n", *argv], cwd=checkout, capture_output=True, text=True, check=True).stdout


def test_make_demo_installs_runtime_dependencies_only(checkout):
    out = _dry_run(checkout, "demo")
    assert "pip install -q -c constraints.txt -e .\n" in out and "[dev]" not in out


def test_make_test_after_make_demo_installs_the_dev_extras(checkout):
    (checkout / ".venv" / "bin" / ".installed-runtime").touch()
    assert "-e '.[dev]'" in _dry_run(checkout, "test")


def test_make_demo_after_make_test_installs_nothing(checkout):
    for stamp in (".installed-runtime", ".installed-dev"):
        (checkout / ".venv" / "bin" / stamp).touch()
    assert "pip install" not in _dry_run(checkout, "demo")


def test_make_ui_passes_the_port_to_trademl_ui(checkout):
    assert ".venv/bin/trademl ui --host 127.0.0.1 --port 3001" in _dry_run(checkout, "ui", "PORT=3001")
