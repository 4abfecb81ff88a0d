"""The champion's backtest as of a session: its out-of-sample scores through the production strategy.

The scores are the champion's CPCV out-of-sample predictions over its training window (the mean
over the CPCV paths of each (session, symbol): every path's prediction comes from a model that
never trained on that session) followed by the scores it wrote itself since it became champion
(models/<model>_scores, its own version only), up to the as-of session. Between the two there may
be sessions without scores (the labels' forward window); the book then drifts, as it would live.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.backtest.engine import BacktestResult
from trademl.backtest.production import production_backtest, production_market
from trademl.backtest.settings import backtest_settings
from trademl.data.lake import Lake
from trademl.models.scoring import champion_artifacts
BACKTEST_COLUMNS = ["asof", "date", "ret_gross", "cost", "borrow", "ret_net", "turnover", "gross_exposure",
                    "net_exposure", "equity", "model_version"]


@dataclass(frozen=True)
class ChampionBacktest:
    """The backtest rows (backtests/<model> schema), the engine's result and the OOS IC per session."""

    version: str
    asof: dt.date
    frame: pd.DataFrame
    result: BacktestResult
    ic: pd.Series  # rank IC of the OOS predictions per session (mean over paths), indexed by date


def oos_scores(artifact_dir: Path) -> tuple[pd.DataFrame, pd.Series]:
    """The champion's CPCV OOS scores (mean over paths per session and symbol) and their rank IC per session."""
    from trademl.validation.metrics import information_coefficient

    oof = pd.read_parquet(artifact_dir / "oof_predictions.parquet")
    oof["date"] = pd.to_datetime(oof["date"]).dt.date
    mean = oof.groupby(["date", "symbol"], sort=True)[["score", "label"]].mean().reset_index()
    ic = information_coefficient(mean["score"].to_numpy(), mean["label"].to_numpy(), mean["date"], method="spearman")
    return mean[["date", "symbol", "score"]], ic


def champion_backtest(model: str, asof: dt.date | str, *, lake: Lake, scores_table: str, cache: Path | None = None) -> ChampionBacktest:
    """The champion's backtest through `asof`: OOS scores, then its own stored scores (see module doc)."""
    day = calendar.as_date(asof, "asof")
    version, local = champion_artifacts(model, cache=cache)
    oos, ic = oos_scores(local)
    oos = oos[oos["date"] <= day]
    live = lake.read(scores_table, max(oos["date"]) if len(oos) else day, day).to_pandas()
    live = live[live["model_version"] == version]
    live["date"] = pd.to_datetime(live["date"]).dt.date
    scores = pd.concat([oos[~oos["date"].isin(set(live["date"]))], live[["date", "symbol", "score"]]], ignore_index=True)
    if scores.empty:
        raise ValueError(f"{model} v{version} has no out-of-sample or stored score up to {day}")
    scores = scores.sort_values(["date", "symbol"], kind="stable")
    result = production_backtest(scores, production_market(lake, min(scores["date"]), day))
    weights = result.weights
    dates = result.returns_net.index
    capital = float(backtest_settings().capital)
    frame = pd.DataFrame({
        "asof": day,
        "date": list(dates),
        "ret_gross": result.returns_gross.reindex(dates).to_numpy(np.float64),
        "cost": result.costs.reindex(dates).to_numpy(np.float64),
        "borrow": result.borrow.reindex(dates).to_numpy(np.float64),
        "ret_net": result.returns_net.to_numpy(np.float64),
        "turnover": result.turnover.reindex(dates).to_numpy(np.float64),
        "gross_exposure": weights.abs().sum(axis=1).reindex(dates).to_numpy(np.float64),
        "net_exposure": weights.sum(axis=1).reindex(dates).to_numpy(np.float64),
        "equity": (result.equity.reindex(dates) / capital).to_numpy(np.float64),
        "model_version": version,
    })
    frame = frame[frame["date"] <= day].fillna({"cost": 0.0, "borrow": 0.0, "turnover": 0.0})
    return ChampionBacktest(version, day, frame[BACKTEST_COLUMNS].reset_index(drop=True), result, ic[ic.index <= day])
