"""A sleeve's training run: data gate, training + CPCV evaluation under the production strategy, challenger registered.

The models layer trains and validates with whatever strategy it is given (`train_and_evaluate`,
`strategy=`); this module gives it the production one, the portfolio constructor and the cost
model a backtest and paper trading use (SSOT 6.2: the evaluation strategy is the production one,
net of costs). When a champion exists, its configuration is re-evaluated on the challenger's own
CPCV paths, so the promotion compares the two on the same paths and cost model (SSOT 6.4); both
signatures are tags of the run. The run is logged to MLflow and registered as `challenger`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.backtest.production import production_market, production_strategy
from trademl.backtest.settings import BacktestSettings, backtest_settings
from trademl.data.lake import Lake
from trademl.models import registry
from trademl.models.cards import git_sha
from trademl.models.dataset import input_lineage, training_frame
from trademl.models.evaluation import evaluate_trial, train_and_evaluate
from trademl.models.policy import evaluation_signature
from trademl.models.readiness import check_readiness, training_gate
from trademl.models.settings import TrainingConfig, Trial, training_config
from trademl.portfolio import RiskConfig, risk_config

# Metrics of the champion re-evaluated on the challenger's paths, logged on the challenger's run.
CHAMPION_PREFIX = "champion_"
COMPARED_CHAMPION_TAG = "compared_champion_version"


class TrainingRefused(ValueError):
    """Training may not start: the one-line reason names each short table and its GREEN share."""


@dataclass(frozen=True)
class TrainingOutcome:
    """What a training run registered: the challenger's version, its OOS metrics and artifacts."""

    model: str
    asof: dt.date
    version: str
    run_id: str
    selected_trial: str
    metrics: dict[str, float]
    champion_version: str | None
    artifacts: dict[str, Path]


def evaluation_signatures(cfg: TrainingConfig, frame: pd.DataFrame, settings: BacktestSettings, risk: RiskConfig) -> dict[str, str]:
    """cpcv_signature: the split scheme, the session window and the universe (equal: the same paths);
    cost_signature: the cost model, market assumptions and portfolio rules the strategy trades with."""
    cpcv = {
        "cpcv": dataclasses.asdict(cfg.cpcv),
        "trials": [t.name for t in cfg.grid],
        "first": min(frame["date"]).isoformat(),
        "last": max(frame["date"]).isoformat(),
        "sessions": int(frame["date"].nunique()),
        "universe": sorted(frame["symbol"].astype(str).unique()),
    }
    cost = {"backtest": settings.signature_doc(), "portfolio": dataclasses.asdict(risk)}
    return {"cpcv_signature": evaluation_signature(cpcv), "cost_signature": evaluation_signature(cost)}


def champion_trial(model: str, work_dir: Path) -> tuple[str, Trial] | None:
    """The current champion's version and the trial (label, horizon, parameters) it was trained with."""
    ref = registry.champion(model)
    if ref is None:
        return None
    folder = registry.download_version(model, ref.version, work_dir / f"champion-v{ref.version}")
    doc = json.loads((folder / "training_cfg.json").read_text())
    grid = {t["name"]: t for t in doc.get("grid", [])}
    chosen = grid.get(doc.get("selected_trial", ""))
    if chosen is None:
        return None
    return ref.version, Trial(chosen["name"], chosen["label"], int(chosen["horizon"]), dict(chosen.get("params", {})))


