"""Fixtures for the synthetic market tests: small, explicit configs built without reading the repo's YAML."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from trademl.data.connectors.synthetic import SyntheticConfig, SyntheticConnector

ORIGIN = dt.date(2023, 1, 3)


@pytest.fixture
def make_connector() -> Callable[..., SyntheticConnector]:
    """Build a connector from SyntheticConfig defaults (origin 2023-01-03, 12 symbols) plus overrides."""

    def build(state_dir: Path | None = None, **overrides: object) -> SyntheticConnector:
        base = {"n_symbols": 12, "origin": ORIGIN, "minute_missing_prob": 0.0}
        base.update(overrides)
        return SyntheticConnector(SyntheticConfig().with_overrides(**base), state_dir=state_dir)

    return build
