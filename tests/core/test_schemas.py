"""trademl.schemas: conform() casts vendor frames and rejects what violates a table's schema."""

import datetime as dt

import pandas as pd
import pytest

from trademl import schemas


def bars(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "date": [dt.date(2024, 1, 2), dt.date(2024, 1, 2)],
            "symbol": ["AAA", "BBB"],
            "open": [10.0, 20.0],
            "high": [11.0, 21.0],
            "low": [9.5, 19.5],
            "close": [10.5, 20.5],
            "vwap": [10.2, 20.2],
            "volume": [1000, 2000],
            "nbbo_spread": [None, None],
            "trades": [10, 20],
            "session_id": ["XNYS:2024-01-02"] * 2,
        }
    )
    for k, v in overrides.items():
        frame[k] = v
    return schemas.with_metadata(frame, source_name="vendorx", source_uri="https://v/x", api_version="v2")


def test_conform_returns_the_exact_table_schema():
    t = schemas.conform("raw/equities_bars", bars())
    assert t.schema.equals(schemas.EQUITIES_BARS.schema)
    assert t.num_rows == 2


def test_dataset_names_resolve_to_tables():
    assert schemas.table_spec("equities_eod") is schemas.EQUITIES_BARS


def test_unknown_table_lists_known_names():
    with pytest.raises(ValueError, match="raw/equities_bars"):
        schemas.table_spec("raw/nope")


def test_violation_names_vendor_table_symbol_and_session():
    with pytest.raises(schemas.SchemaViolation) as err:
        schemas.conform("raw/equities_bars", bars(high=[11.0, 19.0]), vendor="vendorx")
    msg = str(err.value)
    for part in ("vendor=vendorx", "table=raw/equities_bars", "symbol=BBB", "session=2024-01-02"):
        assert part in msg


def test_negative_volume_is_rejected():
    with pytest.raises(schemas.SchemaViolation, match="negative volume"):
        schemas.conform("raw/equities_bars", bars(volume=[-1, 5]))


def test_nan_price_is_rejected():
    with pytest.raises(schemas.SchemaViolation, match="null/NaN in required column 'close'"):
        schemas.conform("raw/equities_bars", bars(close=[float("nan"), 20.5]))


def test_missing_column_is_rejected():
    with pytest.raises(schemas.SchemaViolation, match="missing columns"):
        schemas.conform("raw/equities_bars", bars().drop(columns=["vwap"]))


def test_duplicate_keys_are_rejected():
    frame = bars(symbol=["AAA", "AAA"])
    with pytest.raises(schemas.SchemaViolation, match="duplicate key"):
        schemas.conform("raw/equities_bars", frame)


def test_naive_minute_timestamps_are_rejected():
    frame = bars().assign(ts=pd.to_datetime(["2024-01-02 14:30", "2024-01-02 14:31"]), symbol=["AAA", "AAA"])
    with pytest.raises(schemas.SchemaViolation, match="UTC is required"):
        schemas.conform("raw/equities_minute", frame)


def test_crossed_option_quote_is_rejected():
    frame = pd.DataFrame(
        {
            "ts_ns": [1], "date": [dt.date(2024, 1, 2)], "underlier": ["AAA"], "expiry": [dt.date(2024, 2, 16)],
            "strike": [100.0], "cp_flag": ["C"], "bid": [2.0], "ask": [1.5], "bid_size": [1], "ask_size": [1],
            "nbbo_mid": [1.75], "exchs_bitmap": [0], "underlying_price": [100.0],
        }
    )
    frame = schemas.with_metadata(frame, source_name="v", source_uri="u", api_version="1")
    with pytest.raises(schemas.SchemaViolation, match="crossed quote"):
        schemas.conform("raw/options_nbbo", frame)


def _keyed(symbols: list[str], days: list[int]) -> "pa.Table":
    import pyarrow as pa

    return pa.table({"symbol": symbols, "date": pa.array([dt.date(2024, 1, d) for d in days], pa.date32())})


def test_sorted_by_accepts_rows_in_lexicographic_key_order():
    assert schemas.sorted_by(_keyed(["AAA", "AAA", "BBB"], [3, 4, 2]), ["symbol", "date"])


