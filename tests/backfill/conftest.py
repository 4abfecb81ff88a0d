"""Fixtures of the backfill tests: a SQLite control db, a lake and an editable copy of configs/ in tmp_path."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from trademl import control
from trademl.config import REPO_ROOT
from trademl.lake import Lake


def pg_cluster_module():
    """tests/control/pg_cluster.py under one module name, so every test directory shares one server."""
    name = "trademl_tests_pg_cluster"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "control" / "pg_cluster.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def configs(tmp_path, monkeypatch) -> Callable[[str, Callable[[dict], None]], None]:
    """configs/ copied into tmp_path and selected via TRADEML_CONFIG_DIR; call it to edit one YAML doc."""
    target = tmp_path / "configs"
    shutil.copytree(REPO_ROOT / "configs", target)
    monkeypatch.setenv("TRADEML_CONFIG_DIR", str(target))
    monkeypatch.setenv("TRADEML_ENV", "local")
    monkeypatch.setenv("TRADEML_VENDOR", "synthetic")

    def edit(name: str, change: Callable[[dict], None]) -> None:
        path = target / f"{name}.yml"
        doc = yaml.safe_load(path.read_text())
        change(doc)
        path.write_text(yaml.safe_dump(doc))

    return edit


@pytest.fixture
def engine(tmp_path, configs):
    eng = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")
    yield eng
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_engine(request, tmp_path, tmp_path_factory, configs):
    """The same control tables on SQLite and on a real PostgreSQL server (postgres-marked case)."""
    if request.param == "sqlite":
        eng = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")
    else:
        server = pg_cluster_module().cluster(tmp_path_factory.mktemp("postgres"))
        eng = control.make_engine(server.create_database())
    yield eng
    eng.dispose()


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path / "lake")
