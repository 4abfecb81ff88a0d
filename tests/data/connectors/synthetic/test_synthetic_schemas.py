"""Every dataset the synthetic vendor serves fits its lake table's schema."""

from __future__ import annotations

import pytest
from synthetic_requests import fetch

from trademl.schemas import DATASET_TABLES, conform


@pytest.mark.parametrize("dataset", sorted(DATASET_TABLES))
def test_dataset_frame_passes_schema_conform(make_connector, dataset):
    conn = make_connector(n_symbols=40)
    frame = fetch(conn, dataset, "2024-02-01", "2024-03-29")
    table = conform(DATASET_TABLES[dataset], frame, vendor="synthetic")
    assert table.num_rows == len(frame) > 0
    assert table.column("api_version").unique().to_pylist() == ["synthetic/1"]


def test_request_before_the_origin_returns_no_bars(make_connector):
    frame = fetch(make_connector(), "equities_eod", "2022-12-01", "2022-12-30")
    assert len(frame) == 0
    assert conform("raw/equities_bars", frame).num_rows == 0


def test_unknown_macro_series_is_rejected_with_its_name(make_connector):
    with pytest.raises(ValueError, match="NOPE"):
        fetch(make_connector(), "macros_fred", "2024-01-02", "2024-01-31", series=("NOPE",))
