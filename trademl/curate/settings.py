"""The curated layer's settings from configs/curator.yml, typed and validated once per file version."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trademl.config import config_value, typed_config
from trademl.curate.conventions import CONVENTIONS


@dataclass(frozen=True)
class CuratorSettings:
    """`default_convention` of read_adjusted; delisting returns by reason (simple returns, > -1) and
    for an unknown reason; `seed_lookback_sessions` read before a window to seed the factors."""

    default_convention: str = "crsp"
    delisting_returns: Mapping[str, float] = field(default_factory=dict)
    unknown_reason_return: float = -0.30
    seed_lookback_sessions: int = 20

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> CuratorSettings:
        """Validate and build the settings from configs/curator.yml's mapping."""
        convention = config_value(doc, "default_convention", str, name="curator", default=cls.default_convention)
        if convention not in CONVENTIONS:
            raise ValueError(f"configs/curator.yml default_convention: expected one of {', '.join(CONVENTIONS)}, got {convention!r}")
        raw = doc.get("delisting_returns") or {}
        if not isinstance(raw, Mapping):
            raise ValueError(f"configs/curator.yml delisting_returns: expected a mapping of reason to return, got {raw!r}")
        returns = {str(k): config_value(raw, k, float, name="curator", path="delisting_returns") for k in raw}
        unknown = config_value(doc, "unknown_reason_return", float, name="curator", default=cls.unknown_reason_return)
        for key, value in [*returns.items(), ("unknown_reason_return", unknown)]:
            if not (math.isfinite(value) and value > -1.0):
                raise ValueError(f"configs/curator.yml {key}: a delisting return must be a finite number > -1, got {value}")
        lookback = config_value(doc, "seed_lookback_sessions", int, name="curator", default=cls.seed_lookback_sessions)
        if lookback < 1:
            raise ValueError(f"configs/curator.yml seed_lookback_sessions must be >= 1, got {lookback}")
        return cls(default_convention=convention, delisting_returns=returns, unknown_reason_return=unknown,
                   seed_lookback_sessions=lookback)

    def __hash__(self) -> int:
        return hash((self.default_convention, tuple(sorted(self.delisting_returns.items())), self.unknown_reason_return,
                     self.seed_lookback_sessions))


def curator_settings() -> CuratorSettings:
    """The current CuratorSettings (re-read when configs/curator.yml or its env override changes)."""
    return typed_config(CuratorSettings, "curator")
