"""Shared pytest fixtures: locating the real market data slice and isolated data roots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def real_data_root() -> Path:
    """Where the shared real market data lives: $TRADEML_REAL_DATA or ../shared/data/real beside the clone."""
    env = os.environ.get("TRADEML_REAL_DATA")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data" / "real")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real data directory; skips the test with a clear reason when it is absent."""
    root = real_data_root()
    if not root.is_dir():
        pytest.skip(f"real market data not found at {root} (set TRADEML_REAL_DATA or place shared/ beside the clone)")
    return root


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """An isolated data node: its own lake, control db and Dagster home under tmp_path.

    The synthetic market is small (6 symbols) and its outages are off unless a test turns them on.
    """
    data_root, home = tmp_path / "data_layer", tmp_path / "dagster_home"
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(data_root))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("TRADEML_VENDOR", "synthetic")
    monkeypatch.setenv("TRADEML_SYNTHETIC_N_SYMBOLS", "6")
    monkeypatch.setenv("TRADEML_SYNTHETIC_OUTAGES", "off")
    monkeypatch.delenv("DB_URI", raising=False)
    return {"data_root": data_root, "dagster_home": home, "db_uri": f"sqlite:///{data_root / 'control' / 'node.sqlite'}"}
