"""Fixtures of the control-db tests: an engine on a fresh SQLite file, or on a real PostgreSQL server."""

from __future__ import annotations

import pytest


@pytest.fixture
def engine(control_backend):
    """The control tables on SQLite and, for postgres-marked cases, on a real server (tests/conftest.py)."""
    return control_backend
