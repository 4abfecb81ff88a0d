"""The embedded synthetic market: a deterministic, seeded vendor serving every TradeML dataset.

A universe with market, sector and idiosyncratic returns and clustered (GARCH) volatility; splits,
dividends, IPOs and delistings consistent between the bars and the reference tables; XNYS holidays
and half days; minute bars with optional missing minutes; configurable vendor outages that recover
on retry (state shared across processes); option chains around an arbitrage-free SSVI surface;
FRED-style macro vintages with revisions; and a plantable cross-sectional signal of known rank IC.
Configured by configs/synthetic.yml and TRADEML_SYNTHETIC_* environment overrides.
"""

from trademl.data.connectors.synthetic.config import OutageSpec, SyntheticConfig
from trademl.data.connectors.synthetic.connector import SyntheticConnector

__all__ = ["OutageSpec", "SyntheticConfig", "SyntheticConnector"]
