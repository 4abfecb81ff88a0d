"""Why an ingest left sessions RED, in a few lines a user can act on (which symbol, which sessions, why).

The reasons come from two places: what the vendor said (`failed_sessions` of its FetchResult,
"QC_CODE: message" per session) and the partition ledger (the qc_code of each RED row). Requested
symbols that have no stored row at all are named too: a vendor that does not know a symbol usually
answers with nothing rather than an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

# What a ledger qc_code means when the vendor gave no reason of its own.
_CODE_HINTS = {
    "NO_DATA": "the vendor returned no rows (the range may precede its history, or the symbols not trade then)",
    "MISSING_ROWS": "fewer rows than the session's expected bars",
    "VENDOR_OUTAGE": "the vendor failed; the backfill queue retries it",
}
_MAX_NAMED = 5


def _span(days: Iterable[dt.date | str]) -> str:
    ordered = sorted({str(d) for d in days})
    n = len(ordered)
    return f"{n} session{'s' if n != 1 else ''} {ordered[0]}" + (f"..{ordered[-1]}" if n > 1 else "")


def _named(symbols: Iterable[str]) -> str:
    names = sorted(set(symbols))
    more = len(names) - _MAX_NAMED
    return ", ".join(names[:_MAX_NAMED]) + (f" (+{more} more)" if more > 0 else "")


def explain_red(
    red_rows: pd.DataFrame,
    vendor_reasons: Mapping[str, str],
    *,
    vendor: str,
    first: str,
    last: str,
    requested_symbols: Sequence[str] | None = None,
    stored_symbols: Iterable[str] = (),
) -> list[str]:
    """One line per distinct reason, most sessions first.

    `red_rows`: the range's RED ledger rows (columns dt, symbol, qc_code); `vendor_reasons`: session
    ("YYYY-MM-DD") -> "QC_CODE: message" as the vendor reported it; `stored_symbols`: symbols with at
    least one stored row in [first, last].
    """
    lines: list[tuple[int, str]] = []
    by_reason: dict[str, list[str]] = {}
    for session, reason in vendor_reasons.items():
        by_reason.setdefault(reason, []).append(session)
    explained = set(vendor_reasons)
    for reason, days in by_reason.items():
        lines.append((len(days), f"{reason} ({_span(days)})"))

    if len(red_rows):
        rows = red_rows.assign(session=pd.to_datetime(red_rows["dt"]).dt.strftime("%Y-%m-%d"))
        rows = rows[~rows["session"].isin(explained)]
        for code, group in rows.groupby(rows["qc_code"].fillna("RED")):
            symbols = group["symbol"].dropna()
            who = f" for {_named(symbols)}" if len(symbols) else ""
            hint = _CODE_HINTS.get(str(code))
            lines.append((group["session"].nunique(), f"{code}{who}: {hint or 'see the ledger'} ({_span(group['session'])})"))

    if requested_symbols:
        unexplained = [s for s in requested_symbols if s not in set(stored_symbols)]
        unexplained = [s for s in unexplained if not any(s in reason for reason in by_reason)]
        if unexplained:
            lines.append(
                (0, f"{_named(unexplained)}: {vendor} returned no rows in {first}..{last} (not a symbol it lists, or not trading then)")
            )
    return [text for _, text in sorted(lines, key=lambda item: -item[0])]
