"""The go/no-go policy of a sleeve's models and the promotion decision it drives (SSOT 6.3, 6.4; spec 000).

configs/policy/<model>.yml holds the bars a challenger's CPCV out-of-sample metrics (net of costs)
must pass, the promotion rules and the risk limits the portfolio honours. The file is validated
key by key (`validate_policy_file` names every missing key, wrong type, out-of-range value and
unknown key) and read fresh at each decision, never layered by environment: no profile can lower
a bar, and a missing or malformed policy refuses promotion instead of promoting by default.

`decide_promotion` compares a challenger's metrics dict (the flat `CpcvReport.metrics`) with the
policy and with the champion's. "Beats the champion" is only decided between two evaluations on
the same CPCV paths and cost model: each metrics dict carries the strings `cpcv_signature` and
`cost_signature` (`evaluation_signature` of the CPCV split settings + session window + universe,
and of the cost-model settings); when they differ or are missing, the decision refuses and says so.

Bar names a decision can fail with: green_required, min_sharpe, max_drawdown, min_dsr_margin,
max_pbo, same_cpcv_paths, same_cost_model, must_beat_champion, shadow_trading (here) and
auto_promote, policy, rolled_back (added by trademl.models.promotion).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trademl.config import config_dir

# The metrics dict keys the bars read, and the signature keys that make two evaluations comparable.
SHARPE_KEY, DRAWDOWN_KEY, DSR_MARGIN_KEY, PBO_KEY = "oos_sharpe_net", "max_drawdown", "dsr_margin", "pbo"
CPCV_SIGNATURE_KEY, COST_SIGNATURE_KEY = "cpcv_signature", "cost_signature"

# bar -> (metric key, comparison the metric must satisfy against the threshold).
BARS: dict[str, tuple[str, str]] = {
    "min_sharpe": (SHARPE_KEY, ">="),
    "max_drawdown": (DRAWDOWN_KEY, "<="),
    "min_dsr_margin": (DSR_MARGIN_KEY, ">"),
    "max_pbo": (PBO_KEY, "<="),
}
_PASSES = {">=": lambda v, t: v >= t, "<=": lambda v, t: v <= t, ">": lambda v, t: v > t}
_NEGATION = {">=": "<", "<=": ">", ">": "<="}

# The policy file's schema: section -> key -> (kind, lower bound, upper bound); bounds inclusive, None = open.
_NUMBER, _BOOL, _RANGE = "number", "boolean", "range {min, max}"
_SCHEMA: dict[str, dict[str, tuple[str, float | None, float | None]]] = {
    "bars": {
        "min_sharpe": (_NUMBER, 0.0, 10.0),
        "max_drawdown": (_NUMBER, 0.0, 1.0),
        "min_dsr_margin": (_NUMBER, 0.0, 10.0),
        "max_pbo": (_NUMBER, 0.0, 1.0),
    },
    "promotion": {"must_beat_champion": (_BOOL, None, None), "green_required": (_BOOL, None, None)},
    "risk": {
        "per_name_cap": (_NUMBER, 0.0, 1.0),
        "gross_cap": (_RANGE, 0.0, 10.0),
        "vol_target": (_RANGE, 0.0, 1.0),
        "kelly_fraction": (_RANGE, 0.0, 1.0),
    },
}


class PolicyError(ValueError):
    """A policy file that is missing or invalid; the message names the file and every error."""


@dataclass(frozen=True)
class Range:
    """A closed interval [min, max] a configured value must lie in."""

    min: float
    max: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and self.min <= value <= self.max


@dataclass(frozen=True)
class RiskLimits:
    """Limits the portfolio configuration must honour (SSOT 7.2): fractions of capital, annualised vol."""

    per_name_cap: float
    gross_cap: Range
    vol_target: Range
    kelly_fraction: Range

    def violations(self, *, per_name_cap: float, gross_cap: float, vol_target: float, kelly_fraction: float) -> list[str]:
        """One sentence per configured value outside these limits (empty when the configuration complies)."""
        out = []
        if not 0.0 < per_name_cap <= self.per_name_cap:
            out.append(f"per_name_cap {per_name_cap} exceeds the policy cap {self.per_name_cap}")
        for name, value in (("gross_cap", gross_cap), ("vol_target", vol_target), ("kelly_fraction", kelly_fraction)):
            allowed: Range = getattr(self, name)
            if value not in allowed:
                out.append(f"{name} {value} is outside the policy range [{allowed.min}, {allowed.max}]")
        return out


@dataclass(frozen=True)
class Policy:
    """The go/no-go bars, promotion rules and risk limits of one model (configs/policy/<model>.yml)."""

    min_sharpe: float
    max_drawdown: float
    min_dsr_margin: float
    max_pbo: float
    must_beat_champion: bool
    green_required: bool
    risk: RiskLimits

    @classmethod
    def from_config(cls, doc: Mapping[str, Any], *, name: str = "policy/<model>") -> Policy:
        """Validate and build; raises PolicyError listing every error of `doc` (see `policy_errors`)."""
        errors = policy_errors(doc)
        if errors:
            raise PolicyError(f"configs/{name}.yml is invalid: " + "; ".join(errors))
        bars, promotion, risk = doc["bars"], doc["promotion"], doc["risk"]
        return cls(
            **{k: float(bars[k]) for k in _SCHEMA["bars"]},
            must_beat_champion=promotion["must_beat_champion"],
            green_required=promotion["green_required"],
            risk=RiskLimits(
                per_name_cap=float(risk["per_name_cap"]),
                **{k: Range(float(risk[k]["min"]), float(risk[k]["max"])) for k in ("gross_cap", "vol_target", "kelly_fraction")},
            ),
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _bounds(lo: float | None, hi: float | None) -> str:
    return f"[{lo}, {hi}]"


def policy_errors(doc: Any) -> list[str]:
    """Every error of a policy document, each naming its dotted key: missing, wrong type, out of range, unknown."""
    if not isinstance(doc, Mapping):
        return [f"top level: expected a mapping with sections {', '.join(_SCHEMA)}, got {type(doc).__name__}"]
    errors = [f"unknown key {key!r} (known sections: {', '.join(_SCHEMA)})" for key in doc if key not in _SCHEMA]
    for section, keys in _SCHEMA.items():
        body = doc.get(section)
        if body is None:
            errors.append(f"{section}: missing section")
            continue
        if not isinstance(body, Mapping):
            errors.append(f"{section}: expected a mapping, got {body!r}")
            continue
        errors += [f"unknown key {section}.{key} (known: {', '.join(keys)})" for key in body if key not in keys]
        for key, (kind, lo, hi) in keys.items():
            where, value = f"{section}.{key}", body.get(key)
            if value is None:
                errors.append(f"{where}: missing")
            elif kind == _BOOL:
                if not isinstance(value, bool):
                    errors.append(f"{where}: expected a boolean, got {value!r}")
            elif kind == _NUMBER:
                if not _is_number(value):
                    errors.append(f"{where}: expected a number, got {value!r}")
                elif not lo <= value <= hi:
                    errors.append(f"{where}: {value} out of range {_bounds(lo, hi)}")
            else:
                if not isinstance(value, Mapping) or set(value) != {"min", "max"}:
                    errors.append(f"{where}: expected a range {{min, max}}, got {value!r}")
                elif not (_is_number(value["min"]) and _is_number(value["max"])):
                    errors.append(f"{where}: expected numbers for min and max, got {dict(value)!r}")
                elif not lo <= value["min"] <= value["max"] <= hi:
                    errors.append(f"{where}: {value['min']}..{value['max']} must be an ordered range within {_bounds(lo, hi)}")
    return errors


def policy_path(model_id: str) -> Path:
    """Where the policy of `model_id` lives: <config dir>/policy/<model_id>.yml."""
    return config_dir() / "policy" / f"{model_id}.yml"


def _read_policy_doc(path: Path) -> Any:
    if not path.is_file():
        raise PolicyError(f"policy file {path} does not exist")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file {path} is not valid YAML: {exc}") from None


def validate_policy_file(path: str | Path) -> tuple[bool, list[str]]:
    """(valid, errors) of one policy file; a missing file or invalid YAML is one error naming the file."""
    try:
        doc = _read_policy_doc(Path(path))
    except PolicyError as exc:
        return False, [str(exc)]
    errors = policy_errors(doc)
    return not errors, errors


def load_policy(model_id: str, *, path: str | Path | None = None) -> Policy:
    """The validated policy of `model_id` (from `path`, default `policy_path(model_id)`); PolicyError otherwise."""
    path = Path(path) if path is not None else policy_path(model_id)
    doc = _read_policy_doc(path)
    errors = policy_errors(doc)
    if errors:
        raise PolicyError(f"policy file {path} is invalid: " + "; ".join(errors))
    return Policy.from_config(doc, name=f"policy/{model_id}")


def ensure_policy_exists(model_id: str, *, path: str | Path | None = None) -> str | None:
    """None when the policy of `model_id` exists and is valid, else the error message (promotion refuses)."""
    try:
        load_policy(model_id, path=path)
    except PolicyError as exc:
        return f"no valid policy for {model_id}: {exc}; promotion refused"
    return None


def evaluation_signature(settings: Mapping[str, Any]) -> str:
    """A stable fingerprint ("sha256:<hex>") of evaluation settings, independent of key order.

    `cpcv_signature` = this of the CPCV split settings (groups, test groups, embargo, purge), the
    session window and the universe: equal signatures mean the same paths. `cost_signature` = this
    of the cost model's settings. Values are JSON-serialised (dates via str).
    """
    text = json.dumps(settings, sort_keys=True, default=str, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PromotionDecision:
    """Whether a challenger is promoted, every failing bar as (bar, value, threshold), and why in one line."""

    promote: bool
    failed: list[tuple[str, Any, Any]] = field(default_factory=list)
    reason: str = ""
    challenger_version: str | None = None
    champion_version: str | None = None

    @property
    def failed_bars(self) -> list[str]:
        return [bar for bar, _, _ in self.failed]


def _metric(metrics: Mapping[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if _is_number(value) else None


def decide_promotion(
    challenger: Mapping[str, Any],
    champion: Mapping[str, Any] | None,
    policy: Policy,
    *,
    green_ok: bool,
    shadow_ok: bool = True,
) -> PromotionDecision:
    """Promote only if every bar passes: GREEN inputs, the four CPCV bars, beating the champion, shadow trading.

    `challenger` / `champion` are flat metrics dicts (CpcvReport.metrics plus the two signature
    strings); `champion` None means there is none yet (nothing to beat). A missing or non-finite
    metric fails its bar. `shadow_ok` is the verdict of the shadow-trading hook
    (`trademl.models.promotion.shadow_trading_ok`); a False verdict fails the bar `shadow_trading`.
    """
    failed: list[tuple[str, Any, Any]] = []
    if policy.green_required and not green_ok:
        failed.append(("green_required", False, True))
    for bar, (key, op) in BARS.items():
        value, threshold = _metric(challenger, key), getattr(policy, bar)
        if value is None or not _PASSES[op](value, threshold):
            failed.append((bar, value if value is not None else challenger.get(key), threshold))
    if policy.must_beat_champion and champion is not None:
        comparable = True
        for bar, key in (("same_cpcv_paths", CPCV_SIGNATURE_KEY), ("same_cost_model", COST_SIGNATURE_KEY)):
            mine, theirs = challenger.get(key), champion.get(key)
            if not mine or mine != theirs:
                failed.append((bar, mine, theirs))
                comparable = False
        if comparable:
            mine, theirs = _metric(challenger, SHARPE_KEY), _metric(champion, SHARPE_KEY)
            if mine is None or theirs is None or not mine > theirs:
                failed.append(("must_beat_champion", mine, theirs))
    if not shadow_ok:
        failed.append(("shadow_trading", False, True))
    if not failed:
        return PromotionDecision(True, [], "every bar passed: " + _summary(challenger, policy))
    return PromotionDecision(False, failed, "refused: " + "; ".join(_explain(bar, v, t) for bar, v, t in failed))


def _summary(metrics: Mapping[str, Any], policy: Policy) -> str:
    return ", ".join(f"{key} {_shown(metrics.get(key))} {op} {getattr(policy, bar)}" for bar, (key, op) in BARS.items())


def _shown(value: Any) -> str:
    """A metric as a reader wants it in a reason: 4 significant digits (the exact value is in MLflow)."""
    return f"{value:.4g}" if _is_number(value) else repr(value)


def _explain(bar: str, value: Any, threshold: Any) -> str:
    """One failing bar in words, naming its value and threshold."""
    if bar in BARS:
        key, op = BARS[bar]
        if value is None or not _is_number(value):
            return f"{bar}: {key} is missing or not a finite number ({value!r}); needs {op} {threshold}"
        return f"{bar}: {key} {_shown(value)} {_NEGATION[op]} {threshold}"
    if bar == "must_beat_champion":
        return f"must_beat_champion: {SHARPE_KEY} {_shown(value)} does not beat the champion's {_shown(threshold)}"
    if bar in ("same_cpcv_paths", "same_cost_model"):
        key = CPCV_SIGNATURE_KEY if bar == "same_cpcv_paths" else COST_SIGNATURE_KEY
        return f"{bar}: challenger {key} {value!r} differs from the champion's {threshold!r}; not comparable, re-evaluate the champion on the challenger's paths and costs"
    if bar == "green_required":
        return "green_required: the training inputs did not meet their GREEN thresholds"
    if bar == "shadow_trading":
        return "shadow_trading: shadow trading did not show consistent improvement"
    return f"{bar}: {value!r} (needs {threshold!r})"
