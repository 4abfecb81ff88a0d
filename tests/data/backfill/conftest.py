"""Fixtures of the backfill tests: a SQLite control db, a lake and an editable copy of configs/ in tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest
import yaml

from trademl.data import control
from trademl.config import REPO_ROOT
from trademl.data.lake import Lake


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


@pytest.fixture
def backend_engine(control_backend, configs):
    """The same control tables on SQLite and on a real PostgreSQL server (postgres-marked case)."""
    return control_backend


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path / "lake")
