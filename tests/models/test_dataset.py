"""training_frame / scoring_frame / input_lineage over a lake: only what is known at the as-of close."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from models_market import random_frame

from trademl import calendar
from trademl.data.lake import Lake
from trademl.models.dataset import input_lineage, scoring_frame, training_frame
from trademl.models.settings import training_config
from trademl.schemas import EQUITIES_XS, EQUITIES_XS_FEATURES
from trademl.schemas.labels import EQUITIES_XS_LABELS

N_SESSIONS, N_SYMBOLS = 30, 4
SOURCE = random_frame(n_sessions=N_SESSIONS, n_symbols=N_SYMBOLS, seed=2)
DAYS = sorted(SOURCE["date"].unique())
CFG = dataclasses.replace(training_config(), lookback_sessions=20)


def label_rows(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[["date", "symbol", "logret_fwd_1d", "xs_logret_fwd_1d", "xs_logret_fwd_5d", "xs_logret_fwd_20d"]].copy()
    for name in EQUITIES_XS_LABELS.schema.names:
        if name not in out:
            out[name] = np.nan if name != "tb_10d_t1" else None
    out["tb_10d_label"] = 0
    return out[EQUITIES_XS_LABELS.schema.names]


def write_lake(root, frame: pd.DataFrame) -> Lake:
    lake = Lake(root)
    lake.write_partitions(EQUITIES_XS.name, frame[["date", "symbol", *EQUITIES_XS_FEATURES]])
    lake.write_partitions(EQUITIES_XS_LABELS.name, label_rows(frame))
    return lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Lake:
    return write_lake(tmp_path_factory.mktemp("lake"), SOURCE)


def test_the_frame_covers_the_window_and_keeps_only_labels_observed_by_asof(lake):
    asof = DAYS[25]
    frame = training_frame(lake, asof, CFG)
    assert frame["date"].min() == DAYS[25 - 19]  # 20 sessions ending at asof ...
    assert frame["date"].max() == DAYS[24]  # ... whose 1-session label ends by asof: not asof itself
    assert (frame["label_end"] <= asof).all()
    assert len(frame) == 19 * N_SYMBOLS


def test_longer_labels_not_yet_observed_are_nan(lake):
    asof = DAYS[25]
    frame = training_frame(lake, asof, CFG)
    unseen = frame["date"] > DAYS[20]  # a 5-session label of DAYS[21] ends at DAYS[26] > asof
    assert frame.loc[unseen, "xs_logret_fwd_5d"].isna().all()
    assert frame.loc[~unseen, "xs_logret_fwd_5d"].notna().all()
    assert frame["xs_logret_fwd_20d"].isna().all()


def test_the_frame_holds_the_stored_values(lake):
    frame = training_frame(lake, DAYS[25], CFG)
    merged = frame.merge(SOURCE, on=["date", "symbol"], suffixes=("", "_src"))
    np.testing.assert_array_equal(merged["feat_mom_5"], merged["feat_mom_5_src"])
    np.testing.assert_array_equal(merged["xs_logret_fwd_1d"], merged["xs_logret_fwd_1d_src"])
    assert list(frame.columns[: 2 + len(EQUITIES_XS_FEATURES)]) == ["date", "symbol", *EQUITIES_XS_FEATURES]


def test_a_non_session_asof_means_the_session_before(lake):
    saturday = dt.date(2024, 6, 22)
    assert not calendar.is_session(saturday) and DAYS[-6] == dt.date(2024, 6, 21)
    pd.testing.assert_frame_equal(training_frame(lake, saturday, CFG), training_frame(lake, DAYS[-6], CFG))


@settings(max_examples=4, deadline=None)
@given(st.integers(min_value=20, max_value=27), st.floats(min_value=-5, max_value=5))
def test_changing_rows_and_labels_after_asof_never_changes_the_frame(lake, tmp_path_factory, position, value):
    asof = DAYS[position]
    changed = SOURCE[SOURCE["date"] >= DAYS[position - 19]].copy()  # the window and everything after it
    after = (changed["date"] >= asof).to_numpy()  # rows dated asof have labels ending after asof
    changed.loc[after, ["feat_mom_5", "xs_logret_fwd_1d", "xs_logret_fwd_5d", "xs_logret_fwd_20d"]] = value
    other = write_lake(tmp_path_factory.mktemp("changed"), changed)
    pd.testing.assert_frame_equal(training_frame(lake, asof, CFG), training_frame(other, asof, CFG))


def test_sessions_appended_after_asof_never_change_the_frame(lake, tmp_path):
    asof = DAYS[22]
    truncated = write_lake(tmp_path, SOURCE[(SOURCE["date"] <= asof) & (SOURCE["date"] >= DAYS[3])])
    pd.testing.assert_frame_equal(training_frame(truncated, asof, CFG), training_frame(lake, asof, CFG))


def test_scoring_frame_is_the_features_of_one_session(lake):
    frame = scoring_frame(lake, DAYS[-1], CFG)
    assert frame["date"].unique().tolist() == [DAYS[-1]]
    assert frame["symbol"].tolist() == sorted(SOURCE["symbol"].unique())
    assert list(frame.columns) == ["date", "symbol", *EQUITIES_XS_FEATURES]


def test_scoring_frame_of_t_is_unchanged_by_later_sessions(lake, tmp_path):
    t = DAYS[20]
    late = SOURCE[SOURCE["date"] >= t]
    late = write_lake(tmp_path, late.assign(feat_mom_5=np.where(late["date"] > t, 9.0, late["feat_mom_5"])))
    pd.testing.assert_frame_equal(scoring_frame(lake, t, CFG), scoring_frame(late, t, CFG))


def test_lineage_names_the_content_hash_of_every_partition_read(lake):
    asof = DAYS[25]
    lineage = input_lineage(lake, asof, CFG)
    window = [d.isoformat() for d in DAYS[6:26]]
    assert sorted(lineage) == [EQUITIES_XS.name, EQUITIES_XS_LABELS.name]
    assert sorted(lineage[EQUITIES_XS.name]) == window
    day = DAYS[10]
    assert lineage[EQUITIES_XS.name][day.isoformat()] == lake.versions(EQUITIES_XS.name, day)[-1].content_hash


def test_a_revised_partition_changes_the_lineage(tmp_path):
    lake = write_lake(tmp_path, SOURCE)
    before = input_lineage(lake, DAYS[25], CFG)
    day = DAYS[12]
    revised = SOURCE[SOURCE["date"] == day].assign(feat_mom_5=0.0)
    lake.write_partition(EQUITIES_XS.name, day, revised[["date", "symbol", *EQUITIES_XS_FEATURES]])
    after = input_lineage(lake, DAYS[25], CFG)
    assert after[EQUITIES_XS.name][day.isoformat()] != before[EQUITIES_XS.name][day.isoformat()]
    assert {k: v for k, v in after[EQUITIES_XS.name].items() if k != day.isoformat()} == {
        k: v for k, v in before[EQUITIES_XS.name].items() if k != day.isoformat()
    }


def test_an_empty_lake_gives_an_empty_frame(tmp_path):
    assert training_frame(Lake(tmp_path), dt.date(2024, 6, 28), CFG).empty
