"""Alpaca bars through a real Dagster materialization of raw/equities_bars (single-run range).

One local HTTP server speaks both Alpaca's and Massive's wire formats (on their own paths), so
provider fallback runs through the same materialization the CLI and the queue use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
from vendor_wire import AlpacaSim, MassiveSim, daily_bars, malformed, status

KEY_ID, SECRET = "AKDAGSTER001", "dagster-secret-001"
MASSIVE_KEY = "massive-dagster-key-001"
SYMBOLS = ["AAPL", "MSFT"]
FIRST, LAST = "2024-03-04", "2024-03-08"
SESSIONS = ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"]

pytestmark = pytest.mark.slow


@pytest.fixture
def sims(httpserver):
    """Alpaca on /v2/stocks/*, Massive on /v2/aggs/*: both served by one local server."""
    bars = daily_bars(SYMBOLS, FIRST, LAST)
    alpaca = AlpacaSim({"1Day": bars}, key_id=KEY_ID, secret=SECRET)
    massive = MassiveSim(key=MASSIVE_KEY, aggs={"day": bars})
    httpserver.expect_request(re.compile(r"^/v2/stocks/")).respond_with_handler(alpaca)
    httpserver.expect_request(re.compile(r"^/v2/aggs/")).respond_with_handler(massive)
    return alpaca, massive, httpserver.url_for("").rstrip("/")


@pytest.fixture
def alpaca_node(tmp_path, monkeypatch, sims):
    dg = pytest.importorskip("dagster")
    pytest.importorskip("trademl_jobs.runner")
    try:  # the lead's Dagster layer; this test activates itself once the ingest job builds
        from trademl_jobs.definitions import defs

        defs().resolve_job_def("ingest_job")
    except Exception as exc:  # noqa: BLE001 - any build error means the layer is not ready yet
        pytest.skip(f"Dagster ingest_job does not build yet: {exc.__class__.__name__}: {str(exc)[:160]}")
    alpaca, _massive, url = sims
    monkeypatch.setenv("TRADEML_ALPACA_BASE_URL", url)
    monkeypatch.setenv("TRADEML_MASSIVE_BASE_URL", url)  # reachable, but without MASSIVE_API_KEY unless a test sets it
    monkeypatch.setenv("TRADEML_VENDOR", "alpaca")
    monkeypatch.setenv("ALPACA_API_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALPACA_API_SECRET_KEY", SECRET)
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(tmp_path / "data_layer"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.delenv("DB_URI", raising=False)
    return dg, alpaca, tmp_path


def _check_evaluations(dg, instance, run_id: str) -> dict:
    """The per-session qc_coverage evaluations of raw/equities_bars in one run (partition -> evaluation)."""
    from trademl_jobs.runner import check_evaluations

    return check_evaluations(instance, run_id, dg.AssetKey(["raw", "equities_bars"]))


def _lake_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.parquet"))}


def _stored(tmp_path):
    from trademl.data.lake import Lake

    return Lake(tmp_path / "data_layer").read("raw/equities_bars", start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 8)).to_pandas()


def _counts(tmp_path):
    from trademl.data import control

    engine = control.make_engine(f"sqlite:///{tmp_path / 'data_layer' / 'control' / 'node.sqlite'}")
    return control.read_partition_status(engine, table_name="raw/equities_bars")


def test_materialization_ingests_vendor_bars_green_and_rerun_is_idempotent(alpaca_node):
    dg, sim, tmp_path = alpaca_node
    from trademl.data.lake import Lake
    from trademl_jobs.runner import materialize_range

    with dg.instance_for_test() as instance:
        run = materialize_range(instance, ["equities_eod"], FIRST, LAST, symbols=SYMBOLS)
        assert run.success
        status_rows = _counts(tmp_path)
        assert len(status_rows) == 10 and set(status_rows["status"]) == {"GREEN"}
        assert set(status_rows["source_name"]) == {"alpaca"}
        lake = Lake(tmp_path / "data_layer")
        first = lake.read("raw/equities_bars", start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 8)).to_pandas()
        assert len(first) == 10 and set(first["source_name"]) == {"alpaca"}
        seen = len(sim.seen)
        assert materialize_range(instance, ["equities_eod"], FIRST, LAST, symbols=SYMBOLS).success
        again = lake.read("raw/equities_bars", start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 8)).to_pandas()
        assert again.drop(columns="ingested_at").equals(first.drop(columns="ingested_at"))
        assert len(sim.seen) == 2 * seen


def test_materialization_after_429_freeze_resumes_and_stays_within_budget(alpaca_node, monkeypatch):
    dg, sim, tmp_path = alpaca_node
    from trademl_jobs.runner import materialize_range

    sim.page_cap = 3
    sim.fault(status(429, headers={"Retry-After": "1"}))
    with dg.instance_for_test() as instance:
        assert materialize_range(instance, ["equities_eod"], FIRST, LAST, symbols=SYMBOLS).success
    assert len(sim.seen) == 1 + 4  # the throttled request, then 10 bars in pages of 3
    assert sim.seen_at[1] - sim.seen_at[0] >= 1.0
    assert set(_counts(tmp_path)["status"]) == {"GREEN"}


def test_malformed_payload_gives_red_checks_with_its_code_and_keeps_the_stored_partitions(alpaca_node):
    dg, sim, tmp_path = alpaca_node
    from trademl_jobs.runner import materialize_range

    with dg.instance_for_test() as instance:
        first = materialize_range(instance, ["equities_eod"], FIRST, LAST, symbols=SYMBOLS)
        assert all(ev.passed for ev in _check_evaluations(dg, instance, first.run_id).values())
        digest, rows = _lake_digest(tmp_path / "data_layer"), _stored(tmp_path)
        sim.fault(malformed())
        bad = materialize_range(instance, ["equities_eod"], FIRST, LAST, symbols=SYMBOLS)
        evals = _check_evaluations(dg, instance, bad.run_id)
    assert not bad.success  # RED is a blocking ERROR check
    assert sorted(evals) == SESSIONS
    assert all(not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR for ev in evals.values())
    assert {ev.metadata["qc_codes"].value for ev in evals.values()} == {"MALFORMED_PAYLOAD"}
    assert {ev.metadata["status"].value for ev in evals.values()} == {"RED"}
    assert _lake_digest(tmp_path / "data_layer") == digest
    assert _stored(tmp_path).equals(rows)
    assert set(_counts(tmp_path)["qc_code"]) == {"MALFORMED_PAYLOAD"}


@pytest.mark.parametrize("setting", ["alpaca,massive", "auto"])
def test_failing_first_provider_falls_back_to_massive_through_dagster(alpaca_node, sims, monkeypatch, setting):
    dg, alpaca, tmp_path = alpaca_node
    _, massive, _ = sims
    from trademl_jobs.runner import materialize_range

    monkeypatch.setenv("TRADEML_VENDOR", setting)
    monkeypatch.setenv("MASSIVE_API_KEY", MASSIVE_KEY)
    alpaca.fault(status(401, '{"code": 40110000, "message": "request is not authorized"}'))
    with dg.instance_for_test() as instance:
        run = materialize_range(instance, ["equities_eod"], FIRST, LAST, symbols=SYMBOLS)
        evals = _check_evaluations(dg, instance, run.run_id)
    assert run.success
    assert len(alpaca.seen) == 1  # a rejected key is not retried
    assert sorted(r.path.split("/")[4] for r in massive.seen) == SYMBOLS  # one aggregates request per ticker
    assert sorted(evals) == SESSIONS and all(ev.passed for ev in evals.values())
    stored = _stored(tmp_path)
    assert len(stored) == 10 and set(stored["source_name"]) == {"massive"}
    assert set(_counts(tmp_path)["status"]) == {"GREEN"}


def test_auto_routing_asks_massive_only_for_the_symbols_alpaca_lacks(alpaca_node, sims, monkeypatch):
    dg, alpaca, tmp_path = alpaca_node
    _, massive, _ = sims
    from trademl_jobs.runner import materialize_range

    monkeypatch.setenv("TRADEML_VENDOR", "auto")
    monkeypatch.setenv("MASSIVE_API_KEY", MASSIVE_KEY)
    alpaca.bars["1Day"] = alpaca.bars["1Day"].query("symbol == 'AAPL'")
    with dg.instance_for_test() as instance:
        assert materialize_range(instance, ["equities_eod"], FIRST, LAST, symbols=SYMBOLS).success
    assert [r.path for r in massive.seen] == [f"/v2/aggs/ticker/MSFT/range/1/day/{FIRST}/{LAST}"]
    stored = _stored(tmp_path)
    assert stored.groupby("symbol")["source_name"].unique().map(list).to_dict() == {"AAPL": ["alpaca"], "MSFT": ["massive"]}
    assert set(_counts(tmp_path)["status"]) == {"GREEN"}
