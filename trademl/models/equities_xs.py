"""The equities_xs model: a deterministic LightGBM regression of a forward cross-sectional return (SSOT 6.1).

`train` fits on the rows of a training frame whose label is known at the as-of close (label end on
or before as-of), weighted by recency (`time_decay_weights`, half-life in XNYS sessions) times any
regime multipliers. `TrainedModel.predict` / `score_session` turn one session's features into the
scores the portfolio ranks; `save_model` / `load_model` round-trip the LightGBM text model, the
ordered feature list and the resolved training config.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from trademl import calendar
from trademl.models.dataset import label_ends, session_of, window_start
from trademl.models.settings import RegimeMask, TrainingConfig, label_horizon_of

MODEL_FILE = "model.txt"
FEATURE_FILE = "feature_list.json"
CONFIG_FILE = "training_cfg.json"


def time_decay_weights(dates: Sequence[dt.date] | pd.Series, asof: dt.date | str, half_life_sessions: float) -> np.ndarray:
    """Sample weights ``0.5 ** (k / half_life_sessions)``, k = XNYS sessions from each date to `asof`.

    1 at `asof`, 0.5 one half-life (in sessions, not rows or calendar days) earlier. Every date
    must be a session on or before `asof`.
    """
    if not half_life_sessions > 0:
        raise ValueError(f"half_life_sessions must be positive, got {half_life_sessions!r}")
    day = session_of(asof)
    sessions = calendar.all_sessions_index()
    stamps = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates)))
    pos = sessions.get_indexer(stamps)
    if (pos < 0).any():
        raise ValueError(f"{stamps[pos < 0][0].date()} is not an XNYS session")
    k = sessions.get_loc(pd.Timestamp(day)) - pos
    if (k < 0).any():
        raise ValueError(f"dates after asof {day}: {stamps[k < 0][0].date()}")
    return np.power(0.5, k / float(half_life_sessions))


def regime_weights(dates: Sequence[dt.date] | pd.Series, masks: Sequence[RegimeMask]) -> np.ndarray:
    """Product of the multipliers of the regime masks each date falls in (1 outside every mask)."""
    days = pd.to_datetime(pd.Series(dates)).to_numpy()
    out = np.ones(len(days))
    for mask in masks:  # a handful of configured ranges
        inside = (days >= np.datetime64(mask.start)) & (days <= np.datetime64(mask.end))
        out[inside] *= mask.weight
    return out


@dataclass
class TrainedModel:
    """A fitted booster with the ordered features it reads, its as-of session and how it was trained.

    `max_label_end` is the last session any training label reached (never after `asof`).
    """

    booster: lgb.Booster
    feature_list: list[str]
    asof: dt.date
    training_cfg: dict[str, Any] = field(default_factory=dict)
    max_label_end: dt.date | None = None

    def predict(self, features_df: pd.DataFrame) -> np.ndarray:
        """Predicted label of each row of `features_df` (its `feature_list` columns, NaN allowed), float64."""
        missing = [c for c in self.feature_list if c not in features_df.columns]
        if missing:
            raise ValueError(f"features_df lacks the model's features {missing[:5]}{'…' if len(missing) > 5 else ''}")
        X = features_df[self.feature_list].to_numpy(dtype=np.float64)
        return np.asarray(self.booster.predict(X, num_threads=int(self.training_cfg.get("threads", 1))), dtype=np.float64)


def training_rows(
    frame: pd.DataFrame, cfg: TrainingConfig, *, asof: dt.date, label: str, horizon: int
) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Which rows may train as of `asof` (label not NaN and ending on or before `asof`), their sample
    weights (recency x regime; 0 for the other rows) and every row's label end session."""
    ends = label_ends(frame["date"], horizon)
    keep = (ends <= asof).to_numpy() & frame[label].notna().to_numpy()
    if not keep.any():
        raise ValueError(f"no row of the frame has a {label} known at {asof}")
    weights = np.zeros(len(frame))
    dates = frame["date"].to_numpy()[keep]
    weights[keep] = time_decay_weights(dates, asof, cfg.time_decay_half_life_sessions) * regime_weights(dates, cfg.regime_masks)
    return keep, weights, ends


def booster_params(cfg: TrainingConfig, params: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], int]:
    """LightGBM training parameters (config base, then `params`), forced deterministic, and the rounds."""
    all_params = {**cfg.params_for(), **dict(params or {})}
    all_params.update(seed=cfg.seed, deterministic=True, force_row_wise=True, num_threads=cfg.threads, verbosity=-1)
    rounds = int(all_params.pop("num_boost_round", 100))
    return all_params, rounds


