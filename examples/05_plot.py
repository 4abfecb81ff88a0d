"""Plot closes (rebased to 100) and their 20-session SMA from the lake, saved as a PNG (no window opens).

`python examples/05_plot.py [OUT.png]` (default: bars.png in the current directory). Needs
matplotlib (`pip install matplotlib` if it is not in the venv).
"""

import sys
from pathlib import Path

try:
    import matplotlib
except ImportError:
    sys.exit("05_plot.py needs matplotlib: pip install matplotlib (into the .venv)")

matplotlib.use("Agg")  # render to a file; never needs a display
import matplotlib.pyplot as plt  # noqa: E402

import trademl  # noqa: E402
from trademl.features.indicators import compute_indicator_set, get_indicator  # noqa: E402

out = Path(sys.argv[1] if len(sys.argv) > 1 else "bars.png").resolve()
bars = trademl.read("raw/equities_bars", columns=["date", "symbol", "close"])
symbols = sorted(bars["symbol"].unique())[:3]
bars = bars[bars["symbol"].isin(symbols)].reset_index(drop=True)  # still symbol-then-date order
bars = bars.join(compute_indicator_set(bars, [get_indicator("sma")(period=20)]))
first_close = bars.groupby("symbol")["close"].transform("first")  # rebase each symbol to 100
bars[["close", "sma_20"]] = bars[["close", "sma_20"]].div(first_close, axis=0) * 100.0

fig, ax = plt.subplots(figsize=(9, 4.5))
for symbol, rows in bars.groupby("symbol"):
    line, = ax.plot(rows["date"], rows["close"], label=f"{symbol} close", linewidth=1.2)
    ax.plot(rows["date"], rows["sma_20"], color=line.get_color(), linestyle="--", linewidth=0.9, label=f"{symbol} SMA 20")
ax.set_title("Daily closes (as traded, first session = 100) and their 20-session SMA")
ax.set_xlabel("session")
ax.set_ylabel("close, rebased to 100")
ax.legend(fontsize=8, ncols=2)
fig.autofmt_xdate()
fig.tight_layout()
fig.savefig(out, dpi=100)
print(f"wrote {out} ({out.stat().st_size} bytes, {len(symbols)} symbols)")
