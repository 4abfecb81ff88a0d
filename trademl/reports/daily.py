"""The daily report (SSOT 4.9): one JSON + Markdown pair per session, with its plots beside it.

`emit_daily` validates what it is given and writes `<out_dir>/<asof>/daily.json` and `daily.md`
(every field of the SSOT 4.9 contract: asof, pnl, gross/net exposure, turnover, positions,
strategies, risk_metrics, data_health; plus the plot files). The JSON is deterministic (sorted
keys, floats rounded to 6 significant digits, non-finite numbers as null) and the Markdown shows
only what the JSON holds, number for number, so a rerun on the same inputs changes no file.
`daily_report` assembles those inputs from plain frames (targets, net returns, OOS IC, the ledger)
using only what is known at the close of the as-of session.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.monitoring.coverage import coverage_matrix, coverage_summary
from trademl.reports import plots as report_plots
from trademl.reports import risk
from trademl.reports.files import write_if_changed
from trademl.reports.settings import DailyReportSettings, daily_report_settings

REPORT_FIELDS = (
    "asof", "pnl", "gross_exposure", "net_exposure", "turnover", "positions", "strategies", "risk_metrics", "data_health",
)
STRATEGY_FIELDS = ("sharpe", "turnover", "contribution", "model_version")
RISK_FIELDS = ("realized_vol", "max_drawdown", "var_95", "es_95")
HEALTH_FIELDS = ("green", "amber", "red", "green_frac", "first", "last")
SIGNIFICANT_DIGITS = 6


# ---------------------------------------------------------------- validation of emit_daily's inputs


def _session(asof: dt.date | str) -> dt.date:
    day = calendar.as_date(asof, "asof")
    if not calendar.is_session(day):
        raise ValueError(f"asof {day} is not an XNYS session")
    return day


def _number(value: Any, where: str, *, allow_nan: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{where} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) and not (allow_nan and math.isnan(number)):
        raise ValueError(f"{where} must be finite, got {value!r}")
    return number


def _mapping(value: Any, where: str, required: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a mapping with {list(required)}, got {type(value).__name__}")
    missing = [k for k in required if k not in value]
    if missing:
        raise ValueError(f"{where} is missing {missing}")
    return value


def _positions(positions: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    frame = positions if isinstance(positions, pd.DataFrame) else pd.DataFrame(list(positions))
    missing = [c for c in ("symbol", "weight", "strategy_tag") if c not in frame.columns]
    if missing and len(frame):
        raise ValueError(f"positions are missing columns {missing}; required: symbol, weight, strategy_tag")
    if frame.empty:
        return pd.DataFrame({"symbol": [], "weight": [], "side": [], "strategy_tag": []})
    weight = pd.to_numeric(frame["weight"], errors="coerce").astype("float64")
    if not np.isfinite(weight.to_numpy()).all():
        raise ValueError("positions have a missing or non-finite weight")
    if frame["symbol"].isna().any() or frame["strategy_tag"].isna().any():
        raise ValueError("positions have a null symbol or strategy_tag")
    side = pd.Series("FLAT", index=frame.index).mask(weight > 0, "LONG").mask(weight < 0, "SHORT")
    if "side" in frame.columns and not (frame["side"].astype(str) == side).all():
        raise ValueError("positions have a side that contradicts the sign of their weight (LONG > 0, SHORT < 0, FLAT = 0)")
    out = pd.DataFrame(
        {"symbol": frame["symbol"].astype(str), "weight": weight, "side": side, "strategy_tag": frame["strategy_tag"].astype(str)}
    )
    if out.duplicated(["strategy_tag", "symbol"]).any():
        raise ValueError("positions list a (strategy_tag, symbol) twice")
    return out.sort_values(["strategy_tag", "symbol"]).reset_index(drop=True)


def _strategies(strategies: Mapping[str, Any], tags: set[str]) -> dict[str, dict[str, Any]]:
    if not isinstance(strategies, Mapping) or not strategies:
        raise ValueError("strategies must be a non-empty mapping name -> {sharpe, turnover, contribution, model_version}")
    out = {}
    for name, entry in strategies.items():  # one per sleeve
        entry = _mapping(entry, f"strategies[{name!r}]", STRATEGY_FIELDS)
        version = entry["model_version"]
        if version is None or str(version) == "":
            raise ValueError(f"strategies[{name!r}].model_version must name the champion's version")
        out[str(name)] = {
            **{k: v for k, v in entry.items() if k not in STRATEGY_FIELDS},
            "sharpe": _number(entry["sharpe"], f"strategies[{name!r}].sharpe", allow_nan=True),
            "turnover": _number(entry["turnover"], f"strategies[{name!r}].turnover"),
            "contribution": _number(entry["contribution"], f"strategies[{name!r}].contribution"),
            "model_version": str(version),
        }
    unknown = tags - set(out)
    if unknown:
        raise ValueError(f"positions name strategies {sorted(unknown)} that are not in strategies")
    return out


def _metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    metrics = _mapping(metrics, "metrics", ("pnl", "turnover", "risk_metrics"))
    pnl = _mapping(metrics["pnl"], "metrics.pnl", ("daily", "cumulative"))
    risk_doc = _mapping(metrics["risk_metrics"], "metrics.risk_metrics", RISK_FIELDS)
    return {
        "pnl": {k: _number(pnl[k], f"metrics.pnl.{k}") for k in ("daily", "cumulative")},
        "turnover": _number(metrics["turnover"], "metrics.turnover"),
        "risk_metrics": {
            **risk_doc, **{k: _number(risk_doc[k], f"metrics.risk_metrics.{k}", allow_nan=True) for k in RISK_FIELDS}
        },
    }


def _data_health(data_health: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    if not isinstance(data_health, Mapping) or not data_health:
        raise ValueError("data_health must be a non-empty mapping table -> coverage_summary entry")
    return {str(t): dict(_mapping(e, f"data_health[{t!r}]", HEALTH_FIELDS)) for t, e in data_health.items()}


def _plots(plots: Mapping[str, str] | None, report_dir: Path) -> dict[str, str]:
    out = {}
    for name, file in (plots or {}).items():
        path = Path(file)
        if path.name != str(file) or path.suffix != ".png":
            raise ValueError(f"plot {name!r} must be a .png file name beside the report, got {file!r}")
        if not (report_dir / path).is_file():
            raise ValueError(f"plot {name!r}: {report_dir / path} does not exist")
        out[str(name)] = str(file)
    return out


# ---------------------------------------------------------------- deterministic JSON and its Markdown view


def _plain(value: Any) -> Any:
    """JSON-ready value: dates as ISO text, floats to 6 significant digits (-0.0 as 0.0), NaN/inf as null."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat() if type(value) is dt.date else pd.Timestamp(value).date().isoformat()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return float(f"{number:.{SIGNIFICANT_DIGITS}g}") + 0.0 if math.isfinite(number) else None
    raise ValueError(f"cannot write {type(value).__name__} {value!r} into the report")


