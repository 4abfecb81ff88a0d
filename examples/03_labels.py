"""Build labels on the lake's daily bars (`trademl.labels`): forward returns and triple-barrier outcomes.

`python examples/03_labels.py`. Named labels and their parameters live in configs/labels.yml;
every label is NaN where its forward window is not complete yet (point-in-time).
"""

import trademl
from trademl.labels import build_label

bars = trademl.read("raw/equities_bars")

# Forward 1/5/20-session simple returns per symbol (configs/labels.yml: fwd_returns).
fwd = build_label("fwd_returns", bars)
print(f"fwd_returns: {int(fwd['ret_fwd_5d'].notna().sum())} rows with a 5-session forward return")

# Triple barrier (tb_10d): +1 profit-taking hit first, -1 stop-loss, 0 neither within 10 sessions.
tb = build_label("tb_10d", bars)
counts = tb["label"].value_counts().sort_index()
print("tb_10d labels: " + ", ".join(f"{int(k):+d}: {int(v)}" for k, v in counts.items())
      + f", not yet known: {int(tb['label'].isna().sum())}")
print(f"tb_10d mean return per label: {tb.groupby('label')['ret'].mean().round(4).to_dict()}")
