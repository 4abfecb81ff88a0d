"""The equities_xs LightGBM model: recency weights, point-in-time training, determinism, save/load, scoring."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from models_market import random_frame, small_config

from trademl.models.equities_xs import load_model, regime_weights, save_model, score_session, time_decay_weights, train
from trademl.models.settings import RegimeMask

D = dt.date


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return random_frame(n_sessions=60, n_symbols=30, seed=3)


def test_weight_is_one_at_asof_and_half_one_half_life_of_sessions_earlier():
    # 2024-06-28 and the sessions 2 and 4 before it (2024-06-26, 2024-06-24)
    w = time_decay_weights([D(2024, 6, 28), D(2024, 6, 26), D(2024, 6, 24)], D(2024, 6, 28), half_life_sessions=2)
    np.testing.assert_allclose(w, [1.0, 0.5, 0.25], rtol=1e-15)


def test_weights_count_sessions_not_calendar_days_across_a_holiday():
    # 2024-07-04 is a holiday: 2024-07-03 is ONE session before 2024-07-05
    w = time_decay_weights([D(2024, 7, 3)], D(2024, 7, 5), half_life_sessions=1)
    assert w[0] == pytest.approx(0.5, rel=1e-15)


def test_weights_of_the_default_half_life_halve_after_378_sessions():
    from trademl import calendar

    back = calendar.previous_session(D(2024, 6, 28), 378).date()
    assert time_decay_weights([back], D(2024, 6, 28), 378)[0] == pytest.approx(0.5, rel=1e-12)


def test_a_date_after_asof_is_refused():
    with pytest.raises(ValueError, match="after asof"):
        time_decay_weights([D(2024, 7, 1)], D(2024, 6, 28), 10)


def test_regime_masks_multiply_the_weights_of_their_dates_only():
    masks = [RegimeMask(D(2024, 6, 3), D(2024, 6, 5), 0.5), RegimeMask(D(2024, 6, 5), D(2024, 6, 7), 0.1)]
    w = regime_weights([D(2024, 6, 3), D(2024, 6, 5), D(2024, 6, 7), D(2024, 6, 10)], masks)
    np.testing.assert_allclose(w, [0.5, 0.05, 0.1, 1.0])


def test_training_twice_on_the_same_frame_gives_identical_predictions(frame):
    cfg = small_config()
    asof = frame["date"].max()
    a, b = train(frame, cfg, asof=asof), train(frame, cfg, asof=asof)
    np.testing.assert_array_equal(a.predict(frame), b.predict(frame))


def test_a_model_trained_as_of_t_never_sees_a_label_ending_after_t(frame):
    t = sorted(frame["date"].unique())[40]
    model = train(frame, small_config(), asof=t)
    assert model.asof == t
    assert model.max_label_end <= t


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=30, max_value=58), st.floats(min_value=-1.0, max_value=1.0))
def test_changing_rows_whose_label_ends_after_t_leaves_the_model_unchanged(position, bump):
    frame = random_frame(n_sessions=60, n_symbols=20, seed=5)
    days = sorted(frame["date"].unique())
    t = days[position]
    cfg = small_config()
    base = train(frame, cfg, asof=t)
    changed = frame.copy()
    later = (changed["date"] >= t).to_numpy()  # their 1-session label ends after t
    changed.loc[later, "xs_logret_fwd_1d"] = bump
    changed.loc[later, "feat_mom_5"] = -bump
    np.testing.assert_array_equal(base.predict(frame), train(changed, cfg, asof=t).predict(frame))


def test_the_model_learns_the_planted_feature(frame):
    model = train(frame, small_config(), asof=frame["date"].max())
    scores = model.predict(frame)
    assert np.corrcoef(scores, frame["feat_mom_5"])[0, 1] > 0.5


def test_a_saved_model_loads_with_identical_predictions_features_and_asof(frame, tmp_path):
    model = train(frame, small_config(), asof=frame["date"].max())
    paths = save_model(model, tmp_path)
    assert {p.name for p in paths.values()} == {"model.txt", "feature_list.json", "training_cfg.json"}
    loaded = load_model(tmp_path)
    assert loaded.feature_list == model.feature_list and loaded.asof == model.asof
    assert loaded.max_label_end == model.max_label_end
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))


def test_score_session_gives_one_finite_score_per_symbol_of_the_session(frame):
    model = train(frame, small_config(), asof=frame["date"].max())
    session = frame[frame["date"] == frame["date"].max()]
    scores = score_session(model, session)
    assert list(scores.columns) == ["date", "symbol", "score"]
    assert scores["symbol"].tolist() == sorted(session["symbol"])
    assert np.isfinite(scores["score"]).all() and scores["score"].dtype == np.float64
    np.testing.assert_array_equal(scores["score"].to_numpy(), model.predict(session.sort_values("symbol")))


def test_score_session_refuses_several_sessions(frame):
    model = train(frame, small_config(), asof=frame["date"].max())
    with pytest.raises(ValueError, match="one session"):
        score_session(model, frame)


def test_score_session_refuses_a_session_before_the_models_asof(frame):
    days = sorted(frame["date"].unique())
    model = train(frame, small_config(), asof=days[-1])
    with pytest.raises(ValueError, match="earlier session"):
        score_session(model, frame[frame["date"] == days[-5]])
