"""ALFRED vintages keep their true dates, none is lost, and "value as known at t" is right (issue 8.6).

A local server speaks FRED's wire format (tests/data/connectors/vendors/vendor_wire.py `FredSim`): like
the real API it clips every real-time period to the requested window, and lists vintage dates that
fall on weekends and exchange holidays. The series is an 18-month monthly index in the style of
industrial production: each monthly release publishes a new month and revises the three before it,
and an annual revision on Good Friday rewrites every month published so far. Releases land on a
Saturday, a Sunday, two Good Fridays and Independence Day. The node ingests it through the real
ingest path (real lake files, real SQLite ledger) over several ranges, each split into small chunks
by configs/ingest.yml, so non-session vintages fall both on range boundaries and inside chunks.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data" / "connectors" / "vendors"))
from vendor_wire import FredSim, alfred_periods  # noqa: E402

from trademl import calendar

from trademl.data import control  # noqa: E402
from trademl.config import REPO_ROOT  # noqa: E402
from trademl.data.connectors.fred import AlfredConnector  # noqa: E402
from trademl.data.http import ManualClock, VendorLimits, reset_gates  # noqa: E402
from trademl.data.ingest import ingest  # noqa: E402
from trademl.data.lake import Lake  # noqa: E402

KEY = "fredkey0123456789abcdef0123456789"
SERIES = "INDPRO"
# Monthly releases: release k publishes month k (2023-01 + k) and revises months k-3..k-1.
RELEASES = [
    "2023-02-15", "2023-03-17", "2023-04-07",  # 2023-04-07: Good Friday (the jobs report came out)
    "2023-05-13", "2023-06-15", "2023-07-16",  # Saturday, Thursday, Sunday
    "2023-08-16", "2023-09-15", "2023-10-17", "2023-11-16", "2023-12-15", "2024-01-17",
    "2024-02-15", "2024-03-14", "2024-04-16", "2024-05-18", "2024-06-14",  # 2024-05-18: Saturday
    "2024-07-04",  # Independence Day
]
ANNUAL_REVISION = "2024-03-29"  # Good Friday: every month published so far is revised
NON_SESSION_VINTAGES = {"2023-04-07", "2023-05-13", "2023-07-16", "2024-03-29", "2024-05-18", "2024-07-04"}
# Ingest ranges: three boundaries sit right beside a non-session vintage (it belongs to the next
# range); with 9-session chunks the Sunday, Good Friday 2024 and Saturday 2024 vintages fall inside a chunk.
RANGES = [
    ("2023-02-01", "2023-04-06"),  # ends the session before Good Friday 2023
    ("2023-04-07", "2023-05-12"),  # starts on Good Friday, ends the Friday before a Saturday release
    ("2023-05-15", "2024-07-03"),  # ends the session before Independence Day
    ("2024-07-05", "2024-07-31"),
]
CHUNK_SESSIONS = 9  # configs/ingest.yml chunk_sessions.macros_fred for this node


def vintage_history() -> pd.DataFrame:
    """Every new-or-revised value: (series_id, observation_date, vintage_date, value), by construction."""
    months = pd.date_range("2023-01-01", periods=len(RELEASES), freq="MS")
    rng = np.random.default_rng(8)
    level = 100.0 + np.cumsum(rng.normal(0.1, 0.6, len(months)))
    rows = []
    for k, release in enumerate(RELEASES):
        rows.append((months[k], release, round(level[k] + 0.8, 1)))  # first print
        for back in (1, 2, 3):
            if k - back < 0 or (k - back == 1 and back == 2):  # one month is left out of one release
                continue
            revised = round(level[k - back] + 0.8 - 0.25 * back, 1)
            if k == 6 and back == 1:  # a release that restates a value unchanged: not a new vintage of it
                revised = round(level[k - back] + 0.8, 1)
            rows.append((months[k - back], release, revised))
        if release == "2024-03-14":
            annual = [(m, ANNUAL_REVISION, round(level[i] - 0.3, 1)) for i, m in enumerate(months[: k + 1])]
            rows.extend(annual)
    frame = pd.DataFrame(rows, columns=["observation_date", "vintage_date", "value"])
    frame["vintage_date"] = pd.to_datetime(frame["vintage_date"])
    frame = frame.sort_values(["observation_date", "vintage_date"]).reset_index(drop=True)
    # Keep only values that differ from the observation's previous vintage (ALFRED's new-or-revised rule).
    previous = frame.groupby("observation_date")["value"].shift(1)
    frame = frame[previous.isna() | (frame["value"] != previous)]
    return frame.assign(series_id=SERIES)[["series_id", "observation_date", "vintage_date", "value"]].reset_index(drop=True)


HISTORY = vintage_history()


def _key_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "series_id": frame["series_id"].astype(str),
        "observation_date": pd.to_datetime(frame["observation_date"]).dt.strftime("%Y-%m-%d"),
        "vintage_date": pd.to_datetime(frame["vintage_date"]).dt.strftime("%Y-%m-%d"),
        "value": frame["value"].astype(float),
    })
    return out.sort_values(["series_id", "observation_date", "vintage_date"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory):
    """The node after ingesting every range from the wire server: (lake, reports of the first and the repeated ingest)."""
    from pytest_httpserver import HTTPServer

    root = tmp_path_factory.mktemp("alfred")
    configs = root / "configs"
    shutil.copytree(REPO_ROOT / "configs", configs)
    ingest_yml = yaml.safe_load((configs / "ingest.yml").read_text())
    ingest_yml["chunk_sessions"]["macros_fred"] = CHUNK_SESSIONS
    (configs / "ingest.yml").write_text(yaml.safe_dump(ingest_yml))
    mp = pytest.MonkeyPatch()
    mp.setenv("TRADEML_CONFIG_DIR", str(configs))
    mp.setenv("FRED_API_KEY", KEY)
    reset_gates()
    sim = FredSim(key=KEY, observations={SERIES: alfred_periods(HISTORY)}, today="2024-08-01")
    server = HTTPServer()
    server.expect_request(re.compile(r".*")).respond_with_handler(sim)
    server.start()
    try:
        clock = ManualClock()
        limits = VendorLimits(hard_rpm=100_000, burst_limit=1_000, soft_daily_cap=None, freeze_seconds=60, max_inflight=2)
        conn = AlfredConnector(base_url=server.url_for("").rstrip("/"), limits=limits, clock=clock, sleep=clock.sleep)
        lake = Lake(root / "lake")
        engine = control.make_engine(f"sqlite:///{root / 'node.sqlite'}")
        reports = [ingest("macros_fred", a, b, connector=conn, lake=lake, engine=engine, series=[SERIES]) for a, b in RANGES]
        again = [ingest("macros_fred", a, b, connector=conn, lake=lake, engine=engine, series=[SERIES]) for a, b in RANGES]
        yield {"lake": lake, "reports": reports, "again": again}
    finally:
        server.clear()
        server.stop()
        mp.undo()
        reset_gates()


def _stored(lake: Lake) -> pd.DataFrame:
    return lake.read("raw/macros_fred").to_pandas()


def test_stored_rows_are_exactly_the_new_or_revised_values_with_their_true_vintage_dates(ingested):
    stored = _key_frame(_stored(ingested["lake"]))
    expected = _key_frame(HISTORY)
    merged = stored.merge(expected, how="outer", indicator=True)
    relabelled = merged[merged["_merge"] == "left_only"]
    missing = merged[merged["_merge"] == "right_only"]
    assert relabelled.empty, f"{len(relabelled)} of {len(stored)} stored rows were not new or revised at their vintage"
    assert missing.empty, f"{len(missing)} of {len(expected)} new or revised values are not stored"


def test_no_vintage_is_lost_and_non_session_vintages_land_in_the_next_session(ingested):
    lake = ingested["lake"]
    stored = _stored(lake)
    vintages = set(pd.to_datetime(stored["vintage_date"]).dt.strftime("%Y-%m-%d"))
    expected = set(HISTORY["vintage_date"].dt.strftime("%Y-%m-%d"))
    assert expected - vintages == set(), f"vintages lost: {sorted(expected - vintages)}"
    assert NON_SESSION_VINTAGES <= expected
    for vintage in sorted(NON_SESSION_VINTAGES):
        session = calendar.next_session(vintage).date()
        part = lake.read_partition("raw/macros_fred", session).to_pandas()
        here = part[pd.to_datetime(part["vintage_date"]).dt.strftime("%Y-%m-%d") == vintage]
        want = HISTORY[HISTORY["vintage_date"] == pd.Timestamp(vintage)]
        assert len(here) == len(want) > 0, f"vintage {vintage} should be stored in the partition of {session}"


def test_every_chunk_boundary_adds_no_repeated_history_and_a_reingest_changes_nothing(ingested):
    stored = _stored(ingested["lake"])
    assert len(stored) == len(HISTORY), f"{len(stored)} rows stored for {len(HISTORY)} new or revised values"
    assert not stored.duplicated(["series_id", "observation_date", "value"]).any(), "a value is stored at two vintages"
    assert sum(r.partitions_written for r in ingested["again"]) == 0


def _expected_known(sessions: pd.DatetimeIndex) -> pd.DataFrame:
    """Brute force over the construction: for each (session, observation) the latest value with vintage <= session."""
    grid = sessions.to_frame(index=False, name="t").merge(HISTORY, how="cross")
    grid = grid[grid["vintage_date"] <= grid["t"]]
    last = grid.sort_values("vintage_date").groupby(["t", "observation_date"], as_index=False).last()
    return last[["t", "observation_date", "value"]].sort_values(["t", "observation_date"]).reset_index(drop=True)


def test_value_as_known_at_every_session_matches_the_vintage_history(ingested):
    sessions = calendar.sessions("2023-02-01", "2024-07-31")
    expected = _expected_known(sessions)
    stored = _stored(ingested["lake"])
    # What the stored rows say, read the plain way (latest vintage <= t): wrong when vintages are re-labelled or lost.
    got = _expected_known_from(stored, sessions)
    diff = expected.merge(got, on=["t", "observation_date"], how="outer", suffixes=("", "_stored"))
    wrong = diff[~np.isclose(diff["value"], diff["value_stored"]) | diff["value"].isna() | diff["value_stored"].isna()]
    assert wrong.empty, f"{len(wrong)} of {len(expected)} (session, observation) values read as known at t are wrong"
    # The library's point-in-time reader gives the same answer, from the lake and from the rows.
    from trademl.data.macro import known_at, value_as_of

    for source in (ingested["lake"], stored):
        lib = known_at(source, sessions, series_ids=[SERIES])
        lib = lib.assign(t=pd.to_datetime(lib["t"]), observation_date=pd.to_datetime(lib["observation_date"]))
        pd.testing.assert_frame_equal(
            lib[["t", "observation_date", "value"]].sort_values(["t", "observation_date"]).reset_index(drop=True),
            expected, check_dtype=False,
        )
    friday = value_as_of(ingested["lake"], SERIES, "2024-03-29", observation_date="2023-06-01")
    monday = value_as_of(ingested["lake"], SERIES, "2024-04-01", observation_date="2023-06-01")
    want = HISTORY[(HISTORY["observation_date"] == "2023-06-01") & (HISTORY["vintage_date"] <= "2024-03-29")]
    assert friday == monday == want["value"].iloc[-1]  # the Good Friday annual revision counts from that day


def _expected_known_from(stored: pd.DataFrame, sessions: pd.DatetimeIndex) -> pd.DataFrame:
    rows = stored.assign(
        observation_date=pd.to_datetime(stored["observation_date"]), vintage_date=pd.to_datetime(stored["vintage_date"])
    )[["observation_date", "vintage_date", "value"]]
    grid = sessions.to_frame(index=False, name="t").merge(rows, how="cross")
    grid = grid[grid["vintage_date"] <= grid["t"]]
    last = grid.sort_values("vintage_date", kind="stable").groupby(["t", "observation_date"], as_index=False).last()
    return last[["t", "observation_date", "value"]]
