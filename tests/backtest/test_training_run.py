"""The training run's refusals and the evaluation signatures (trademl.backtest.training_run).

The successful run (training, CPCV under the production strategy, MLflow registration, promotion)
is exercised end to end by the README's demo test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from trademl.backtest.settings import backtest_settings
from trademl.backtest.training_run import TrainingRefused, evaluation_signatures, train_challenger
from trademl.data import control
from trademl.data.lake import Lake
from trademl.models.settings import training_config
from trademl.portfolio import risk_config


@pytest.fixture
def engine(tmp_path):
    eng = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")
    yield eng
    eng.dispose()


def _frame(symbols=("A", "B"), days=(dt.date(2025, 6, 2), dt.date(2025, 6, 3))) -> pd.DataFrame:
    return pd.DataFrame([{"date": d, "symbol": s} for d in days for s in symbols])


def test_an_empty_ledger_refuses_training_in_one_line_naming_every_table(engine, tmp_path):
    with pytest.raises(TrainingRefused) as err:
        train_challenger("equities_xs", "2025-06-30", lake=Lake(tmp_path / "lake"), engine=engine, work_dir=tmp_path,
                         lookback_sessions=10)
    message = str(err.value)
    assert "\n" not in message and message.startswith("equities_xs as of 2025-06-30: ")
    for table in ("curated/equities_ohlcv_adj", "reference/corp_actions", "labels/equities_xs"):
        assert f"{table} is 0.0% GREEN" in message


def test_the_same_frame_and_settings_give_the_same_signatures():
    cfg, settings, risk = training_config(), backtest_settings(), risk_config()
    assert evaluation_signatures(cfg, _frame(), settings, risk) == evaluation_signatures(cfg, _frame(), settings, risk)


def test_another_universe_window_or_cpcv_scheme_changes_the_cpcv_signature_only():
    cfg, settings, risk = training_config(), backtest_settings(), risk_config()
    base = evaluation_signatures(cfg, _frame(), settings, risk)
    for other in (
        evaluation_signatures(cfg, _frame(symbols=("A", "C")), settings, risk),
        evaluation_signatures(cfg, _frame(days=(dt.date(2025, 6, 2), dt.date(2025, 6, 4))), settings, risk),
        evaluation_signatures(dataclasses.replace(cfg, cpcv=dataclasses.replace(cfg.cpcv, embargo_sessions=3)), _frame(), settings, risk),
    ):
        assert other["cpcv_signature"] != base["cpcv_signature"] and other["cost_signature"] == base["cost_signature"]


def test_another_cost_model_or_portfolio_rule_changes_the_cost_signature():
    cfg, settings, risk = training_config(), backtest_settings(), risk_config()
    base = evaluation_signatures(cfg, _frame(), settings, risk)
    dearer = dataclasses.replace(settings, spread_bps=settings.spread_bps + 1)
    tighter = dataclasses.replace(risk, turnover_limit=risk.turnover_limit / 2)
    assert evaluation_signatures(cfg, _frame(), dearer, risk)["cost_signature"] != base["cost_signature"]
    assert evaluation_signatures(cfg, _frame(), settings, tighter)["cost_signature"] != base["cost_signature"]


def test_an_unknown_trial_is_refused_listing_the_grid(engine, tmp_path, monkeypatch):
    from trademl.backtest import training_run
    from trademl.models.readiness import Readiness

    monkeypatch.setattr(training_run, "check_readiness", lambda *a, **k: Readiness(dt.date(2025, 6, 30), ()))
    with pytest.raises(ValueError, match=r"unknown trial\(s\) h3_wide; the grid of equities_xs has h1_shallow, "):
        train_challenger("equities_xs", "2025-06-30", lake=Lake(tmp_path / "lake"), engine=engine, work_dir=tmp_path,
                         trials=["h1_shallow", "h3_wide"])
