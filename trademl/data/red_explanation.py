"""Why sessions are RED, in a few lines a user can act on: which sessions, which code, which vendor,
which symbols, and the vendor's own reason.

Every RED the CLI reports (`trademl ingest`, `trademl backfill run`, `trademl status --symbol`) goes
through `explain_red`, one line per contiguous range of XNYS sessions that share a cause::

    2024-01-02..2024-03-28: NO_DATA from synthetic for AAPL, MSFT (UNKNOWN_SYMBOL: not in the synthetic
    universe; its symbols are SYN001..SYN050, see `trademl symbols`)

The cause of a ledger row is its ``qc_code`` and ``source_name`` plus a reason: the ledger's
``detail`` (the vendor's "QC_CODE: message" for the session, written at ingest by
`with_vendor_reasons`), else a reason the caller holds for the session (a run's `failed_sessions`),
else what the qc_code means. A symbol-less row (the whole session) names the symbols the caller
asked for, when it knows them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from trademl import calendar

# What a ledger qc_code means when neither the ledger nor the vendor gave a reason.
_CODE_HINTS = {
    "NO_DATA": "the vendor returned no rows: the range may precede its history, or the symbols not trade then",
    "MISSING_ROWS": "fewer rows than the session's expected bars",
    "VENDOR_OUTAGE": "the vendor failed; the backfill queue retries it",
    "CHECKSUM_MISMATCH": "the stored partition no longer matches its checksum; re-fetched by the audit's GAP task",
}
MAX_NAMED_SYMBOLS = 5  # symbols named per line before "and N more"
MAX_LINES = 8  # lines before "and N more ranges"


def _named(symbols: Sequence[str], limit: int = MAX_NAMED_SYMBOLS) -> str:
    """`symbols` (sorted, distinct) as "A, B, C and 4 more"."""
    more = len(symbols) - limit
    return ", ".join(symbols[:limit]) + (f" and {more} more" if more > 0 else "")


def symbol_span(symbols: Sequence[str], limit: int = MAX_NAMED_SYMBOLS) -> str:
    """A listing of symbols in a few characters: all of them when few, else "FIRST..LAST (n symbols)"."""
    names = sorted({str(s) for s in symbols})
    if len(names) <= limit:
        return ", ".join(names)
    return f"{names[0]}..{names[-1]} ({len(names)} symbols)"


def _without_repeated_code(reasons: pd.Series, codes: pd.Series) -> pd.Series:
    """Vendor reasons ("QC_CODE: message") with their leading "QC_CODE: " dropped where it repeats
    the row's own qc_code (vectorised)."""
    parts = reasons.str.extract(r"^([A-Z][A-Z_]*):\s*(.*)$", expand=True)
    repeated = (parts[0] == codes).to_numpy()
    return reasons.where(~repeated, parts[1])


def with_vendor_reasons(rows: pd.DataFrame, reasons: Mapping[str, str]) -> pd.DataFrame:
    """Status rows with the vendor's reason for their session ("YYYY-MM-DD" -> "QC_CODE: message") in
    ``detail`` where they are RED and have no detail yet, so the ledger itself says why a session is RED."""
    if not reasons or len(rows) == 0:
        return rows
    why = pd.to_datetime(rows["dt"]).dt.strftime("%Y-%m-%d").map(dict(reasons))
    current = rows["detail"] if "detail" in rows.columns else pd.Series(None, index=rows.index, dtype=object)
    hit = (rows["status"] == "RED").to_numpy() & why.notna().to_numpy() & current.isna().to_numpy()
    if not hit.any():
        return rows
    out = rows.copy()
    out["detail"] = current.astype(object).where(~hit, why)
    return out


def red_ranges(
    rows: pd.DataFrame,
    vendor_reasons: Mapping[str, str] | None = None,
    *,
    requested_symbols: Sequence[str] | None = None,
) -> pd.DataFrame:
    """RED ledger rows grouped into contiguous session ranges that share a cause.

    `rows`: ledger rows (columns dt, symbol, status, qc_code, source_name and optionally detail;
    non-RED rows are ignored). Returns one row per range with columns first, last ("YYYY-MM-DD"),
    sessions (XNYS sessions in the range), qc_code, source_name, reason and symbols (a sorted tuple;
    empty: the whole session, no symbol named), ordered by first session then code.
    """
    cols = ["first", "last", "sessions", "qc_code", "source_name", "reason", "symbols"]
    red = rows[rows["status"] == "RED"] if "status" in rows.columns else rows
    if len(red) == 0:
        return pd.DataFrame(columns=cols)
    days = pd.to_datetime(red["dt"])
    code = red["qc_code"].astype(object).where(red["qc_code"].notna(), "RED").astype(str)
    detail = red["detail"] if "detail" in red.columns else pd.Series(None, index=red.index, dtype=object)
    said = days.dt.strftime("%Y-%m-%d").map(dict(vendor_reasons or {}))
    hint = code.map(_CODE_HINTS)
    reason = detail.where(detail.notna(), said).where(lambda r: r.notna(), hint).fillna("see `trademl status --table T --symbol S`")
    reason = _without_repeated_code(reason.astype(str), code)
    frame = pd.DataFrame(
        {
            "pos": calendar.all_sessions_index().get_indexer(days.dt.normalize()),
            "day": days.dt.strftime("%Y-%m-%d").to_numpy(),
            "symbol": red["symbol"].astype(object).where(red["symbol"].notna(), "").to_numpy(),
            "qc_code": code.to_numpy(),
            "source_name": red["source_name"].astype(str).to_numpy() if "source_name" in red.columns else "",
            "reason": reason.to_numpy(),
        }
    ).drop_duplicates(["pos", "symbol", "qc_code", "source_name", "reason"])
    keys = ["qc_code", "source_name", "reason", "symbol"]
    frame = frame.sort_values([*keys, "pos"], kind="stable").reset_index(drop=True)
    same_key = (frame[keys] == frame[keys].shift()).all(axis=1)
    frame["run"] = (~(same_key & (frame["pos"].diff() == 1))).cumsum()
    runs = frame.groupby("run", sort=False).agg(
        first=("day", "first"), last=("day", "last"), sessions=("pos", "size"),
        qc_code=("qc_code", "first"), source_name=("source_name", "first"), reason=("reason", "first"), symbol=("symbol", "first"),
    )
    grouped = runs.groupby(["first", "last", "sessions", "qc_code", "source_name", "reason"], sort=False)["symbol"]
    out = grouped.agg(lambda s: tuple(sorted(x for x in set(s) if x))).rename("symbols").reset_index()
    out = out.sort_values(["first", "qc_code", "last"], kind="stable").reset_index(drop=True)
    if requested_symbols:
        whole = out["symbols"].map(len) == 0
        out.loc[whole, "symbols"] = pd.Series([tuple(sorted(set(requested_symbols)))] * int(whole.sum()), index=out.index[whole])
    return out[cols]


