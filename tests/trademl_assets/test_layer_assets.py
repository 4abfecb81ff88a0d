"""Derived-layer assets invoked directly on tiny lakes: partitions written, per-session checks recorded."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from trademl import calendar
from trademl.data import control
from trademl.data.lake import Lake
from trademl_assets import features
from trademl_assets.checks import CHECK_NAME
from trademl.schemas import with_metadata
from trademl_resources import ControlDbResource, LakeResource

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
SESSIONS = calendar.sessions("2024-01-02", "2024-06-28")


def write_curated(lake: Lake, engine, symbols=("AAA", "BBB", "CCC"), seed: int = 1) -> None:
    """Curated rows (no corporate actions) for every session of SESSIONS, with GREEN ledger rows."""
    rng = np.random.default_rng(seed)
    frames = []
    for symbol in symbols:
        close = 40 * np.exp(np.cumsum(rng.normal(0, 0.01, len(SESSIONS))))
        frames.append(pd.DataFrame({
            "date": SESSIONS.date, "symbol": symbol, "open": close * 0.999, "high": close * 1.01, "low": close * 0.99,
            "close": close, "volume": rng.integers(1_000, 9_000, len(SESSIONS)), "split_factor": 1.0,
            "div_factor_crsp": 1.0, "div_factor_alpha_vantage": 1.0, "delisting_return": np.nan,
        }))
    lake.write_partitions("curated/equities_ohlcv_adj", pd.concat(frames, ignore_index=True))
    universe = pd.DataFrame([(d, s) for d in SESSIONS.date for s in symbols], columns=["date", "symbol"]).assign(
        is_listed=True, is_eligible=True, listed_date=None, delist_date=None, share_class="COMMON", sector="Energy", exclusion_reason=None
    )
    lake.write_partitions("reference/universe", with_metadata(universe, source_name="test", source_uri="test://u", api_version="1"))
    control.upsert_partition_status(engine, pd.DataFrame({
        "source_name": "curator", "table_name": "curated/equities_ohlcv_adj", "symbol": None, "dt": SESSIONS,
        "partition_key": None, "status": "GREEN", "qc_score": 1.0, "row_count": len(symbols), "expected_rows": None, "qc_code": None,
    }))


def run_range(defs_layer: dg.Definitions, key: str, first: str, last: str, root, db_uri) -> dg.ExecuteInProcessResult:
    asset_key = dg.AssetKey.from_user_string(key)
    job = dg.define_asset_job("layer_test_job", selection=dg.AssetSelection.assets(asset_key) | dg.AssetSelection.checks_for_assets(asset_key))
    defs = dg.Definitions.merge(
        defs_layer,
        dg.Definitions(jobs=[job], resources={"lake": LakeResource(root=str(root)), "control_db": ControlDbResource(db_uri=db_uri)}),
    )
    return defs.get_job_def("layer_test_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags={RANGE_START: first, RANGE_END: last}, raise_on_error=False
    )


@pytest.fixture
def tiny(tmp_path):
    db_uri = f"sqlite:///{tmp_path}/node.sqlite"
    engine = control.make_engine(db_uri)
    lake = Lake(tmp_path / "lake")
    write_curated(lake, engine)
    yield lake, engine, db_uri
    engine.dispose()


def _check_colours(result: dg.ExecuteInProcessResult, key: str) -> dict[str, str]:
    out = {}
    for event in result.get_asset_check_evaluations():
        if event.asset_key.to_user_string() == key and event.check_name == CHECK_NAME and event.partition:
            out[event.partition] = event.metadata["status"].value
    return out


def test_indicator_set_asset_writes_its_sessions_and_one_check_result_each(tiny):
    lake, engine, db_uri = tiny
    key = "features/indicators_minimal"
    result = run_range(features.build_defs(), key, "2024-05-01", "2024-05-10", lake.root, db_uri)
    assert result.success
    days = [d.isoformat() for d in calendar.sessions("2024-05-01", "2024-05-10").date]
    assert [d.isoformat() for d in lake.partitions(key)] == days
    assert _check_colours(result, key) == {d: "GREEN" for d in days}
    stored = lake.read(key, start="2024-05-10", end="2024-05-10").to_pandas()
    assert sorted(stored["symbol"]) == ["AAA", "BBB", "CCC"] and stored["sma_20"].notna().all()


def test_indicator_warm_up_sessions_are_red_for_low_coverage(tiny):
    lake, engine, db_uri = tiny
    key = "features/indicators_minimal"
    result = run_range(features.build_defs(), key, "2024-01-02", "2024-01-05", lake.root, db_uri)
    assert set(_check_colours(result, key).values()) == {"RED"}  # sma_20 needs 20 sessions of history
    ledger = control.read_partition_status(engine, table_name=key)
    assert set(ledger["qc_code"]) == {"COVERAGE_LOW"}


def test_an_indicator_session_over_a_red_curated_session_is_red(tiny):
    lake, engine, db_uri = tiny
    control.upsert_partition_status(engine, pd.DataFrame([{
        "source_name": "curator", "table_name": "curated/equities_ohlcv_adj", "symbol": None, "dt": pd.Timestamp("2024-05-08"),
        "partition_key": None, "status": "RED", "qc_score": 0.0, "row_count": 0, "expected_rows": None, "qc_code": "INPUT_RED"}]))
    key = "features/indicators_minimal"
    result = run_range(features.build_defs(), key, "2024-05-07", "2024-05-09", lake.root, db_uri)
    assert _check_colours(result, key) == {"2024-05-07": "GREEN", "2024-05-08": "RED", "2024-05-09": "GREEN"}
