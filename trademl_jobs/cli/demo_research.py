"""`trademl demo`, steps 6-9: the research data path (curated -> features -> labels) over the demo window.

Each derived table starts where its inputs' history allows: curated on the window's first session;
equities_xs and the indicator sets once `lookback_sessions` of curated prices exist; the market
context after its `warmup_sessions`; daily labels on the features' sessions up to the last one
whose forward window is stored (`complete_through`), Sigma labels on the minute window likewise.
A step is one run of `materialize_job` through `trademl_jobs.runner.materialize_assets`, skipped
when its tables are all GREEN already (a rerun changes no file), or when the window is too short
for it (it says how many sessions it needs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from trademl_jobs.cli.args import say

if TYPE_CHECKING:
    from trademl_resources.vendors import SyntheticResource


@dataclass(frozen=True)
class ResearchStep:
    """One run of the demo's research path: these tables over [first, last] (None: window too short)."""

    label: str
    tables: tuple[str, ...]
    first: str | None
    last: str | None
    needs: str = ""


def all_green(engine, tables: list[str], first: str, last: str) -> bool:
    """True when the ledger holds every session of [first, last] GREEN for every table: a rerun of
    the demo skips that step (it would change no file) and says so."""
    from trademl import calendar
    from trademl.data import control, qc

    sessions = [d.date() for d in calendar.sessions(first, last)]
    for table in tables:
        rows = control.read_partition_status(engine, table_name=table, start=first, end=last)
        if any(s.color != "GREEN" for s in qc.summaries_by_session(rows, sessions).values()):
            return False
    return True


def _at(sessions: pd.DatetimeIndex, position: int) -> str | None:
    return sessions[position].strftime("%Y-%m-%d") if 0 <= position < len(sessions) else None


def research_steps(daily: pd.DatetimeIndex, minute: pd.DatetimeIndex) -> list[ResearchStep]:
    """The demo's curated, feature and label runs over the daily (and minute) window."""
    from trademl.features.equities_xs import lookback_sessions
    from trademl.features.indicators.tables import indicator_set_names
    from trademl.features.market_context import warmup_sessions
    from trademl.labels.label_sets import complete_through

    first, last = _at(daily, 0), _at(daily, len(daily) - 1)
    xs_at = lookback_sessions() - 1
    ctx_at = warmup_sessions() + 1  # +1: the synthetic VIX is published the next session
    xs_first = _at(daily, xs_at)
    label_last = complete_through("equities_xs", last).isoformat()
    sigma_last = complete_through("sigma", minute[-1]).isoformat()
    minute_first = minute[0].strftime("%Y-%m-%d")
    indicator_tables = tuple(f"features/indicators_{n}" for n in indicator_set_names())
    return [
        ResearchStep("curated prices", ("curated/equities_ohlcv_adj",), first, last),
        ResearchStep("equities_xs + indicator sets", ("features/equities_xs", *indicator_tables), xs_first, last,
                     needs=f"{xs_at + 1} daily sessions"),
        ResearchStep("market context", ("features/market_context",), _at(daily, ctx_at), last, needs=f"{ctx_at + 1} daily sessions"),
        ResearchStep("equities_xs labels", ("labels/equities_xs",), xs_first if xs_first and xs_first <= label_last else None,
                     label_last, needs=f"{xs_at + 1} daily sessions plus the 20-session forward window"),
        ResearchStep("sigma labels", ("labels/sigma",), minute_first if minute_first <= sigma_last else None, sigma_last,
                     needs="minute sessions beyond the 5-session forward window"),
    ]


def materialize_research(instance, engine, daily: pd.DatetimeIndex, minute: pd.DatetimeIndex, market: SyntheticResource,
                         *, first_step: int, n_steps: int) -> None:
    """Run every research step (numbered from `first_step` of `n_steps`); skipped ones say why."""
    import dagster as dg

    from trademl_jobs.runner import materialize_assets

    for i, step in enumerate(research_steps(daily, minute), first_step):
        head = f"[{i}/{n_steps}] {step.label}"
        if step.first is None:
            say(f"{head}: skipped, the demo window is too short (needs {step.needs}; see --sessions)")
            continue
        if all_green(engine, list(step.tables), step.first, step.last):
            say(f"{head}: {step.first}..{step.last} already GREEN, skipped")
            continue
        say(f"{head}: materializing {', '.join(step.tables)} over {step.first}..{step.last} (one run)")
        keys = [dg.AssetKey.from_user_string(t) for t in step.tables]
        run = materialize_assets(instance, keys, step.first, step.last, vendor="synthetic", synthetic=market)
        say(f"      run {run.run_id[:8]} {'ok' if run.success else 'finished with RED sessions'} in {run.seconds:.1f}s")
