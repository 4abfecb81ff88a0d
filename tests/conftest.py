"""Shared pytest fixtures: the real market data slice, isolated data roots, control backends, MLflow stores."""

from __future__ import annotations

import importlib.util
import os
import sys
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


def pg_cluster_module():
    """tests/data/control/pg_cluster.py under one module name, so every test directory shares one server."""
    name = "trademl_tests_pg_cluster"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "tests" / "data" / "control" / "pg_cluster.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def control_backend(request, tmp_path, tmp_path_factory):
    """The control tables on SQLite (tmp file) and, for postgres-marked cases, on a real PostgreSQL server."""
    from trademl.data import control

    if request.param == "sqlite":
        eng = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")
    else:
        server = pg_cluster_module().cluster(tmp_path_factory.mktemp("postgres"))
        eng = control.make_engine(server.create_database())
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory) -> Path:
    """An MLflow sqlite store with its tables created once per session (migrations take ~1.5 s)."""
    from trademl.models import registry

    path = tmp_path_factory.mktemp("mlflow_template") / "mlflow.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{path}")
        registry.client().search_experiments()
    return path


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_template: Path) -> Path:
    """A fresh, empty MLflow tracking store for one test: MLFLOW_TRACKING_URI -> tmp_path/mlflow/mlflow.db."""
    import shutil

    db = tmp_path / "mlflow" / "mlflow.db"
    db.parent.mkdir(exist_ok=True)
    shutil.copy(mlflow_template, db)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    return db
