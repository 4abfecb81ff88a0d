"""The daily report's PNGs (trademl.reports.plots) and its settings (configs/reports.yml)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from trademl.reports import plots
from trademl.reports.settings import DailyReportSettings, PlotSize, daily_report_settings

D = [dt.date(2025, 6, 23) + dt.timedelta(days=i) for i in range(5)]  # five XNYS sessions
SIZE = PlotSize(width_px=320, height_px=240, dpi=40)
RETURNS = pd.Series([0.01, -0.02, 0.005, 0.03, -0.01], index=D)
MATRIX = pd.DataFrame(
    {"curated/equities_ohlcv_adj": ["GREEN", "GREEN", "AMBER", "RED", "GREEN"], "raw/equities_bars": ["GREEN"] * 5},
    index=pd.Index(D, name="date"),
)
IC = pd.Series([0.05, -0.02, 0.04, 0.01], index=[D[0], D[1], D[3], D[4]])  # no IC on D[2]


def _draw(kind: str, path, **data):
    if kind == "equity":
        return plots.equity_drawdown_plot(data.get("returns", RETURNS), path, size=SIZE)
    if kind == "coverage":
        return plots.coverage_heatmap(data.get("matrix", MATRIX), path, size=SIZE)
    return plots.ic_plot(data.get("ic", IC), path, rolling_sessions=2, size=SIZE)


@pytest.mark.parametrize("kind", ["equity", "coverage", "ic"])
def test_each_plot_is_a_png_of_the_configured_size(kind, tmp_path):
    path = _draw(kind, tmp_path / f"{kind}.png")
    assert plots.png_size(path) == (320, 240)


@pytest.mark.parametrize("kind", ["equity", "coverage", "ic"])
def test_redrawing_a_plot_from_the_same_data_leaves_its_file_untouched(kind, tmp_path):
    path = tmp_path / f"{kind}.png"
    _draw(kind, path)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    _draw(kind, tmp_path / "again.png")
    _draw(kind, path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert (tmp_path / "again.png").read_bytes() == before[0]  # a fresh drawing has the same bytes


@pytest.mark.parametrize(
    ("kind", "changed"),
    [
        ("equity", {"returns": RETURNS.where(RETURNS.index != D[1], -0.05)}),
        ("coverage", {"matrix": MATRIX.replace({"AMBER": "RED"})}),
        ("ic", {"ic": IC * -1.0}),
    ],
)
def test_a_plot_changes_with_its_data(kind, changed, tmp_path):
    _draw(kind, tmp_path / "a.png")
    _draw(kind, tmp_path / "b.png", **changed)
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "b.png").read_bytes()


def test_an_empty_ic_series_still_draws_empty_axes(tmp_path):
    path = plots.ic_plot(pd.Series([], dtype="float64"), tmp_path / "ic.png", rolling_sessions=2, size=SIZE)
    assert plots.png_size(path) == (320, 240)


def test_the_heatmap_refuses_a_value_that_is_not_a_colour(tmp_path):
    with pytest.raises(ValueError, match="BLUE"):
        plots.coverage_heatmap(MATRIX.replace({"AMBER": "BLUE"}), tmp_path / "c.png", size=SIZE)


def test_png_size_refuses_a_file_that_is_not_a_png(tmp_path):
    (tmp_path / "x.png").write_bytes(b"GIF89a" + bytes(30))
    with pytest.raises(ValueError, match="not a PNG"):
        plots.png_size(tmp_path / "x.png")


def test_the_shipped_report_settings_parse():
    cfg = daily_report_settings()
    assert (cfg.risk_window_sessions, cfg.health_window_sessions, cfg.ic_rolling_sessions) == (252, 20, 20)
    assert cfg.plot == PlotSize(1000, 600, 100) and cfg.plot.inches == (10.0, 6.0)
    assert "curated/equities_ohlcv_adj" in cfg.tables and "reference/corp_actions" in cfg.tables


def test_an_unknown_report_table_is_refused():
    doc = {"risk_window_sessions": 5, "health_window_sessions": 20, "coverage_plot_sessions": 60, "ic_rolling_sessions": 20,
           "plot": {"width_px": 10, "height_px": 10, "dpi": 10}, "tables": ["curated/nope"]}
    with pytest.raises(ValueError, match="unknown table 'curated/nope'"):
        DailyReportSettings.from_config(doc)


def test_a_window_that_is_not_a_positive_integer_is_refused_by_file_and_field():
    doc = {"risk_window_sessions": 0, "health_window_sessions": 20, "coverage_plot_sessions": 60, "ic_rolling_sessions": 20,
           "plot": {"width_px": 10, "height_px": 10, "dpi": 10}, "tables": ["raw/equities_bars"]}
    with pytest.raises(ValueError, match=r"configs/reports.yml daily.risk_window_sessions: expected an integer >= 1, got 0"):
        DailyReportSettings.from_config(doc)


def test_a_missing_plot_size_field_is_refused_by_name():
    doc = {"risk_window_sessions": 5, "health_window_sessions": 20, "coverage_plot_sessions": 60, "ic_rolling_sessions": 20,
           "plot": {"width_px": 10, "height_px": 10}, "tables": ["raw/equities_bars"]}
    with pytest.raises(ValueError, match=r"configs/reports.yml daily.plot.dpi is missing"):
        DailyReportSettings.from_config(doc)
