"""examples/: every script runs, from outside the checkout, against a small lake of the embedded synthetic market."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from trademl import calendar
from trademl.config import REPO_ROOT, load_config, settings
from trademl.data import control
from trademl.data.connectors.registry import connector_for
from trademl.data.ingest import ingest
from trademl.data.lake import Lake

EXAMPLES = REPO_ROOT / "examples"
SYMBOLS, SESSIONS = 4, 60


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> dict:
    """A lake of the embedded synthetic market (4 symbols, outages off): reference/universe and
    raw/equities_bars over the last 60 sessions of the demo window (configs/demo.yml `end`),
    ingested the way `trademl demo` ingests them, minus the Dagster runs (seconds, not minutes)."""
    base = tmp_path_factory.mktemp("examples")
    env = dict(os.environ)
    env.pop("DB_URI", None)
    env.update({
        "TRADEML_DATA_ROOT": str(base / "data_layer"), "DAGSTER_HOME": str(base / "dagster_home"),
        "TRADEML_VENDOR": "synthetic", "TRADEML_SYNTHETIC_N_SYMBOLS": str(SYMBOLS), "TRADEML_SYNTHETIC_OUTAGES": "off",
    })
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        config = settings()
        end = load_config("demo")["end"]
        window = calendar.sessions(calendar.previous_session(end, SESSIONS + 10), end)[-SESSIONS:]
        connector = connector_for("synthetic", data_root=config.data_root, fallback=False)
        lake, engine = Lake(config.data_root), control.control_engine(config.db_uri)
        try:
            for dataset in ("universe", "equities_eod"):
                ingest(dataset, window[0].date(), window[-1].date(), connector=connector, lake=lake, engine=engine)
        finally:
            engine.dispose()
    workdir = base / "elsewhere"  # scripts run from a directory that is not the checkout
    workdir.mkdir()
    return {"env": env, "cwd": workdir, "sessions": lake.partitions("raw/equities_bars")}


def run(market: dict, script: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=market["cwd"], env=market["env"],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def test_the_lake_holds_every_session_of_the_window(market):
    assert len(market["sessions"]) == SESSIONS


def test_read_bars_prints_every_stored_row_symbol_and_session(market):
    out = run(market, "01_read_bars.py")
    first, last = market["sessions"][0], market["sessions"][-1]
    assert f"rows: {SYMBOLS * SESSIONS}\n" in out and f"symbols: {SYMBOLS}\n" in out
    assert f"sessions: {SESSIONS} ({first}..{last})\n" in out
    tail = out.split("last 5 sessions of SYN001:\n")[1].splitlines()
    assert tail[0].split() == ["date", "symbol", "open", "high", "low", "close", "volume"]
    assert [line.split()[0] for line in tail[1:]] == [str(d) for d in market["sessions"][-5:]]


def test_indicators_computes_the_minimal_set_on_every_row(market):
    out = run(market, "02_indicators.py")
    assert "indicator set: minimal -> columns sma_20, rsi_14, atr_14, log_return_1\n" in out
    warm = SYMBOLS * (SESSIONS - 19)  # sma_20 is the last to warm up: from each symbol's 20th session
    assert f"rows: {SYMBOLS * SESSIONS} ({warm} with every indicator warmed up)\n" in out
    assert out.count(f"{market['sessions'][-1]} SYN00") == SYMBOLS


def test_labels_counts_add_up_to_every_row(market):
    out = run(market, "03_labels.py")
    assert f"fwd_returns: {SYMBOLS * (SESSIONS - 5)} rows with a 5-session forward return\n" in out
    counts = re.search(r"tb_10d labels: -1: (\d+), \+0: (\d+), \+1: (\d+), not yet known: (\d+)", out)
    assert counts is not None, out
    assert sum(map(int, counts.groups())) == SYMBOLS * SESSIONS and int(counts.group(1)) > 0 and int(counts.group(3)) > 0


def test_cpcv_runs_every_split_of_the_combinatorial_purged_kfold(market):
    out = run(market, "04_cpcv.py")
    assert "splits: 15 (5 backtest paths)\n" in out
    rate = re.search(r"out-of-sample hit rate: mean (\d\.\d+), min (\d\.\d+), max (\d\.\d+)", out)
    assert rate is not None, out
    mean, low, high = map(float, rate.groups())
    assert 0.0 <= low <= mean <= high <= 1.0


def test_plot_saves_a_png(market):
    pytest.importorskip("matplotlib")
    out = run(market, "05_plot.py", "closes.png")
    png = market["cwd"] / "closes.png"
    assert out.strip() == f"wrote {png} ({png.stat().st_size} bytes, 3 symbols)"
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_examples_readme_lists_every_script():
    listed = set(re.findall(r"`(\d\d_\w+\.py)", (EXAMPLES / "README.md").read_text()))
    assert listed == {p.name for p in EXAMPLES.glob("*.py")}
