"""The daily report (trademl.reports.daily): the SSOT 4.9 JSON + Markdown pair, hand-checked on five sessions."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from trademl.data import control
from trademl.reports import daily_report, emit_daily
from trademl.reports.daily import REPORT_FIELDS
from trademl.reports.settings import DailyReportSettings, PlotSize

D = [dt.date(2025, 6, 23) + dt.timedelta(days=i) for i in range(5)]  # Mon..Fri, five XNYS sessions
ASOF = D[-1]
CURATED = "curated/equities_ohlcv_adj"
SETTINGS = DailyReportSettings(
    risk_window_sessions=5, health_window_sessions=3, coverage_plot_sessions=5, ic_rolling_sessions=2,
    plot=PlotSize(width_px=300, height_px=200, dpi=50), tables=(CURATED,),
)
RETURNS = pd.Series([0.01, -0.02, 0.005, 0.03, -0.01], index=D)
TARGETS = pd.DataFrame({
    "date": [D[3], D[3], D[4], D[4], D[4]],
    "symbol": ["AAA", "BBB", "AAA", "BBB", "CCC"],
    "weight": [0.3, -0.2, 0.4, -0.1, 0.0],
})
IC = pd.Series([0.05, -0.02, 0.04, 0.01, 0.9], index=D)
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    eng = control.make_engine(f"sqlite:///{tmp_path_factory.mktemp('ledger')}/node.sqlite")
    control.upsert_partition_status(eng, pd.DataFrame([
        {"source_name": "t", "table_name": CURATED, "symbol": "AAA", "dt": pd.Timestamp(d), "partition_key": None,
         "status": s, "qc_score": 1.0, "row_count": 1, "expected_rows": 1, "qc_code": None if s == "GREEN" else "X"}
        for d, s in [(D[0], "RED"), (D[1], "GREEN"), (D[2], "GREEN"), (D[3], "GREEN"), (D[4], "AMBER")]
    ]))
    yield eng
    eng.dispose()


def _report(engine, out_dir: Path, *, targets=TARGETS, returns=RETURNS, ic=IC) -> tuple[str, str]:
    return daily_report(
        ASOF, targets=targets, backtest_returns=returns, ic_series=ic, ledger_engine=engine, out_dir=out_dir,
        model_version="7", settings=SETTINGS,  # the tables of SETTINGS: curated prices
    )


@pytest.fixture(scope="module")
def built(engine, tmp_path_factory) -> tuple[str, str]:
    """The report of ASOF from the module's inputs, built once and read by the tests that only look at it."""
    return _report(engine, tmp_path_factory.mktemp("report"))


def _doc(path: str) -> dict:
    return json.loads(Path(path).read_text())


def _emit(out_dir: Path, **overrides) -> tuple[str, str]:
    args = {
        "positions": pd.DataFrame({"symbol": ["BBB", "AAA"], "weight": [-0.25, 0.5], "strategy_tag": ["equities_xs"] * 2}),
        "strategies": {"equities_xs": {"sharpe": 1.25, "turnover": 0.1, "contribution": 0.002, "model_version": "3"}},
        "metrics": {
            "pnl": {"daily": 0.002, "cumulative": 0.0125},
            "turnover": 0.15,
            "risk_metrics": {"realized_vol": 0.11, "max_drawdown": 0.04, "var_95": 0.012, "es_95": 0.016},
        },
        "data_health": {CURATED: {"green": 2, "amber": 1, "red": 0, "green_frac": 2 / 3, "first": D[2], "last": D[4]}},
    }
    args.update(overrides)
    return emit_daily(ASOF, args.pop("positions"), args.pop("strategies"), args.pop("metrics"), out_dir=out_dir, **args)


# ---------------------------------------------------------------- emit_daily


def test_emit_daily_writes_the_pair_under_the_asof_directory(tmp_path):
    json_path, md_path = _emit(tmp_path)
    assert (json_path, md_path) == (str(tmp_path / "2025-06-27" / "daily.json"), str(tmp_path / "2025-06-27" / "daily.md"))


def test_the_json_holds_every_field_of_the_ssot_contract(tmp_path):
    doc = _doc(_emit(tmp_path)[0])
    assert set(REPORT_FIELDS) <= set(doc)
    assert doc["asof"] == "2025-06-27"
    assert doc["pnl"] == {"daily": 0.002, "cumulative": 0.0125}
    assert doc["turnover"] == 0.15
    assert set(doc["strategies"]["equities_xs"]) >= {"sharpe", "turnover", "contribution", "model_version"}
    assert set(doc["risk_metrics"]) >= {"realized_vol", "max_drawdown", "var_95", "es_95"}
    assert doc["data_health"][CURATED] == {
        "green": 2, "amber": 1, "red": 0, "green_frac": 0.666667, "first": "2025-06-25", "last": "2025-06-27",
    }


