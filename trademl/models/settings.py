"""configs/training/<model>.yml as a frozen `TrainingConfig`: features, label, LightGBM, CPCV and trials.

The data gate's keys (`lookback_sessions`, `dependencies`) live in the same file and are read by
`trademl.models.readiness`; this reader takes the window length from there too and ignores the
dependencies.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trademl.config import typed_config
from trademl.schemas import EQUITIES_XS_FEATURES
from trademl.schemas.labels import EQUITIES_XS_LABELS

_FEATURE_SETS: dict[tuple[str, int], tuple[str, ...]] = {("equities_xs", 1): EQUITIES_XS_FEATURES}
_FORWARD_LABEL = re.compile(r"^(xs_)?logret_fwd_(\d+)d$")


def label_horizon_of(column: str) -> int:
    """Sessions a forward-return label column looks ahead (`xs_logret_fwd_5d` -> 5)."""
    m = _FORWARD_LABEL.match(column)
    if not m:
        raise ValueError(f"{column!r} is not a forward log-return label of labels/equities_xs (…logret_fwd_<k>d)")
    return int(m.group(2))


@dataclass(frozen=True)
class RegimeMask:
    """Sample-weight multiplier `weight` on the sessions of [start, end] (both inclusive)."""

    start: dt.date
    end: dt.date
    weight: float


@dataclass(frozen=True)
class Trial:
    """One configuration a researcher tries: its label column, that label's horizon and LightGBM overrides."""

    name: str
    label: str
    horizon: int
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CpcvSettings:
    """Combinatorial purged CV: groups, test groups per split, embargo and the wished test span (sessions)."""

    n_groups: int = 8
    n_test_groups: int = 2
    embargo_sessions: int = 10
    min_test_sessions: int = 126

    def groups_for(self, n_sessions: int) -> int:
        """Groups to use over `n_sessions`: `n_groups` when each split's test set spans >= min_test_sessions,
        else the largest count (>= n_test_groups + 1) that allows it, else n_test_groups + 1."""
        per_group = self.min_test_sessions / self.n_test_groups
        fitting = int(n_sessions // per_group) if per_group > 0 else self.n_groups
        return max(self.n_test_groups + 1, min(self.n_groups, fitting))


def _where(name: str) -> str:
    return f"configs/{name}.yml"


def _int(doc: Mapping[str, Any], key: str, where: str, default: int | None = None, minimum: int = 0) -> int:
    value = doc.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{where} {key} must be an integer >= {minimum}, got {value!r}")
    return value


def _number(doc: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = doc.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{where} {key} must be a positive number, got {value!r}")
    return float(value)


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{where} must be a YYYY-MM-DD date, got {value!r}") from exc


@dataclass(frozen=True)
class TrainingConfig:
    """The resolved training settings of one model (SSOT 6.1); see configs/training/equities_xs.yml."""

    model: str
    feature_set: str
    feature_version: int
    features: tuple[str, ...]
    label: str
    label_horizon_sessions: int
    lookback_sessions: int
    seed: int
    num_threads: int
    lightgbm: Mapping[str, Any]
    time_decay_half_life_sessions: float
    regime_masks: tuple[RegimeMask, ...]
    cpcv: CpcvSettings
    pbo_partitions: int
    grid: tuple[Trial, ...]
    retrain_every_sessions: int

    @property
    def threads(self) -> int:
        """LightGBM threads: num_threads, or the machine's cores when 0."""
        return self.num_threads or (os.cpu_count() or 1)

    @property
    def label_columns(self) -> tuple[str, ...]:
        """The label columns training reads: the model's own and every trial's, in first-seen order."""
        return tuple(dict.fromkeys([self.label, *(t.label for t in self.grid)]))

    def params_for(self, trial: Trial | None = None) -> dict[str, Any]:
        """LightGBM parameters (base, then the trial's overrides), deterministic, with seed and threads."""
        params = {**self.lightgbm, **(dict(trial.params) if trial else {})}
        params.update(seed=self.seed, deterministic=True, force_row_wise=True, num_threads=self.threads, verbosity=-1)
        return params

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready resolved config (training_cfg.json)."""
        return {
            "model": self.model,
            "feature_set": self.feature_set,
            "feature_version": self.feature_version,
            "features": list(self.features),
            "label": self.label,
            "label_horizon_sessions": self.label_horizon_sessions,
            "lookback_sessions": self.lookback_sessions,
            "seed": self.seed,
            "num_threads": self.num_threads,
            "lightgbm": dict(self.lightgbm),
            "time_decay_half_life_sessions": self.time_decay_half_life_sessions,
            "regime_masks": [{"start": m.start.isoformat(), "end": m.end.isoformat(), "weight": m.weight} for m in self.regime_masks],
            "cpcv": {
                "n_groups": self.cpcv.n_groups,
                "n_test_groups": self.cpcv.n_test_groups,
                "embargo_sessions": self.cpcv.embargo_sessions,
                "min_test_sessions": self.cpcv.min_test_sessions,
            },
            "pbo_partitions": self.pbo_partitions,
            "grid": [{"name": t.name, "label": t.label, "horizon": t.horizon, "params": dict(t.params)} for t in self.grid],
            "retrain_every_sessions": self.retrain_every_sessions,
        }

    @classmethod
    def from_config(cls, doc: Mapping[str, Any], *, name: str = "training/equities_xs") -> TrainingConfig:
        """Validate and build; every error names the file and the key."""
        where = _where(name)
        feature_set = str(doc.get("feature_set", "equities_xs"))
        version = _int(doc, "feature_version", where, 1, 1)
        if (feature_set, version) not in _FEATURE_SETS:
            raise ValueError(f"{where} feature_set/feature_version {feature_set} v{version} is unknown; known: {sorted(_FEATURE_SETS)}")
        label_names = set(EQUITIES_XS_LABELS.schema.names)
        label = str(doc.get("label", "xs_logret_fwd_1d"))
        if label not in label_names:
            raise ValueError(f"{where} label {label!r} is not a column of {EQUITIES_XS_LABELS.name}")
        horizon = _int(doc, "label_horizon_sessions", where, label_horizon_of(label), 1)
        lgb = doc.get("lightgbm", {})
        if not isinstance(lgb, Mapping):
            raise ValueError(f"{where} lightgbm must be a mapping of LightGBM parameters, got {lgb!r}")
        masks = []
        for i, entry in enumerate(doc.get("regime_masks") or []):
            if not isinstance(entry, Mapping) or set(entry) != {"start", "end", "weight"}:
                raise ValueError(f"{where} regime_masks[{i}] must be {{start, end, weight}}, got {entry!r}")
            start, end = _date(entry["start"], f"{where} regime_masks[{i}].start"), _date(entry["end"], f"{where} regime_masks[{i}].end")
            weight = entry["weight"]
            if end < start or not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
                raise ValueError(f"{where} regime_masks[{i}] needs start <= end and weight >= 0, got {entry!r}")
            masks.append(RegimeMask(start, end, float(weight)))
        cp = doc.get("cpcv", {})
        if not isinstance(cp, Mapping):
            raise ValueError(f"{where} cpcv must be a mapping, got {cp!r}")
        cpcv = CpcvSettings(
            n_groups=_int(cp, "n_groups", f"{where} cpcv", 8, 3),
            n_test_groups=_int(cp, "n_test_groups", f"{where} cpcv", 2, 1),
            embargo_sessions=_int(cp, "embargo_sessions", f"{where} cpcv", 10, 0),
            min_test_sessions=_int(cp, "min_test_sessions", f"{where} cpcv", 126, 1),
        )
        if cpcv.n_test_groups >= cpcv.n_groups:
            raise ValueError(f"{where} cpcv n_test_groups must be < n_groups, got {cpcv.n_test_groups} >= {cpcv.n_groups}")
        trials = []
        for i, entry in enumerate(doc.get("grid") or []):
            if not isinstance(entry, Mapping) or not {"name", "label"} <= set(entry) or set(entry) - {"name", "label", "horizon", "params"}:
                raise ValueError(f"{where} grid[{i}] must be {{name, label[, horizon, params]}}, got {entry!r}")
            if entry["label"] not in label_names:
                raise ValueError(f"{where} grid[{i}] label {entry['label']!r} is not a column of {EQUITIES_XS_LABELS.name}")
            params = entry.get("params", {})
            if not isinstance(params, Mapping):
                raise ValueError(f"{where} grid[{i}] params must be a mapping, got {params!r}")
            trials.append(Trial(str(entry["name"]), str(entry["label"]), _int(entry, "horizon", f"{where} grid[{i}]", label_horizon_of(str(entry["label"])), 1), dict(params)))
        if len(trials) < 2:
            raise ValueError(f"{where} grid needs at least 2 trials (PBO ranks configurations), got {len(trials)}")
        if len({t.name for t in trials}) != len(trials):
            raise ValueError(f"{where} grid names a trial twice")
        pbo = _int(doc, "pbo_partitions", where, 16, 2)
        if pbo % 2:
            raise ValueError(f"{where} pbo_partitions must be even, got {pbo}")
        return cls(
            model=name.rsplit("/", 1)[-1],
            feature_set=feature_set,
            feature_version=version,
            features=_FEATURE_SETS[(feature_set, version)],
            label=label,
            label_horizon_sessions=horizon,
            lookback_sessions=_int(doc, "lookback_sessions", where, None, 1),
            seed=_int(doc, "seed", where, 7, 0),
            num_threads=_int(doc, "num_threads", where, 0, 0),
            lightgbm=dict(lgb),
            time_decay_half_life_sessions=_number(doc, "time_decay_half_life_sessions", where, 378),
            regime_masks=tuple(masks),
            cpcv=cpcv,
            pbo_partitions=pbo,
            grid=tuple(trials),
            retrain_every_sessions=_int(doc, "retrain_every_sessions", where, 5, 1),
        )


def training_config(model: str = "equities_xs") -> TrainingConfig:
    """The TrainingConfig of configs/training/<model>.yml (read once per file version)."""
    return typed_config(TrainingConfig, f"training/{model}")
