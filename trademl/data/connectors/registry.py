"""Vendor name -> connector instance: the one place that knows which class serves which name.

Imports are lazy so choosing one vendor never imports (or needs keys for) another. HTTP vendors
read their keys and base URLs from the environment when built; the synthetic market keeps its
outage-recovery state under the data root so retries from other processes see it.

Names (TRADEML_VENDOR): ``synthetic`` and ``files`` give that connector alone; ``auto`` (or
``router``) gives a `trademl.data.routing.RoutedConnector` choosing providers per dataset from
configs/endpoints.yml; a real vendor name or a comma list (``alpaca`` or ``alpaca,massive``) gives
a RoutedConnector that tries those first and then falls back along the route (spec 003:
Alpaca -> next -> next). ``fallback=False`` returns the bare vendor connector.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path

from trademl.data.connectors.base import Connector
from trademl.data.routing import RoutedConnector

# name -> (module, class); every class exposes from_env() or, for synthetic, from_settings(data_root).
CONNECTORS: dict[str, tuple[str, str]] = {
    "synthetic": ("trademl.data.connectors.synthetic", "SyntheticConnector"),
    "files": ("trademl.data.connectors.files", "FilesConnector"),
    "alpaca": ("trademl.data.connectors.alpaca", "AlpacaConnector"),
    "massive": ("trademl.data.connectors.massive", "MassiveConnector"),
    "finnhub": ("trademl.data.connectors.finnhub", "FinnhubConnector"),
    "fred": ("trademl.data.connectors.fred", "FredConnector"),
    "alfred": ("trademl.data.connectors.fred", "AlfredConnector"),
    "alpha_vantage": ("trademl.data.connectors.alpha_vantage", "AlphaVantageConnector"),
    "fmp": ("trademl.data.connectors.fmp", "FmpConnector"),
}
ALIASES: dict[str, str] = {"polygon": "massive", "alphavantage": "alpha_vantage"}
ROUTED: frozenset[str] = frozenset({"auto", "router"})
# Offline connectors: chosen alone, never wrapped in a network fallback.
OFFLINE: frozenset[str] = frozenset({"synthetic", "files"})


def vendor_names() -> list[str]:
    """Every vendor name `connector_for` accepts (aliases excluded)."""
    return sorted(CONNECTORS)


def _canonical(name: str) -> str:
    key = name.strip().lower()
    return ALIASES.get(key, key)


def check_vendor_setting(name: str) -> list[str]:
    """The canonical provider names of a TRADEML_VENDOR value; ValueError naming any unknown one."""
    names = [_canonical(n) for n in name.split(",") if n.strip()]
    if not names:
        raise ValueError("empty vendor name; set TRADEML_VENDOR to a vendor, a comma list or 'auto'")
    for n in names:
        if n not in CONNECTORS and n not in ROUTED:
            raise ValueError(f"unknown vendor {n!r}; known vendors: {', '.join(vendor_names())} (or 'auto')")
    return names


def connector_for(
    name: str,
    *,
    data_root: str | Path | None = None,
    fallback: bool = True,
    builders: Mapping[str, Callable[[], Connector]] | None = None,
) -> Connector:
    """Build the connector for `name` (case-insensitive; 'polygon' means 'massive'); see the module doc.

    `builders` maps a canonical provider name to a zero-argument callable that builds that
    provider's connector instead of the default (the per-vendor Dagster resources pass theirs).
    """
    names = check_vendor_setting(name)
    builders = dict(builders or {})
    unknown = sorted(set(builders) - set(CONNECTORS))
    if unknown:
        raise ValueError(f"builders for unknown vendor(s) {unknown}; known vendors: {', '.join(vendor_names())}")
    if fallback and (len(names) > 1 or names[0] in ROUTED or names[0] not in OFFLINE):
        prefer = [n for n in names if n not in ROUTED]

        def factory(provider: str) -> Connector:
            return connector_for(provider, data_root=data_root, fallback=False, builders=builders)

        return RoutedConnector(prefer, factory=factory)
    key = names[0]
    if len(names) > 1 or key in ROUTED:
        raise ValueError(f"{name!r} names several providers; only a routed connector (fallback=True) can serve it")
    if key not in CONNECTORS:
        raise ValueError(f"unknown vendor {name!r}; known vendors: {', '.join(vendor_names())}")
    if key in builders:
        return builders[key]()
    module_name, class_name = CONNECTORS[key]
    cls = getattr(importlib.import_module(module_name), class_name)
    if key == "synthetic":
        return cls.from_settings(data_root)
    return cls.from_env()
