"""Labels: forward-return horizons, triple-barrier outcomes and the spec-000 (Sigma) intraday labels.

Every label reads only its declared forward window, takes session logic from `trademl.calendar`
and is NaN where that window is not yet complete.
"""

from trademl.labels.horizon import forward_return_labels
from trademl.labels.sigma import (
    label_close_to_open_direction,
    label_forward_return_days,
    label_headfake_reversal,
    label_next_hour_direction,
    label_pin_drift,
)
from trademl.labels.triple_barrier import daily_volatility, triple_barrier_labels

__all__ = [
    "daily_volatility",
    "forward_return_labels",
    "label_close_to_open_direction",
    "label_forward_return_days",
    "label_headfake_reversal",
    "label_next_hour_direction",
    "label_pin_drift",
    "triple_barrier_labels",
]
