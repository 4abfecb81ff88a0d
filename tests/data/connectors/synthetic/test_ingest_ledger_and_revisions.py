"""trademl.data.ingest with the synthetic vendor: ledger rows before visibility, the revision guard, acceptance."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from trademl.data import control
from trademl.data.connectors.base import Connector, FetchRequest, FetchResult
from trademl.data.connectors.synthetic import SyntheticConfig, SyntheticConnector
from trademl.data.ingest import accept_revision, ingest
from trademl.data.lake import Lake, StagedWrite

FIRST, LAST = "2024-03-04", "2024-03-08"
TABLE = "raw/equities_bars"


class Revised(Connector):
    """The synthetic vendor with every close (and high) of the symbols in `bump` raised by 1."""

    def __init__(self, base: SyntheticConnector, bump: set[str]) -> None:
        self.base, self.bump = base, bump
        self.source_name, self.api_version, self.datasets = base.source_name, base.api_version, base.datasets

    def universe_symbols(self, asof: dt.date) -> list[str]:
        return self.base.universe_symbols(asof)

    def _fetch(self, request: FetchRequest) -> FetchResult:
        result = self.base.fetch(request)
        frame = result.to_pandas().copy()
        hit = frame["symbol"].isin(self.bump)
        frame.loc[hit, "close"] += 1.0
        frame.loc[hit, "high"] = frame.loc[hit, ["high", "close"]].max(axis=1)
        return FetchResult(request.dataset, frame, result.source_name, result.failed_sessions)


@pytest.fixture
def node(tmp_path):
    conn = SyntheticConnector(SyntheticConfig(n_symbols=8, origin="2023-01-03"), state_dir=tmp_path / "state")
    lake = Lake(tmp_path / "lake")
    engine = control.make_engine(f"sqlite:///{tmp_path / 'node.sqlite'}")
    ingest("universe", FIRST, LAST, connector=conn, lake=lake, engine=engine)
    yield conn, lake, engine
    engine.dispose()


def test_every_partition_has_its_ledger_rows_before_it_becomes_visible(node, monkeypatch):
    conn, lake, engine = node
    seen: list[tuple[dt.date, int]] = []
    real_commit = StagedWrite.commit

    def checked_commit(self):
        rows = control.read_partition_status(engine, table_name=TABLE, start=self.result.partition, end=self.result.partition)
        seen.append((self.result.partition, len(rows)))
        assert lake.partitions(TABLE).count(self.result.partition) == 0  # not visible yet
        return real_commit(self)

    monkeypatch.setattr(StagedWrite, "commit", checked_commit)
    ingest("equities_eod", FIRST, LAST, connector=conn, lake=lake, engine=engine)
    assert len(seen) == 5 and all(n == 8 for _, n in seen)
    assert len(lake.partitions(TABLE)) == 5


def test_a_revision_of_most_rows_of_green_sessions_is_amber_large_revision_with_its_share(node):
    conn, lake, engine = node
    ingest("equities_eod", FIRST, LAST, connector=conn, lake=lake, engine=engine)
    symbols = sorted(conn.universe_symbols(dt.date(2024, 3, 4)))
    report = ingest("equities_eod", FIRST, LAST, connector=Revised(conn, set(symbols[:4])), lake=lake, engine=engine)
    assert report.colour_counts == {"GREEN": 0, "AMBER": 5, "RED": 0}
    assert {r["revised_frac"] for r in report.large_revisions.values()} == {0.5}
    led = control.read_partition_status(engine, table_name=TABLE)
    assert set(led["qc_code"]) == {"LARGE_REVISION"} and led["detail"].str.contains('"revised_frac": 0.5').all()
    assert [v.version for v in lake.versions(TABLE, FIRST)] == [1, 2]


def test_an_audit_keeps_a_revision_awaiting_review_amber(node):
    from trademl.data import backfill

    conn, lake, engine = node
    ingest("equities_eod", FIRST, LAST, connector=conn, lake=lake, engine=engine)
    ingest("equities_eod", FIRST, LAST, connector=Revised(conn, set(conn.universe_symbols(dt.date(2024, 3, 4)))), lake=lake, engine=engine)
    backfill.audit_scan([TABLE], engine=engine, lake=lake, start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 8), vendor="synthetic")
    led = control.read_partition_status(engine, table_name=TABLE)
    assert set(led["status"]) == {"AMBER"} and set(led["qc_code"]) == {"LARGE_REVISION"}
    assert led["detail"].str.contains('"revised_frac": 1.0').all()


def test_a_revision_of_a_session_the_ledger_holds_red_is_not_flagged(node):
    conn, lake, engine = node
    ingest("equities_eod", FIRST, LAST, connector=conn, lake=lake, engine=engine)
    led = control.read_partition_status(engine, table_name=TABLE)
    control.upsert_partition_status(engine, led.assign(status="RED", qc_code="MISSING_ROWS"))
    report = ingest("equities_eod", FIRST, LAST, connector=Revised(conn, set(led["symbol"])), lake=lake, engine=engine)
    assert report.large_revisions == {} and report.colour_counts["GREEN"] == 5


def test_a_flagged_revision_stays_amber_on_a_repeated_ingest_until_accepted(node):
    conn, lake, engine = node
    ingest("equities_eod", FIRST, LAST, connector=conn, lake=lake, engine=engine)
    revised = Revised(conn, set(conn.universe_symbols(dt.date(2024, 3, 4))))
    ingest("equities_eod", FIRST, LAST, connector=revised, lake=lake, engine=engine)
    again = ingest("equities_eod", FIRST, LAST, connector=revised, lake=lake, engine=engine)
    assert again.partitions_written == 0 and again.colour_counts["AMBER"] == 5
    summary = accept_revision(lake, engine, TABLE, "2024-03-06")
    assert summary.color == "GREEN"
    led = control.read_partition_status(engine, table_name=TABLE, start="2024-03-06", end="2024-03-06")
    assert set(led["qc_code"]) == {"OK"} and led["detail"].isna().all()
    after = ingest("equities_eod", FIRST, LAST, connector=revised, lake=lake, engine=engine)
    assert after.summaries["2024-03-06"].color == "GREEN" and after.summaries["2024-03-05"].color == "AMBER"


def test_rows_a_vendor_sends_for_other_dates_are_counted_not_stored(node):
    conn, lake, engine = node

    class Extra(Revised):
        def _fetch(self, request):
            result = self.base.fetch(request)
            frame = result.to_pandas()
            extra = frame[frame["date"] == frame["date"].min()].assign(date=dt.date(2024, 3, 11), session_id="XNYS:2024-03-11")
            return FetchResult(request.dataset, pd.concat([frame, extra], ignore_index=True), result.source_name)

    report = ingest("equities_eod", FIRST, LAST, connector=Extra(conn, set()), lake=lake, engine=engine)
    assert report.not_stored == {"outside_window": {"2024-03-11": 8}} and report.rejected == {}
    assert dt.date(2024, 3, 11) not in lake.partitions(TABLE)