def describe_range(row: Mapping[str, object]) -> str:
    """One range of `red_ranges` as a line: "first..last: CODE from vendor for A, B (reason)"."""
    span = str(row["first"]) if row["first"] == row["last"] else f"{row['first']}..{row['last']}"
    symbols = list(row["symbols"])  # type: ignore[arg-type]
    who = f" for {_named(symbols)}" if symbols else ""
    source = f" from {row['source_name']}" if row["source_name"] else ""
    return f"{span}: {row['qc_code']}{source}{who} ({row['reason']})"


def explain_red(
    rows: pd.DataFrame,
    vendor_reasons: Mapping[str, str] | None = None,
    *,
    requested_symbols: Sequence[str] | None = None,
    max_lines: int = MAX_LINES,
) -> list[str]:
    """The RED rows of `rows` as lines (`describe_range`), earliest range first, at most `max_lines`
    (then one "and N more ranges" line)."""
    ranges = red_ranges(rows, vendor_reasons, requested_symbols=requested_symbols)
    lines = [describe_range(r) for r in ranges.head(max_lines).to_dict("records")]
    more = len(ranges) - max_lines
    if more > 0:
        lines.append(f"and {more} more range{'s' if more > 1 else ''} (see `trademl status --table T --symbol S`)")
    return lines


def missing_symbols(requested: Sequence[str] | None, stored: Iterable[str], listed: Iterable[str] | None) -> list[str]:
    """Requested symbols with no stored row at all, sorted; when the vendor's listing is known only
    those it does not list (a listed symbol without rows has RED ledger rows that say why)."""
    if not requested:
        return []
    have = set(stored)
    out = sorted({s for s in requested if s not in have})
    if listed is not None:
        known = set(listed)
        out = [s for s in out if s not in known]
    return out


def describe_sessions(rows: pd.DataFrame) -> pd.DataFrame:
    """One symbol's ledger rows as contiguous ranges of the same status and code: columns first, last,
    sessions, status, qc_code, source_name, detail and whole_session (True: symbol-less rows, which
    judge the whole session rather than this symbol) — for `trademl status --table T --symbol S`."""
    cols = ["first", "last", "sessions", "status", "qc_code", "source_name", "detail", "whole_session"]
    if len(rows) == 0:
        return pd.DataFrame(columns=cols)
    days = pd.to_datetime(rows["dt"])
    detail = rows["detail"] if "detail" in rows.columns else pd.Series(None, index=rows.index, dtype=object)
    frame = pd.DataFrame(
        {
            "pos": calendar.all_sessions_index().get_indexer(days.dt.normalize()),
            "day": days.dt.strftime("%Y-%m-%d").to_numpy(),
            "status": rows["status"].astype(str).to_numpy(),
            "qc_code": rows["qc_code"].astype(object).where(rows["qc_code"].notna(), "").to_numpy(),
            "source_name": rows["source_name"].astype(str).to_numpy(),
            "detail": detail.astype(object).where(detail.notna(), "").to_numpy(),
            "whole_session": rows["symbol"].isna().to_numpy(),
        }
    ).sort_values("pos", kind="stable").reset_index(drop=True)
    keys = ["status", "qc_code", "source_name", "detail", "whole_session"]
    same = (frame[keys] == frame[keys].shift()).all(axis=1) & (frame["pos"].diff() == 1)
    frame["run"] = np.cumsum(~same.to_numpy())
    out = frame.groupby("run", sort=True).agg(
        first=("day", "first"), last=("day", "last"), sessions=("pos", "size"),
        status=("status", "first"), qc_code=("qc_code", "first"), source_name=("source_name", "first"), detail=("detail", "first"),
        whole_session=("whole_session", "first"),
    )
    return out.reset_index(drop=True)[cols]


def session_span(first: dt.date | str | None, last: dt.date | str | None) -> str:
    """"first..last" (or "-" when nothing is stored)."""
    if first is None or last is None:
        return "-"
    return str(first) if str(first) == str(last) else f"{first}..{last}"
