"""Every built-in indicator declares how its outputs scale with prices and volume, and the declaration holds.

Scaling all prices by c and all volumes by k must scale each output by c**price_degree *
k**volume_degree: that is what lets indicator tables re-anchor values computed on prices adjusted
as of a later date to the adjustment known at each session (point in time).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trademl.features.indicators import compute_indicator_set, default_registry

NAMES = default_registry().names()


def _panel(seed: int = 7, n: int = 160) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for symbol in ("AAA", "BBB"):
        close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
        open_ = close * np.exp(rng.normal(0, 0.005, n))
        high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
        low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
        ts = pd.date_range("2024-01-02 21:00", periods=n, freq="B", tz="UTC")
        frames.append(pd.DataFrame({"symbol": symbol, "ts": ts, "open": open_, "high": high, "low": low,
                                    "close": close, "volume": rng.integers(1_000, 50_000, n).astype(float)}))
    return pd.concat(frames, ignore_index=True)


def test_every_builtin_declares_its_price_degree():
    undeclared = [name for name in NAMES if default_registry().get(name).price_degree is None]
    assert undeclared == []


@pytest.mark.parametrize("name", NAMES)
def test_outputs_scale_by_the_declared_degrees(name):
    cls = default_registry().get(name)
    indicator = cls()
    panel = _panel()
    scaled = panel.copy()
    c, k = 3.7, 5.0
    scaled[["open", "high", "low", "close"]] *= c
    scaled["volume"] *= k
    base = compute_indicator_set(panel, [indicator]).to_numpy()
    out = compute_indicator_set(scaled, [indicator]).to_numpy()
    expected = base * c ** cls.price_degree * k ** cls.volume_degree
    assert np.array_equal(np.isnan(out), np.isnan(base))
    assert np.isfinite(base).sum() > 0
    np.testing.assert_allclose(out[np.isfinite(out)], expected[np.isfinite(out)], rtol=1e-7, atol=1e-9)
