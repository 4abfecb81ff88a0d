"""Reports of the running platform (SSOT 4.9): the daily JSON + Markdown report and its plots.

- ``daily``: `emit_daily` (writes the pair), `daily_report` (assembles it from targets, returns, IC, ledger);
- ``risk``: pnl, risk and per-sleeve metrics as of a session;
- ``plots``: the PNGs beside the report; ``settings``: configs/reports.yml; ``files``: atomic writes.
"""

from trademl.reports.daily import daily_report, emit_daily
from trademl.reports.settings import DailyReportSettings, daily_report_settings

__all__ = ["DailyReportSettings", "daily_report", "daily_report_settings", "emit_daily"]
