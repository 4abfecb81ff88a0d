"""Cross-vendor QC probe (the QC_PROBE task kind, SSOT 2.4): spot-check stored bars against a second vendor.

A sample of GREEN (symbol, session) partitions of raw/equities_bars or raw/equities_minute is
fetched again from another provider and compared per symbol and session: the close (daily close,
or the last minute's close) within ``close_rel_tol`` and the volume (daily, or summed minutes)
within ``volume_rel_tol`` (null = volume not compared, e.g. IEX vs SIP feeds). Disagreements are
written to partition_status as AMBER with qc_code ``PROBE_CLOSE_MISMATCH`` or
``PROBE_VOLUME_MISMATCH``; rows already AMBER/RED are left alone, and nothing in the lake changes.
Tolerances and sample sizes: configs/router.yml ``qc_probe``.

As a task kind: `enqueue_probe_tasks` (the nightly planner) queues one QC_PROBE task per bar
dataset of configs/backfill.yml ``qc_probe`` over its latest completed sessions, but only when a
second provider is routed for it and has its keys; `probe_window` is the body of such a task: the
vendor that stored the rows (per the ledger) is checked against the next routed provider.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar

from trademl.data import backfill, control
from trademl.config import config_value, typed_config
from trademl.data.connectors.base import Connector, FetchRequest, VendorError
from trademl.data.connectors.registry import connector_for
from trademl.data.lake import Lake
from trademl.data.routing import route
from trademl.schemas import bar_datasets, table_spec

PROBE_DATASETS = bar_datasets()  # the probe compares bars (TableSpec.bars)


@dataclass(frozen=True)
class ProbeSettings:
    """Tolerances (relative, e.g. 0.005 = 0.5 %) and sample sizes of the probe."""

    close_rel_tol: float = 0.005
    volume_rel_tol: float | None = 0.25
    sample_sessions: int = 5
    sample_symbols: int = 20
    seed: int = 0

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> ProbeSettings:
        """Validate and build the settings from the ``qc_probe:`` mapping of configs/router.yml (absent
        keys take the defaults above; ``volume_rel_tol: null`` = do not compare volume)."""

        def value(key: str, kind: Any) -> Any:
            return config_value(doc, key, kind, name="router", path="qc_probe", default=getattr(cls, key))

        out = cls(
            close_rel_tol=value("close_rel_tol", float),
            volume_rel_tol=None if doc.get("volume_rel_tol", cls.volume_rel_tol) is None else value("volume_rel_tol", float),
            sample_sessions=value("sample_sessions", int),
            sample_symbols=value("sample_symbols", int),
            seed=value("seed", int),
        )
        if out.close_rel_tol < 0 or (out.volume_rel_tol is not None and out.volume_rel_tol < 0):
            raise ValueError(f"configs/router.yml qc_probe tolerances must be >= 0, got {out}")
        if out.sample_sessions < 1 or out.sample_symbols < 1:
            raise ValueError(
                f"configs/router.yml qc_probe sample_sessions and sample_symbols must be >= 1, got {out.sample_sessions} "
                f"and {out.sample_symbols}"
            )
        return out


def probe_settings() -> ProbeSettings:
    """The current ProbeSettings (configs/router.yml ``qc_probe:``, re-read when the file changes)."""
    return typed_config(ProbeSettings, "router", "qc_probe")


@dataclass(frozen=True)
class ProbeSchedule:
    """What the nightly planner probes (configs/backfill.yml): the ``qc_probe.datasets`` (bar datasets),
    over the latest ``qc_probe.sessions_back`` completed sessions, a session counting as completed
    ``forward.due_after_close_minutes`` minutes after its close."""

    datasets: tuple[str, ...]
    sessions_back: int
    due_after_close_minutes: float

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> ProbeSchedule:
        """Validate and build the schedule from the whole configs/backfill.yml document."""
        probe = doc.get("qc_probe") or {}
        if not isinstance(doc.get("forward"), Mapping):
            raise ValueError("configs/backfill.yml has no `forward:` section")
        datasets = tuple(dict.fromkeys(config_value(probe, "datasets", list, name="backfill", path="qc_probe", default=[])))
        for dataset in datasets:
            if dataset not in PROBE_DATASETS:
                raise ValueError(f"configs/backfill.yml qc_probe.datasets: {dataset!r} is not one of {', '.join(PROBE_DATASETS)}")
        out = cls(
            datasets=datasets,
            sessions_back=config_value(probe, "sessions_back", int, name="backfill", path="qc_probe", default=5),
            due_after_close_minutes=config_value(
                doc["forward"], "due_after_close_minutes", float, name="backfill", path="forward", default=0.0
            ),
        )
        if out.sessions_back < 1:
            raise ValueError("configs/backfill.yml qc_probe.sessions_back must be >= 1")
        return out


@dataclass
class ProbeReport:
    """What one probe compared and what it marked AMBER."""

    dataset: str
    probe_vendor: str
    sessions: list[dt.date]
    compared: int = 0
    unverified: int = 0  # sampled (symbol, session) pairs the probe vendor had no rows for
    disagreements: pd.DataFrame = field(default_factory=pd.DataFrame)
    marked_amber: int = 0

    def __str__(self) -> str:
        return (
            f"qc probe {self.dataset} vs {self.probe_vendor}: {self.compared} compared, "
            f"{len(self.disagreements)} disagree ({self.marked_amber} marked AMBER), {self.unverified} unverified"
        )


def probe_vendor(dataset: str, primary: str, asof: dt.date | None = None) -> str:
    """The first routed provider of `dataset` other than `primary` (the vendor that stored the data;
    a fallback mix such as ``alpaca+massive`` excludes each of its providers)."""
    stored_by = set(primary.split("+"))
    others = [v for v in route(dataset, asof) if v not in stored_by]
    if not others:
        raise ValueError(f"no second provider routes {dataset!r} besides {primary!r}; add one in configs/endpoints.yml")
    return others[0]


def _daily_view(frame: pd.DataFrame, minute: bool) -> pd.DataFrame:
    """(symbol, date) -> close, volume: daily rows as they are, minute rows as last close and summed volume."""
    if frame.empty:
        return pd.DataFrame(columns=["symbol", "date", "close", "volume"])
    f = frame.assign(date=pd.to_datetime(frame["date"]).dt.date)
    if not minute:
        return f[["symbol", "date", "close", "volume"]]
    f = f.sort_values(["symbol", "ts"])
    g = f.groupby(["symbol", "date"], sort=True)
    return pd.DataFrame({"close": g["close"].last(), "volume": g["volume"].sum()}).reset_index()


def sample_green(
    engine: Engine, table: str, start: dt.date, end: dt.date, settings: ProbeSettings
) -> pd.DataFrame:
    """A seeded sample of GREEN status rows: up to `sample_sessions` sessions x `sample_symbols` symbols."""
    status = control.read_partition_status(engine, table_name=table, start=start, end=end)
    green = status[(status["status"] == "GREEN") & status["symbol"].notna()]
    if green.empty:
        return green
    rng = np.random.default_rng(settings.seed)
    days = np.array(sorted(pd.to_datetime(green["dt"]).dt.date.unique()), dtype=object)
    days = days[np.sort(rng.choice(len(days), size=min(settings.sample_sessions, len(days)), replace=False))]
    syms = np.array(sorted(green["symbol"].unique()), dtype=object)
    syms = syms[np.sort(rng.choice(len(syms), size=min(settings.sample_symbols, len(syms)), replace=False))]
    dts = pd.to_datetime(green["dt"]).dt.date
    return green[dts.isin(set(days)).to_numpy() & green["symbol"].isin(set(syms)).to_numpy()]


def qc_probe(
    dataset: str,
    start: dt.date | str,
    end: dt.date | str,
    *,
    lake: Lake,
    engine: Engine,
    probe: Connector,
    symbols: Sequence[str] | None = None,
    settings: ProbeSettings | None = None,
) -> ProbeReport:
    """Compare sampled GREEN partitions of `dataset` in [start, end] with `probe`; mark disagreements AMBER."""
    if dataset not in PROBE_DATASETS:
        raise ValueError(f"the QC probe compares bars ({', '.join(PROBE_DATASETS)}), not {dataset!r}")
    settings = settings or probe_settings()
    spec = table_spec(dataset)
    minute = dataset == "equities_minute"
    start, end = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    sample = sample_green(engine, spec.name, start, end, settings)
    if symbols:
        sample = sample[sample["symbol"].isin(set(symbols))]
    report = ProbeReport(dataset, probe.source_name, sorted(set(pd.to_datetime(sample["dt"]).dt.date)) if len(sample) else [])
    if sample.empty:
        return report
    want = sample.assign(date=pd.to_datetime(sample["dt"]).dt.date)[["symbol", "date"]]
    names = sorted(want["symbol"].unique())
    stored = lake.read(spec.name, start=min(report.sessions), end=max(report.sessions), symbols=names).to_pandas()
    ours = _daily_view(stored, minute).merge(want, on=["symbol", "date"])
    fetched = probe.fetch(FetchRequest(dataset, min(report.sessions), max(report.sessions), symbols=tuple(names))).to_pandas()
    theirs = _daily_view(fetched, minute)
    both = ours.merge(theirs, on=["symbol", "date"], how="left", suffixes=("", "_probe"))
    have = both["close_probe"].notna()
    report.unverified = int((~have).sum())
    both = both[have.to_numpy()]
    report.compared = len(both)
    close_diff = (both["close_probe"] - both["close"]).abs() / both["close"].abs()
    close_bad = close_diff > settings.close_rel_tol
    if settings.volume_rel_tol is not None:
        denom = both["volume"].astype(float).abs().clip(lower=1.0)
        vol_diff = (both["volume_probe"].astype(float) - both["volume"].astype(float)).abs() / denom
        vol_bad = vol_diff > settings.volume_rel_tol
    else:
        vol_diff = pd.Series(np.nan, index=both.index)
        vol_bad = pd.Series(False, index=both.index)
    bad = close_bad | vol_bad
    report.disagreements = both.assign(
        close_rel_diff=close_diff, volume_rel_diff=vol_diff,
        qc_code=np.where(close_bad, "PROBE_CLOSE_MISMATCH", "PROBE_VOLUME_MISMATCH"),
    )[bad.to_numpy()].reset_index(drop=True)
    if report.disagreements.empty:
        return report
    keyed = sample.assign(date=pd.to_datetime(sample["dt"]).dt.date)
    rows = keyed.merge(report.disagreements[["symbol", "date", "qc_code", "close_rel_diff"]], on=["symbol", "date"], suffixes=("_old", ""))
    status_rows = pd.DataFrame(
        {
            "source_name": rows["source_name"],
            "table_name": spec.name,
            "symbol": rows["symbol"],
            "dt": rows["date"],
            "partition_key": rows["partition_key"],
            "status": "AMBER",
            "qc_score": (1.0 - rows["close_rel_diff"].clip(upper=1.0)).clip(lower=0.0).fillna(0.5),
            "row_count": rows["row_count"],
            "expected_rows": rows["expected_rows"],
            "qc_code": rows["qc_code"],
        }
    )
    report.marked_amber = control.upsert_partition_status(engine, status_rows)
    return report


ConnectorBuilder = Callable[[str], Connector]


def _default_builder(name: str) -> Connector:
    return connector_for(name, fallback=False)


def stored_source(engine: Engine, table: str, start: dt.date, end: dt.date) -> str | None:
    """The source most GREEN ledger rows of `table` in [start, end] name (None when nothing is GREEN)."""
    rows = control.read_partition_status(engine, table_name=table, start=start, end=end)
    green = rows[rows["status"] == "GREEN"]
    if green.empty:
        return None
    counts = green["source_name"].value_counts()
    return str(counts[counts == counts.max()].sort_index().index[0])


def probe_connector(dataset: str, primary: str, asof: dt.date | None = None, build: ConnectorBuilder | None = None) -> Connector:
    """The second provider's connector, ready to call: ValueError when none is routed, VendorError
    (naming the variables, never values) when its keys are missing."""
    conn = (build or _default_builder)(probe_vendor(dataset, primary, asof))
    check = getattr(conn, "require_credentials", None)
    if check is not None:
        check()
    return conn


def probe_window(
    dataset: str,
    start: dt.date | str,
    end: dt.date | str,
    *,
    lake: Lake,
    engine: Engine,
    build: ConnectorBuilder | None = None,
    symbols: Sequence[str] | None = None,
    settings: ProbeSettings | None = None,
) -> ProbeReport:
    """A QC_PROBE task: sampled GREEN partitions of [start, end] re-fetched from the provider after
    the one that stored them; disagreements become AMBER (see `qc_probe`)."""
    start, end = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    primary = stored_source(engine, table_spec(dataset).name, start, end)
    if primary is None:
        return ProbeReport(dataset, "-", [])
    probe = probe_connector(dataset, primary, start, build)
    return qc_probe(dataset, start, end, lake=lake, engine=engine, probe=probe, symbols=symbols, settings=settings)


@dataclass
class ProbePlan:
    """What the nightly planner queued and, per dataset, why it queued nothing."""

    enqueued: int = 0
    skipped: dict[str, str] = field(default_factory=dict)


def enqueue_probe_tasks(engine: Engine, *, now: dt.datetime, build: ConnectorBuilder | None = None) -> ProbePlan:
    """One QC_PROBE task per dataset of configs/backfill.yml ``qc_probe.datasets`` over its latest
    ``sessions_back`` completed sessions (closed-open window), charged to the probe vendor's budget.

    A dataset is skipped, with the reason, when nothing in the window is GREEN, no second provider
    is routed, or that provider's keys are not set: a node without a second vendor queues nothing.
    """
    schedule = typed_config(ProbeSchedule, "backfill")
    n = schedule.sessions_back
    last = backfill.latest_completed_session(now, schedule.due_after_close_minutes)
    first = last if n == 1 else calendar.previous_session(last, n - 1).date()
    end = calendar.next_session(last).date()
    plan, tasks = ProbePlan(), []
    for dataset in schedule.datasets:
        primary = stored_source(engine, table_spec(dataset).name, first, last)
        if primary is None:
            plan.skipped[dataset] = f"no GREEN partition in {first}..{last}"
            continue
        try:
            probe = probe_connector(dataset, primary, first, build)
        except (ValueError, VendorError) as exc:
            plan.skipped[dataset] = str(exc)
            continue
        tasks.append(
            {
                "dataset": dataset,
                "symbol": None,
                "start_date": first,
                "end_date": end,
                "kind": "QC_PROBE",
                "vendor": probe.source_name,
                "tokens": backfill.task_tokens(dataset, n),
            }
        )
    plan.enqueued = control.enqueue_tasks(engine, tasks, now=now) if tasks else 0
    return plan

