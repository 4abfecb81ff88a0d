"""Request helpers shared by the synthetic market tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from trademl.data.connectors.base import FetchRequest
from trademl.data.connectors.synthetic import SyntheticConnector


def fetch(connector: SyntheticConnector, dataset: str, start: str, end: str, **kw: object) -> pd.DataFrame:
    """The frame of one fetch over the closed session range [start, end]."""
    req = FetchRequest(dataset, dt.date.fromisoformat(start), dt.date.fromisoformat(end), **kw)
    return connector.fetch(req).frame
