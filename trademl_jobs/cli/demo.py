"""`trademl demo`: the demo window of the embedded synthetic market, materialized, audited, backfilled,
then the research path (curated, features, labels) and the model loop (train, promote, report)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from trademl import calendar
from trademl.config import config_value, settings, typed_config
from trademl.schemas import DATASET_TABLES, layer_datasets
from trademl_jobs.cli.args import CliError, control_db, parse_date, positive_int, reject_unhappened, say
from trademl_jobs.cli.data import print_coverage, status_payload
from trademl_jobs.cli.demo_models import run_model_loop
from trademl_jobs.cli.demo_research import all_green, materialize_research

if TYPE_CHECKING:  # Dagster is imported only when a command runs
    from trademl_resources.vendors import SyntheticResource

REFERENCE_DATASETS = layer_datasets("reference")


@dataclass(frozen=True)
class DemoWindow:
    """The demo's sessions: daily tables over `daily`, minute bars and option chains over `minute`,
    macro vintages from `macro_first` (earlier: the market context's CPI YoY needs a year of them)."""

    daily: pd.DatetimeIndex
    minute: pd.DatetimeIndex
    macro_first: str

    @property
    def first(self) -> str:
        return self.daily[0].strftime("%Y-%m-%d")

    @property
    def last(self) -> str:
        return self.daily[-1].strftime("%Y-%m-%d")


@dataclass(frozen=True)
class DemoSettings:
    """configs/demo.yml: the demo's last session `end` (YYYY-MM-DD, fixed so every machine writes the
    same files), `symbols` of the synthetic market, `daily_sessions` of daily and reference tables,
    the last `minute_sessions` of them for minute bars and option chains, macro vintages from
    `macro_lead_sessions` before the daily window, the planted cross-sectional `signal_strength`, and
    the model loop's `training` overrides (window and CPCV test length: the demo's year is short)."""

    end: str
    symbols: int
    daily_sessions: int
    minute_sessions: int
    macro_lead_sessions: int
    signal_strength: float
    training: Mapping[str, Any]

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> DemoSettings:
        """Validate and build the settings from the whole document."""

        def value(key: str, kind: Any) -> Any:
            return config_value(doc, key, kind, name="demo")

        end = value("end", str)
        try:
            end = dt.date.fromisoformat(end).isoformat()
        except ValueError:
            raise ValueError(f"configs/demo.yml end: expected a YYYY-MM-DD date, got {end!r}") from None
        out = cls(
            end,
            value("symbols", int),
            value("daily_sessions", int),
            value("minute_sessions", int),
            value("macro_lead_sessions", int),
            value("signal_strength", float),
            dict(value("training", dict)),
        )
        known = {"lookback_sessions", "min_test_sessions", "embargo_sessions", "trials"}
        counts = [v for k, v in out.training.items() if k != "trials"]
        if set(out.training) - known or not all(isinstance(v, int) and v >= 1 for v in counts):
            raise ValueError(f"configs/demo.yml training takes {', '.join(sorted(known))} (positive integers, trials a list), "
                             f"got {out.training!r}")
        if out.macro_lead_sessions < 0:
            raise ValueError(f"configs/demo.yml macro_lead_sessions must be >= 0, got {out.macro_lead_sessions}")
        for key in ("symbols", "daily_sessions", "minute_sessions"):
            if getattr(out, key) < 1:
                raise ValueError(f"configs/demo.yml {key} must be >= 1, got {getattr(out, key)}")
        return out


def demo_window(args: argparse.Namespace, cfg: DemoSettings) -> DemoWindow:
    """configs/demo.yml (or --end/--sessions): `daily_sessions` ending at `end`, the last `minute_sessions` of them."""
    end = parse_date(args.end or cfg.end, "--end")
    reject_unhappened(end, "--end")
    n_daily = args.sessions or cfg.daily_sessions
    daily = calendar.sessions(calendar.previous_session(end, n_daily + 5), end)[-n_daily:]
    macro_first = calendar.previous_session(daily[0], cfg.macro_lead_sessions) if cfg.macro_lead_sessions else daily[0]
    return DemoWindow(daily=daily, minute=daily[-cfg.minute_sessions :], macro_first=macro_first.strftime("%Y-%m-%d"))


def materialize_window(instance, engine, window: DemoWindow, market: SyntheticResource, n_steps: int) -> None:
    """Steps 1-4: one run per group of datasets over the window from the synthetic `market`
    (outage sessions come out RED); a step whose tables are all GREEN already is skipped."""
    from trademl_jobs.runner import materialize_range

    steps = [
        ("reference tables", list(REFERENCE_DATASETS), window.first),
        ("daily bars", ["equities_eod"], window.first),
        ("macro vintages", ["macros_fred"], window.macro_first),
        ("minute bars + option chains", ["equities_minute", "options_chains"], window.minute[0].strftime("%Y-%m-%d")),
    ]
    for i, (label, datasets, first) in enumerate(steps, 1):
        if all_green(engine, [DATASET_TABLES[d] for d in datasets], first, window.last):
            say(f"[{i}/{n_steps}] {label}: {first}..{window.last} already GREEN, skipped")
            continue
        say(f"[{i}/{n_steps}] materializing {label}: {first}..{window.last} (one run)")
        run = materialize_range(instance, datasets, first, window.last, vendor="synthetic", synthetic=market)
        note = "" if run.success else " — some sessions RED (vendor outage); the queue will backfill them"
        say(f"      run {run.run_id[:8]} {'ok' if run.success else 'finished with failed checks'} in {run.seconds:.1f}s{note}")


def audit_window(engine, window: DemoWindow, n_steps: int) -> None:
    """Step 5: audit_scan of the daily tables over the window and of the minute tables over its tail."""
    from trademl.data import backfill
    from trademl.data.lake import Lake

    lake = Lake(settings().data_root)
    say(f"[5/{n_steps}] audit_scan over {window.first}..{window.last}")
    daily_tables = [DATASET_TABLES[d] for d in (*REFERENCE_DATASETS, "equities_eod", "macros_fred")]
    backfill.audit_scan(daily_tables, engine=engine, lake=lake, start=window.daily[0].date(), end=window.daily[-1].date())
    minute_tables = [DATASET_TABLES["equities_minute"], DATASET_TABLES["options_chains"]]
    backfill.audit_scan(minute_tables, engine=engine, lake=lake, start=window.minute[0].date(), end=window.minute[-1].date())


def backfill_outage(instance, engine, market: SyntheticResource, n_steps: int) -> None:
    """Step 6: the queue worker drains the GAP tasks the audit planned, from the same synthetic `market`."""
    from trademl.data import backfill, control
    from trademl_jobs.runner import execute_tasks

    pending = control.queue_counts(engine).get("PENDING", 0)
    say(f"[6/{n_steps}] queue worker: backfilling {pending} pending task(s)")
    owner = f"demo:{os.getpid()}"
    backfill.backfill_run(None, engine=engine, execute=execute_tasks(instance, owner, vendor="synthetic", synthetic=market), owner=owner)


def print_summary(seconds: float) -> int:
    """The coverage table and where everything lives; 0 when no partition is RED."""
    from trademl_jobs.runner import project_paths

    payload = status_payload()
    say("")
    print_coverage(payload)
    paths = project_paths()
    say("")
    say(f"lake:         {paths['lake']}")
    say(f"control db:   {paths['control_db']}")
    say(f"dagster home: {paths['dagster_home']}")
    say(f"done in {seconds:.1f}s — `make ui` shows the runs, partitions and checks")
    red = sum(c.get("RED", 0) for c in payload["tables"].values())
    return 0 if red == 0 else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from trademl_jobs.runner import dagster_instance
    from trademl_resources.vendors import SyntheticResource

    cfg = typed_config(DemoSettings, "demo")
    if settings().vendor != "synthetic":
        raise CliError("the demo runs on the embedded synthetic market; unset TRADEML_VENDOR")
    from trademl.data.lake import Lake
    from trademl.data.lake.market import check_market

    check_market(Lake(settings().data_root), ["synthetic"])  # a real data root refuses the demo (one line, exit 2)
    # The demo's market size and planted edge (TRADEML_SYNTHETIC_* still override them), passed to its runs.
    market = SyntheticResource(n_symbols=args.symbols or cfg.symbols, signal_strength=cfg.signal_strength)
    window = demo_window(args, cfg)
    instance = dagster_instance()
    t_start = time.perf_counter()
    engine = control_db()
    n_steps = 14
    materialize_window(instance, engine, window, market, n_steps)
    audit_window(engine, window, n_steps)
    backfill_outage(instance, engine, market, n_steps)
    materialize_research(instance, engine, window.daily, window.minute, market, first_step=7, n_steps=n_steps)
    run_model_loop(instance, window.last, training=cfg.training, first_step=12, n_steps=n_steps)
    return print_summary(time.perf_counter() - t_start)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `demo` to the `trademl` parser."""
    demo = sub.add_parser("demo", help="materialize the demo window of the synthetic market and backfill its outage")
    demo.add_argument("--symbols", type=positive_int, default=None)
    demo.add_argument("--sessions", type=positive_int, default=None)
    demo.add_argument("--end", default=None, help="last session (YYYY-MM-DD); default from configs/demo.yml")
    demo.set_defaults(func=cmd_demo)