def dataset_params(cfg: TrainingConfig, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The binning parameters of a training Dataset (max_bin from the config or `params`)."""
    merged = {**cfg.lightgbm, **dict(params or {})}
    out = {"verbosity": -1, "num_threads": cfg.threads, "seed": cfg.seed}
    for key in ("max_bin", "min_data_in_bin", "min_data_in_leaf"):
        if key in merged:
            out[key] = merged[key]
    return out


def train(
    frame: pd.DataFrame,
    cfg: TrainingConfig,
    *,
    asof: dt.date | str,
    params: Mapping[str, Any] | None = None,
    label: str | None = None,
    horizon: int | None = None,
) -> TrainedModel:
    """Fit LightGBM on the rows of `frame` whose `label` (default cfg.label, `horizon` sessions ahead)
    ends on or before `asof` and is not NaN; later or unknown labels are dropped, never used.

    `params` override LightGBM parameters (a grid trial's); `num_boost_round` comes from them.
    Deterministic: the same frame and config give identical predictions.
    """
    day = session_of(asof)
    label = label or cfg.label
    horizon = horizon or (cfg.label_horizon_sessions if label == cfg.label else label_horizon_of(label))
    keep, weights, ends = training_rows(frame, cfg, asof=day, label=label, horizon=horizon)
    all_params, rounds = booster_params(cfg, params)
    data = lgb.Dataset(
        frame[list(cfg.features)].to_numpy(dtype=np.float64)[keep],
        label=frame[label].to_numpy(dtype=np.float64)[keep],
        weight=weights[keep],
        feature_name=list(cfg.features),
        params=dataset_params(cfg, params),
        free_raw_data=True,
    )
    booster = lgb.train(all_params, data, num_boost_round=rounds)
    first = min(frame["date"].to_numpy()[keep])
    resolved = {
        **cfg.to_dict(),
        "asof": day.isoformat(),
        "window": {"first": window_start(day, cfg.lookback_sessions).isoformat(), "last": day.isoformat(),
                   "first_row": first.isoformat(), "rows": int(keep.sum())},
        "trained_label": label,
        "trained_horizon": horizon,
        "params": {**all_params, "num_boost_round": rounds},
        "threads": cfg.threads,
    }
    return TrainedModel(booster, list(cfg.features), day, resolved, max(ends[keep]))


def score_session(model: TrainedModel, features_df: pd.DataFrame) -> pd.DataFrame:
    """Scores of ONE session: `date` (datetime.date), `symbol`, `score` (float64, no NaN), by symbol."""
    dates = pd.to_datetime(features_df["date"]).dt.date
    if dates.nunique() != 1:
        raise ValueError(f"score_session takes one session's features, got {dates.nunique()} sessions")
    day = dates.iloc[0]
    if day < model.asof:  # its label (ending after `day`) may be in the training set
        raise ValueError(f"the model is as of {model.asof}; scoring the earlier session {day} would use labels from after it")
    scores = model.predict(features_df)
    out = pd.DataFrame({"date": dates.to_numpy(), "symbol": features_df["symbol"].astype(str).to_numpy(), "score": scores})
    out = out[np.isfinite(out["score"].to_numpy())]
    return out.sort_values("symbol", kind="stable").reset_index(drop=True)


def save_model(model: TrainedModel, directory: str | os.PathLike) -> dict[str, Path]:
    """Write model.txt (LightGBM text), feature_list.json and training_cfg.json into `directory`."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"model": out / MODEL_FILE, "feature_list": out / FEATURE_FILE, "training_cfg": out / CONFIG_FILE}
    model.booster.save_model(str(paths["model"]))
    paths["feature_list"].write_text(json.dumps(model.feature_list, indent=1))
    meta = {**model.training_cfg, "max_label_end": model.max_label_end.isoformat() if model.max_label_end else None}
    paths["training_cfg"].write_text(json.dumps(meta, indent=1, sort_keys=True, default=str))
    return paths


def load_model(directory: str | os.PathLike) -> TrainedModel:
    """The TrainedModel saved in `directory` by save_model (predictions identical to the saved one)."""
    src = Path(directory)
    booster = lgb.Booster(model_file=str(src / MODEL_FILE))
    features = json.loads((src / FEATURE_FILE).read_text())
    meta = json.loads((src / CONFIG_FILE).read_text())
    end = meta.pop("max_label_end", None)
    return TrainedModel(booster, list(features), dt.date.fromisoformat(meta["asof"]), meta, dt.date.fromisoformat(end) if end else None)
