"""The model layer's deployment choices as a Dagster resource: training window and the automation switches.

Everything defaults to the configuration (configs/training/<model>.yml and the SSOT 1.4 profile
switches read from the environment); a deployment overrides explicitly, as the demo does for its
one-year market (a shorter window, auto-promotion on).
"""

from __future__ import annotations

import dagster as dg


class TrainingResource(dg.ConfigurableResource):
    """`lookback_sessions` overrides the training window, `min_test_sessions` / `embargo_sessions` the
    CPCV settings (a short history cannot hold 126-session test windows), `trials` keeps only those
    trials of the grid (a 20-session label cannot be purged inside a short window); `enabled` overrides the
    TRAINING_ENABLED switch (None: the environment's profile). Auto-promotion is never a resource
    setting: it is TRAINING_ENABLE_AUTO_PROMOTE of the process (SSOT 1.4)."""

    lookback_sessions: int | None = None
    min_test_sessions: int | None = None
    embargo_sessions: int | None = None
    trials: str | None = None  # comma-separated trial names (hashable: definitions are cached per resource)
    enabled: bool | None = None

    def trial_names(self) -> list[str] | None:
        """The grid subset this deployment tries (None: every trial of the config)."""
        return [t.strip() for t in self.trials.split(",") if t.strip()] if self.trials else None

    def cpcv_overrides(self) -> dict[str, int]:
        """The CPCV settings this deployment overrides (empty: the training config's)."""
        chosen = {"min_test_sessions": self.min_test_sessions, "embargo_sessions": self.embargo_sessions}
        return {k: int(v) for k, v in chosen.items() if v is not None}
