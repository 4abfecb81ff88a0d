"""Alpaca bars through a real Dagster materialization of raw/equities_bars (single-run range)."""

from __future__ import annotations

import datetime as dt

import pytest
from vendor_wire import AlpacaSim, daily_bars, status

KEY_ID, SECRET = "AKDAGSTER001", "dagster-secret-001"
SYMBOLS = ["AAPL", "MSFT"]

pytestmark = pytest.mark.slow


@pytest.fixture
def alpaca_node(tmp_path, monkeypatch, mount):
    dg = pytest.importorskip("dagster")
    pytest.importorskip("trademl_jobs.runner")
    try:  # the lead's Dagster layer; this test activates itself once the ingest job builds
        from trademl_jobs.definitions import defs

        defs.resolve_job_def("ingest_job")
    except Exception as exc:  # noqa: BLE001 - any build error means the layer is not ready yet
        pytest.skip(f"Dagster ingest_job does not build yet: {exc.__class__.__name__}: {str(exc)[:160]}")
    sim = AlpacaSim({"1Day": daily_bars(SYMBOLS, "2024-03-04", "2024-03-08")}, key_id=KEY_ID, secret=SECRET)
    monkeypatch.setenv("TRADEML_ALPACA_BASE_URL", mount(sim))
    monkeypatch.setenv("TRADEML_VENDOR", "alpaca")
    monkeypatch.setenv("ALPACA_API_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALPACA_API_SECRET_KEY", SECRET)
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(tmp_path / "data_layer"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.delenv("DB_URI", raising=False)
    return dg, sim, tmp_path


def _counts(tmp_path):
    from trademl import control

    engine = control.make_engine(f"sqlite:///{tmp_path / 'data_layer' / 'control' / 'node.sqlite'}")
    return control.read_partition_status(engine, table_name="raw/equities_bars")


def test_materialization_ingests_vendor_bars_green_and_rerun_is_idempotent(alpaca_node):
    dg, sim, tmp_path = alpaca_node
    from trademl.lake import Lake
    from trademl_jobs.runner import materialize_range

    with dg.instance_for_test() as instance:
        run = materialize_range(instance, ["equities_eod"], "2024-03-04", "2024-03-08", symbols=SYMBOLS)
        assert run.success
        status_rows = _counts(tmp_path)
        assert len(status_rows) == 10 and set(status_rows["status"]) == {"GREEN"}
        assert set(status_rows["source_name"]) == {"alpaca"}
        lake = Lake(tmp_path / "data_layer")
        first = lake.read("raw/equities_bars", start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 8)).to_pandas()
        assert len(first) == 10 and set(first["source_name"]) == {"alpaca"}
        seen = len(sim.seen)
        assert materialize_range(instance, ["equities_eod"], "2024-03-04", "2024-03-08", symbols=SYMBOLS).success
        again = lake.read("raw/equities_bars", start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 8)).to_pandas()
        assert again.drop(columns="ingested_at").equals(first.drop(columns="ingested_at"))
        assert len(sim.seen) == 2 * seen


def test_materialization_after_429_freeze_resumes_and_stays_within_budget(alpaca_node, monkeypatch):
    dg, sim, tmp_path = alpaca_node
    from trademl_jobs.runner import materialize_range

    sim.page_cap = 3
    sim.fault(status(429, headers={"Retry-After": "1"}))
    with dg.instance_for_test() as instance:
        assert materialize_range(instance, ["equities_eod"], "2024-03-04", "2024-03-08", symbols=SYMBOLS).success
    assert len(sim.seen) == 1 + 4  # the throttled request, then 10 bars in pages of 3
    assert sim.seen_at[1] - sim.seen_at[0] >= 1.0
    assert set(_counts(tmp_path)["status"]) == {"GREEN"}