def test_exposures_come_from_the_weights_and_sides_from_their_sign(tmp_path):
    doc = _doc(_emit(tmp_path)[0])
    assert doc["gross_exposure"] == 0.75 and doc["net_exposure"] == 0.25
    assert doc["positions"] == [
        {"symbol": "AAA", "weight": 0.5, "side": "LONG", "strategy_tag": "equities_xs"},
        {"symbol": "BBB", "weight": -0.25, "side": "SHORT", "strategy_tag": "equities_xs"},
    ]


def test_a_flat_book_has_no_positions_and_zero_exposure(tmp_path):
    json_path, md_path = _emit(tmp_path, positions=[])
    doc = _doc(json_path)
    assert (doc["positions"], doc["gross_exposure"], doc["net_exposure"]) == ([], 0.0, 0.0)
    assert "| (none) |" in Path(md_path).read_text()


def test_a_non_finite_pnl_is_refused(tmp_path):
    metrics = {"pnl": {"daily": math.inf, "cumulative": 0.0}, "turnover": 0.0,
               "risk_metrics": {"realized_vol": 0.1, "max_drawdown": 0.0, "var_95": 0.0, "es_95": 0.0}}
    with pytest.raises(ValueError, match="metrics.pnl.daily must be finite"):
        _emit(tmp_path, metrics=metrics)


def test_every_number_of_the_markdown_is_a_number_of_the_json(tmp_path):
    json_path, md_path = _emit(tmp_path)
    md, js = Path(md_path).read_text(), Path(json_path).read_text()
    md_numbers = set(NUMBER.findall(md))
    assert {"0.5", "-0.25", "0.75", "1.25", "0.0125", "0.666667"} <= md_numbers  # the check sees the values
    assert md_numbers <= set(NUMBER.findall(js))


def test_a_non_finite_sharpe_is_written_as_null_and_shown_as_na(tmp_path):
    strategies = {"equities_xs": {"sharpe": math.nan, "turnover": 0.1, "contribution": 0.0, "model_version": "3"}}
    json_path, md_path = _emit(tmp_path, strategies=strategies)
    assert _doc(json_path)["strategies"]["equities_xs"]["sharpe"] is None
    assert "| equities_xs | n/a |" in Path(md_path).read_text()


def test_a_rerun_on_the_same_inputs_leaves_both_files_untouched(tmp_path):
    paths = _emit(tmp_path)
    before = [(Path(p).read_bytes(), Path(p).stat().st_mtime_ns) for p in paths]
    assert _emit(tmp_path) == paths
    assert [(Path(p).read_bytes(), Path(p).stat().st_mtime_ns) for p in paths] == before
    assert sorted(p.name for p in (tmp_path / "2025-06-27").iterdir()) == ["daily.json", "daily.md"]  # no temp file left


def test_a_changed_input_rewrites_the_json(tmp_path):
    json_path, _ = _emit(tmp_path)
    metrics = {"pnl": {"daily": 0.003, "cumulative": 0.0135}, "turnover": 0.15,
               "risk_metrics": {"realized_vol": 0.11, "max_drawdown": 0.04, "var_95": 0.012, "es_95": 0.016}}
    _emit(tmp_path, metrics=metrics)
    assert _doc(json_path)["pnl"] == {"daily": 0.003, "cumulative": 0.0135}


def test_a_position_of_a_strategy_not_in_strategies_is_refused(tmp_path):
    positions = pd.DataFrame({"symbol": ["AAA"], "weight": [0.1], "strategy_tag": ["options_vol"]})
    with pytest.raises(ValueError, match="options_vol"):
        _emit(tmp_path, positions=positions)


def test_missing_risk_metrics_are_refused_by_name(tmp_path):
    metrics = {"pnl": {"daily": 0.0, "cumulative": 0.0}, "turnover": 0.0, "risk_metrics": {"realized_vol": 0.1}}
    with pytest.raises(ValueError, match=r"metrics.risk_metrics is missing \['max_drawdown', 'var_95', 'es_95'\]"):
        _emit(tmp_path, metrics=metrics)


def test_a_side_contradicting_the_weight_is_refused(tmp_path):
    positions = pd.DataFrame({"symbol": ["AAA"], "weight": [0.1], "side": ["SHORT"], "strategy_tag": ["equities_xs"]})
    with pytest.raises(ValueError, match="side"):
        _emit(tmp_path, positions=positions)


def test_an_asof_that_is_not_a_session_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not an XNYS session"):
        emit_daily(dt.date(2025, 6, 28), [], {"x": {"sharpe": 0, "turnover": 0, "contribution": 0, "model_version": "1"}},
                   {}, data_health={}, out_dir=tmp_path)


