"""The daily report's settings from configs/reports.yml (`daily:`), typed and validated once per file version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trademl.config import config_value, typed_config
from trademl.schemas import table_spec


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"not a positive integer: {value!r}")
    return value


_positive_int.__name__ = "an integer >= 1"


@dataclass(frozen=True)
class PlotSize:
    """The size of every PNG of the report: width x height pixels at `dpi`."""

    width_px: int
    height_px: int
    dpi: int

    @property
    def inches(self) -> tuple[float, float]:
        return self.width_px / self.dpi, self.height_px / self.dpi


@dataclass(frozen=True)
class DailyReportSettings:
    """Windows (in XNYS sessions ending at the as-of session) of the report's metrics and plots."""

    risk_window_sessions: int
    health_window_sessions: int
    coverage_plot_sessions: int
    ic_rolling_sessions: int
    plot: PlotSize
    tables: tuple[str, ...]  # the key datasets of data_health and the coverage heatmap (SSOT table names)

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> DailyReportSettings:
        """Validate the `daily:` section; errors name configs/reports.yml and the field."""
        name, path = "reports", "daily"

        def field(key: str, sub: Mapping[str, Any] = doc, where: str = path) -> int:
            return config_value(sub, key, _positive_int, name=name, path=where)

        tables = doc.get("tables")
        if not isinstance(tables, list) or not tables or not all(isinstance(t, str) for t in tables):
            raise ValueError(f"configs/reports.yml daily.tables must be a non-empty list of table names, got {tables!r}")
        names = tuple(table_spec(t).name for t in tables)  # unknown table: ValueError listing the known ones
        plot = doc.get("plot")
        if not isinstance(plot, Mapping):
            raise ValueError(f"configs/reports.yml daily.plot must be {{width_px, height_px, dpi}}, got {plot!r}")
        return cls(
            risk_window_sessions=field("risk_window_sessions"),
            health_window_sessions=field("health_window_sessions"),
            coverage_plot_sessions=field("coverage_plot_sessions"),
            ic_rolling_sessions=field("ic_rolling_sessions"),
            plot=PlotSize(*(field(k, plot, "daily.plot") for k in ("width_px", "height_px", "dpi"))),
            tables=names,
        )


def daily_report_settings() -> DailyReportSettings:
    """The current settings (re-read when configs/reports.yml or its env override changes)."""
    return typed_config(DailyReportSettings, "reports", "daily")
