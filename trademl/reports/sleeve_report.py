"""The daily report of one sleeve from the lake: its stored targets, its champion backtest, its OOS IC.

Everything comes from what the layers below stored for the as-of session: `portfolio/targets` (the
book, positions and turnover), the as-of partition of `backtests/<model>` (net returns and the
champion's version) and the champion's CPCV OOS predictions (IC over time). Only champion outputs
are read: the backtest partition names the version, and the report refuses a mismatch.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.backtest.champion_backtest import oos_scores
from trademl.data.lake import Lake
from trademl.models.scoring import champion_artifacts
from trademl.reports.daily import daily_report
from trademl.reports.settings import daily_report_settings

TARGETS = "portfolio/targets"


def sleeve_daily_report(
    model: str, asof: dt.date | str, *, lake: Lake, engine: Engine, out_dir: str | Path, backtest_table: str,
    cache: Path | None = None,
) -> tuple[str, str]:
    """(json_path, md_path) of the `model` sleeve's report of `asof` under `out_dir`/<asof>/."""
    day = calendar.as_date(asof, "asof")
    backtest = lake.read(backtest_table, day, day).to_pandas()
    if backtest.empty:
        raise ValueError(f"{backtest_table} has no backtest as of {day}: materialize it first")
    versions = sorted(set(backtest["model_version"].astype(str)))
    version, local = champion_artifacts(model, cache=cache)
    if versions != [version]:
        raise ValueError(f"{backtest_table} as of {day} is of version(s) {versions}, the champion is v{version}: rerun the backtest")
    returns = pd.Series(backtest["ret_net"].to_numpy(), index=pd.to_datetime(backtest["date"]).dt.date, name="ret_net")
    window = daily_report_settings().risk_window_sessions
    first = calendar.previous_session(day, window).date()
    targets = lake.read(TARGETS, first, day).to_pandas()
    targets = targets[targets["strategy_tag"] == model]
    targets["date"] = pd.to_datetime(targets["date"]).dt.date
    _, ic = oos_scores(local)
    return daily_report(day, targets=targets[["date", "symbol", "weight"]], backtest_returns=returns, ic_series=ic,
                        ledger_engine=engine, out_dir=out_dir, model_version=version, strategy_tag=model)
