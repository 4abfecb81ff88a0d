"""Fixtures for the lake tests: an empty lake in a temporary directory."""

from __future__ import annotations

import pytest

from trademl.data.lake import Lake


@pytest.fixture
def lake(tmp_path) -> Lake:
    """A fresh local lake rooted in the test's temporary directory."""
    return Lake(tmp_path / "lake")
