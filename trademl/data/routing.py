"""Capability-aware dataset routing (SSOT 2.6) and provider fallback (spec 003: Alpaca -> next -> next).

`route(dataset, asof, universe)` orders the providers of a dataset from the capabilities registry
(configs/endpoints.yml) and the overrides in configs/router.yml. `RoutedConnector` is a Connector
that walks that order: a provider that fails (auth, outage, malformed payload) or returns nothing
is skipped, symbols a provider has no rows for are asked of the next one, and when no provider
has data it raises one VendorError listing every provider's reason. Ingest and the Dagster assets
use it exactly like a single vendor; vendor changes stay below the curated layer.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trademl import calendar
from trademl.config import typed_config
from trademl.data.connectors.base import PAYLOAD_FAULT_CODES, Connector, FetchRequest, FetchResult, VendorError
from trademl.data.connectors.normalize import add_dropped
from trademl.data.connectors.normalize import failed_sessions as sessions_without_rows
from trademl.data.endpoints import Capability, EndpointRegistry, endpoint_registry
from trademl.schemas import bar_datasets

BAR_DATASETS = frozenset(bar_datasets())  # TableSpec.bars


Registry = EndpointRegistry | Mapping[str, Any]


@dataclass(frozen=True)
class RouterOverrides:
    """configs/router.yml on top of the registry: per-dataset explicit provider `order` (providers not
    listed keep registry order after them), providers `disabled` for automatic routing, and per-dataset
    `enabled` ``auto: false`` providers routed anyway. (Its ``qc_probe:`` section is
    `trademl.data.qc_probe.ProbeSettings`.)"""

    order: Mapping[str, tuple[str, ...]]
    disabled: frozenset[str]
    enabled: Mapping[str, frozenset[str]]

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> RouterOverrides:
        """Validate and build the overrides from the whole router document (empty keys = no override)."""

        def names(value: Any, field: str) -> tuple[str, ...]:
            if value is None:
                return ()
            if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
                raise ValueError(f"configs/router.yml {field}: expected a list of provider names, got {value!r}")
            return tuple(str(v) for v in value)

        def per_dataset(key: str) -> Mapping[str, tuple[str, ...]]:
            value = doc.get(key) or {}
            if not isinstance(value, Mapping):
                raise ValueError(f"configs/router.yml {key}: expected dataset -> [providers], got {value!r}")
            return {str(d): names(v, f"{key}.{d}") for d, v in value.items()}

        return cls(
            order=per_dataset("order"),
            disabled=frozenset(names(doc.get("disabled"), "disabled")),
            enabled={d: frozenset(v) for d, v in per_dataset("enabled").items()},
        )


def router_overrides(overrides: RouterOverrides | Mapping[str, Any] | None = None) -> RouterOverrides:
    """`overrides` as RouterOverrides (built from a router.yml-shaped mapping), or configs/router.yml."""
    if isinstance(overrides, RouterOverrides):
        return overrides
    if overrides is not None:
        return RouterOverrides.from_config(overrides)
    return typed_config(RouterOverrides, "router")


def capabilities(dataset: str | None = None, registry: Registry | None = None) -> list[Capability]:
    """Capability entries of configs/endpoints.yml (or of an injected `registry`), optionally only those of `dataset`."""
    return endpoint_registry(registry).capabilities_of(dataset)


def route(
    dataset: str,
    asof: dt.date | str | None = None,
    universe: Sequence[str] | None = None,
    *,
    prefer: Sequence[str] | None = None,
    registry: Registry | None = None,
    overrides: RouterOverrides | Mapping[str, Any] | None = None,
) -> list[str]:
    """Providers for `dataset` on `asof`, most preferred first.

    Automatic providers (``auto`` not false, not ``disabled``, or ``enabled`` for the dataset in
    configs/router.yml) whose ``history_start`` covers `asof` are ordered by router.yml ``order``,
    then registry ``priority``; a provider whose soft daily cap cannot cover one pass over
    `universe` is moved behind the others (still a fallback). `prefer` (TRADEML_VENDOR) puts those
    providers first; when every preferred provider is an offline one (``auto: false``: synthetic,
    files) the route is exactly them, with no network fallback.
    """
    reg = endpoint_registry(registry)
    caps = reg.capabilities_of(dataset)
    if not caps:
        known = sorted({c.dataset for c in reg.capabilities})
        raise ValueError(f"no provider serves dataset {dataset!r} in configs/endpoints.yml (known: {', '.join(known)})")
    cfg = router_overrides(overrides)
    day = pd.Timestamp(asof).date() if asof is not None else None
    enabled = cfg.enabled.get(dataset, frozenset())
    by_vendor = {c.vendor: c for c in caps}

    preferred = [p for p in (prefer or []) if p in by_vendor]
    unknown = [p for p in (prefer or []) if p not in by_vendor and p not in reg.vendors]
    if unknown:
        raise ValueError(f"unknown provider(s) {unknown}; configs/endpoints.yml lists {sorted(reg.vendors)}")
    if preferred and all(not by_vendor[p].auto for p in preferred):
        return preferred

    def eligible(c: Capability) -> bool:
        if c.vendor in cfg.disabled or (not c.auto and c.vendor not in enabled):
            return False
        return not (day is not None and c.history_start is not None and day < c.history_start)

    n_symbols = len(universe) if universe else 0

    def over_budget(c: Capability) -> bool:
        spec = reg.vendors.get(c.vendor)
        owner = reg.vendors.get(spec.same_as) if spec is not None and spec.same_as else spec
        cap = owner.soft_daily_cap if owner is not None else None
        return bool(n_symbols and cap and c.requests_for(n_symbols) > int(cap))

    auto = [c for c in caps if eligible(c)]
    rank = {v: i for i, v in enumerate(cfg.order.get(dataset, ()))}
    auto.sort(key=lambda c: (over_budget(c), rank.get(c.vendor, len(rank)), c.priority, c.vendor))
    return preferred + [c.vendor for c in auto if c.vendor not in preferred]


def failure_code(codes: Sequence[str]) -> str:
    """The one qc_code for a fetch no provider served, from each tried provider's code in route order.

    A payload that arrived but was unusable (MALFORMED_PAYLOAD, SCHEMA_VIOLATION, ...) is the most
    specific finding and wins (the first such, in route order): it condemns the session even over
    stored rows. Otherwise NO_DATA when every provider answered with nothing, else VENDOR_OUTAGE.
    """
    faults = [c for c in codes if c in PAYLOAD_FAULT_CODES]
    if faults:
        return faults[0]
    return "NO_DATA" if set(codes) <= {"NO_DATA"} else "VENDOR_OUTAGE"


class RoutedConnector(Connector):
    """A Connector over the routed providers of each dataset, falling back to the next on failure or no data.

    `factory(name)` builds one provider's connector (`connectors.registry.connector_for` passes one
    with fallback off, so routing never imports the registry); providers are built lazily, so a
    vendor that is never reached needs no key.
    ``source_name`` names the provider(s) that served the last fetch (``alpaca``, ``alpaca+massive``).
    """

    api_version = "router"

    def __init__(
        self,
        prefer: Sequence[str] | None = None,
        *,
        factory: Callable[[str], Connector],
        registry: Registry | None = None,
        overrides: RouterOverrides | Mapping[str, Any] | None = None,
    ) -> None:
        self.prefer = [p.strip().lower() for p in (prefer or []) if p.strip()]
        self._factory = factory
        # injected ones are typed once here; None reads the current configs on every route
        self._registry = endpoint_registry(registry) if registry is not None else None
        self._overrides = router_overrides(overrides) if overrides is not None else None
        self._connectors: dict[str, Connector] = {}
        self._lock = threading.Lock()
        self.datasets = frozenset(c.dataset for c in capabilities(None, self._registry))
        self.source_name = self.prefer[0] if self.prefer else "router"
        self.attempts: list[tuple[str, str]] = []  # (provider, outcome) of the last fetch

    def providers(self, dataset: str, asof: dt.date | None = None, universe: Sequence[str] | None = None) -> list[str]:
        """The provider order used for `dataset` (see `route`)."""
        return route(dataset, asof, universe, prefer=self.prefer, registry=self._registry, overrides=self._overrides)

    def connector(self, name: str) -> Connector:
        """The (cached) connector of provider `name`."""
        with self._lock:
            conn = self._connectors.get(name)
            if conn is None:
                conn = self._factory(name)
                self._connectors[name] = conn
            return conn

    def universe_symbols(self, asof: dt.date) -> list[str]:
        reasons = []
        for name in self.providers("equities_eod", asof):
            try:
                return self.connector(name).universe_symbols(asof)
            except VendorError as exc:
                reasons.append(f"{name}: {exc}")
        raise VendorError("router", "no provider can list a universe: " + "; ".join(reasons), retryable=False)

    def _fetch(self, request: FetchRequest) -> FetchResult:
        order = self.providers(request.dataset, request.start, request.symbols)
        wanted = {s for s in request.symbols} if request.symbols else None
        pending = request
        served_results: list[FetchResult] = []
        served: list[str] = []
        reasons: dict[str, str] = {}
        last_failed: dict[str, str] = {}
        self.attempts = []
        for name in order:
            try:
                conn = self.connector(name)
                if not conn.supports(request.dataset):
                    raise VendorError(name, f"does not serve {request.dataset}", retryable=False, qc_code="NO_DATA")
                result = conn.fetch(pending)
            except VendorError as exc:
                reasons[name] = f"{exc.qc_code}: {exc}"
                self.attempts.append((name, reasons[name]))
                continue
            except ValueError as exc:  # e.g. a provider configured wrongly (base URL, mapping)
                reasons[name] = f"CONFIG_ERROR: {exc}"
                self.attempts.append((name, reasons[name]))
                continue
            if result.num_rows == 0:
                detail = next(iter(result.failed_sessions.values()), "no rows")
                reasons[name] = f"NO_DATA: {detail}"
                self.attempts.append((name, reasons[name]))
                continue
            served_results.append(result)
            served.append(name)
            last_failed = dict(result.failed_sessions)
            frame = result.frame
            columns = frame.column_names if isinstance(frame, pa.Table) else frame.columns
            if wanted is None or "symbol" not in columns:
                self.attempts.append((name, f"served {result.num_rows} rows"))
                break
            missing = sorted(wanted - set().union(*(_symbols(r.frame) for r in served_results)))
            self.attempts.append((name, f"served {result.num_rows} rows" + (f"; no rows for {missing}" if missing else "")))
            if not missing:
                break
            reasons[name] = f"NO_DATA: no rows for {', '.join(missing)}"
            pending = FetchRequest(request.dataset, request.start, request.end, symbols=tuple(missing), series=request.series)
        if not served_results:
            code = failure_code([r.split(":", 1)[0] for r in reasons.values()])
            listing = "; ".join(f"{p} -> {r}" for p, r in reasons.items()) or "no provider routed"
            raise VendorError("router", f"no provider has {request.dataset} for {request.start}..{request.end}: {listing}", qc_code=code)
        self.source_name = "+".join(served)
        # One provider's rows pass through as they came (Arrow stays Arrow); a fallback mix is pandas.
        if len(served_results) > 1:
            frame = pd.concat([r.to_pandas() for r in served_results], ignore_index=True)
        else:
            frame = served_results[0].frame
        if request.dataset in BAR_DATASETS:
            sessions = calendar.session_table(request.start, request.end)
            failed = sessions_without_rows(frame, sessions)
            tried = "; ".join(f"{p} -> {r}" for p, r in reasons.items())
            failed = {d: f"{why} (providers tried: {tried})" if tried else why for d, why in failed.items()}
        else:
            failed = last_failed
        dropped: dict[str, dict[str, int]] = {}
        for served_result in served_results:
            add_dropped(dropped, served_result.dropped)
        return FetchResult(request.dataset, frame, self.source_name, failed, dropped=dropped)


def _symbols(frame: pd.DataFrame | pa.Table) -> set[str]:
    """Distinct symbols of a provider's rows (one vectorised unique)."""
    if isinstance(frame, pa.Table):
        return {str(s) for s in pc.unique(frame.column("symbol")).to_pylist()}
    return set(frame["symbol"].astype(str).unique())
