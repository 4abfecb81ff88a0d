"""The model layer's deployment choices as a Dagster resource: training window and the automation switches.

Everything defaults to the configuration (configs/training/<model>.yml and the SSOT 1.4 profile
switches read from the environment); a deployment overrides explicitly, as the demo does for its
one-year market (a shorter window, auto-promotion on).
"""

from __future__ import annotations

import dagster as dg


class TrainingResource(dg.ConfigurableResource):
    """`lookback_sessions` overrides the training window; `auto_promote` / `enabled` override the
    TRAINING_ENABLE_AUTO_PROMOTE / TRAINING_ENABLED switches (None: the environment's profile)."""

    lookback_sessions: int | None = None
    auto_promote: bool | None = None
    enabled: bool | None = None
