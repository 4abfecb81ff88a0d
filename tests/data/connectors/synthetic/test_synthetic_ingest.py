"""The synthetic vendor through the real ingest path: lake partitions, QC and the control ledger."""

from __future__ import annotations

import pytest

from trademl.data import control
from trademl.data.connectors.synthetic import SyntheticConfig, SyntheticConnector
from trademl.data.lake import Lake

FIRST, LAST = "2024-03-04", "2024-03-08"


def test_ingest_equities_eod_into_a_lake_is_green_and_a_rerun_changes_nothing(tmp_path):
    pytest.importorskip("trademl.data.qc")
    from trademl.data.ingest import ingest

    conn = SyntheticConnector(SyntheticConfig(n_symbols=8, origin="2023-01-03"), state_dir=tmp_path / "state")
    lake = Lake(tmp_path / "lake")
    engine = control.make_engine(f"sqlite:///{tmp_path / 'node.sqlite'}")
    ingest("universe", FIRST, LAST, connector=conn, lake=lake, engine=engine)
    report = ingest("equities_eod", FIRST, LAST, connector=conn, lake=lake, engine=engine)
    assert report.rejected == {} and report.partitions_written == 5
    assert report.colour_counts == {"GREEN": 5, "AMBER": 0, "RED": 0}
    assert lake.read("raw/equities_bars", start=FIRST, end=LAST).num_rows == report.rows_fetched == 5 * 8
    again = ingest("equities_eod", FIRST, LAST, connector=SyntheticConnector(conn.config), lake=lake, engine=engine)
    assert again.partitions_written == 0 and again.partitions_unchanged == 5
