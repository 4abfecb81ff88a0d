"""The market-data vendor the raw and reference assets use, chosen by configuration (TRADEML_VENDOR).

`VendorResource` is router-facing: its connector is the synthetic market, the files connector or a
`trademl.data.routing.RoutedConnector` walking the providers of each dataset (see
trademl.data.connectors.registry). The per-vendor resources of trademl_resources/vendors.py plug into
it as optional fields: a provider whose resource is set is built by that resource (its base URL,
feed, files root; keys checked up front), every other provider from the environment alone.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from trademl.config import settings
from trademl.data.connectors.base import Connector
from trademl.data.connectors.registry import connector_for
from trademl_resources.vendors import (
    AlpacaResource,
    AlphaVantageResource,
    FilesResource,
    FinnhubResource,
    FmpResource,
    FredResource,
    MassiveResource,
    SyntheticResource,
    VENDOR_RESOURCES,
)


class VendorResource(dg.ConfigurableResource):
    """Which vendor serves the raw and reference assets; empty `vendor` means TRADEML_VENDOR (default
    synthetic) read when the connector is built. `trademl_jobs.definitions.build_definitions` sets it
    to the vendor the definitions are built for, so the assets' pool and the resource agree.

    Keys are never part of this resource nor of the per-vendor ones: connectors read them from
    the environment. The per-vendor fields are optional nested resources.
    """

    vendor: str = ""
    alpaca: AlpacaResource | None = None
    massive: MassiveResource | None = None
    finnhub: FinnhubResource | None = None
    fred: FredResource | None = None
    alpha_vantage: AlphaVantageResource | None = None
    fmp: FmpResource | None = None
    files: FilesResource | None = None
    synthetic: SyntheticResource | None = None

    @property
    def name(self) -> str:
        return self.vendor or settings().vendor

    def builders(self) -> dict[str, Callable[[], Connector]]:
        """Provider name -> connector builder, for the providers whose resource is set."""
        out: dict[str, Callable[[], Connector]] = {}
        for name in VENDOR_RESOURCES:
            resource = getattr(self, name)
            if resource is None:
                continue
            if name == "fred":  # one FRED resource serves both FRED (latest values) and ALFRED (vintages)
                out["fred"] = lambda fred=resource: fred.connector(vintages=False)
                out["alfred"] = lambda fred=resource: fred.connector(vintages=True)
            else:
                out[name] = resource.connector
        return out

    def connector(self) -> Connector:
        return connector_for(self.name, data_root=settings().data_root, builders=self.builders())

    def provider(self, name: str) -> Connector:
        """One named provider's connector (no routing), built by its resource when that is set."""
        return connector_for(name, data_root=settings().data_root, fallback=False, builders=self.builders())