def test_a_plot_that_is_not_beside_the_report_is_refused(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        _emit(tmp_path, plots={"equity": "equity.png"})


# ---------------------------------------------------------------- daily_report: the inputs assembled


def test_pnl_is_the_asof_return_and_the_compounded_returns_to_date(built):
    doc = _doc(built[0])
    # 1.01 * 0.98 * 1.005 * 1.03 * 0.99 = 1.01434556 (to 9 digits)
    assert doc["pnl"] == {"daily": -0.01, "cumulative": 0.0143456}


def test_risk_metrics_are_the_historical_var_es_vol_and_drawdown_by_hand(built):
    risk = _doc(built[0])["risk_metrics"]
    # sorted window: -0.02, -0.01, 0.005, 0.01, 0.03; the 5 % quantile at position 0.05 * 4 = 0.2: -0.02 + 0.2 * 0.01
    assert risk["var_95"] == 0.018
    assert risk["es_95"] == 0.02  # only -0.02 lies at or below -0.018
    # mean 0.003, squared deviations sum to 0.00148, / 4 = 0.00037; sqrt(0.00037 * 252) = 0.305352
    assert risk["realized_vol"] == 0.305352
    assert risk["max_drawdown"] == 0.02  # 1.01 -> 0.9898
    assert (risk["window_sessions"], risk["n_returns"], risk["window_first"], risk["window_last"]) == (5, 5, "2025-06-23", "2025-06-27")
    assert "positive fractions of capital" in risk["convention"]


def test_positions_are_the_non_zero_targets_of_asof_with_their_exposures_and_turnover(built):
    doc = _doc(built[0])
    assert [(p["symbol"], p["weight"], p["side"]) for p in doc["positions"]] == [("AAA", 0.4, "LONG"), ("BBB", -0.1, "SHORT")]
    assert doc["gross_exposure"] == 0.5 and doc["net_exposure"] == 0.3
    assert doc["turnover"] == 0.2  # |0.4 - 0.3| + |-0.1 + 0.2| + |0 - 0|


def test_the_strategy_entry_holds_its_sharpe_mean_turnover_contribution_and_model_version(built):
    entry = _doc(built[0])["strategies"]["equities_xs"]
    assert entry["sharpe"] == pytest.approx(0.003 / math.sqrt(0.00037) * math.sqrt(252), rel=1e-5)
    assert entry["turnover"] == 0.14  # per-session turnovers 0, 0, 0, 0.5, 0.2 over the five sessions
    assert entry["contribution"] == -0.01
    assert entry["model_version"] == "7"


def test_data_health_is_the_coverage_of_each_table_over_the_health_window(built):
    health = _doc(built[0])["data_health"]
    assert health == {CURATED: {"green": 2, "amber": 1, "red": 0, "green_frac": 0.666667, "first": "2025-06-25", "last": "2025-06-27"}}


def test_the_three_plots_are_written_beside_the_report_and_named_by_both_files(built):
    json_path, md_path = built
    files = {"equity_drawdown": "equity_drawdown.png", "coverage": "coverage.png", "oos_ic": "oos_ic.png"}
    assert _doc(json_path)["plots"] == files
    md = Path(md_path).read_text()
    for name, file in files.items():
        assert (Path(json_path).parent / file).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"![{name}]({file})" in md


def test_the_markdown_of_an_assembled_report_holds_only_numbers_of_its_json(built):
    json_path, md_path = built
    assert set(NUMBER.findall(Path(md_path).read_text())) <= set(NUMBER.findall(Path(json_path).read_text()))


def test_data_after_asof_leaves_every_file_of_its_report_unchanged(engine, tmp_path):
    _report(engine, tmp_path / "a")
    later = dt.date(2025, 6, 30)
    _report(
        engine, tmp_path / "b",
        targets=pd.concat([TARGETS, pd.DataFrame({"date": [later], "symbol": ["AAA"], "weight": [-0.9]})]),
        returns=pd.concat([RETURNS, pd.Series([-0.5], index=[later])]),
        ic=pd.concat([IC.iloc[:-1], pd.Series([-0.7, 0.3], index=[ASOF, later])]),  # the IC of asof itself is known later
    )
    a, b = tmp_path / "a" / "2025-06-27", tmp_path / "b" / "2025-06-27"
    names = sorted(p.name for p in a.iterdir())
    assert names == ["coverage.png", "daily.json", "daily.md", "equity_drawdown.png", "oos_ic.png"]
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)


def test_the_ic_plot_depends_on_the_ic_before_asof(engine, tmp_path):
    _report(engine, tmp_path / "a")
    _report(engine, tmp_path / "b", ic=IC.where(IC.index != D[1], 0.3))
    assert (tmp_path / "a" / "2025-06-27" / "oos_ic.png").read_bytes() != (tmp_path / "b" / "2025-06-27" / "oos_ic.png").read_bytes()


def test_a_report_without_a_return_on_asof_is_refused(engine, tmp_path):
    with pytest.raises(ValueError, match="no net return on the as-of session 2025-06-27"):
        _report(engine, tmp_path, returns=RETURNS.iloc[:-1])


def test_a_report_without_targets_on_asof_is_refused(engine, tmp_path):
    with pytest.raises(ValueError, match="no targets on the as-of session 2025-06-27"):
        _report(engine, tmp_path, targets=TARGETS[TARGETS["date"] != ASOF])
