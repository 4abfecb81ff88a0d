"""Compute an indicator set on the lake's daily bars (`trademl.features`).

`python examples/02_indicators.py`. Indicator sets live in configs/indicator_sets/*.yml; "minimal"
(SMA 20, RSI 14, ATR 14, one-bar log return) works on daily bars with only a `date` column.
"""

import trademl
from trademl.features.indicators import compute_indicator_set, load_indicator_set

bars = trademl.read("raw/equities_bars")  # symbol-then-date order: what the indicators need

indicator_set = load_indicator_set("minimal")
features = compute_indicator_set(bars, indicator_set)  # same index as `bars`, one column per output
print(f"indicator set: {indicator_set.name} -> columns {', '.join(features.columns)}")
print(f"rows: {len(features)} ({int(features.notna().all(axis=1).sum())} with every indicator warmed up)")

# Each value at session t uses bars up to t only; the first sessions of each symbol are NaN (warm-up).
panel = bars[["date", "symbol", "close"]].join(features)
latest = panel[panel["date"] == panel["date"].max()]
print(f"latest session {latest['date'].iloc[0]:%Y-%m-%d}:")
print(latest.round(4).to_string(index=False))
