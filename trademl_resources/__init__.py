"""Dagster resources wrapping the trademl library: lake, control db, market-data vendor."""

from trademl_resources.control_db import ControlDbResource
from trademl_resources.lake import LakeResource
from trademl_resources.vendor import VendorResource

__all__ = ["ControlDbResource", "LakeResource", "VendorResource"]
