"""adjusted_ohlcv on tiny explicit frames: split and dividend arithmetic, conventions, as-of."""

from __future__ import annotations

import numpy as np
import pytest

from curate_frames import bars, days, dividend, events, split
from trademl.curate import adjusted_ohlcv

D = days("2024-03-04", 5)  # Mon 2024-03-04 .. Fri 2024-03-08


def test_split_divides_prices_and_multiplies_volume_before_the_ex_date():
    b = bars("AAA", D, [100, 102, 51, 52, 53], [10, 20, 40, 40, 40])
    out = adjusted_ohlcv(b, events(split("AAA", D[2], 2.0)))
    assert out["adj_close"].tolist() == pytest.approx([50, 51, 51, 52, 53])
    assert out["adj_volume"].tolist() == pytest.approx([20, 40, 40, 40, 40])
    assert out["adj_high"].tolist() == pytest.approx(list(np.array([50, 51, 51, 52, 53]) * 1.01))


def test_reverse_split_multiplies_prices_before_the_ex_date():
    b = bars("AAA", D, [1.0, 1.1, 11.0, 11.5, 12.0])
    out = adjusted_ohlcv(b, events(split("AAA", D[2], 0.1)))
    assert out["adj_close"].tolist() == pytest.approx([10.0, 11.0, 11.0, 11.5, 12.0])


def test_crsp_dividend_factor_is_one_minus_dividend_over_previous_close():
    b = bars("AAA", D, [100, 100, 98, 99, 99])
    out = adjusted_ohlcv(b, events(dividend("AAA", D[2], 2.0)), convention="crsp")
    assert out["adj_close"].tolist() == pytest.approx([98.0, 98.0, 98, 99, 99])  # 100 x (1 - 2/100)
    assert out["adj_volume"].tolist() == pytest.approx([1000] * 5)


def test_alpha_vantage_dividend_factor_uses_the_ex_date_close():
    b = bars("AAA", D, [100, 100, 98, 99, 99])
    out = adjusted_ohlcv(b, events(dividend("AAA", D[2], 2.0)), convention="alpha_vantage")
    assert out["adj_close"].iloc[:2].tolist() == pytest.approx([100 * 98 / 100, 100 * 98 / 100])  # C_ex/(C_ex+D) = 98/100
    b2 = bars("AAA", D, [100, 100, 96, 99, 99])
    out2 = adjusted_ohlcv(b2, events(dividend("AAA", D[2], 2.0)), convention="alpha_vantage")
    assert out2["adj_close"].iloc[0] == pytest.approx(100 * 96 / 98)


def test_asof_before_an_event_leaves_prices_unadjusted_and_drops_later_rows():
    b = bars("AAA", D, [100, 102, 51, 52, 53])
    out = adjusted_ohlcv(b, events(split("AAA", D[2], 2.0)), asof=D[1])
    assert [str(d) for d in out["date"]] == [str(D[0]), str(D[1])]
    assert out["adj_close"].tolist() == pytest.approx([100, 102])


def test_split_and_dividend_on_one_day_compound():
    b = bars("AAA", D, [100, 100, 49, 49, 49])
    out = adjusted_ohlcv(b, events(split("AAA", D[2], 2.0), dividend("AAA", D[2], 1.0)), convention="crsp")
    # previous close in post-split shares: 50; dividend factor 1 - 1/50 = 0.98; split 1/2
    assert out["adj_close"].iloc[0] == pytest.approx(100 * 0.98 / 2)


def test_events_of_one_symbol_leave_another_symbol_unchanged():
    b = bars("AAA", D, [100, 102, 51, 52, 53])
    other = bars("BBB", D, [10, 11, 12, 13, 14])
    out = adjusted_ohlcv(b._append(other), events(split("AAA", D[2], 2.0)))
    assert out.loc[out["symbol"] == "BBB", "adj_close"].tolist() == pytest.approx([10, 11, 12, 13, 14])


def test_unknown_convention_is_an_error_naming_the_known_ones():
    with pytest.raises(ValueError, match="crsp, alpha_vantage"):
        adjusted_ohlcv(bars("AAA", D, [1, 2, 3, 4, 5]), events(), convention="yahoo")
