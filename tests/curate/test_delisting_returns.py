"""delisting_returns: booked on the last trading session, from a final price or the configured default by reason."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from curate_frames import bars, days
from trademl.curate import CuratorSettings, delisting_returns

D = days("2024-03-04", 5)
CFG = CuratorSettings(delisting_returns={"ACQUIRED": 0.0, "BANKRUPTCY": -0.30}, unknown_reason_return=-0.25)


def delisting(symbol, when, reason, **extra):
    return pd.DataFrame({"symbol": [symbol], "delist_date": [when], "reason": [reason], **{k: [v] for k, v in extra.items()}})


def test_bankruptcy_gets_the_configured_default_on_the_last_bar_before_the_delist_date():
    out = delisting_returns(bars("AAA", D[:3], [10, 9, 8]), delisting("AAA", D[3], "BANKRUPTCY"), CFG)
    assert out.to_dict("records") == [{"symbol": "AAA", "date": pd.Timestamp(D[2]), "delisting_return": -0.30}]


def test_acquisition_gets_zero():
    out = delisting_returns(bars("AAA", D[:3], [10, 9, 8]), delisting("AAA", D[3], "ACQUIRED"), CFG)
    assert out["delisting_return"].tolist() == [0.0]


def test_unknown_reason_gets_the_unknown_default():
    out = delisting_returns(bars("AAA", D[:3], [10, 9, 8]), delisting("AAA", D[3], "DEREGISTERED"), CFG)
    assert out["delisting_return"].tolist() == [-0.25]


def test_known_final_price_gives_the_return_from_the_last_close():
    out = delisting_returns(bars("AAA", D[:3], [10, 9, 8]), delisting("AAA", D[3], "ACQUIRED", final_price=10.0), CFG)
    assert out["delisting_return"].tolist() == pytest.approx([0.25])


def test_without_bars_the_return_lands_on_the_session_before_the_delist_date():
    monday = dt.date(2024, 3, 11)
    out = delisting_returns(bars("BBB", D[:1], [5]), delisting("AAA", monday, "BANKRUPTCY"), CFG)
    assert out["date"].tolist() == [pd.Timestamp("2024-03-08")]
