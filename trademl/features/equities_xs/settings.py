"""The equities_xs feature set's parameters (configs/features/equities_xs.yml), typed and validated.

Windows are counted in XNYS sessions. The raw column names follow the windows (mom_<k>, rv_<k>,
...); version "v1" is the column set of trademl/schemas/features.py, so a config with other
windows must name another version. `params_hash` identifies the parameters of a build.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from trademl.config import typed_config
from trademl.schemas.features import EQUITIES_XS_CONTINUOUS

CONFIG_NAME = "features/equities_xs"
SECTION = "equities_xs"
FEATURE_SET = "equities_xs"
_WHERE = f"configs/{CONFIG_NAME}.yml `{SECTION}:`"
_KEYS = (
    "version",
    "momentum_windows",
    "gap_window",
    "drawdown_windows",
    "rv_windows",
    "downside_vol_window",
    "liquidity_window",
    "annualization",
    "min_fraction",
    "clip",
)


@dataclass(frozen=True)
class EquitiesXsConfig:
    """Parameters of one equities_xs build: windows (sessions), the min-periods rule, the z-score clip.

    `min_fraction`: a rolling window of k sessions needs at least ceil(min_fraction * k) observed
    values (and at least 2 for a sample std), else the feature is NaN. `annualization`: sessions
    per year used by rv_k and downside_vol_k (sqrt(annualization) x per-session vol).
    """

    version: str = "v1"
    momentum_windows: tuple[int, ...] = (5, 20, 60, 126)
    gap_window: int = 20
    drawdown_windows: tuple[int, ...] = (20, 60)
    rv_windows: tuple[int, ...] = (20, 60)
    downside_vol_window: int = 20
    liquidity_window: int = 20
    annualization: int = 252
    min_fraction: float = 0.75
    clip: float = 3.0

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version:
            raise ValueError(f"{_WHERE} version must be a non-empty string, got {self.version!r}")
        for name in ("momentum_windows", "drawdown_windows", "rv_windows"):
            windows = getattr(self, name)
            if not windows or any(not _is_int(k) or k < 1 for k in windows) or len(set(windows)) != len(windows):
                raise ValueError(f"{_WHERE} {name} must be distinct integers >= 1, got {list(windows)}")
        for name in ("gap_window", "downside_vol_window", "liquidity_window", "annualization"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{_WHERE} {name} must be an integer >= 1, got {value!r}")
        if any(k < 2 for k in self.rv_windows):
            raise ValueError(f"{_WHERE} rv_windows need at least 2 sessions for a sample std, got {list(self.rv_windows)}")
        if not isinstance(self.min_fraction, (int, float)) or not 0.0 < float(self.min_fraction) <= 1.0:
            raise ValueError(f"{_WHERE} min_fraction must be in (0, 1], got {self.min_fraction!r}")
        if not isinstance(self.clip, (int, float)) or isinstance(self.clip, bool) or not float(self.clip) > 0.0:
            raise ValueError(f"{_WHERE} clip must be a number > 0, got {self.clip!r}")
        if self.version == "v1" and self.continuous_features() != EQUITIES_XS_CONTINUOUS:
            raise ValueError(
                f"{_WHERE} version v1 fixes the column set {list(EQUITIES_XS_CONTINUOUS)}; these windows give "
                f"{list(self.continuous_features())}: name another version"
            )

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> EquitiesXsConfig:
        """The config of the `equities_xs:` section's mapping; unknown or missing keys are errors."""
        if not isinstance(doc, Mapping):
            raise ValueError(f"{_WHERE} must be a mapping, got {type(doc).__name__}")
        unknown = sorted(set(doc) - set(_KEYS))
        if unknown:
            raise ValueError(f"{_WHERE} has unknown keys {unknown}; known: {list(_KEYS)}")
        missing = [k for k in _KEYS if k not in doc]
        if missing:
            raise ValueError(f"{_WHERE} is missing {missing}")
        values = dict(doc)
        for name in ("momentum_windows", "drawdown_windows", "rv_windows"):
            if not isinstance(values[name], (list, tuple)):
                raise ValueError(f"{_WHERE} {name} must be a list of integers, got {values[name]!r}")
            values[name] = tuple(values[name])
        return cls(**values)

    def min_periods(self, window: int, floor: int = 1) -> int:
        """Observed values a rolling window of `window` sessions needs: ceil(min_fraction * window), >= floor."""
        return max(floor, math.ceil(self.min_fraction * window - 1e-9))

    def continuous_features(self) -> tuple[str, ...]:
        """The raw continuous columns these windows name, in the table's order."""
        g, l, d = self.gap_window, self.liquidity_window, self.downside_vol_window
        return (
            *(f"mom_{k}" for k in self.momentum_windows),
            f"gap_overnight_{g}",
            f"gap_intraday_{g}",
            *(f"drawdown_{k}" for k in self.drawdown_windows),
            *(f"rv_{k}" for k in self.rv_windows),
            f"downside_vol_{d}",
            f"adv_{l}",
            f"turnover_{l}",
            f"amihud_{l}",
            "days_to_earnings",
            "log_mcap",
        )

    def params(self) -> dict[str, Any]:
        """The parameters as plain JSON types (lists for windows)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @property
    def params_hash(self) -> str:
        """sha256 (hex) of the parameters' canonical JSON (sorted keys): stable across runs and machines."""
        return hashlib.sha256(_canonical_json(self.params()).encode()).hexdigest()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def equities_xs_config() -> EquitiesXsConfig:
    """The current config from configs/features/equities_xs.yml (re-read when the file changes)."""
    return typed_config(EquitiesXsConfig, CONFIG_NAME, SECTION)


def lookback_sessions(cfg: EquitiesXsConfig | None = None) -> int:
    """Sessions of history (including t) a build at t needs: a k-session return window needs k + 1
    closes (127 with the defaults: mom_126), a drawdown window of k sessions needs k."""
    cfg = cfg or equities_xs_config()
    return max(
        max(cfg.momentum_windows) + 1,
        max(cfg.rv_windows) + 1,
        cfg.downside_vol_window + 1,
        cfg.gap_window + 1,
        cfg.liquidity_window + 1,
        max(cfg.drawdown_windows),
    )
