"""Speed and exactness of the backtest engine against vectorbt on the same orders.

1,000 symbols x 1,000 sessions of random long/short target weights (gross 1, a new target for every
symbol at every session but the last: ~1M weight changes) through `trademl.backtest.run_backtest`, and
the same targets through vectorbt's `Portfolio.from_orders(size_type="targetpercent")` (one group, shared
cash, sells first). vectorbt is a benchmark-only dependency: it lives in its own venv (default
/work/venv-vbt, override with VBT_PYTHON) made with the project's numpy/pandas pins, and runs as a
subprocess of this script on the same arrays (an .npz), so both halves run in one invocation.

Run: ``.venv/bin/python benchmarks/bench_backtest.py``. Prints a markdown table of wall time (best of 3,
after a warm-up call, so numba compilation is not counted), the tracemalloc peak of the engine, and the
largest relative difference of the two equity curves with costs off.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import measure  # noqa: E402  (benchmarks/measure.py, beside this script)

from trademl import calendar  # noqa: E402
from trademl.backtest import MarketPanel, run_backtest  # noqa: E402
from trademl.execution.cost import CostModel  # noqa: E402

N_SYMBOLS = 1_000
N_SESSIONS = 1_000
CAPITAL = 1e6
VBT_PYTHON = os.environ.get("VBT_PYTHON", "/work/venv-vbt/bin/python")

VBT_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np, pandas as pd, vectorbt as vbt
    data = np.load(sys.argv[1])
    close = pd.DataFrame(data["close"], index=pd.date_range("2000-01-03", periods=data["close"].shape[0], freq="B"))
    size = data["size"]

    def run(fees=0.0, slippage=0.0):
        pf = vbt.Portfolio.from_orders(close, size=size, size_type="targetpercent", direction="both",
                                       group_by=True, cash_sharing=True, call_seq="auto", init_cash=float(data["capital"]),
                                       fees=fees, slippage=slippage, freq="1D")
        return pf.value().to_numpy()

    out = {}
    for label, kw in (("costs_off", {}), ("costs_on", {"fees": 1e-4, "slippage": 5e-4})):
        value = run(**kw)  # warm-up: numba compilation
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter(); value = run(**kw); best = min(best, time.perf_counter() - t)
        out[label] = best
        if label == "costs_off":
            np.save(sys.argv[2], value)
    out["version"] = vbt.__version__
    print(json.dumps(out))
    """
)


def make_inputs(seed: int = 0) -> tuple[MarketPanel, pd.DataFrame, np.ndarray]:
    """Random-walk closes, constant ADV/vol/spread, and long/short targets of gross 1 at every session but the last."""
    rng = np.random.default_rng(seed)
    dates = pd.Index([d.date() for d in calendar.sessions("2018-01-02", "2022-12-30")[:N_SESSIONS]], name="date")
    symbols = pd.Index([f"S{i:04d}" for i in range(N_SYMBOLS)], name="symbol")
    close_values = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (N_SESSIONS, N_SYMBOLS)), axis=0))
    close = pd.DataFrame(close_values, index=dates, columns=symbols)
    returns = close / close.shift(1) - 1.0
    ones = pd.DataFrame(1.0, index=dates, columns=symbols)
    market = MarketPanel(close=close, returns=returns, adv=ones * 2e6, sigma_daily=ones * 0.02, spread=close * 5e-4)
    raw = rng.normal(0.0, 1.0, (N_SESSIONS - 1, N_SYMBOLS))
    weights = raw / np.abs(raw).sum(axis=1, keepdims=True)
    targets = pd.DataFrame(
        {
            "date": np.repeat(np.asarray(dates[:-1], dtype=object), N_SYMBOLS),
            "symbol": np.tile(np.asarray(symbols, dtype=object), N_SESSIONS - 1),
            "weight": weights.ravel(),
        }
    )
    size = np.vstack([weights, np.full((1, N_SYMBOLS), np.nan)])
    return market, targets, size


def run_vectorbt(close: np.ndarray, size: np.ndarray) -> tuple[dict, np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        inputs, value_path, script = Path(tmp, "in.npz"), Path(tmp, "value.npy"), Path(tmp, "vbt_half.py")
        np.savez(inputs, close=close, size=size, capital=CAPITAL)
        script.write_text(VBT_SCRIPT)
        done = subprocess.run([VBT_PYTHON, str(script), str(inputs), str(value_path)], capture_output=True, text=True,
                              check=True)
        return json.loads(done.stdout.strip().splitlines()[-1]), np.load(value_path)


def main() -> None:
    market, targets, size = make_inputs()
    free = CostModel(fee_per_share=0.0, fee_bps=0.0, impact_coef=0.0)
    full = CostModel(fee_per_share=0.005, fee_bps=1.0, impact_coef=1.0)
    # costs off: no fee, no impact and no spread (the spread is market data, not a model parameter)
    no_spread = MarketPanel(market.close, market.returns, market.adv, market.sigma_daily, market.spread * 0.0)
    rows = []
    result = run_backtest(targets, no_spread, free, capital=CAPITAL)
    ours_off, peak_off = measure(lambda: run_backtest(targets, no_spread, free, capital=CAPITAL))
    ours_on, peak_on = measure(lambda: run_backtest(targets, market, full, capital=CAPITAL, borrow_bps=50.0))
    vbt_times, vbt_value = run_vectorbt(market.close.to_numpy(), size)
    ours_value = result.equity.to_numpy()
    rel = np.abs(ours_value - vbt_value) / vbt_value
    n_changes = int((targets["weight"] != 0).sum())
    rows.append(("costs off: engine vs vectorbt", ours_off, vbt_times["costs_off"], peak_off))
    rows.append(("costs on: engine (fee + half spread + sqrt impact + borrow) vs vectorbt (fees + slippage, proportional)",
                 ours_on, vbt_times["costs_on"], peak_on))
    print(f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, vectorbt {vbt_times['version']}")
    print(f"{N_SYMBOLS:,} symbols x {N_SESSIONS:,} sessions, {n_changes:,} target weight changes\n")
    print("| case | engine wall s | vectorbt wall s | ratio | engine tracemalloc peak MiB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, ours, theirs, peak in rows:
        print(f"| {label} | {ours:.3f} | {theirs:.3f} | {ours / theirs:.2f}x | {peak:.0f} |")
    print(f"\nequity curves, costs off: max relative difference {rel.max():.2e} over {rel.size:,} sessions "
          f"(final equity {ours_value[-1]:,.2f} vs {vbt_value[-1]:,.2f})")


if __name__ == "__main__":
    main()
