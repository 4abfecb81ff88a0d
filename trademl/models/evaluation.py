"""CPCV evaluation of the equities_xs trials: OOS paths, net strategy returns, IC, PBO and DSR (SSOT 6.2).

For every trial of the grid (the genuinely different configurations counted for PBO/DSR) and every
CPCV split, a model is trained on the split's purged and embargoed rows (purge by label end across
all symbols: a row's label ends `horizon` sessions after its date) and predicts the split's test
groups; the splits recombine into `n_paths` full out-of-sample paths. The injected `strategy` maps
one path's scores (long `date, symbol, score`) to net daily returns (the production portfolio and
backtest, which this layer may not import). Conventions:

* a trial's Sharpe is the mean over its paths of the annualised (x sqrt 252) Sharpe of net daily
  returns; the selected trial has the best one; `oos_sharpe_net` = `path_sharpe_mean` is it;
* `max_drawdown` is the worst path's drawdown of compounded net returns (positive fraction);
* PBO (CSCV) runs on the T x n_trials matrix of each trial's net returns averaged over its paths;
* DSR: per-period Sharpe of the selected trial against SR_0 = expected max of n_trials skill-less
  Sharpes with the variance of the trials' per-period Sharpes (ddof 1), skew and non-excess
  kurtosis of its pooled path returns, n_obs the sessions of a path; `dsr_margin` = (SR - SR_0)
  annualised;
* IC / rank IC per session against the model label (`cfg.label`), averaged over the paths of the
  selected trial; the t-stat is mean / std (ddof 1) * sqrt(sessions).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy import stats

from trademl import calendar
from trademl.models.cards import model_card, write_model_card
from trademl.models.dataset import session_of
from trademl.models.equities_xs import TrainedModel, booster_params, dataset_params, save_model, train, training_rows
from trademl.models.onnx_export import to_onnx
from trademl.models.settings import TrainingConfig, Trial
from trademl.validation.cpcv import CombinatorialPurgedKFold
from trademl.validation.dsr import deflated_sharpe_ratio, expected_max_sharpe
from trademl.validation.metrics import information_coefficient, max_drawdown, sharpe_ratio
from trademl.validation.pbo import PBOResult, probability_of_backtest_overfitting

PERIODS_PER_YEAR = 252
Strategy = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class CpcvReport:
    """What run_cpcv measured. `metrics`: the flat contract dict (floats). `selected`: the winning trial.

    `trial_sharpes`: trial x path annualised net Sharpes. `trial_returns`: sessions x trials, each
    trial's net daily returns averaged over its paths (the PBO matrix). `path_returns`: sessions x
    paths of the selected trial. `oof`: the selected trial's OOS predictions (`path, date, symbol,
    score, label`). `ic`: per session `ic` and `rank_ic` of the selected trial (path mean).
    """

    metrics: dict[str, float]
    selected: Trial
    trial_sharpes: pd.DataFrame
    trial_returns: pd.DataFrame
    path_returns: pd.DataFrame
    oof: pd.DataFrame
    ic: pd.DataFrame
    pbo: PBOResult
    asof: dt.date


def _t_stat(values: pd.Series) -> float:
    v = values.dropna().to_numpy()
    if v.size < 2 or v.std(ddof=1) == 0:
        return math.nan
    return float(v.mean() / v.std(ddof=1) * math.sqrt(v.size))


def _oos_paths(frame: pd.DataFrame, X: np.ndarray, cfg: TrainingConfig, trial: Trial, cv: CombinatorialPurgedKFold,
               times: pd.Series, asof: dt.date) -> np.ndarray:
    """(rows x n_paths) OOS predictions of `trial`: one booster per split, trained on its purged and
    embargoed rows whose label is known at `asof`.

    The rows are binned once per trial (one LightGBM Dataset over all rows, features only: the bin
    edges see no label) and each split trains on a subset of it, which skips re-binning 28 times.
    """
    keep, weights, _ = training_rows(frame, cfg, asof=asof, label=trial.label, horizon=trial.horizon)
    y = np.nan_to_num(frame[trial.label].to_numpy(dtype=np.float64))  # NaN labels are never in a subset
    params, rounds = booster_params(cfg, trial.params)
    full = lgb.Dataset(X, label=y, weight=weights, feature_name=list(cfg.features),
                       params=dataset_params(cfg, trial.params), free_raw_data=False).construct()
    t1 = pd.Series(calendar.offset_sessions(times, trial.horizon), index=frame.index)
    preds = []
    for train_idx, test_idx in cv.split(X, times=times, t1=t1):  # C(N, k) splits
        used = train_idx[keep[train_idx]]
        booster = lgb.train(params, full.subset(np.sort(used).tolist()), num_boost_round=rounds)
        preds.append(np.asarray(booster.predict(X[test_idx], num_threads=cfg.threads), dtype=np.float64))
    return cv.backtest_paths(preds, times=times)


def run_cpcv(frame: pd.DataFrame, cfg: TrainingConfig, *, strategy: Strategy, asof: dt.date | str | None = None) -> CpcvReport:
    """CPCV of every trial of `cfg.grid` on `frame` (a training frame), scored by `strategy`.

    `asof` (default: the session the last row's model label ends) anchors the time-decay weights;
    rows whose label ends after it are never trained on. The number of groups follows
    `cfg.cpcv.groups_for(sessions)` (fewer when the window cannot give each split's test set
    `min_test_sessions` sessions); `metrics["n_groups"]` says what was used.
    """
    frame = frame.sort_values(["date", "symbol"], kind="stable").reset_index(drop=True)
    times = pd.Series(pd.to_datetime(frame["date"]).to_numpy(), index=frame.index)
    last = times.max()
    day = session_of(asof) if asof is not None else calendar.next_session(last, cfg.label_horizon_sessions).date()
    n_sessions = int(times.nunique())
    n_groups = cfg.cpcv.groups_for(n_sessions)
    cv = CombinatorialPurgedKFold(n_groups, cfg.cpcv.n_test_groups, cfg.cpcv.embargo_sessions)
    keys = frame[["date", "symbol"]]
    X = frame[list(cfg.features)].to_numpy(dtype=np.float64)

    sharpes: dict[str, list[float]] = {}
    mean_returns: dict[str, pd.Series] = {}
    per_trial: dict[str, tuple[np.ndarray, pd.DataFrame]] = {}
    for trial in cfg.grid:  # the handful of configured trials
        paths = _oos_paths(frame, X, cfg, trial, cv, times, day)
        returns = pd.DataFrame({p: strategy(keys.assign(score=paths[:, p])) for p in range(cv.n_paths)}).sort_index()
        sharpes[trial.name] = [sharpe_ratio(returns[p].to_numpy(), periods_per_year=PERIODS_PER_YEAR) for p in range(cv.n_paths)]
        mean_returns[trial.name] = returns.mean(axis=1)
        per_trial[trial.name] = (paths, returns)

    trial_sharpes = pd.DataFrame(sharpes).T
    trial_sharpes.columns.name = "path"
    best = str(trial_sharpes.mean(axis=1).idxmax())
    selected = next(t for t in cfg.grid if t.name == best)
    paths, path_returns = per_trial[best]
    trial_returns = pd.DataFrame(mean_returns).dropna()
    pbo = probability_of_backtest_overfitting(trial_returns.to_numpy(), n_partitions=cfg.pbo_partitions)

    label = frame[cfg.label].to_numpy(dtype=np.float64)
    ic = pd.concat(
        [information_coefficient(paths[:, p], label, frame["date"], method="pearson") for p in range(cv.n_paths)], axis=1
    ).mean(axis=1)
    rank_ic = pd.concat(
        [information_coefficient(paths[:, p], label, frame["date"], method="spearman") for p in range(cv.n_paths)], axis=1
    ).mean(axis=1)

    per_period = trial_sharpes.mean(axis=1) / math.sqrt(PERIODS_PER_YEAR)
    sr = float(per_period[best])
    sr_var = float(per_period.var(ddof=1)) if len(per_period) > 1 else 0.0
    pooled = path_returns.to_numpy().ravel()
    pooled = pooled[np.isfinite(pooled)]
    n_obs = int(path_returns.notna().sum(axis=0).min())
    sr0 = expected_max_sharpe(len(cfg.grid), sr_var) if math.isfinite(sr_var) else float("nan")
    if n_obs > 2 and math.isfinite(sr) and math.isfinite(sr0) and float(np.std(pooled)) > 0.0:
        skew = float(stats.skew(pooled))
        kurt = float(stats.kurtosis(pooled, fisher=False))
        dsr = deflated_sharpe_ratio(sr, n_obs, skew, kurt, len(cfg.grid), sr_var)
    else:  # a book that never moved (no names to trade, no return variance) has no Sharpe to deflate
        dsr = float("nan")
    path_sharpes = trial_sharpes.loc[best].to_numpy(dtype=np.float64)

    metrics = {
        "oos_sharpe_net": float(path_sharpes.mean()),
        "max_drawdown": float(max(max_drawdown(path_returns[p].to_numpy()) for p in path_returns.columns)),
        "dsr": float(dsr),
        "dsr_margin": float((sr - sr0) * math.sqrt(PERIODS_PER_YEAR)),
        "pbo": float(pbo.pbo),
        "n_trials": float(len(cfg.grid)),
        "rank_ic_mean": float(rank_ic.mean()),
        "rank_ic_tstat": _t_stat(rank_ic),
        "ic_mean": float(ic.mean()),
        "ic_tstat": _t_stat(ic),
        "n_paths": float(cv.n_paths),
        "path_sharpe_mean": float(path_sharpes.mean()),
        "path_sharpe_std": float(path_sharpes.std(ddof=1)) if path_sharpes.size > 1 else 0.0,
        "n_groups": float(n_groups),
        "n_splits": float(cv.n_combinations),
        "n_sessions": float(n_sessions),
        "n_rows": float(len(frame)),
    }
    oof = pd.concat(
        [pd.DataFrame({"path": p, "date": frame["date"].to_numpy(), "symbol": frame["symbol"].to_numpy(),
                       "score": paths[:, p], "label": label}) for p in range(cv.n_paths)],
        ignore_index=True,
    )
    return CpcvReport(
        metrics=metrics,
        selected=selected,
        trial_sharpes=trial_sharpes,
        trial_returns=trial_returns,
        path_returns=path_returns,
        oof=oof,
        ic=pd.DataFrame({"ic": ic, "rank_ic": rank_ic}),
        pbo=pbo,
        asof=day,
    )


def write_artifacts(
    model: TrainedModel,
    report: CpcvReport,
    directory: str | os.PathLike,
    *,
    lineage: Mapping[str, Mapping[str, str]] | None = None,
    frame: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """The contract's artifact directory: model.txt, model.onnx, feature_list.json, training_cfg.json,
    oof_predictions.parquet, model_card.json and model_card.md. Returns name -> path."""
    out = Path(directory)
    paths = save_model(model, out)
    cfg_doc = json.loads(paths["training_cfg"].read_text())
    cfg_doc["selected_trial"] = report.selected.name
    paths["training_cfg"].write_text(json.dumps(cfg_doc, indent=1, sort_keys=True, default=str))
    paths["onnx"] = out / "model.onnx"
    paths["onnx"].write_bytes(to_onnx(model))
    paths["oof_predictions"] = out / "oof_predictions.parquet"
    report.oof.to_parquet(paths["oof_predictions"], index=False)
    card = model_card(
        model_id=str(model.training_cfg.get("model", "equities_xs")),
        event="train",
        asof=model.asof,
        window=model.training_cfg.get("window", {}),
        features=model.feature_list,
        params={"trial": report.selected.name, **model.training_cfg.get("params", {})},
        metrics=report.metrics,
        lineage=lineage,
        frame=frame,
    )
    paths["model_card_json"], paths["model_card_md"] = write_model_card(card, out)
    return paths


def train_and_evaluate(
    frame: pd.DataFrame,
    cfg: TrainingConfig,
    *,
    asof: dt.date | str,
    strategy: Strategy,
    out_dir: str | os.PathLike,
    lineage: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[TrainedModel, CpcvReport, dict[str, Path]]:
    """CPCV over the grid, then the selected trial trained on the whole frame as of `asof`, its
    artifacts written to `out_dir` (the one call of the training asset)."""
    day = session_of(asof)
    report = run_cpcv(frame, cfg, strategy=strategy, asof=day)
    trial = report.selected
    model = train(frame, cfg, asof=day, params=trial.params, label=trial.label, horizon=trial.horizon)
    paths = write_artifacts(model, report, out_dir, lineage=lineage, frame=frame)
    return model, report, paths


def artifact_summary(paths: Mapping[str, Path]) -> dict[str, Any]:
    """Name -> (path, bytes) of written artifacts, for logs and asset metadata."""
    return {name: {"path": str(p), "bytes": p.stat().st_size} for name, p in paths.items()}


def evaluate_trial(
    frame: pd.DataFrame, cfg: TrainingConfig, trial: Trial, *, strategy: Strategy, asof: dt.date | str
) -> dict[str, float]:
    """One configuration (e.g. the champion's) on exactly the CPCV paths `run_cpcv(frame, cfg, ...)` uses:
    the same sort, groups, embargo and purge, scored by the same `strategy`. Returns its
    `oos_sharpe_net` (mean path Sharpe, annualised), `max_drawdown` (worst path), `path_sharpe_std`
    and `rank_ic_mean`, so a challenger and a champion are compared on the same paths (SSOT 6.4)."""
    if trial.label not in frame.columns:
        raise ValueError(f"trial {trial.name} trains on {trial.label!r}, which the frame does not hold")
    frame = frame.sort_values(["date", "symbol"], kind="stable").reset_index(drop=True)
    times = pd.Series(pd.to_datetime(frame["date"]).to_numpy(), index=frame.index)
    cv = CombinatorialPurgedKFold(cfg.cpcv.groups_for(int(times.nunique())), cfg.cpcv.n_test_groups, cfg.cpcv.embargo_sessions)
    X = frame[list(cfg.features)].to_numpy(dtype=np.float64)
    paths = _oos_paths(frame, X, cfg, trial, cv, times, session_of(asof))
    keys = frame[["date", "symbol"]]
    returns = pd.DataFrame({p: strategy(keys.assign(score=paths[:, p])) for p in range(cv.n_paths)}).sort_index()
    sharpes = np.array([sharpe_ratio(returns[p].to_numpy(), periods_per_year=PERIODS_PER_YEAR) for p in range(cv.n_paths)])
    label = frame[cfg.label].to_numpy(dtype=np.float64)
    rank_ic = pd.concat(
        [information_coefficient(paths[:, p], label, frame["date"], method="spearman") for p in range(cv.n_paths)], axis=1
    ).mean(axis=1)
    return {
        "oos_sharpe_net": float(sharpes.mean()),
        "max_drawdown": float(max(max_drawdown(returns[p].to_numpy()) for p in returns.columns)),
        "path_sharpe_std": float(sharpes.std(ddof=1)) if sharpes.size > 1 else 0.0,
        "rank_ic_mean": float(rank_ic.mean()),
    }
