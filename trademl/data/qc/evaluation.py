"""Stored row counts -> ledger rows (control.STATUS_COLUMNS) with GREEN/AMBER/RED and SSOT qc codes.

`stored_counts` counts a stored Arrow table per (dt, symbol); `evaluate_partitions` judges many
sessions at once (symbol-complete tables one row per expected symbol, the others one symbol-less
row on presence; forced rejection / outage codes -> RED); `evaluate_partition` is its form for one
stored partition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from trademl import calendar
from trademl.data.control import STATUS_COLUMNS
from trademl.data.qc.rules import QcRules, qc_rules
from trademl.schemas import table_spec


def _as_day(value: object, name: str = "session") -> dt.date:
    return calendar.as_date(value, name)


def stored_counts(stored: pa.Table, table: str, session: dt.date | None = None) -> pd.DataFrame:
    """Row counts of a stored Arrow table per (dt, symbol): columns dt (date), symbol (None if no symbol column), rows.

    The partition column gives dt unless `session` is given (one partition's rows).
    """
    spec = table_spec(table)
    if stored.num_rows == 0:
        return pd.DataFrame({"dt": pd.Series([], dtype=object), "symbol": pd.Series([], dtype=object), "rows": pd.Series([], dtype="int64")})
    keys = []
    cols: dict[str, pa.ChunkedArray] = {}
    if session is None:
        cols["dt"] = stored.column(spec.partition_column)
        keys.append("dt")
    if spec.symbol_column is not None:
        cols["symbol"] = stored.column(spec.symbol_column)
        keys.append("symbol")
    if not keys:
        out = pd.DataFrame({"dt": [session], "symbol": [None], "rows": [stored.num_rows]})
        return out
    grouped = pa.table(cols).group_by(keys).aggregate([([], "count_all")]).to_pandas()
    grouped = grouped.rename(columns={"count_all": "rows"})
    if session is not None:
        grouped["dt"] = session
    else:
        grouped["dt"] = pd.to_datetime(grouped["dt"]).dt.date
    if "symbol" not in grouped:
        grouped["symbol"] = None
    return grouped[["dt", "symbol", "rows"]].astype({"rows": "int64"})


def _session_frame(table: str, sessions: Sequence[dt.date], rules: QcRules) -> pd.DataFrame:
    """One row per session: expected rows per symbol and the half-day flag (from the calendar)."""
    days = sorted(set(sessions))
    if not days:
        return pd.DataFrame({"dt": [], "exp": [], "half": []})
    if len(days) == 1:
        minutes = len(calendar.session_minutes(days[0]))
        info = pd.DataFrame({"dt": days, "minutes": [minutes]})
        info["half"] = info["minutes"] < calendar.REGULAR_SESSION_MINUTES
    else:
        st = calendar.session_table(days[0], days[-1])
        st["dt"] = st["session"].dt.date
        info = pd.DataFrame({"dt": days}).merge(st[["dt", "minutes", "is_half_day"]], on="dt", how="left")
        if info["minutes"].isna().any():
            bad = info.loc[info["minutes"].isna(), "dt"].iloc[0]
            raise ValueError(f"{bad} is not an XNYS session")
        info = info.rename(columns={"is_half_day": "half"})
    if table in rules.minute_tables:
        info["exp"] = info["minutes"].astype("int64")
    else:
        info["exp"] = int(rules.rows_per_symbol.get(table, 1))
    return info[["dt", "exp", "half"]]


def _forced_codes(rows: pd.DataFrame, forced: pd.DataFrame | None) -> pd.Series:
    """The forced (rejection / outage / checksum) code of each ledger row, or None.

    `forced` rows with symbol None apply to the whole session; symbol rows to that symbol only.
    """
    out = pd.Series(None, index=rows.index, dtype=object)
    if forced is None or len(forced) == 0:
        return out
    whole = forced[forced["symbol"].isna()].drop_duplicates("dt", keep="first")
    if len(whole):
        m = rows[["dt"]].merge(whole[["dt", "qc_code"]], on="dt", how="left")
        out = out.where(m["qc_code"].isna().to_numpy(), m["qc_code"].to_numpy())
    named = forced[forced["symbol"].notna()].drop_duplicates(["dt", "symbol"], keep="first")
    if len(named):
        m = rows[["dt", "symbol"]].merge(named[["dt", "symbol", "qc_code"]], on=["dt", "symbol"], how="left")
        out = out.where(m["qc_code"].isna().to_numpy(), m["qc_code"].to_numpy())
    return out


def evaluate_partitions(
    table: str,
    sessions: Sequence[dt.date],
    counts: pd.DataFrame,
    *,
    source_name: str,
    expected: pd.DataFrame | None = None,
    present: Sequence[dt.date] | None = None,
    forced: pd.DataFrame | None = None,
    rules: QcRules | None = None,
) -> pd.DataFrame:
    """Ledger rows (control.STATUS_COLUMNS) of `table` for many sessions at once.

    counts: stored rows per (dt, symbol) (see `stored_counts`). expected: the (dt, symbol) pairs a
    symbol-complete table must hold; a session without pairs there falls back to the symbols it
    stores (nothing to compare against). present: sessions with a committed partition (default:
    sessions with rows). forced: (dt, symbol, qc_code) rejections/outages -> RED with that code,
    symbol None meaning the whole session.
    """
    spec = table_spec(table)
    name = spec.name
    rules = rules or qc_rules()
    days = sorted({_as_day(s) for s in sessions})
    if not days:
        return pd.DataFrame(columns=list(STATUS_COLUMNS))
    counts = counts if counts is not None else pd.DataFrame(columns=["dt", "symbol", "rows"])
    counts = counts[counts["dt"].isin(days)]
    if forced is not None and len(forced):
        forced = forced.assign(dt=[_as_day(d, "forced dt") for d in forced["dt"]])
    if name in rules.symbol_complete_tables:
        rows = _symbol_rows(name, days, counts, expected, rules)
    else:
        rows = _presence_rows(name, days, counts, present, rules)
    code = _forced_codes(rows, forced)
    hit = code.notna().to_numpy()
    rows.loc[hit, "status"] = "RED"
    rows.loc[hit, "qc_code"] = code[hit]
    rows.loc[hit, "qc_score"] = 0.0
    rows["source_name"] = source_name
    rows["table_name"] = name
    rows["row_count"] = rows["row_count"].astype("int64")
    return rows[list(STATUS_COLUMNS)].reset_index(drop=True)


def _symbol_rows(
    table: str, days: list[dt.date], counts: pd.DataFrame, expected: pd.DataFrame | None, rules: QcRules
) -> pd.DataFrame:
    info = _session_frame(table, days, rules)
    pairs = pd.DataFrame({"dt": pd.Series([], dtype=object), "symbol": pd.Series([], dtype=object)})
    if expected is not None and len(expected):
        exp = expected.loc[expected["symbol"].notna(), ["dt", "symbol"]]
        pairs = exp[exp["dt"].isin(days)].drop_duplicates()
    # Sessions with no expectation fall back to the symbols they store.
    stored_pairs = counts.loc[counts["symbol"].notna() & ~counts["dt"].isin(set(pairs["dt"])), ["dt", "symbol"]]
    pairs = pd.concat([pairs, stored_pairs], ignore_index=True).drop_duplicates()
    rows = pairs.merge(counts[["dt", "symbol", "rows"]], on=["dt", "symbol"], how="left")
    rows["rows"] = rows["rows"].fillna(0).astype("int64")
    # Sessions with neither expected nor stored symbols: one symbol-less session row.
    covered = set(rows["dt"].unique())
    empty_days = [d for d in days if d not in covered]
    if empty_days:
        rows = pd.concat(
            [rows, pd.DataFrame({"dt": empty_days, "symbol": [None] * len(empty_days), "rows": 0})], ignore_index=True
        )
    rows = rows.merge(info, on="dt", how="left")
    session_total = counts.groupby("dt")["rows"].sum()
    total = rows["dt"].map(session_total).fillna(0).to_numpy()
    frac = rows["rows"].to_numpy() / np.maximum(rows["exp"].to_numpy(), 1)
    green = frac >= rules.green_min_row_frac
    amber = ~green & (frac >= rules.amber_min_row_frac)
    status = np.where(green, "GREEN", np.where(amber, "AMBER", "RED"))
    code = np.where(
        green,
        np.where(rows["half"].to_numpy(dtype=bool), "SHORT_SESSION", "OK"),
        np.where(total == 0, "NO_DATA", "MISSING_ROWS"),
    )
    symbols = rows["symbol"].astype(object)
    session_level = symbols.isna().to_numpy()
    return pd.DataFrame(
        {
            "symbol": symbols.where(~session_level, None).to_numpy(),
            "dt": rows["dt"].to_numpy(),
            # A symbol-less session row carries no partition_key, so rows naming symbols replace it in the ledger.
            "partition_key": np.where(session_level, None, rows["dt"].map({d: d.isoformat() for d in days}).to_numpy()),
            "status": status,
            "qc_score": np.clip(frac, 0.0, 1.0),
            "row_count": rows["rows"].to_numpy(),
            "expected_rows": rows["exp"].to_numpy(dtype="int64"),
            "qc_code": code,
        }
    ).astype({"qc_code": object, "status": object})


def _presence_rows(
    table: str, days: list[dt.date], counts: pd.DataFrame, present: Sequence[dt.date] | None, rules: QcRules
) -> pd.DataFrame:
    per_day = counts.groupby("dt")["rows"].sum()
    n = pd.Series(days).map(per_day).fillna(0).astype("int64").to_numpy()
    have = n > 0 if present is None else (n > 0) | pd.Series(days).isin(set(present)).to_numpy()
    sparse = table in rules.sparse_tables
    if sparse:
        ok = np.ones(len(days), dtype=bool)
        expected = np.zeros(len(days), dtype="int64")
    else:
        ok = n > 0
        expected = np.ones(len(days), dtype="int64")
    code = np.where(ok, "OK", np.where(have, "MISSING_ROWS", "NO_DATA"))
    return pd.DataFrame(
        {
            "symbol": [None] * len(days),
            "dt": days,
            "partition_key": [d.isoformat() for d in days],
            "status": np.where(ok, "GREEN", "RED").astype(object),
            "qc_score": ok.astype(float),
            "row_count": n,
            "expected_rows": expected,
            "qc_code": code.astype(object),
        }
    )


def evaluate_partition(
    table: str,
    session: dt.date | str,
    stored: pa.Table,
    expected_symbols: list[str] | None,
    *,
    source_name: str,
    rejected: Mapping[str | None, str] | None = None,
) -> pd.DataFrame:
    """Ledger rows of one stored session partition (control.STATUS_COLUMNS; partition_key = "YYYY-MM-DD").

    Symbol-complete tables: one row per expected symbol (None or [] -> the symbols stored; tables
    not in ``universe_expected_tables``, e.g. option chains, always use the symbols stored); an
    absent symbol is RED (MISSING_ROWS, or NO_DATA when the session stores nothing), missing
    minutes are AMBER above ``amber_min_row_frac`` and RED below, a complete half day is GREEN
    with SHORT_SESSION. Other tables: one symbol-less row judged on presence. `rejected` maps a
    symbol (None = the whole session) to the qc_code of a rejected payload or outage -> RED.
    """
    day = _as_day(session)
    if not isinstance(stored, pa.Table):
        raise ValueError(f"stored must be a pyarrow Table, got {type(stored).__name__}")
    name = table_spec(table).name
    rules = qc_rules()
    universe_expected = name in rules.universe_expected_tables
    forced = None
    if rejected:
        forced = pd.DataFrame(
            {"dt": [day] * len(rejected), "symbol": list(rejected.keys()), "qc_code": [str(c) for c in rejected.values()]}
        )
        if not universe_expected:
            forced["symbol"] = None  # no per-symbol expectation: any rejection marks the whole session
    expected = None
    if expected_symbols and universe_expected:
        expected = pd.DataFrame({"dt": [day] * len(expected_symbols), "symbol": [str(s) for s in expected_symbols]})
    counts = stored_counts(stored, table, session=day)
    return evaluate_partitions(
        table, [day], counts, source_name=source_name, expected=expected, present=None, forced=forced, rules=rules
    )
