"""What one ingest did (`IngestReport`) and the accounting of rows a vendor sent that are not stored.

Rows left out (bars outside regular hours, rows on non-sessions, rows dated outside the requested
window) are counted per date in ``IngestReport.not_stored`` and logged in one line by
`log_outcome`, together with one line per large revision; nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from trademl.data import qc

log = logging.getLogger("trademl.data.ingest")


@dataclass
class IngestReport:
    """What one ingest did: files changed, sessions rejected, per-session QC summaries.

    not_stored: rows the vendor sent that are not in the lake, reason -> {"YYYY-MM-DD": rows}
    (reasons: outside_regular_hours, non_session, outside_window). large_revisions: session ->
    the review of its latest version (revised_frac, revised_rows, previous_rows, version,
    previous_version) for every session recorded AMBER LARGE_REVISION by this run.
    """

    dataset: str
    table: str
    source_name: str
    sessions: list[dt.date]
    rows_fetched: int = 0
    partitions_written: int = 0
    partitions_unchanged: int = 0
    rejected: dict[str, str] = field(default_factory=dict)  # session -> reason
    failed_sessions: dict[str, str] = field(default_factory=dict)
    summaries: dict[str, qc.PartitionSummary] = field(default_factory=dict)
    not_stored: dict[str, dict[str, int]] = field(default_factory=dict)
    large_revisions: dict[str, dict] = field(default_factory=dict)

    @property
    def colour_counts(self) -> dict[str, int]:
        counts = {"GREEN": 0, "AMBER": 0, "RED": 0}
        for s in self.summaries.values():
            counts[s.color] += 1
        return counts

    def record_not_stored(self, dropped: Mapping[str, Mapping[str, int]]) -> None:
        """Add a fetch's left-out rows, judged against the whole ingest window.

        A row dated outside one chunk's request but inside the ingest window is not lost: a
        session of another chunk is stored by that chunk, a non-session is counted as such.
        Counts merge by maximum: chunks request disjoint dates, so the same date counted twice is
        the same rows seen twice (a file read for each chunk).
        """
        if not dropped or not self.sessions:
            return
        lo, hi = self.sessions[0], self.sessions[-1]
        in_window = {d.isoformat() for d in self.sessions}
        for reason, by_date in dropped.items():
            for day, n in by_date.items():
                target = reason
                if reason == "outside_window" and lo.isoformat() <= day <= hi.isoformat():
                    if day in in_window:
                        continue  # another chunk's session: fetched and stored there
                    target = "non_session"
                bucket = self.not_stored.setdefault(target, {})
                bucket[day] = max(bucket.get(day, 0), int(n))

    def not_stored_summary(self) -> dict[str, dict]:
        """`not_stored` for metadata and logs: per-date counts for the reasons bounded by the window
        (outside_regular_hours, non_session) and totals with the date range for outside_window."""
        out: dict[str, dict] = {}
        for reason, by_date in sorted(self.not_stored.items()):
            if not by_date:
                continue
            total = {"rows": int(sum(by_date.values())), "dates": len(by_date), "first": min(by_date), "last": max(by_date)}
            out[reason] = total if reason == "outside_window" else {**total, "by_date": dict(sorted(by_date.items()))}
        return out


def log_outcome(report: IngestReport) -> None:
    """One line for the rows not stored and one per large revision (WARNING: the CLI shows them)."""
    summary = report.not_stored_summary()
    if summary:
        parts = []
        for reason, label in (
            ("outside_regular_hours", "bars outside regular hours"),
            ("non_session", "rows on non-sessions"),
            ("outside_window", "rows outside the requested window"),
        ):
            if reason in summary:
                parts.append(f"{summary[reason]['rows']} {label} ({summary[reason]['dates']} dates)")
        level = logging.WARNING if set(summary) - {"outside_window"} else logging.INFO
        log.log(
            level,
            f"{report.table}: not stored: " + ", ".join(parts),
            extra={"dataset": report.dataset, "table": report.table, "not_stored": json.dumps(summary, sort_keys=True)},
        )
    for session, review in sorted(report.large_revisions.items()):
        log.warning(
            f"{report.table} {session}: version {review.get('version')} revised {review['revised_rows']} of "
            f"{review['previous_rows']} stored rows ({review['revised_frac']:.1%}); recorded AMBER LARGE_REVISION, "
            f"version {review['previous_version']} stays readable",
            extra={"dataset": report.dataset, "table": report.table, "session": session, "review": json.dumps(review, sort_keys=True)},
        )
