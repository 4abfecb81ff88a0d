"""Labels: forward-return horizons, triple-barrier outcomes and the spec-000 (Sigma) intraday labels.

Every label reads only its declared forward window, takes session logic from `trademl.calendar`
and is NaN where that window is not yet complete. Named, parametrised labels live in
configs/labels.yml and are built with `build_label(name, frame)`; label sets (`sets:`) build several
into one label table with `build_label_set(name, bars)`.
"""

from trademl.labels.configured import build_label, label_names, label_spec, triple_barrier_on_bars
from trademl.labels.horizon import forward_return_labels
from trademl.labels.label_sets import (
    LabelSet,
    LabelSets,
    build_label_set,
    complete_through,
    label_horizon,
    label_set,
    label_sets,
)
from trademl.labels.sigma import (
    label_close_to_open_direction,
    label_forward_return_days,
    label_headfake_reversal,
    label_next_hour_direction,
    label_pin_drift,
)
from trademl.labels.triple_barrier import daily_volatility, triple_barrier_labels

__all__ = [
    "LabelSet",
    "LabelSets",
    "build_label",
    "build_label_set",
    "complete_through",
    "daily_volatility",
    "forward_return_labels",
    "label_close_to_open_direction",
    "label_forward_return_days",
    "label_headfake_reversal",
    "label_horizon",
    "label_names",
    "label_next_hour_direction",
    "label_pin_drift",
    "label_set",
    "label_sets",
    "label_spec",
    "triple_barrier_labels",
    "triple_barrier_on_bars",
]
