"""The market-data vendor as a Dagster resource, chosen by configuration (TRADEML_VENDOR)."""

from __future__ import annotations

import dagster as dg

from trademl.config import settings
from trademl.connectors.base import Connector
from trademl.connectors.registry import connector_for


class VendorResource(dg.ConfigurableResource):
    """Which vendor serves the raw and reference assets; empty means TRADEML_VENDOR (default synthetic).

    Keys are never part of this resource: connectors read them from the environment at call time.
    """

    vendor: str = ""

    @property
    def name(self) -> str:
        return self.vendor or settings().vendor

    def connector(self) -> Connector:
        return connector_for(self.name, data_root=settings().data_root)
