"""Features (SSOT 3.2): inputs a model sees at time t, computed only from data known at t.

`indicators/` the indicator registry, its built-ins and indicator sets (configs/indicator_sets);
`options/` option-surface features (implied vols, greeks, parity forwards, SVI fits; the pricing
math itself lives in `trademl.pricing`).
"""

__all__ = ["indicators", "options"]
