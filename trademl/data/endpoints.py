"""The capabilities registry of configs/endpoints.yml (SSOT 2.9), typed once per file version.

`EndpointRegistry` holds the ``vendors:`` entries (`VendorSpec`: base URL and request limits,
``same_as`` aliases sharing another vendor's key and budget) and the ``capabilities:`` entries
(`Capability`: a vendor serving a dataset through an endpoint). The HTTP gates
(`trademl.data.http.vendor_limits`), the connectors' base URLs and the router
(`trademl.data.routing.route`) all read it through `endpoint_registry()`; tests may inject a plain
mapping of the same shape instead.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trademl.config import config_value, typed_config

_NAME = "endpoints"


def date(value: Any) -> dt.date:
    """An ISO date (YYYY-MM-DD) from YAML (a date already, or its text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@dataclass(frozen=True)
class VendorSpec:
    """One ``vendors:`` entry: API root and admission limits (requests/minute, burst, daily cap per
    UTC day, 429 freeze seconds, in-flight cap; None = not set here). A ``same_as`` vendor spends
    the named vendor's budget and inherits its base URL."""

    name: str
    base_url: str | None = None
    hard_rpm: float = 60.0
    burst_limit: int = 1
    soft_daily_cap: int | None = None
    freeze_seconds: float = 60.0
    max_inflight: int | None = None
    same_as: str | None = None

    @classmethod
    def from_config(cls, name: str, doc: Mapping[str, Any] | None) -> VendorSpec:
        """Validate and build the entry `vendors.<name>` (an empty entry takes every default)."""
        doc = doc or {}
        path = f"vendors.{name}"

        def field(key: str, kind: Any, default: Any) -> Any:
            return config_value(doc, key, kind, name=_NAME, path=path, default=default)

        spec = cls(
            name=str(name),
            base_url=field("base_url", str, None),
            hard_rpm=field("hard_rpm", float, cls.hard_rpm),
            burst_limit=field("burst_limit", int, cls.burst_limit),
            soft_daily_cap=field("soft_daily_cap", int, None),
            freeze_seconds=field("freeze_seconds", float, cls.freeze_seconds),
            max_inflight=field("max_inflight", int, None),
            same_as=field("same_as", str, None),
        )
        checks = (
            ("hard_rpm", spec.hard_rpm > 0, "> 0"),
            ("burst_limit", spec.burst_limit >= 1, ">= 1"),
            ("soft_daily_cap", spec.soft_daily_cap is None or spec.soft_daily_cap >= 1, ">= 1 or null"),
            ("freeze_seconds", spec.freeze_seconds >= 0, ">= 0"),
            ("max_inflight", spec.max_inflight is None or spec.max_inflight >= 1, ">= 1 or unset"),
        )
        for key, ok, rule in checks:
            if not ok:
                raise ValueError(f"configs/endpoints.yml {path}.{key} must be {rule}, got {getattr(spec, key)!r}")
        return spec


@dataclass(frozen=True)
class Capability:
    """One configs/endpoints.yml `capabilities` entry: a vendor serving a dataset through an endpoint."""

    dataset: str
    vendor: str
    endpoint: str
    priority: int
    auto: bool = True
    history_start: dt.date | None = None
    requests_per_symbol: float = 1.0
    symbols_per_request: int = 1
    notes: str = ""

    @classmethod
    def from_config(cls, doc: Mapping[str, Any], index: int = 0) -> Capability:
        """Validate and build entry number `index` of ``capabilities:``."""
        path = f"capabilities[{index}]"

        def field(key: str, kind: Any, *default: Any) -> Any:
            """Field `key`; required unless a default is given."""
            return config_value(doc, key, kind, name=_NAME, path=path, **({"default": default[0]} if default else {}))

        cap = cls(
            dataset=field("dataset", str),
            vendor=field("vendor", str),
            endpoint=field("endpoint", str, ""),
            priority=field("priority", int),
            auto=field("auto", bool, True),
            history_start=field("history_start", date, None),
            requests_per_symbol=field("requests_per_symbol", float, 1.0),
            symbols_per_request=field("symbols_per_request", int, 1),
            notes=field("notes", str, ""),
        )
        if cap.symbols_per_request < 1 or cap.requests_per_symbol < 0:
            raise ValueError(
                f"configs/endpoints.yml {path} ({cap.dataset}/{cap.vendor}) needs symbols_per_request >= 1 and "
                f"requests_per_symbol >= 0, got {cap.symbols_per_request} and {cap.requests_per_symbol}"
            )
        return cap

    def requests_for(self, n_symbols: int) -> int:
        """Requests needed for one pass over `n_symbols` symbols (at least one; pagination ignored)."""
        if self.requests_per_symbol == 0:
            return 1
        return max(1, math.ceil(n_symbols / self.symbols_per_request * self.requests_per_symbol))


@dataclass(frozen=True)
class EndpointRegistry:
    """configs/endpoints.yml: every vendor's `VendorSpec` by name and every `Capability` in file order."""

    vendors: Mapping[str, VendorSpec]
    capabilities: tuple[Capability, ...]

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> EndpointRegistry:
        """Validate and build the registry from the whole document."""
        vendors = doc.get("vendors") or {}
        caps = doc.get("capabilities") or []
        if not isinstance(vendors, Mapping):
            raise ValueError("configs/endpoints.yml vendors: must map vendor names to their limits")
        if not isinstance(caps, list):
            raise ValueError("configs/endpoints.yml capabilities: must be a list of entries")
        return cls(
            vendors={str(name): VendorSpec.from_config(str(name), spec) for name, spec in vendors.items()},
            capabilities=tuple(Capability.from_config(c, i) for i, c in enumerate(caps)),
        )

    def budget_vendor(self, vendor: str) -> str:
        """The vendor whose budget `vendor` spends, following ``same_as`` (``alfred`` -> ``fred``)."""
        seen = [vendor]
        while True:
            if vendor not in self.vendors:
                raise ValueError(f"vendor {vendor!r} is not in configs/endpoints.yml (known: {', '.join(sorted(self.vendors))})")
            alias = self.vendors[vendor].same_as
            if not alias:
                return vendor
            if alias in seen:
                raise ValueError(f"configs/endpoints.yml: same_as cycle {' -> '.join(seen + [alias])}")
            seen.append(alias)
            vendor = alias

    def capabilities_of(self, dataset: str | None = None) -> list[Capability]:
        """The capabilities of `dataset` (all of them when None), in file order."""
        return [c for c in self.capabilities if dataset is None or c.dataset == dataset]


def endpoint_registry(registry: EndpointRegistry | Mapping[str, Any] | None = None) -> EndpointRegistry:
    """`registry` as an EndpointRegistry: itself, built from a mapping shaped like configs/endpoints.yml
    (tests inject those), or, when None, configs/endpoints.yml (re-read when the file changes)."""
    if isinstance(registry, EndpointRegistry):
        return registry
    if registry is not None:
        return EndpointRegistry.from_config(registry)
    return typed_config(EndpointRegistry, _NAME)
