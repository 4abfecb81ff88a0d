"""Per-vendor edge scheduling (SSOT 2.5): work units, producers, and one executor per vendor.

A work unit is ``{vendor, desc, tokens, run}`` (`WorkUnit`): `run()` does the vendor work (usually one
ingest request), `tokens` is what it costs against the vendor's budget. `EdgeScheduler` (the SSOT's
VendorSupervisor) hands each unit to its vendor's `VendorRunner`, which owns a thread pool of
``pools[vendor]`` workers (configs/edge.yml, overridden by ``NODE_MAX_INFLIGHT_<VENDOR>``), a token
bucket + UTC-daily cap (configs/edge.yml ``budgets``) and a freeze: a unit failing with
VendorUnavailable freezes that vendor for ``VENDOR_FREEZE_SECONDS_<VENDOR>`` (configs/endpoints.yml
default). All waiting happens in the vendor's own workers, so a slow or frozen vendor never delays
another vendor's units. In Dagster the same separation is expressed with pools named after vendors.

Producers (`alpaca_bars_units`, `fred_treasury_units`, ...) turn a session range into units,
consulting `trademl.data.routing.route` for the provider and its request granularity.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from trademl.config import config_value, typed_config
from trademl.data.connectors.base import FetchRequest, VendorError, VendorUnavailable
from trademl.data.http import VendorBudgetExhausted, env_number, vendor_limits
from trademl.data.routing import capabilities, route

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkUnit:
    """One schedulable piece of vendor work; `tokens` (>= 0) is charged to the vendor's budget before `run`."""

    vendor: str
    desc: str
    tokens: int
    run: Callable[[], Any]

    def __post_init__(self) -> None:
        if self.tokens < 0:
            raise ValueError(f"work unit {self.desc!r}: tokens must be >= 0, got {self.tokens}")
        if not self.vendor:
            raise ValueError(f"work unit {self.desc!r} names no vendor")


@dataclass
class UnitOutcome:
    """What happened to one unit: its result or error, and when it ran (monotonic seconds)."""

    unit: WorkUnit
    ok: bool
    result: Any = None
    error: str | None = None
    qc_code: str | None = None
    started: float = 0.0
    finished: float = 0.0


@dataclass
class EdgeReport:
    """Outcomes of one `EdgeScheduler.run`, with per-vendor counts."""

    outcomes: list[UnitOutcome] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            c = out.setdefault(o.unit.vendor, {"ok": 0, "failed": 0})
            c["ok" if o.ok else "failed"] += 1
        return out

    def __str__(self) -> str:
        parts = [f"{v}: {c['ok']} ok, {c['failed']} failed" for v, c in sorted(self.counts().items())]
        return "edge run - " + ("; ".join(parts) if parts else "no units")


class SchedulerStopped(RuntimeError):
    """The scheduler was shut down while a unit waited for its vendor."""


@dataclass(frozen=True)
class VendorBudget:
    """A vendor's unit budget: token bucket (tokens_per_minute, burst) and a UTC-daily cap (None = none)."""

    tokens_per_minute: float
    burst: float
    daily_cap: int | None

    def __post_init__(self) -> None:
        if self.tokens_per_minute <= 0 or self.burst <= 0:
            raise ValueError(f"budget needs tokens_per_minute > 0 and burst > 0, got {self}")


@dataclass(frozen=True)
class EdgeSettings:
    """configs/edge.yml: Dagster concurrency `pools` per vendor (max concurrent ingest steps, applied to
    the instance by trademl_jobs.runner.apply_pool_limits; also each `VendorRunner`'s workers) and the
    per-vendor unit `budgets` (a vendor without one is not budget-limited)."""

    pools: Mapping[str, int]
    budgets: Mapping[str, VendorBudget]

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> EdgeSettings:
        """Validate and build the settings from the whole document (an empty budget entry = no budget)."""
        pools_doc, budgets_doc = doc.get("pools") or {}, doc.get("budgets") or {}
        for key, value in (("pools", pools_doc), ("budgets", budgets_doc)):
            if not isinstance(value, Mapping):
                raise ValueError(f"configs/edge.yml {key}: expected a mapping of vendor names, got {value!r}")
        pools = {str(v): config_value(pools_doc, v, int, name="edge", path="pools") for v in pools_doc}
        for vendor, n in pools.items():
            if n < 1:
                raise ValueError(f"configs/edge.yml pools.{vendor} must be >= 1, got {n}")
        budgets = {}
        for vendor, b in budgets_doc.items():
            if not b:
                continue
            path = f"budgets.{vendor}"
            rate = config_value(b, "tokens_per_minute", float, name="edge", path=path)
            burst = config_value(b, "burst", float, name="edge", path=path, default=rate)
            cap = config_value(b, "daily_cap", int, name="edge", path=path, default=None)
            try:
                budgets[str(vendor)] = VendorBudget(rate, burst, cap or None)
            except ValueError as exc:
                raise ValueError(f"configs/edge.yml {path}: {exc}") from None
        return cls(pools=pools, budgets=budgets)


