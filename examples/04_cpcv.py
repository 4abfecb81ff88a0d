"""Combinatorial purged cross-validation (CPCV) of a small linear model on indicator features.

`python examples/04_cpcv.py`. Features: the "minimal" indicator set; target: the tb_10d
triple-barrier label (+1 / -1; its t1 is when each label is known, which is what purging needs);
model: least squares on standardised features, predicting the sign. Every split trains only on
samples whose labels end before the test sessions (purge) and skips `embargo` sessions after
them, across all symbols (a session's symbols share one fold).
"""

import numpy as np

import trademl
from trademl.features.indicators import compute_indicator_set, load_indicator_set
from trademl.labels import build_label
from trademl.validation import CombinatorialPurgedKFold, hit_rate

bars = trademl.read("raw/equities_bars")
features = compute_indicator_set(bars, load_indicator_set("minimal"))
labels = build_label("tb_10d", bars)

# Samples: rows with every feature warmed up and a known label other than 0 (a barrier was hit).
data = bars[["date", "symbol"]].join(features).join(labels[["t1", "label"]]).dropna()
data = data[data["label"] != 0].reset_index(drop=True)
X, y = data[features.columns].to_numpy(), data["label"].to_numpy()
print(f"samples: {len(data)} over {data['date'].nunique()} sessions")


def fit_predict(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """Least-squares score of the label on standardised features (train statistics only)."""
    mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-12
    design = np.column_stack([np.ones(len(X_train)), (X_train - mean) / std])
    coef, *_ = np.linalg.lstsq(design, y_train, rcond=None)
    return np.column_stack([np.ones(len(X_test)), (X_test - mean) / std]) @ coef


cv = CombinatorialPurgedKFold(n_splits=6, n_test_splits=2, embargo=2)
hits = [hit_rate(fit_predict(X[train], y[train], X[test]), y[test])
        for train, test in cv.split(X, times=data["date"], t1=data["t1"])]
print(f"splits: {len(hits)} ({cv.n_paths} backtest paths)")
print(f"out-of-sample hit rate: mean {np.mean(hits):.3f}, min {np.min(hits):.3f}, max {np.max(hits):.3f}")
