"""Cross-vendor QC probe: stored Alpaca bars spot-checked against Massive, both on local servers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pytest_httpserver import HTTPServer
from vendor_wire import AlpacaSim, MassiveSim, daily_bars

from trademl.data import control
from trademl.data.connectors.alpaca import AlpacaConnector
from trademl.data.connectors.massive import MassiveConnector
from trademl.data.lake import Lake
from trademl.data.qc_probe import ProbeSettings, enqueue_probe_tasks, probe_vendor, probe_window, qc_probe

SYMBOLS = ["AAPL", "MSFT", "JPM"]
ALL = ProbeSettings(close_rel_tol=0.005, volume_rel_tol=0.25, sample_sessions=10, sample_symbols=10)


@pytest.fixture
def stored(tmp_path, monkeypatch, mount, clock, generous):
    """Five GREEN sessions of Alpaca daily bars in a temporary lake + ledger, and a Massive server to probe."""
    pytest.importorskip("trademl.data.qc")
    from trademl.data.ingest import ingest

    monkeypatch.setenv("ALPACA_API_KEY_ID", "AKPROBE")
    monkeypatch.setenv("ALPACA_API_SECRET_KEY", "probe-secret")
    monkeypatch.setenv("MASSIVE_API_KEY", "probe-massive-key")
    bars = daily_bars(SYMBOLS, "2024-03-04", "2024-03-08")
    alpaca = AlpacaConnector(base_url=mount(AlpacaSim({"1Day": bars}, key_id="AKPROBE", secret="probe-secret")),
                             limits=generous, clock=clock, sleep=clock.sleep)
    lake = Lake(tmp_path / "lake")
    engine = control.make_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    report = ingest("equities_eod", "2024-03-04", "2024-03-08", connector=alpaca, lake=lake, engine=engine, symbols=SYMBOLS)
    assert report.colour_counts["GREEN"] == 5
    server = HTTPServer()
    server.start()
    yield bars, lake, engine, server, clock, generous
    server.clear()
    server.stop()


def _probe_connector(server, frame, clock, limits):
    sim = MassiveSim(key="probe-massive-key", aggs={"day": frame})
    server.expect_request(re.compile(".*")).respond_with_handler(sim)
    return MassiveConnector(base_url=server.url_for("").rstrip("/"), limits=limits, clock=clock, sleep=clock.sleep), sim


def _on(frame, symbol, day):
    return (frame["symbol"] == symbol) & (frame["t"].dt.tz_convert("America/New_York").dt.date == dt.date.fromisoformat(day))


def test_disagreeing_close_and_volume_are_marked_amber_with_codes(stored):
    bars, lake, engine, server, clock, limits = stored
    other = bars.copy()
    m = _on(other, "MSFT", "2024-03-06")
    other.loc[m, ["o", "h", "l", "c"]] = other.loc[m, ["o", "h", "l", "c"]] * 1.02
    other.loc[_on(other, "AAPL", "2024-03-07"), "v"] *= 2
    probe, sim = _probe_connector(server, other, clock, limits)
    before = lake.read("raw/equities_bars", start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 8)).to_pandas()
    report = qc_probe("equities_eod", "2024-03-04", "2024-03-08", lake=lake, engine=engine, probe=probe, settings=ALL)
    assert report.compared == 15 and report.marked_amber == 2
    status = control.read_partition_status(engine, table_name="raw/equities_bars")
    amber = status[status["status"] == "AMBER"].set_index(["symbol", "dt"])["qc_code"].to_dict()
    assert amber == {("MSFT", dt.date(2024, 3, 6)): "PROBE_CLOSE_MISMATCH", ("AAPL", dt.date(2024, 3, 7)): "PROBE_VOLUME_MISMATCH"}
    assert (status["status"] == "GREEN").sum() == 13
    assert set(status.loc[status["status"] == "AMBER", "source_name"]) == {"alpaca"}
    after = lake.read("raw/equities_bars", start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 8)).to_pandas()
    assert after.equals(before)


def test_agreeing_vendors_leave_everything_green(stored):
    bars, lake, engine, server, clock, limits = stored
    probe, _ = _probe_connector(server, bars, clock, limits)
    report = qc_probe("equities_eod", "2024-03-04", "2024-03-08", lake=lake, engine=engine, probe=probe, settings=ALL)
    assert report.compared == 15 and report.disagreements.empty and report.marked_amber == 0
    assert set(control.read_partition_status(engine, table_name="raw/equities_bars")["status"]) == {"GREEN"}


def test_symbols_the_probe_vendor_lacks_are_unverified_not_amber(stored):
    bars, lake, engine, server, clock, limits = stored
    probe, _ = _probe_connector(server, bars[bars["symbol"] != "JPM"], clock, limits)
    report = qc_probe("equities_eod", "2024-03-04", "2024-03-08", lake=lake, engine=engine, probe=probe, settings=ALL)
    assert report.unverified == 5 and report.compared == 10 and report.marked_amber == 0


def test_sample_is_seeded_and_bounded(stored):
    bars, lake, engine, server, clock, limits = stored
    probe, sim = _probe_connector(server, bars, clock, limits)
    few = ProbeSettings(sample_sessions=2, sample_symbols=1, seed=7)
    a = qc_probe("equities_eod", "2024-03-04", "2024-03-08", lake=lake, engine=engine, probe=probe, settings=few)
    b = qc_probe("equities_eod", "2024-03-04", "2024-03-08", lake=lake, engine=engine, probe=probe, settings=few)
    assert a.compared == 2 and a.sessions == b.sessions and len(sim.seen) == 2  # one ticker request per probe


def test_probe_vendor_is_the_next_routed_provider():
    assert probe_vendor("equities_eod", "alpaca") == "massive"
    with pytest.raises(ValueError, match="compares bars"):
        qc_probe("macros_fred", "2024-03-04", "2024-03-08", lake=None, engine=None, probe=None)


# --- QC_PROBE as a task kind: the nightly planner and the task body ---------------------------

AFTER_FRIDAY_CLOSE = dt.datetime(2024, 3, 8, 22, 0, tzinfo=dt.timezone.utc)


def test_planner_queues_a_probe_task_over_the_latest_sessions_charged_to_the_second_vendor(stored):
    bars, lake, engine, server, clock, limits = stored
    asked = []

    def build(name):
        asked.append(name)
        return _probe_connector(server, bars, clock, limits)[0]

    plan = enqueue_probe_tasks(engine, now=AFTER_FRIDAY_CLOSE, build=build)
    assert plan.enqueued == 1 and asked == ["massive"]
    assert plan.skipped == {"equities_minute": "no GREEN partition in 2024-03-04..2024-03-08"}
    (task,) = control.read_queue(engine).to_dict("records")
    assert (task["kind"], task["dataset"], task["vendor"]) == ("QC_PROBE", "equities_eod", "massive")
    assert (str(task["start_date"]), str(task["end_date"])) == ("2024-03-04", "2024-03-11")  # closed-open


def test_planner_does_not_queue_the_same_probe_twice(stored):
    bars, lake, engine, server, clock, limits = stored
    build = lambda name: _probe_connector(server, bars, clock, limits)[0]  # noqa: E731
    enqueue_probe_tasks(engine, now=AFTER_FRIDAY_CLOSE, build=build)
    assert enqueue_probe_tasks(engine, now=AFTER_FRIDAY_CLOSE, build=build).enqueued == 0
    assert len(control.read_queue(engine)) == 1


def test_planner_queues_nothing_when_the_second_vendor_has_no_keys(stored, monkeypatch):
    _, _, engine, _, _, _ = stored
    monkeypatch.delenv("MASSIVE_API_KEY")
    monkeypatch.delenv("POLYGON_API_KEY", raising=False)
    plan = enqueue_probe_tasks(engine, now=AFTER_FRIDAY_CLOSE)
    assert plan.enqueued == 0 and "MASSIVE_API_KEY" in plan.skipped["equities_eod"]
    assert control.read_queue(engine).empty


def test_probe_task_checks_the_stored_vendor_against_the_next_routed_one(stored):
    bars, lake, engine, server, clock, limits = stored
    other = bars.copy()
    other.loc[_on(other, "JPM", "2024-03-05"), "c"] *= 1.05
    report = probe_window("equities_eod", "2024-03-04", "2024-03-08", lake=lake, engine=engine,
                          build=lambda name: _probe_connector(server, other, clock, limits)[0], settings=ALL)
    assert report.probe_vendor == "massive" and report.marked_amber == 1
    amber = control.read_partition_status(engine, table_name="raw/equities_bars").query("status == 'AMBER'")
    assert amber[["symbol", "qc_code"]].values.tolist() == [["JPM", "PROBE_CLOSE_MISMATCH"]]


def test_probe_task_over_sessions_with_nothing_green_compares_nothing(stored):
    _, lake, engine, _, _, _ = stored
    report = probe_window("equities_eod", "2024-04-01", "2024-04-05", lake=lake, engine=engine, build=None)
    assert report.compared == 0 and report.marked_amber == 0


def test_mixed_source_excludes_each_of_its_providers_from_probing():
    assert probe_vendor("equities_eod", "alpaca+massive") not in {"alpaca", "massive"}


def test_probe_job_run_marks_the_disagreeing_partition_amber(stored, tmp_path):
    """The QC_PROBE task's Dagster run: qc_probe_job with the real resources, Massive on a local server."""
    import dagster as dg

    from trademl_jobs.jobs import qc_probe_job
    from trademl_resources import ControlDbResource, LakeResource, VendorResource
    from trademl_resources.vendors import MassiveResource

    bars, lake, engine, server, clock, limits = stored
    other = bars.copy()
    other.loc[_on(other, "AAPL", "2024-03-06"), "c"] *= 0.9
    _probe_connector(server, other, clock, limits)
    with dg.instance_for_test() as instance:
        result = qc_probe_job.execute_in_process(
            instance=instance,
            run_config={"ops": {"qc_probe_op": {"config": {"dataset": "equities_eod", "start": "2024-03-04", "end": "2024-03-08"}}}},
            resources={
                "lake": LakeResource(root=str(tmp_path / "lake")),
                "control_db": ControlDbResource(db_uri=f"sqlite:///{tmp_path / 'c.sqlite'}"),
                "vendor": VendorResource(massive=MassiveResource(base_url=server.url_for("").rstrip("/"))),
            },
        )
    assert result.success
    amber = control.read_partition_status(engine, table_name="raw/equities_bars").query("status == 'AMBER'")
    assert amber[["symbol", "dt", "qc_code"]].values.tolist() == [["AAPL", dt.date(2024, 3, 6), "PROBE_CLOSE_MISMATCH"]]
