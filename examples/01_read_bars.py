"""Read daily bars from the lake into pandas with `trademl.read`.

Run after `make demo` (or against any lake): `python examples/01_read_bars.py`. The data root is
TRADEML_DATA_ROOT, as for every `trademl` command.
"""

import trademl

# Every stored session of every symbol: the latest version of each partition only, sorted by
# symbol then date, `date` as datetime64 session dates, instants (ingested_at) in UTC.
bars = trademl.read("raw/equities_bars")
print(f"rows: {len(bars)}")
print(f"symbols: {bars['symbol'].nunique()}")
print(f"sessions: {bars['date'].nunique()} ({bars['date'].min():%Y-%m-%d}..{bars['date'].max():%Y-%m-%d})")

# A slice: one symbol, the last 5 sessions, a few columns (start/end are session dates, inclusive).
symbol = bars["symbol"].iloc[0]
last_sessions = sorted(bars["date"].unique())[-5:]
tail = trademl.read(
    "raw/equities_bars", start=last_sessions[0], end=last_sessions[-1], symbols=symbol,
    columns=["date", "symbol", "open", "high", "low", "close", "volume"],
)
print(f"last 5 sessions of {symbol}:")
print(tail.to_string(index=False))
