"""`trademl demo` end to end: exit 0, no RED left after the queue heals the outage, and a rerun changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _trademl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("trademl")
    return subprocess.run(
        [str(exe), *args], env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL
    )


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.parquet"))}


def test_demo_heals_its_outage_and_is_idempotent(node):
    env = dict(os.environ)
    env.pop("TRADEML_SYNTHETIC_OUTAGES")  # the demo's configured outage is part of what it shows
    env["TRADEML_SYNTHETIC_N_SYMBOLS"] = "8"

    first = _trademl("demo", env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "[5/5]" in first.stdout
    assert str(node["data_root"]) in first.stdout and str(node["dagster_home"]) in first.stdout
    status = json.loads(_trademl("status", "--json", env=env).stdout)
    assert status["tables"]["raw/equities_bars"]["RED"] == 0
    assert status["tables"]["raw/equities_bars"]["GREEN"] > 0
    assert status["queue"]["DONE"] >= 1  # the outage was planned as GAP work and healed by the queue
    assert status["queue"]["PENDING"] == status["queue"]["LEASED"] == 0

    lake = node["data_root"]
    digest = {k: v for k, v in _digest(lake).items() if not k.startswith("exports")}
    second = _trademl("demo", env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert {k: v for k, v in _digest(lake).items() if not k.startswith("exports")} == digest
    assert json.loads(_trademl("status", "--json", env=env).stdout) == status
