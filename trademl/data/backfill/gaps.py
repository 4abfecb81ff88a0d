"""GAP task planning: from one table's ledger rows to the tasks that repair its bad sessions.

`plan_gap_tasks` is pure (no I/O): one task per maximal run of consecutive bad sessions, split at
``audit.max_task_sessions``, for the whole session when most of its rows are bad, else per symbol.
`audit_scan` enqueues what it returns; kept apart from the audit's lake and ledger reads because
it is the one place the task windows (closed-open ``[first, next_session(last))``) are made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.data.backfill.tasks import _config, _section
from trademl.data.control import KIND_PRIORITY
from trademl.schemas import TABLE_DATASETS, table_spec


def plan_gap_tasks(
    table: str,
    status_rows: pd.DataFrame,
    sessions: Sequence[dt.date],
    *,
    vendor: str | None,
    cfg: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """GAP tasks for the bad sessions of `status_rows` (one table): one task per maximal run of
    consecutive bad sessions (split at ``audit.max_task_sessions``), symbol NULL when more than
    ``audit.whole_session_red_frac`` of the session's rows are bad, else per-symbol runs.
    Returns columns dataset, symbol, start_date, end_date (closed-open), kind, priority, vendor, tokens.
    """
    cfg = cfg or _config()
    audit = _section(cfg, "audit")
    bad_colors = set(audit.get("gap_colors", ["RED"]))
    whole_frac = float(audit["whole_session_red_frac"])
    max_len = int(audit["max_task_sessions"])
    if max_len < 1:
        raise ValueError("configs/backfill.yml audit.max_task_sessions must be >= 1")
    cols = ["dataset", "symbol", "start_date", "end_date", "kind", "priority", "vendor", "tokens"]
    if len(status_rows) == 0:
        return pd.DataFrame(columns=cols)
    order = pd.Index(sorted(set(sessions)))
    rows = pd.DataFrame(
        {
            "dt": status_rows["dt"].to_numpy(),
            "symbol": status_rows["symbol"].astype(object).to_numpy(),
            "bad": status_rows["status"].isin(bad_colors).to_numpy(),
        }
    )
    rows["pos"] = order.get_indexer(rows["dt"])
    rows = rows[rows["pos"] >= 0]
    per_session = rows.groupby("pos")["bad"].agg(["sum", "size"])
    per_session = per_session[per_session["sum"] > 0]
    whole_pos = per_session.index[(per_session["sum"] / per_session["size"]) > whole_frac]
    whole = pd.DataFrame({"symbol": None, "pos": np.asarray(whole_pos, dtype="int64")})
    named = rows[rows["bad"] & ~rows["pos"].isin(whole_pos) & rows["symbol"].notna()][["symbol", "pos"]]
    runs = pd.concat([whole, named], ignore_index=True)
    if runs.empty:
        return pd.DataFrame(columns=cols)
    runs["key"] = runs["symbol"].fillna("\x00")
    runs = runs.sort_values(["key", "pos"], kind="stable").reset_index(drop=True)
    new_run = (runs["key"] != runs["key"].shift()) | (runs["pos"].diff() != 1)
    runs["run"] = new_run.cumsum()
    runs["offset"] = runs.groupby("run").cumcount()
    runs["chunk"] = runs["offset"] // max_len
    g = runs.groupby(["run", "chunk"], sort=True).agg(
        symbol=("symbol", "first"), first=("pos", "min"), last=("pos", "max")
    )
    first = pd.DatetimeIndex(pd.to_datetime(order[g["first"].to_numpy()]))
    last = pd.DatetimeIndex(pd.to_datetime(order[g["last"].to_numpy()]))
    end = calendar.offset_sessions(last, 1)
    dataset = TABLE_DATASETS[table_spec(table).name]
    n_sessions = (g["last"] - g["first"] + 1).to_numpy()
    spt = _section(cfg, "tokens")["sessions_per_token"]
    per = float(spt.get(dataset, spt["default"]))
    return pd.DataFrame(
        {
            "dataset": dataset,
            "symbol": g["symbol"].astype(object).where(g["symbol"].notna(), None).to_numpy(),
            "start_date": first.date,
            "end_date": end.date,
            "kind": "GAP",
            "priority": KIND_PRIORITY["GAP"],
            "vendor": vendor,
            "tokens": np.maximum(1, np.ceil(n_sessions / per)).astype("int64"),
        }
    )[cols]