def test_sorted_by_rejects_a_descent_in_the_second_key_within_a_tie():
    assert not schemas.sorted_by(_keyed(["AAA", "AAA", "BBB"], [4, 3, 5]), ["symbol", "date"])


def test_sorted_by_rejects_a_descent_in_the_leading_key_whatever_follows():
    assert not schemas.sorted_by(_keyed(["BBB", "AAA"], [1, 9]), ["symbol", "date"])


def test_sorted_by_strict_rejects_rows_sharing_a_key():
    table = _keyed(["AAA", "AAA"], [3, 3])
    assert schemas.sorted_by(table, ["symbol", "date"])
    assert not schemas.sorted_by(table, ["symbol", "date"], strict=True)


def test_sorted_by_counts_nulls_as_unordered():
    import pyarrow as pa

    table = pa.table({"symbol": pa.array(["AAA", None], pa.string())})
    assert not schemas.sorted_by(table, ["symbol"])


def test_duplicate_keys_in_key_sorted_rows_are_rejected():
    frame = bars(symbol=["AAA", "AAA"], date=[dt.date(2024, 1, 2)] * 2)
    with pytest.raises(schemas.SchemaViolation, match="duplicate key"):
        schemas.conform("raw/equities_bars", frame)


def test_null_in_a_required_integer_column_is_rejected():
    frame = bars(volume=pd.array([1000, None], dtype="Int64"))
    with pytest.raises(schemas.SchemaViolation, match="null/NaN in required column 'volume'"):
        schemas.conform("raw/equities_bars", frame)


# ---------------------------------------------------------------------------------------------- the table registry
def test_every_ingested_table_names_its_dataset_and_the_dataset_maps_back():
    from trademl.schemas import DATASET_TABLES, TABLES, ingested_tables

    ingested = [spec for spec in TABLES.values() if spec.layer in ("raw", "reference")]
    assert all(spec.dataset for spec in ingested)
    assert {DATASET_TABLES[spec.dataset] for spec in ingested} == set(ingested_tables()) == {s.name for s in ingested}


def test_derived_tables_have_no_dataset_and_are_not_fetchable():
    from trademl.schemas import DATASET_TABLES, TABLES, derived_tables

    derived = set(derived_tables())
    assert derived == {n for n, s in TABLES.items() if s.layer in ("curated", "features", "labels", "models", "portfolio", "backtests")}
    assert {"curated/equities_ohlcv_adj", "labels/equities_xs", "models/equities_xs_scores", "portfolio/targets"} <= derived
    assert not derived & set(DATASET_TABLES.values())
    assert "" not in DATASET_TABLES


def test_equities_xs_v1_has_the_31_feature_columns_in_order():
    from trademl.schemas import EQUITIES_XS, EQUITIES_XS_FEATURES

    assert len(EQUITIES_XS_FEATURES) == 31
    assert EQUITIES_XS.schema.names == ["date", "symbol", *EQUITIES_XS_FEATURES]
    assert EQUITIES_XS_FEATURES[0] == "feat_mom_5" and EQUITIES_XS_FEATURES[-1] == "feat_sector_utilities"
    assert "feat_sector_health_care" in EQUITIES_XS_FEATURES


def test_bar_datasets_are_the_daily_and_minute_bars():
    from trademl.schemas import bar_datasets

    assert bar_datasets() == ("equities_eod", "equities_minute")


def test_self_describing_tables_are_the_reference_tables_that_list_their_own_symbols_and_macro():
    from trademl.schemas import self_describing_tables

    assert self_describing_tables() == {
        "reference/universe", "reference/calendars", "reference/corp_actions", "reference/delistings",
        "reference/index_membership", "reference/earnings_calendar", "reference/shares_outstanding", "raw/macros_fred",
    }


def test_layer_datasets_follow_the_catalog_order():
    from trademl.schemas import layer_datasets

    assert layer_datasets("reference") == (
        "corp_actions", "delistings", "calendars", "universe", "index_membership", "tick_size_regime",
        "earnings_calendar", "shares_outstanding",
    )
    assert layer_datasets("raw") == ("equities_eod", "equities_minute", "options_chains", "macros_fred")
