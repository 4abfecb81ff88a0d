"""One Dagster resource per market-data vendor: non-secret settings only, keys from the environment.

Each resource's fields are settings you may show in the UI (a base URL override, Alpaca's feed,
the files root). API keys are never fields, run config or metadata: the connector reads them from
the environment (ALPACA_API_KEY_ID / ALPACA_API_SECRET_KEY, MASSIVE_API_KEY, FINNHUB_API_KEY,
FRED_API_KEY, ALPHAVANTAGE_API_KEY, FMP_API_KEY) at call time, and `connector()` fails at once with
a `VendorAuthError` naming the unset variable (never a value). An empty ``base_url`` means
TRADEML_<VENDOR>_BASE_URL, else the vendor's own variable, else configs/endpoints.yml.

`VendorResource` (trademl_resources/vendor.py) stays the one resource the raw/reference assets
use; give it these resources as fields and the router builds those providers from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import dagster as dg
from pydantic import field_validator

from trademl.config import settings
from trademl.data.connectors.alpaca import ALPACA_FEEDS, AlpacaConnector
from trademl.data.connectors.alpha_vantage import AlphaVantageConnector
from trademl.data.connectors.files import FilesConnector
from trademl.data.connectors.finnhub import FinnhubConnector
from trademl.data.connectors.fmp import FmpConnector
from trademl.data.connectors.fred import AlfredConnector, FredConnector
from trademl.data.connectors.http_vendor import HttpVendorConnector
from trademl.data.connectors.massive import MassiveConnector

if TYPE_CHECKING:
    from trademl.data.connectors.synthetic import SyntheticConnector


class HttpVendorResource(dg.ConfigurableResource):
    """Shared shape of the HTTP vendors' resources: an optional base URL override, keys from env."""

    connector_class: ClassVar[type[HttpVendorConnector]]
    base_url: str = ""

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url {value!r} must start with http:// or https:// (or be empty)")
        return value

    def _build(self, cls: type[HttpVendorConnector], **options: object) -> HttpVendorConnector:
        conn = cls(base_url=self.base_url or None, **options)
        conn.require_credentials()
        return conn

    def connector(self) -> HttpVendorConnector:
        """The vendor's connector; VendorAuthError naming the variable when a key is unset."""
        return self._build(self.connector_class)


class AlpacaResource(HttpVendorResource):
    """Alpaca market data v2 (equities_eod, equities_minute); empty `feed` means ALPACA_FEED (default iex)."""

    connector_class: ClassVar[type[HttpVendorConnector]] = AlpacaConnector
    feed: str = ""

    @field_validator("feed")
    @classmethod
    def _known_feed(cls, value: str) -> str:
        value = value.strip().lower()
        if value and value not in ALPACA_FEEDS:
            raise ValueError(f"feed {value!r} is not one of {', '.join(ALPACA_FEEDS)} (or empty for ALPACA_FEED)")
        return value

    def connector(self) -> AlpacaConnector:
        return self._build(AlpacaConnector, feed=self.feed or None)  # type: ignore[return-value]


class MassiveResource(HttpVendorResource):
    """Massive/Polygon (bars, splits, dividends, ticker details); key MASSIVE_API_KEY or POLYGON_API_KEY."""

    connector_class: ClassVar[type[HttpVendorConnector]] = MassiveConnector


class FinnhubResource(HttpVendorResource):
    """Finnhub (backup daily candles, option chains); key FINNHUB_API_KEY."""

    connector_class: ClassVar[type[HttpVendorConnector]] = FinnhubConnector


class FredResource(HttpVendorResource):
    """FRED and ALFRED (one key FRED_API_KEY, one host); `vintages` picks ALFRED's real-time vintages."""

    connector_class: ClassVar[type[HttpVendorConnector]] = AlfredConnector
    vintages: bool = True

    def connector(self, vintages: bool | None = None) -> FredConnector:
        """ALFRED when `vintages` (default: the field), else FRED latest values."""
        use_vintages = self.vintages if vintages is None else vintages
        return self._build(AlfredConnector if use_vintages else FredConnector)  # type: ignore[return-value]


class AlphaVantageResource(HttpVendorResource):
    """Alpha Vantage (LISTING_STATUS incl. delisted, splits, dividends); key ALPHAVANTAGE_API_KEY."""

    connector_class: ClassVar[type[HttpVendorConnector]] = AlphaVantageConnector


class FmpResource(HttpVendorResource):
    """Financial Modeling Prep (delisted companies, statements); key FMP_API_KEY."""

    connector_class: ClassVar[type[HttpVendorConnector]] = FmpConnector


class FilesResource(dg.ConfigurableResource):
    """A user's CSV/Parquet files mapped by configs/files/*.yml; empty `root` means TRADEML_FILES_ROOT."""

    root: str = ""

    def connector(self) -> FilesConnector:
        return FilesConnector(root=self.root or None)


class SyntheticResource(dg.ConfigurableResource):
    """The embedded synthetic market. `n_symbols` and `signal_strength` are this deployment's
    defaults (e.g. `trademl demo` passes configs/demo.yml's); TRADEML_SYNTHETIC_N_SYMBOLS /
    TRADEML_SYNTHETIC_SIGNAL_STRENGTH still override them, and unset fields mean configs/synthetic.yml."""

    n_symbols: int | None = None
    signal_strength: float | None = None

    def connector(self) -> SyntheticConnector:
        """The synthetic connector, its outage state under the data root (read at call time)."""
        from trademl.data.connectors.synthetic import SyntheticConnector  # simulated market: imported when used

        defaults = {k: v for k, v in (("n_symbols", self.n_symbols), ("signal_strength", self.signal_strength)) if v is not None}
        return SyntheticConnector.from_settings(settings().data_root, defaults=defaults)


# The one list of per-vendor resources: `trademl_jobs/definitions.py` binds one of each under its
# name, and `VendorResource` builds those providers from them.
VENDOR_RESOURCES: dict[str, type[dg.ConfigurableResource]] = {
    "alpaca": AlpacaResource,
    "massive": MassiveResource,
    "finnhub": FinnhubResource,
    "fred": FredResource,
    "alpha_vantage": AlphaVantageResource,
    "fmp": FmpResource,
    "files": FilesResource,
    "synthetic": SyntheticResource,
}
