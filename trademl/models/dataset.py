"""The frames a model trains and scores on, read point in time from the lake.

`training_frame` joins features/equities_xs to labels/equities_xs over the training window ending at
the as-of session and keeps only what is known at the as-of close: a label whose forward window
ends after as-of (k sessions after its date for a k-session label) is not observed yet, so it is
NaN, and a row without its model label is dropped. `scoring_frame` is one session's features.
`input_lineage` is the content hash of every partition version those reads used.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.data.lake import Lake
from trademl.models.settings import TrainingConfig, label_horizon_of, training_config
from trademl.schemas import EQUITIES_XS
from trademl.schemas.labels import EQUITIES_XS_LABELS

FEATURES = EQUITIES_XS.name
LABELS = EQUITIES_XS_LABELS.name
LABEL_END = "label_end"


def session_of(asof: dt.date | str) -> dt.date:
    """`asof` itself when it is an XNYS session, else the last session before it."""
    day = calendar.as_date(asof, "asof")
    return day if calendar.is_session(day) else calendar.previous_session(day).date()


def window_start(asof: dt.date, lookback_sessions: int) -> dt.date:
    """First session of the `lookback_sessions` sessions ending at `asof` (inclusive)."""
    return calendar.previous_session(asof, lookback_sessions - 1).date() if lookback_sessions > 1 else asof


def label_ends(dates: pd.Series, horizon: int) -> pd.Series:
    """The session each label ends: `horizon` XNYS sessions after its date (vectorised), as datetime.date."""
    ends = calendar.offset_sessions(pd.to_datetime(dates), horizon)
    return pd.Series(ends.date, index=dates.index)


def training_frame(lake: Lake, asof: dt.date | str, cfg: TrainingConfig | None = None) -> pd.DataFrame:
    """Features joined to labels over the `cfg.lookback_sessions` sessions ending at `asof`, known at `asof`.

    Columns: `date` (datetime.date), `symbol`, the feature columns of cfg (in order), every label
    column cfg trains on (`cfg.label_columns`; NaN where the label's window ends after `asof`) and
    `label_end` (the session `cfg.label` ends). Only rows whose `cfg.label` is observed (window
    ending on or before `asof`) are kept; sorted by date then symbol.
    """
    cfg = cfg or training_config()
    day = session_of(asof)
    first = window_start(day, cfg.lookback_sessions)
    features = lake.read(FEATURES, first, day, columns=["date", "symbol", *cfg.features]).to_pandas()
    labels = lake.read(LABELS, first, day, columns=["date", "symbol", *cfg.label_columns]).to_pandas()
    frame = features.merge(labels, on=["date", "symbol"], how="inner", validate="one_to_one")
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    if frame.empty:
        frame[LABEL_END] = pd.Series([], dtype=object)
        return frame
    for column in cfg.label_columns:
        horizon = cfg.label_horizon_sessions if column == cfg.label else label_horizon_of(column)
        unseen = (label_ends(frame["date"], horizon) > day).to_numpy()
        frame.loc[unseen, column] = np.nan
    frame[LABEL_END] = label_ends(frame["date"], cfg.label_horizon_sessions)
    frame = frame[frame[cfg.label].notna().to_numpy()]
    return frame.sort_values(["date", "symbol"], kind="stable").reset_index(drop=True)


def scoring_frame(lake: Lake, session: dt.date | str, cfg: TrainingConfig | None = None) -> pd.DataFrame:
    """The features of one session (`date`, `symbol`, the feature columns of cfg), sorted by symbol."""
    cfg = cfg or training_config()
    day = calendar.as_date(session, "session")
    frame = lake.read(FEATURES, day, day, columns=["date", "symbol", *cfg.features]).to_pandas()
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame.sort_values("symbol", kind="stable").reset_index(drop=True)


def input_lineage(lake: Lake, asof: dt.date | str, cfg: TrainingConfig | None = None) -> dict[str, dict[str, str]]:
    """Per input table, partition date (ISO) -> content hash of its latest version, over the training window.

    These are exactly the partition versions `training_frame(lake, asof, cfg)` reads (the latest of
    each); a revision of any of them changes this map and so the model card's data hash.
    """
    cfg = cfg or training_config()
    day = session_of(asof)
    first = window_start(day, cfg.lookback_sessions)
    out: dict[str, dict[str, str]] = {}
    for table in (FEATURES, LABELS):
        days = [d for d in lake.partitions(table) if first <= d <= day]
        out[table] = {d.isoformat(): lake.versions(table, d)[-1].content_hash for d in days}  # one manifest per partition
    return out
