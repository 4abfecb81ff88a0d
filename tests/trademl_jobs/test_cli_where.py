"""`trademl where` and read-only commands, driven as a user would from a folder that is not the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from trademl.config import REPO_ROOT
from trademl_jobs.cli import main

TRADEML = Path(sys.executable).with_name("trademl")
PATH_VARIABLES = ("TRADEML_DATA_ROOT", "DAGSTER_HOME", "TRADEML_CONFIG_DIR", "DB_URI", "TRADEML_VENDOR", "TRADEML_ENV")


def _trademl(cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess:
    """The console script run in `cwd` with no path variables but `env` and an isolated user config home."""
    base = {k: v for k, v in os.environ.items() if k not in PATH_VARIABLES}
    base["XDG_CONFIG_HOME"] = str(cwd / "xdg")
    return subprocess.run([str(TRADEML), *argv], cwd=cwd, env={**base, **env}, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_status_from_another_directory_does_not_create_data_layer_there(tmp_path):
    checkout_lake_existed = (REPO_ROOT / "data_layer").exists()
    proc = _trademl(tmp_path, "status")
    assert not (tmp_path / "data_layer").exists()
    assert (REPO_ROOT / "data_layer").exists() == checkout_lake_existed  # read, never created
    if not checkout_lake_existed:
        assert proc.returncode == 2
        assert proc.stderr.startswith(f"trademl: error: no data root at {REPO_ROOT / 'data_layer'} (checkout default)")


def test_status_on_a_missing_data_root_says_so_in_one_line_and_creates_nothing(node, capsys):
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"trademl: error: no data root at {node['data_root']} (env TRADEML_DATA_ROOT): nothing is stored there yet; "
        "run `trademl demo` or `trademl ingest`, or set TRADEML_DATA_ROOT to your lake (`trademl where` shows every path)\n"
    )
    assert not node["data_root"].exists()


def test_where_reports_paths_and_their_sources(tmp_path):
    user_config = tmp_path / "xdg" / "trademl" / "config.yml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text(f"dagster_home: {tmp_path / 'home'}\n")
    proc = _trademl(tmp_path, "where", "--json", TRADEML_DATA_ROOT="lake", TRADEML_VENDOR="files")
    assert proc.returncode == 0, proc.stderr
    where = json.loads(proc.stdout)
    assert where["data_root"] == {"value": str(tmp_path / "lake"), "exists": False,
                                  "source": f"env TRADEML_DATA_ROOT (relative 'lake', resolved against {tmp_path})"}
    assert where["dagster_home"] == {"value": str(tmp_path / "home"), "exists": False, "source": f"user config {user_config}"}
    assert where["config_dir"] == {"value": str(REPO_ROOT / "configs"), "exists": True, "source": "checkout default"}
    assert where["control_db"]["value"] == f"sqlite:///{tmp_path / 'lake' / 'control' / 'node.sqlite'}"
    assert (where["vendor"], where["env"]) == ({"value": "files", "source": "env TRADEML_VENDOR"},
                                               {"value": "local", "source": "default"})
    assert where["user_config"] == {"value": str(user_config), "exists": True, "source": "env XDG_CONFIG_HOME"}
    assert proc.stderr == f"trademl: TRADEML_DATA_ROOT=lake is relative: using {tmp_path / 'lake'} (resolved against {tmp_path})\n"
    assert not (tmp_path / "lake").exists()


def test_where_scrubs_db_password(tmp_path):
    proc = _trademl(tmp_path, "where", DB_URI="postgresql://alice:hunter2-secret@db.example:5432/node")
    assert proc.returncode == 0, proc.stderr
    assert "hunter2-secret" not in proc.stdout + proc.stderr
    control = [line for line in proc.stdout.splitlines() if line.startswith("control db")]
    assert control == ["control db    postgresql://alice:***@db.example:5432/node  [env DB_URI]"]
