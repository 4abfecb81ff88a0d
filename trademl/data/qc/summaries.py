"""Ledger rows summarised per session: the check-level colour, green share, row counts and qc codes.

RED if any row of the session is RED, AMBER if any is AMBER, else GREEN; a session without rows is
RED with NO_DATA. Vectorised over every session at once (`session_colors`, `summaries_by_session`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trademl.data.qc.rules import COLORS


@dataclass(frozen=True)
class PartitionSummary:
    """The colour of one session of one table, summarised over its ledger rows (all symbols)."""

    color: str
    green_frac: float
    row_count: int
    expected_rows: int
    qc_codes: list[str] = field(default_factory=list)


def summarize(status_rows: pd.DataFrame) -> PartitionSummary:
    """Summarise the ledger rows of ONE session: RED if any row is RED, AMBER if any is AMBER, else GREEN.

    No rows at all means nothing is known about the session: RED with code NO_DATA.
    green_frac is the share of rows that are GREEN; row counts are sums over the rows.
    """
    if status_rows is None or len(status_rows) == 0:
        return PartitionSummary("RED", 0.0, 0, 0, ["NO_DATA"])
    missing = [c for c in ("status", "row_count", "expected_rows", "qc_code") if c not in status_rows.columns]
    if missing:
        raise ValueError(f"status rows are missing columns {missing}")
    status = status_rows["status"].astype(str)
    unknown = set(status.unique()) - set(COLORS)
    if unknown:
        raise ValueError(f"unknown QC status {sorted(unknown)}; expected one of {COLORS}")
    color = "RED" if (status == "RED").any() else "AMBER" if (status == "AMBER").any() else "GREEN"
    codes = status_rows["qc_code"].dropna().astype(str).unique().tolist()
    return PartitionSummary(
        color=color,
        green_frac=float((status == "GREEN").mean()),
        row_count=int(pd.to_numeric(status_rows["row_count"], errors="coerce").fillna(0).sum()),
        expected_rows=int(pd.to_numeric(status_rows["expected_rows"], errors="coerce").fillna(0).sum()),
        qc_codes=sorted(codes),
    )


def session_colors(status_rows: pd.DataFrame) -> pd.DataFrame:
    """Per-session colour of ledger rows (vectorised `summarize`): columns dt, color, red_frac, n_rows."""
    if len(status_rows) == 0:
        return pd.DataFrame({"dt": [], "color": [], "red_frac": [], "n_rows": []})
    frame = pd.DataFrame(
        {
            "dt": status_rows["dt"].to_numpy(),
            "red": (status_rows["status"] == "RED").to_numpy(),
            "amber": (status_rows["status"] == "AMBER").to_numpy(),
        }
    )
    g = frame.groupby("dt", sort=True).agg(red=("red", "sum"), amber=("amber", "sum"), n_rows=("red", "size"))
    color = np.where(g["red"] > 0, "RED", np.where(g["amber"] > 0, "AMBER", "GREEN"))
    return pd.DataFrame(
        {"dt": g.index.to_numpy(), "color": color, "red_frac": (g["red"] / g["n_rows"]).to_numpy(), "n_rows": g["n_rows"].to_numpy()}
    )


def summaries_by_session(status_rows: pd.DataFrame, sessions: Sequence[dt.date]) -> dict[str, PartitionSummary]:
    """The check-level summary (colour, green_frac, row counts, qc codes) for each session.

    The vectorised form of `summarize` applied to each session's rows (one groupby).
    """
    if status_rows.empty:
        return {s.isoformat(): summarize(status_rows) for s in sessions}
    status = status_rows["status"].astype(str)
    unknown = set(status.unique()) - set(COLORS)
    if unknown:
        raise ValueError(f"unknown QC status {sorted(unknown)}; expected one of {COLORS}")
    frame = pd.DataFrame(
        {
            "dt": pd.to_datetime(status_rows["dt"]).dt.date.to_numpy(),
            "red": (status == "RED").to_numpy(),
            "amber": (status == "AMBER").to_numpy(),
            "green": (status == "GREEN").to_numpy(),
            "rows": pd.to_numeric(status_rows["row_count"], errors="coerce").fillna(0).to_numpy(),
            "expected": pd.to_numeric(status_rows["expected_rows"], errors="coerce").fillna(0).to_numpy(),
        }
    )
    g = frame.groupby("dt", sort=False).agg(
        red=("red", "any"), amber=("amber", "any"), green=("green", "mean"), rows=("rows", "sum"), expected=("expected", "sum")
    )
    codes = pd.DataFrame({"dt": frame["dt"], "code": status_rows["qc_code"].to_numpy()}).dropna(subset=["code"])
    codes["code"] = codes["code"].astype(str)
    code_lists = codes.drop_duplicates().groupby("dt", sort=False)["code"].agg(sorted).to_dict()
    out: dict[str, PartitionSummary] = {}
    for session in sessions:  # one iteration per session, reading precomputed aggregates
        if session not in g.index:
            out[session.isoformat()] = summarize(status_rows.iloc[0:0])
            continue
        r = g.loc[session]
        out[session.isoformat()] = PartitionSummary(
            color="RED" if r["red"] else "AMBER" if r["amber"] else "GREEN",
            green_frac=float(r["green"]),
            row_count=int(r["rows"]),
            expected_rows=int(r["expected"]),
            qc_codes=list(code_lists.get(session, [])),
        )
    return out