def edge_settings() -> EdgeSettings:
    """The current EdgeSettings (re-read when configs/edge.yml or its env override changes)."""
    return typed_config(EdgeSettings, "edge")


def vendor_budget(vendor: str, cfg: EdgeSettings | Mapping[str, Any] | None = None) -> VendorBudget | None:
    """The configs/edge.yml budget of `vendor` (None: not budget-limited); `cfg` may be injected,
    typed or as an edge.yml-shaped mapping."""
    if cfg is None:
        cfg = edge_settings()
    elif not isinstance(cfg, EdgeSettings):
        cfg = EdgeSettings.from_config(cfg)
    return cfg.budgets.get(vendor)


class VendorRunner:
    """One vendor's executor: worker pool, budget and freeze; nothing here is shared with other vendors."""

    def __init__(
        self,
        vendor: str,
        *,
        workers: int,
        budget: VendorBudget | None,
        freeze_seconds: float,
        stop: threading.Event,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if workers < 1:
            raise ValueError(f"vendor {vendor!r}: workers must be >= 1, got {workers}")
        self.vendor, self.workers, self.budget, self.freeze_seconds = vendor, workers, budget, freeze_seconds
        self._stop, self._clock, self._wall = stop, clock, wall_clock
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"edge-{vendor}")
        self._lock = threading.Lock()
        self._tokens = float(budget.burst) if budget else 0.0
        self._refilled = clock()
        self._day = self._utc_day()
        self.spent_today = 0
        self.frozen_until = 0.0

    def _utc_day(self) -> dt.date:
        return dt.datetime.fromtimestamp(self._wall(), tz=dt.timezone.utc).date()

    def submit(self, unit: WorkUnit) -> Future:
        return self._pool.submit(self._execute, unit)

    def freeze(self, seconds: float) -> None:
        with self._lock:
            self.frozen_until = max(self.frozen_until, self._clock() + seconds)

    def _wait(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise SchedulerStopped(f"{self.vendor}: scheduler stopped")

    def _admit(self, tokens: int) -> None:
        """Block (in this vendor's worker) until frozen time is over and `tokens` are available."""
        while True:
            if self._stop.is_set():
                raise SchedulerStopped(f"{self.vendor}: scheduler stopped")
            with self._lock:
                now = self._clock()
                if now < self.frozen_until:
                    wait = self.frozen_until - now
                elif self.budget is None:
                    return
                else:
                    day = self._utc_day()
                    if day != self._day:
                        self._day, self.spent_today = day, 0
                    cap = self.budget.daily_cap
                    if cap is not None and self.spent_today + tokens > cap:
                        raise VendorBudgetExhausted(self.vendor, f"edge daily cap {cap} tokens reached ({self.spent_today} spent)")
                    rate = self.budget.tokens_per_minute / 60.0
                    self._tokens = min(self.budget.burst, self._tokens + (now - self._refilled) * rate)
                    self._refilled = now
                    need = min(float(tokens), self.budget.burst)
                    if self._tokens >= need:
                        self._tokens -= tokens
                        self.spent_today += tokens
                        return
                    wait = (need - self._tokens) / rate
            self._wait(wait)

    def _execute(self, unit: WorkUnit) -> UnitOutcome:
        try:
            self._admit(unit.tokens)
        except (VendorError, SchedulerStopped) as exc:
            code = getattr(exc, "qc_code", "CANCELLED")
            return UnitOutcome(unit, ok=False, error=str(exc), qc_code=code, started=self._clock(), finished=self._clock())
        started = self._clock()
        try:
            result = unit.run()
        except VendorUnavailable as exc:
            self.freeze(self.freeze_seconds)
            log.warning("vendor unit failed; vendor frozen", extra={"vendor": self.vendor, "unit": unit.desc, "error": str(exc)})
            return UnitOutcome(unit, ok=False, error=str(exc), qc_code=exc.qc_code, started=started, finished=self._clock())
        except Exception as exc:  # one unit's failure is that unit's outcome, never the runner's
            log.warning("vendor unit failed", extra={"vendor": self.vendor, "unit": unit.desc, "error": str(exc)})
            code = getattr(exc, "qc_code", "UNIT_ERROR")
            return UnitOutcome(unit, ok=False, error=f"{exc.__class__.__name__}: {exc}", qc_code=code, started=started, finished=self._clock())
        return UnitOutcome(unit, ok=True, result=result, started=started, finished=self._clock())

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


class EdgeScheduler:
    """The VendorSupervisor: one `VendorRunner` per vendor, created on first use from configs/edge.yml."""

    def __init__(
        self,
        *,
        pools: dict[str, int] | None = None,
        budgets: dict[str, VendorBudget | None] | None = None,
        freeze_seconds: dict[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        cfg = edge_settings() if pools is None or budgets is None else None
        self._pools = dict(pools) if pools is not None else dict(cfg.pools)
        self._budgets = budgets
        self._cfg = cfg
        self._freeze = dict(freeze_seconds or {})
        self._clock, self._wall = clock, wall_clock
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.runners: dict[str, VendorRunner] = {}

    def runner(self, vendor: str) -> VendorRunner:
        """The runner of `vendor` (NODE_MAX_INFLIGHT_<VENDOR> > pools[vendor] > 1 worker)."""
        with self._lock:
            r = self.runners.get(vendor)
            if r is None:
                env = env_number(f"NODE_MAX_INFLIGHT_{vendor.upper()}")
                workers = int(env) if env is not None else int(self._pools.get(vendor, 1))
                budget = self._budgets.get(vendor) if self._budgets is not None else vendor_budget(vendor, self._cfg)
                freeze = self._freeze.get(vendor)
                if freeze is None:
                    try:
                        freeze = vendor_limits(vendor).freeze_seconds
                    except ValueError:
                        freeze = float(env_number(f"VENDOR_FREEZE_SECONDS_{vendor.upper()}") or 60.0)
                r = self.runners[vendor] = VendorRunner(
                    vendor, workers=workers, budget=budget, freeze_seconds=freeze, stop=self._stop,
                    clock=self._clock, wall_clock=self._wall,
                )
            return r

    def submit(self, unit: WorkUnit) -> Future:
        """Queue `unit` on its vendor's executor; the future resolves to a UnitOutcome (never raises)."""
        if self._stop.is_set():
            raise SchedulerStopped("scheduler is shut down")
        return self.runner(unit.vendor).submit(unit)

    def run(self, units: Iterable[WorkUnit], *, timeout: float | None = None) -> EdgeReport:
        """Submit every unit and wait for all outcomes (in submission order)."""
        futures = [self.submit(u) for u in units]
        return EdgeReport([f.result(timeout=timeout) for f in futures])

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop: with wait=False, waiting units are cancelled (running ones finish in the background)."""
        if not wait:
            self._stop.set()
        for r in list(self.runners.values()):
            r.shutdown(wait=wait)
        self._stop.set()

    def __enter__(self) -> "EdgeScheduler":
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(wait=exc[0] is None)


# ---- producers ---------------------------------------------------------------------------------------

Execute = Callable[[str, FetchRequest], Any]


def dataset_units(
    dataset: str,
    start: dt.date,
    end: dt.date,
    *,
    execute: Execute,
    symbols: Sequence[str] | None = None,
    series: Sequence[str] | None = None,
    vendor: str | None = None,
    chunk_sessions: int | None = None,
) -> list[WorkUnit]:
    """Units fetching `dataset` over [start, end] from `vendor` (default: the first routed provider).

    Symbols are grouped by the capability's ``symbols_per_request`` and sessions by `chunk_sessions`
    (configs/ingest.yml when omitted); tokens = estimated requests of the unit. `execute(vendor,
    request)` does the work (e.g. trademl.data.ingest with that vendor's connector).
    """
    from trademl import calendar

    name = vendor or route(dataset, start, symbols)[0]
    caps = {c.vendor: c for c in capabilities(dataset)}
    if name not in caps:
        raise ValueError(f"vendor {name!r} does not serve {dataset!r} (configs/endpoints.yml)")
    cap = caps[name]
    if chunk_sessions is None:
        from trademl.data.ingest.settings import ingest_settings  # configs/ingest.yml has one reader; imported here, where it is needed

        chunk_sessions = ingest_settings().chunk_sessions_for(dataset)
    days = [d.date() for d in calendar.sessions(start, end)]
    if not days:
        return []
    groups: list[tuple[str, ...] | None] = [None]
    if symbols:
        per = max(1, cap.symbols_per_request)
        groups = [tuple(symbols[i : i + per]) for i in range(0, len(symbols), per)]
    units = []
    for i in range(0, len(days), chunk_sessions):
        block = days[i : i + chunk_sessions]
        for group in groups:
            req = FetchRequest(dataset, block[0], block[-1], symbols=group, series=tuple(series) if series else None)
            tokens = cap.requests_for(len(group)) if group else 1
            label = f"{dataset} {block[0]}..{block[-1]}" + (f" [{group[0]}..{group[-1]} x{len(group)}]" if group else "")
            units.append(WorkUnit(name, label, int(math.ceil(tokens)), _bind(execute, name, req)))
    return units


def _bind(execute: Execute, vendor: str, request: FetchRequest) -> Callable[[], Any]:
    return lambda: execute(vendor, request)


def alpaca_bars_units(start: dt.date, end: dt.date, symbols: Sequence[str], *, execute: Execute) -> list[WorkUnit]:
    """Alpaca daily bars (multi-symbol requests)."""
    return dataset_units("equities_eod", start, end, execute=execute, symbols=symbols, vendor="alpaca")


def alpaca_minute_units(start: dt.date, end: dt.date, symbols: Sequence[str], *, execute: Execute) -> list[WorkUnit]:
    """Alpaca minute bars (multi-symbol requests, a few sessions per unit)."""
    return dataset_units("equities_minute", start, end, execute=execute, symbols=symbols, vendor="alpaca")


def massive_bars_units(start: dt.date, end: dt.date, symbols: Sequence[str], *, execute: Execute) -> list[WorkUnit]:
    """Massive daily aggregates (one ticker per request)."""
    return dataset_units("equities_eod", start, end, execute=execute, symbols=symbols, vendor="massive")


def finnhub_daily_units(start: dt.date, end: dt.date, symbols: Sequence[str], *, execute: Execute) -> list[WorkUnit]:
    """Finnhub daily candles (backup EOD)."""
    return dataset_units("equities_eod", start, end, execute=execute, symbols=symbols, vendor="finnhub")


def finnhub_options_units(start: dt.date, end: dt.date, underliers: Sequence[str], *, execute: Execute) -> list[WorkUnit]:
    """Finnhub option-chain snapshots."""
    return dataset_units("options_chains", start, end, execute=execute, symbols=underliers, vendor="finnhub")


def fred_treasury_units(start: dt.date, end: dt.date, *, execute: Execute, series: Sequence[str] | None = None) -> list[WorkUnit]:
    """FRED/ALFRED Treasury curve (default series: trademl.data.connectors.fred.TREASURY_SERIES)."""
    from trademl.data.connectors.fred import TREASURY_SERIES

    return dataset_units("macros_fred", start, end, execute=execute, series=series or TREASURY_SERIES, vendor="alfred")


def av_corp_actions_units(start: dt.date, end: dt.date, symbols: Sequence[str], *, execute: Execute) -> list[WorkUnit]:
    """Alpha Vantage splits and dividends (two requests per symbol)."""
    return dataset_units("corp_actions", start, end, execute=execute, symbols=symbols, vendor="alpha_vantage")


def fmp_fundamentals_units(start: dt.date, end: dt.date, symbols: Sequence[str], *, execute: Execute) -> list[WorkUnit]:
    """FMP income statements (one request per symbol)."""
    return dataset_units("fundamentals_income", start, end, execute=execute, symbols=symbols, vendor="fmp")