def train_challenger(
    model: str,
    asof: dt.date | str,
    *,
    lake: Lake,
    engine: Engine,
    work_dir: str | Path,
    lookback_sessions: int | None = None,
    cpcv_overrides: Mapping[str, int] | None = None,
    trials: Sequence[str] | None = None,
    tags: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainingOutcome:
    """Train `model` as of `asof` (an XNYS session) when its data gate is met, evaluate it with CPCV
    under the production strategy, compare it with the champion on the same paths, and register it
    as the new `challenger` version. `lookback_sessions` overrides the training window and
    `cpcv_overrides` fields of the CPCV settings, `trials` the subset of the grid to try (the demo's
    short year); all of them enter the evaluation's signature.

    Raises TrainingRefused (one line) when the gate is not met or the window holds no labelled row."""
    say = progress or (lambda _line: None)
    day = calendar.as_date(asof, "asof")
    cfg = training_config(model)
    if lookback_sessions:
        cfg = dataclasses.replace(cfg, lookback_sessions=int(lookback_sessions))
    if cpcv_overrides:
        cfg = dataclasses.replace(cfg, cpcv=dataclasses.replace(cfg.cpcv, **dict(cpcv_overrides)))
    if trials:
        unknown = sorted(set(trials) - {t.name for t in cfg.grid})
        if unknown:
            raise ValueError(f"unknown trial(s) {', '.join(unknown)}; the grid of {model} has {', '.join(t.name for t in cfg.grid)}")
        cfg = dataclasses.replace(cfg, grid=tuple(t for t in cfg.grid if t.name in set(trials)))
    readiness = check_readiness(engine, training_gate(model), day, lookback_sessions=cfg.lookback_sessions)
    if not readiness.ready:
        raise TrainingRefused(f"{model} as of {day}: {readiness.reason()}")
    frame = training_frame(lake, day, cfg)
    if frame.empty:
        raise TrainingRefused(f"{model} as of {day}: no labelled row in the {cfg.lookback_sessions}-session window")
    say(f"training frame: {len(frame)} rows, {frame['date'].nunique()} sessions, {frame['symbol'].nunique()} symbols")
    settings, risk = backtest_settings(), risk_config()
    strategy = production_strategy(production_market(lake, min(frame["date"]), day, settings=settings, risk=risk),
                                   settings=settings, risk=risk)
    out = Path(work_dir) / f"{model}-{day.isoformat()}"
    trained, report, paths = train_and_evaluate(
        frame, cfg, asof=day, strategy=strategy, out_dir=out, lineage=input_lineage(lake, day, cfg)
    )
    say(f"CPCV: {len(cfg.grid)} trials x {int(report.metrics['n_paths'])} paths; selected {report.selected.name}")
    metrics = dict(report.metrics)
    signatures = evaluation_signatures(cfg, frame, settings, risk)
    compared = champion_trial(model, Path(work_dir))
    if compared is not None:
        version, trial = compared
        theirs = evaluate_trial(frame, cfg, trial, strategy=strategy, asof=day)
        metrics.update({f"{CHAMPION_PREFIX}{k}": v for k, v in theirs.items()})
        say(f"champion v{version} ({trial.name}) on the same paths: OOS net Sharpe {theirs['oos_sharpe_net']:.2f}")
    run_tags = {
        "asof": day.isoformat(),
        "model": model,
        "selected_trial": report.selected.name,
        "git_sha": git_sha(),
        "lookback_sessions": str(cfg.lookback_sessions),
        **signatures,
        **({COMPARED_CHAMPION_TAG: compared[0]} if compared else {}),
        **dict(tags or {}),
    }
    params = {"trial": report.selected.name, "label": report.selected.label, "horizon": report.selected.horizon,
              **{f"lgb.{k}": v for k, v in trained.training_cfg.get("params", {}).items()}}
    ref = registry.log_training_run(model, artifacts_dir=out, params=params, metrics=metrics, tags=run_tags)
    return TrainingOutcome(model, day, ref.version, ref.run_id, report.selected.name, metrics,
                           compared[0] if compared else None, paths)


def champion_comparison(model: str, challenger_version: str) -> dict[str, Any] | None:
    """The champion's metrics as re-evaluated on the challenger's paths (with the challenger's
    signatures), when the challenger was compared with the version that is champion now; else None
    (the promotion then compares against the champion's own logged evaluation)."""
    champion = registry.champion(model)
    if champion is None:
        return None
    tags = registry.version_tags(model, challenger_version)
    metrics = registry.version_metrics(model, challenger_version)
    if tags.get(COMPARED_CHAMPION_TAG) != champion.version:
        return None
    theirs = {k[len(CHAMPION_PREFIX):]: v for k, v in metrics.items() if k.startswith(CHAMPION_PREFIX)}
    for key in ("cpcv_signature", "cost_signature"):
        if key in metrics:
            theirs[key] = metrics[key]
    return theirs


def challenger_green(model: str, engine: Engine) -> tuple[bool, str]:
    """Whether the challenger's data gate still holds over its own window now (a revision may have
    turned a session RED since it was trained), and the gate's reason when it does not."""
    ref = registry.challenger(model)
    if ref is None:
        return False, f"no challenger of {model} is registered"
    tags = registry.version_tags(model, ref.version)
    run_tags = registry.client().get_run(ref.run_id).data.tags
    asof = run_tags.get("asof") or tags.get("asof")
    if not asof:
        return False, f"{model} v{ref.version} carries no asof tag"
    lookback = int(run_tags.get("lookback_sessions") or training_config(model).lookback_sessions)
    readiness = check_readiness(engine, training_gate(model), asof, lookback_sessions=lookback)
    return readiness.ready, readiness.reason()


def promote_challenger(model: str, *, engine: Engine, manual: bool = False, env: str | None = None):
    """promote_if_beat_champion on the current challenger, with its GREEN gate re-checked and the
    champion re-evaluated on the challenger's paths when the training run did that (else the
    champion's own logged evaluation, whose signatures then decide comparability)."""
    from trademl.models.promotion import promote_if_beat_champion

    ref = registry.challenger(model)
    green_ok = challenger_green(model, engine)[0] if ref is not None else False
    theirs = champion_comparison(model, ref.version) if ref is not None else None
    return promote_if_beat_champion(model, green_ok=green_ok, env=env, control_engine=engine, champion_metrics=theirs, manual=manual)


class NoChallenger(LookupError):
    """The model has no registered challenger to evaluate or promote."""

    def __init__(self, model: str) -> None:
        super().__init__(f"{model} has no challenger yet: `trademl train {model}` first")


@dataclass(frozen=True)
class ChallengerEvaluation:
    """The challenger's OOS metrics, the champion's (on the challenger's paths when it was re-evaluated
    there), the data gate re-checked now, and the decision a promotion would take, without taking it."""

    model: str
    challenger_version: str
    challenger: dict[str, Any]
    champion_version: str | None
    champion: dict[str, Any] | None
    on_challenger_paths: bool
    green: bool
    green_reason: str
    decision: Any  # trademl.models.policy.PromotionDecision


def evaluate_challenger(model: str, *, engine: Engine) -> ChallengerEvaluation:
    """Everything `promote_challenger` would weigh, read-only: no alias moves and no decision is recorded,
    so the promote sensor still decides on this challenger. NoChallenger when none is registered."""
    from trademl.models.policy import decide_promotion, load_policy

    challenger, champion = registry.challenger(model), registry.champion(model)
    if challenger is None:
        raise NoChallenger(model)
    mine = registry.version_metrics(model, challenger.version)
    on_paths = champion_comparison(model, challenger.version) if champion is not None else None
    theirs = on_paths or (registry.version_metrics(model, champion.version) if champion is not None else None)
    green, why = challenger_green(model, engine)
    decision = decide_promotion(mine, theirs, load_policy(model), green_ok=green)
    return ChallengerEvaluation(
        model=model, challenger_version=challenger.version, challenger=mine,
        champion_version=champion.version if champion is not None else None, champion=theirs,
        on_challenger_paths=on_paths is not None, green=green, green_reason=why, decision=decision,
    )
