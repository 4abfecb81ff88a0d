"""Vendor name -> connector instance: the one place that knows which class serves which name.

Imports are lazy so choosing one vendor never imports (or needs keys for) another. HTTP vendors
read their keys and base URLs from the environment when built; the synthetic market keeps its
outage-recovery state under the data root so retries from other processes see it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from trademl.connectors.base import Connector

# name -> (module, class); every class exposes from_env() or, for synthetic, from_settings(data_root).
CONNECTORS: dict[str, tuple[str, str]] = {
    "synthetic": ("trademl.connectors.synthetic", "SyntheticConnector"),
    "files": ("trademl.connectors.files", "FilesConnector"),
    "alpaca": ("trademl.connectors.alpaca", "AlpacaConnector"),
    "massive": ("trademl.connectors.massive", "MassiveConnector"),
    "finnhub": ("trademl.connectors.finnhub", "FinnhubConnector"),
    "fred": ("trademl.connectors.fred", "FredConnector"),
    "alfred": ("trademl.connectors.fred", "AlfredConnector"),
    "alpha_vantage": ("trademl.connectors.alpha_vantage", "AlphaVantageConnector"),
    "fmp": ("trademl.connectors.fmp", "FmpConnector"),
}
ALIASES: dict[str, str] = {"polygon": "massive", "alphavantage": "alpha_vantage"}


def vendor_names() -> list[str]:
    """Every vendor name `connector_for` accepts (aliases excluded)."""
    return sorted(CONNECTORS)


def connector_for(name: str, *, data_root: str | Path | None = None) -> Connector:
    """Build the connector registered under `name` (case-insensitive; 'polygon' means 'massive')."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in CONNECTORS:
        raise ValueError(f"unknown vendor {name!r}; known vendors: {', '.join(vendor_names())}")
    module_name, class_name = CONNECTORS[key]
    cls = getattr(importlib.import_module(module_name), class_name)
    if key == "synthetic":
        return cls.from_settings(data_root)
    return cls.from_env()