def _cell(value: Any) -> str:
    """A JSON value as the Markdown shows it: the very token json.dumps writes, n/a for null."""
    if value is None:
        return "n/a"
    return value if isinstance(value, str) else json.dumps(value)


def render_markdown(doc: Mapping[str, Any]) -> str:
    """The Markdown view of a report's JSON document: its values only, then the plots it names."""
    lines = [f"# Daily report {doc['asof']}", "", "## PnL and exposure", "", "| field | value |", "|---|---|"]
    lines += [f"| pnl {k} | {_cell(v)} |" for k, v in doc["pnl"].items()]
    lines += [f"| {k} | {_cell(doc[k])} |" for k in ("gross_exposure", "net_exposure", "turnover")]
    lines += ["", "## Positions", "", "| symbol | weight | side | strategy_tag |", "|---|---|---|---|"]
    lines += [f"| {p['symbol']} | {_cell(p['weight'])} | {p['side']} | {p['strategy_tag']} |" for p in doc["positions"]]
    if not doc["positions"]:
        lines.append("| (none) | | | |")
    keys = sorted({k for s in doc["strategies"].values() for k in s} - set(STRATEGY_FIELDS))
    cols = [*STRATEGY_FIELDS, *keys]
    lines += ["", "## Strategies", "", "| strategy | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += [f"| {n} | " + " | ".join(_cell(s.get(c)) for c in cols) + " |" for n, s in doc["strategies"].items()]
    risk_doc = doc["risk_metrics"]
    lines += ["", "## Risk", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {_cell(v)} |" for k, v in risk_doc.items() if k != "convention"]
    if "convention" in risk_doc:
        lines += ["", f"Convention: {risk_doc['convention']}."]
    lines += ["", "## Data health", "", "| table | " + " | ".join(HEALTH_FIELDS) + " |", "|---" * (len(HEALTH_FIELDS) + 1) + "|"]
    lines += [f"| {t} | " + " | ".join(_cell(e.get(c)) for c in HEALTH_FIELDS) + " |" for t, e in doc["data_health"].items()]
    if doc.get("plots"):
        lines += ["", "## Plots", ""]
        lines += [f"![{name}]({file})" for name, file in doc["plots"].items()]
    return "\n".join(lines) + "\n"


def emit_daily(
    asof: dt.date | str,
    positions: pd.DataFrame | Sequence[Mapping[str, Any]],
    strategies: Mapping[str, Mapping[str, Any]],
    metrics: Mapping[str, Any],
    *,
    data_health: Mapping[str, Mapping[str, Any]],
    out_dir: str | os.PathLike[str],
    plots: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """Write `<out_dir>/<asof>/daily.json` and `daily.md` (atomically, only when their bytes change).

    `positions`: rows {symbol, weight, strategy_tag} (weight a signed fraction of capital held over the next
    session; side is derived: LONG > 0, SHORT < 0, FLAT = 0); gross/net exposure are sum |w| and sum w.
    `strategies`: name -> {sharpe, turnover, contribution, model_version, ...}; every position's tag must be one.
    `metrics`: {pnl: {daily, cumulative}, turnover, risk_metrics: {realized_vol, max_drawdown, var_95, es_95, ...}}
    (a risk metric may be NaN, written as null, when the window is too short for it).
    `data_health`: table -> a `coverage_summary` entry. `plots`: name -> PNG file name already in the report's
    directory. Returns (json_path, md_path).
    """
    day = _session(asof)
    rows = _positions(positions)
    doc = {
        "asof": day,
        **_metrics(metrics),
        "gross_exposure": float(rows["weight"].abs().sum()),
        "net_exposure": float(rows["weight"].sum()),
        "positions": rows.to_dict("records"),
        "strategies": _strategies(strategies, set(rows["strategy_tag"])),
        "data_health": _data_health(data_health),
    }
    report_dir = Path(out_dir) / day.isoformat()
    doc["plots"] = _plots(plots, report_dir)
    plain = _plain(doc)
    text = json.dumps(plain, sort_keys=True, indent=2, allow_nan=False) + "\n"
    ordered = json.loads(text)  # the Markdown follows the JSON's (sorted) order
    json_path, md_path = report_dir / "daily.json", report_dir / "daily.md"
    write_if_changed(json_path, text.encode())
    write_if_changed(md_path, render_markdown(ordered).encode())
    return str(json_path), str(md_path)


# ---------------------------------------------------------------- assembling the report of one session


def _targets(targets: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(targets, pd.DataFrame):
        raise ValueError(f"targets must be a DataFrame (date, symbol, weight), got {type(targets).__name__}")
    missing = [c for c in ("date", "symbol", "weight") if c not in targets.columns]
    if missing:
        raise ValueError(f"targets are missing columns {missing}; required: date, symbol, weight")
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(targets["date"]).dt.date,
            "symbol": targets["symbol"].astype(str),
            "weight": pd.to_numeric(targets["weight"], errors="coerce").astype("float64"),
        }
    )
    if not np.isfinite(frame["weight"].to_numpy()).all():
        raise ValueError("targets have a missing or non-finite weight")
    if frame.duplicated(["date", "symbol"]).any():
        raise ValueError("targets list a (date, symbol) twice")
    return frame


def _dated_series(values: pd.Series, name: str) -> pd.Series:
    if not isinstance(values, pd.Series):
        raise ValueError(f"{name} must be a pd.Series indexed by session date, got {type(values).__name__}")
    series = pd.Series(pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64"),
                       index=pd.Index(pd.to_datetime(pd.Index(values.index)).date, name="date"))
    if not series.index.is_unique:
        raise ValueError(f"{name} has a date twice")
    return series.sort_index()


def daily_report(
    asof: dt.date | str,
    *,
    targets: pd.DataFrame,
    backtest_returns: pd.Series,
    ic_series: pd.Series,
    ledger_engine: Engine,
    out_dir: str | os.PathLike[str],
    model_version: str,
    tables: Sequence[str] | None = None,
    strategy_tag: str = "equities_xs",
    settings: DailyReportSettings | None = None,
) -> tuple[str, str]:
    """The report of `asof` for one sleeve, from data known at its close; returns (json_path, md_path).

    `targets` long (date, symbol, weight) decided at each close (positions = the non-zero targets of `asof`,
    turnover against the previous session's); `backtest_returns` the sleeve's daily net returns labelled by
    the session they are realised on (must include `asof`); `ic_series` the OOS IC by scoring session, whose
    IC needs the next session's return, so only sessions before `asof` are used; `tables` the datasets whose
    coverage is the data health (and the heatmap) over configs/reports.yml's windows (default: its `tables`). Writes the plots
    equity_drawdown.png, coverage.png and oos_ic.png beside the JSON.
    """
    cfg = settings or daily_report_settings()
    day = _session(asof)
    if model_version is None or str(model_version) == "":
        raise ValueError("model_version must name the champion's version")
    frame = _targets(targets)
    frame = frame[frame["date"] <= day]
    returns = _dated_series(backtest_returns, "backtest_returns")
    returns = returns[returns.index <= day].dropna()
    ic = _dated_series(ic_series, "ic_series")
    ic = ic[ic.index < day]
    today = frame[frame["date"] == day]
    if today.empty:
        raise ValueError(f"no targets on the as-of session {day}")
    positions = today.loc[today["weight"] != 0, ["symbol", "weight"]].assign(strategy_tag=strategy_tag)
    strategies = {
        strategy_tag: {
            **risk.strategy_metrics(returns, frame, day, window_sessions=cfg.risk_window_sessions),
            "model_version": str(model_version),
        }
    }
    metrics = {
        "pnl": risk.pnl(returns, day),
        "turnover": risk.session_turnover(frame, day),
        "risk_metrics": risk.risk_metrics(returns, day, window_sessions=cfg.risk_window_sessions),
    }
    span = max(cfg.health_window_sessions, cfg.coverage_plot_sessions)
    matrix = coverage_matrix(ledger_engine, cfg.tables if tables is None else tables, risk.window_start(day, span), day)  # one row per session
    health = coverage_summary(matrix.iloc[-cfg.health_window_sessions:])
    report_dir = Path(out_dir) / day.isoformat()
    files = {
        "equity_drawdown": report_plots.equity_drawdown_plot(returns, report_dir / "equity_drawdown.png", size=cfg.plot),
        "coverage": report_plots.coverage_heatmap(matrix.iloc[-cfg.coverage_plot_sessions:], report_dir / "coverage.png", size=cfg.plot),
        "oos_ic": report_plots.ic_plot(ic, report_dir / "oos_ic.png", rolling_sessions=cfg.ic_rolling_sessions, size=cfg.plot),
    }
    return emit_daily(
        day, positions, strategies, metrics, data_health=health, out_dir=out_dir,
        plots={name: Path(path).name for name, path in files.items()},
    )
