"""QC of ingested sessions: the symbols each session must hold and its ledger rows.

`expected_symbols_by_session` reads reference/universe (falling back to the vendor's listing);
`evaluate_sessions` turns stored (or just staged) row counts, rejected payloads and vendor
failures into ledger rows with one vectorised `qc.evaluate_partitions` call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from trademl.data import qc
from trademl.data.connectors.base import PAYLOAD_FAULT_CODES, VendorError
from trademl.data.lake import Lake
from trademl.schemas import TableSpec, self_describing_tables, table_spec

# Tables whose expected symbols are not taken from reference/universe (TableSpec.self_describing).
_SELF_DESCRIBING = self_describing_tables()


def expected_symbols_by_session(
    lake: Lake,
    table: str,
    sessions: Sequence[dt.date],
    symbols: Sequence[str] | None,
    *,
    vendor_universe: Callable[[dt.date], list[str]] | None = None,
) -> dict[dt.date, list[str] | None]:
    """Symbols each session must contain: reference/universe's listed names (or the requested subset).

    ``None`` means the table is not symbol-complete by construction (reference tables, macro), so
    QC judges presence only. A session the stored universe does not cover falls back to the
    vendor's own listing (`vendor_universe`), then to the requested symbols, then to presence only.
    """
    if table in _SELF_DESCRIBING:
        return {s: (list(symbols) if symbols else None) for s in sessions}
    if not sessions:
        return {}
    uni = lake.read("reference/universe", start=min(sessions), end=max(sessions), columns=["date", "symbol", "is_listed"])
    frame = uni.to_pandas()
    covered = set(pd.to_datetime(frame["date"]).dt.date) if len(frame) else set()
    frame = frame[frame["is_listed"].astype(bool)] if len(frame) else frame
    if symbols and len(frame):
        frame = frame[frame["symbol"].isin(set(symbols))]
    grouped: dict[dt.date, list[str]] = {}
    if len(frame):
        days = pd.to_datetime(frame["date"]).dt.date
        grouped = {d: sorted(g.tolist()) for d, g in frame["symbol"].groupby(days)}
    out: dict[dt.date, list[str] | None] = {}
    for s in sessions:
        if s in covered:
            out[s] = grouped.get(s, [])
        else:
            out[s] = _fallback_symbols(s, symbols, vendor_universe)
    return out


def _fallback_symbols(
    session: dt.date, symbols: Sequence[str] | None, vendor_universe: Callable[[dt.date], list[str]] | None
) -> list[str] | None:
    listed: list[str] | None = None
    if vendor_universe is not None:
        try:
            listed = sorted(vendor_universe(session))
        except VendorError:
            listed = None
    if listed is not None and symbols:
        return sorted(set(listed) & set(symbols))
    if listed is not None:
        return listed
    return list(symbols) if symbols else None


def evaluate_sessions(
    lake: Lake,
    table: str,
    sessions: Sequence[dt.date],
    *,
    source_name: str,
    symbols: Sequence[str] | None = None,
    rejected: dict[str, str] | None = None,
    failed: dict[str, str] | None = None,
    vendor_universe: Callable[[dt.date], list[str]] | None = None,
    written_counts: pd.DataFrame | None = None,
    expected: Mapping[dt.date, list[str] | None] | None = None,
) -> pd.DataFrame:
    """QC status rows for stored partitions of `table` over `sessions` (one vectorised evaluation).

    A rejected payload marks the session's expected symbols RED with its qc_code; a session the
    vendor failed to serve marks the symbols it lacks RED with the vendor's code (VENDOR_OUTAGE…).
    `written_counts` (dt, symbol, rows) gives the stored row counts of partitions the caller just
    wrote (or staged); every other session is read from the lake. `expected` (session -> symbols,
    as `expected_symbols_by_session` returns) saves reading the universe again. Rows come grouped
    by session in `sessions` order.
    """
    rejected = rejected or {}
    failed = failed or {}
    if not sessions:
        return pd.DataFrame()
    spec = table_spec(table)
    universe_expected = spec.name in qc.qc_rules().universe_expected_tables
    if expected is None:
        expected = expected_symbols_by_session(lake, table, sessions, symbols, vendor_universe=vendor_universe)
    known = written_counts if written_counts is not None else pd.DataFrame({"dt": [], "symbol": [], "rows": []})
    known_days = set(known["dt"]) if len(known) else set()
    present_by_day = _written_symbols(known, spec)
    counts_parts = [known] if len(known) else []
    forced_rows: list[tuple[dt.date, str | None, str]] = []
    for session in sessions:
        stored: pa.Table | None = None
        if session not in known_days:
            stored = lake.read_partition(table, session)
            counts_parts.append(qc.stored_counts(stored, table, session=session))
        codes = _session_codes(session, expected[session], rejected, failed, stored, known, present_by_day)
        forced_rows.extend((session, sym if universe_expected else None, str(c)) for sym, c in codes.items())
    counts = pd.concat(counts_parts, ignore_index=True) if counts_parts else None
    forced = pd.DataFrame(forced_rows, columns=["dt", "symbol", "qc_code"]) if forced_rows else None
    pairs = _expected_pairs(expected, sessions) if universe_expected else None
    rows = qc.evaluate_partitions(table, sessions, counts, source_name=source_name, expected=pairs, present=None, forced=forced)
    return _in_session_order(rows, sessions)


def _written_symbols(known: pd.DataFrame, spec: TableSpec) -> dict[dt.date, set]:
    """Per session of the caller's counts, the symbols (values of the table's symbol column) with rows."""
    if len(known) and spec.symbol_column is not None:
        return {d: set(g) for d, g in known.loc[known["rows"] > 0, "symbol"].groupby(known["dt"])}
    return {}


def _session_codes(
    session: dt.date,
    exp: list[str] | None,
    rejected: Mapping[str, str],
    failed: Mapping[str, str],
    stored: pa.Table | None,
    known: pd.DataFrame,
    present_by_day: Mapping[dt.date, set],
) -> dict[str | None, str]:
    """The forced RED codes of one session, symbol (None = the whole session) -> qc_code.

    A rejected payload condemns the expected symbols; so does a vendor failure with a payload code
    (even over stored rows); any other vendor failure marks only what is still missing. `stored` is
    the session's partition read from the lake, None when the caller wrote or staged it (then its
    counts in `known` / `present_by_day` are judged: the new version is not yet visible).
    """
    key = session.isoformat()
    if key in rejected:
        return dict.fromkeys(exp or [None], _reason_code(rejected[key], "SCHEMA_VIOLATION"))
    if key not in failed:
        return {}
    code = _reason_code(failed[key], "VENDOR_OUTAGE")
    if code in PAYLOAD_FAULT_CODES:
        return dict.fromkeys(exp or [None], code)
    if stored is None:
        present = present_by_day.get(session, set())
    else:
        present = set(stored.column("symbol").to_pylist()) if "symbol" in stored.column_names else set()
    if exp is not None:
        missing: list[str | None] = [s for s in exp if s not in present]
    else:
        missing = [None] if _stored_rows(stored, known, session) == 0 else []
    return dict.fromkeys(missing, code)


def _expected_pairs(expected: Mapping[dt.date, list[str] | None], sessions: Sequence[dt.date]) -> pd.DataFrame | None:
    """The (dt, symbol) pairs the sessions must hold, or None when no session expects a symbol."""
    lists = [(s, expected[s]) for s in sessions if expected[s]]
    if not lists:
        return None
    return pd.DataFrame({"dt": [d for d, exp in lists for _ in exp], "symbol": [str(x) for _, exp in lists for x in exp]})


def _in_session_order(rows: pd.DataFrame, sessions: Sequence[dt.date]) -> pd.DataFrame:
    """`rows` grouped by session in `sessions` order (stable within a session)."""
    order = {pd.Timestamp(s).date(): i for i, s in enumerate(sessions)}
    rank = rows["dt"].map(order).to_numpy()
    return rows.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def _stored_rows(stored: pa.Table | None, known: pd.DataFrame, session: dt.date) -> int:
    """Rows stored for `session`: from the partition read, else from the counts of what was just written."""
    if stored is not None:
        return stored.num_rows
    return int(known.loc[known["dt"] == session, "rows"].sum())


def _reason_code(reason: str, default: str) -> str:
    """The qc_code a reason string starts with ("MALFORMED_PAYLOAD: ..."), else `default`."""
    head = reason.split(":", 1)[0].strip()
    return head if head.isupper() and " " not in head and head.replace("_", "").isalpha() else default
