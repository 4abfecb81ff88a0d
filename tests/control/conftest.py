"""Fixtures of the control-db tests: an engine on a fresh SQLite file, or on a real PostgreSQL server."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from trademl import control


def pg_cluster_module():
    """tests/control/pg_cluster.py under one module name, so every test directory shares one server."""
    name = "trademl_tests_pg_cluster"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / "pg_cluster.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path, tmp_path_factory):
    """The control tables on SQLite (tmp file) and, for postgres-marked cases, on a real server."""
    if request.param == "sqlite":
        eng = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")
    else:
        server = pg_cluster_module().cluster(tmp_path_factory.mktemp("postgres"))
        eng = control.make_engine(server.create_database())
    yield eng
    eng.dispose()
