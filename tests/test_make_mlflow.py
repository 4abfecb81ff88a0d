"""`make mlflow`: the MLflow UI on 127.0.0.1 over the project's tracking store (the command line, then a live server)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from trademl.models import registry

REPO_ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The Makefile and its stamps' inputs, installed already, with a `.venv/bin/python` that runs this
    interpreter on this checkout's code."""
    root = tmp_path / "checkout"
    root.mkdir()
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(REPO_ROOT / name, root / name)
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(f'#!/bin/sh\nPYTHONPATH="{REPO_ROOT}" exec "{sys.executable}" "$@"\n')
    (bin_dir / "python").chmod(0o755)
    old = time.time() - 60
    for name in ("pyproject.toml", "constraints.txt"):
        os.utime(root / name, (old, old))
    for stamp in (".installed-runtime", ".installed-dev"):
        (bin_dir / stamp).touch()
    return root


def _dry_run(checkout: Path, *argv: str) -> str:
    return subprocess.run(["make", "-n", *argv], cwd=checkout, capture_output=True, text=True, check=True).stdout


def test_make_mlflow_serves_on_127_0_0_1_port_5000_by_default(checkout):
    out = _dry_run(checkout, "mlflow")
    assert """.venv/bin/python -c 'from trademl.models.registry import serve; serve(host="127.0.0.1", port=5000)'""" in out


@pytest.mark.parametrize("arg", ["MLFLOW_PORT=5002", "PORT=5002"])
def test_make_mlflow_takes_its_port_from_the_command_line(checkout, arg):
    assert "port=5002)" in _dry_run(checkout, "mlflow", arg)


def test_server_command_serves_the_tracking_store_with_artifacts_beside_it(tmp_path, monkeypatch):
    db = tmp_path / "ml" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    cmd = registry.server_command(host="127.0.0.1", port=5123)
    assert cmd[:4] == [sys.executable, "-m", "mlflow", "server"]
    assert cmd[cmd.index("--backend-store-uri") + 1] == f"sqlite:///{db}"
    assert cmd[cmd.index("--default-artifact-root") + 1] == (tmp_path / "ml" / "artifacts").as_uri()
    assert (cmd[cmd.index("--host") + 1], cmd[cmd.index("--port") + 1]) == ("127.0.0.1", "5123")


def test_server_environment_turns_off_the_job_runner_and_telemetry():
    env = registry.server_env({})
    assert env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false" and env["MLFLOW_DISABLE_TELEMETRY"] == "true"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read()


def test_make_mlflow_serves_the_registered_model_and_stops_on_sigint(checkout, tmp_path, monkeypatch):
    data_root = tmp_path / "data_layer"
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(data_root))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    art = tmp_path / "art"
    art.mkdir()
    (art / "model.txt").write_text("tree\n")
    registry.log_training_run("equities_xs", artifacts_dir=art, params={}, metrics={"oos_sharpe_net": 1.2}, tags={})
    port = _free_port()
    # A new session: SIGINT to the group is Ctrl-C in a terminal (make, the shell and the server all get it).
    proc = subprocess.Popen(["make", "mlflow", f"MLFLOW_PORT={port}"], cwd=checkout, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline, body = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/api/2.0/mlflow/registered-models/get?name=equities_xs")
                break
            except OSError:
                time.sleep(0.5)
        assert body is not None, f"the MLflow UI did not come up on port {port}"
        assert status == 200
        model = json.loads(body)["registered_model"]
        assert model["name"] == "equities_xs" and {"alias": "challenger", "version": "1"} in model["aliases"]
        assert _get(f"http://127.0.0.1:{port}/")[0] == 200
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail("make mlflow did not stop on SIGINT within 30 s")
    output = proc.stdout.read().decode()
    assert f"MLflow UI on http://127.0.0.1:{port}" in output and str(data_root / "mlflow" / "mlflow.db") in output
