"""Vendor connectors: one module per vendor, each turning a FetchRequest into rows of a raw or
reference table (`base.Connector`), plus the files connector and the embedded synthetic market.

`registry.connector_for(name)` builds one by name (routed through `trademl.data.routing` when a
fallback applies); `http_vendor.HttpVendorConnector` is the shared shape of the HTTP vendors;
`normalize` holds the timestamp/session helpers every connector uses.
"""

__all__ = [
    "alpaca",
    "alpaca_page",
    "alpha_vantage",
    "base",
    "files",
    "finnhub",
    "fmp",
    "fred",
    "http_vendor",
    "massive",
    "normalize",
    "registry",
    "synthetic",
]
