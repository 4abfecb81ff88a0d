"""`trademl ingest --vendor alpaca` as a real console-script subprocess against a local Alpaca wire server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from vendor_wire import AlpacaSim, daily_bars

KEY_ID, SECRET = "AKCLIKEY7Q2W9E", "cli-secret-x8c4v1b7n3m5"
SYMBOLS = ["AAPL", "MSFT"]

pytestmark = pytest.mark.slow


def _files_containing(root: Path, needle: bytes) -> list[str]:
    """Every file under `root` whose bytes contain `needle` (sqlite pages, WAL, parquet, logs)."""
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_cli_ingest_from_alpaca_is_green_and_never_leaks_the_keys(tmp_path, mount):
    script = Path(sys.executable).with_name("trademl")
    if not script.exists():
        pytest.skip(f"console script not installed next to {sys.executable} (run make install)")
    sim = AlpacaSim({"1Day": daily_bars(SYMBOLS, "2024-03-04", "2024-03-08")}, key_id=KEY_ID, secret=SECRET)
    data_root, home = tmp_path / "data_layer", tmp_path / "dagster_home"
    env = {
        **os.environ,
        "TRADEML_ALPACA_BASE_URL": mount(sim),
        "ALPACA_API_KEY_ID": KEY_ID,
        "ALPACA_API_SECRET_KEY": SECRET,
        "TRADEML_DATA_ROOT": str(data_root),
        "DAGSTER_HOME": str(home),
    }
    env.pop("DB_URI", None)
    env.pop("TRADEML_VENDOR", None)
    proc = subprocess.run(
        [str(script), "ingest", "--dataset", "equities_eod", "--start", "2024-03-04", "--end", "2024-03-08",
         "--symbols", ",".join(SYMBOLS), "--vendor", "alpaca"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "raw/equities_bars: GREEN 5  AMBER 0  RED 0" in proc.stdout
    assert len(sim.seen) == 1 and sim.seen[0].headers["APCA-API-KEY-ID"] == KEY_ID  # the keys did go out, as headers
    # the scan reads the event log's text: the run's own log line is found in the run's sqlite file
    assert any(p.endswith(".db") for p in _files_containing(home, b"ingesting equities_eod 2024-03-04..2024-03-08 from"))
    for secret in (KEY_ID, SECRET):
        assert secret not in proc.stdout and secret not in proc.stderr
        assert _files_containing(home, secret.encode()) == []
        assert _files_containing(data_root, secret.encode()) == []
