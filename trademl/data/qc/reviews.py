"""Sessions whose latest version awaits review (a LARGE_REVISION) recorded AMBER in the ledger rows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import pandas as pd

from trademl import calendar


def apply_reviews(rows: pd.DataFrame, reviews: Mapping[dt.date, Mapping]) -> pd.DataFrame:
    """Ledger rows with the sessions whose latest version awaits review (`Lake.pending_reviews`,
    or the reviews a write just made) turned from GREEN to AMBER with the review's code.

    RED rows stay RED (missing data outranks a revision). The review itself (revised_frac,
    revised_rows, previous_rows, version, previous_version) goes to the ``detail`` column as JSON,
    so the share of rows the revision changed is in the ledger. Vectorised over all rows.
    """
    if rows is None or len(rows) == 0 or not reviews:
        return rows
    out = rows.copy()
    days = pd.Series(pd.to_datetime(out["dt"]).dt.date.to_numpy(), index=out.index)
    detail = days.map({calendar.as_date(d, "session"): json.dumps(dict(r), sort_keys=True) for d, r in reviews.items()})
    code = days.map({calendar.as_date(d, "session"): str(r.get("code", "LARGE_REVISION")) for d, r in reviews.items()})
    hit = (detail.notna() & (out["status"] != "RED")).to_numpy()
    if "detail" not in out.columns:
        out["detail"] = None
    out["detail"] = out["detail"].astype(object)
    out.loc[hit, "status"] = "AMBER"
    out.loc[hit, "qc_code"] = code[hit]
    out.loc[hit, "detail"] = detail[hit]
    return out
