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
