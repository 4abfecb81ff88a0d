"""`trademl demo`, the model loop: train sensor -> training run -> promote sensor -> scores, targets, backtest, report.

The two sensors are evaluated exactly as the daemon would (their tick functions on the project's
instance, through `dg.build_sensor_context`), and what they request is executed in-process as one
run. Auto-promotion is switched on for the demo's process only (SSOT 1.4 keeps it off in `local`).
A rerun trains nothing new (the sensor sees the as-of session already trained, within its
cadence), promotes nothing (the challenger is already decided), and skips the report when the
champion's report of the last session is already written.
"""

from __future__ import annotations

import json
import os

from trademl_jobs.cli.args import say

AUTO_PROMOTE_VAR = "TRAINING_ENABLE_AUTO_PROMOTE"
MODEL = "equities_xs"
REPORT_CHAIN = ("models/equities_xs_scores", "portfolio/targets", "backtests/equities_xs", "reports/daily")
SHOWN = ("oos_sharpe_net", "max_drawdown", "dsr", "pbo", "rank_ic_mean")


def run_model_loop(instance, last: str, *, training: dict, first_step: int, n_steps: int) -> None:
    """Steps `first_step`.. of `n_steps`: train (if the sensor asks), promote (if every bar passes), report `last`."""
    import dagster as dg

    from trademl.models import registry
    from trademl_assets.reports import reports_dir
    from trademl_jobs.runner import materialize_assets
    from trademl_jobs.training import promote_tick, train_tick
    from trademl_resources import ControlDbResource
    from trademl_resources.training import TrainingResource

    os.environ[AUTO_PROMOTE_VAR] = "true"  # the demo enables auto-promotion explicitly, for this process only
    training = TrainingResource(**{k: (",".join(v) if k == "trials" else v) for k, v in training.items()})
    control_db = ControlDbResource()
    step = first_step

    say(f"[{step}/{n_steps}] train_if_ready sensor ({training.lookback_sessions}-session window)")
    with dg.build_sensor_context(instance=instance) as context:
        tick = train_tick(context, control_db, training)
    if isinstance(tick, dg.RunRequest):
        say(f"      requests a training run as of {tick.partition_key}: {tick.tags.get('trademl/train_reason', '')}")
        key = dg.AssetKey(["models", MODEL])
        run = materialize_assets(instance, [key], tick.partition_key, tick.partition_key, training=training,
                                 extra_tags={"dagster/sensor_name": "train_if_ready"})
        challenger = registry.challenger(MODEL)
        say(f"      run {run.run_id[:8]} {'ok' if run.success else 'failed'} in {run.seconds:.1f}s"
            + (f": challenger v{challenger.version}" if run.success and challenger else f": {_failure(instance, run)}"))
    else:
        say(f"      skipped: {tick.skip_message}")

    step += 1
    say(f"[{step}/{n_steps}] promote_if_beat_champion sensor (auto-promotion on for the demo)")
    with dg.build_sensor_context(instance=instance, cursor=_decided_version()) as context:
        result = promote_tick(context, control_db)
    message = result.skip_message if isinstance(result, dg.SkipReason) else result.skip_reason.skip_message
    say(f"      {message}")

    champion = registry.champion(MODEL)
    step += 1
    if champion is None:
        say(f"[{step}/{n_steps}] daily report: skipped, {MODEL} has no champion (no challenger passed every bar)")
        return
    metrics = registry.version_metrics(MODEL, champion.version)
    say(f"      champion: {MODEL} v{champion.version}; OOS net of costs: "
        + ", ".join(f"{k} {float(metrics[k]):.3f}" for k in SHOWN if k in metrics))
    report = reports_dir() / last / "daily.json"
    if _report_version(report) == champion.version:
        say(f"[{step}/{n_steps}] daily report of {last}: already written by v{champion.version}, skipped")
    else:
        say(f"[{step}/{n_steps}] champion scores -> targets -> backtest -> daily report of {last} (one run)")
        keys = [dg.AssetKey.from_user_string(k) for k in REPORT_CHAIN]
        run = materialize_assets(instance, keys, last, last)
        say(f"      run {run.run_id[:8]} {'ok' if run.success else 'failed'} in {run.seconds:.1f}s"
            + ("" if run.success else f": {_failure(instance, run)}"))
    say(f"      report: {report.with_name('daily.md')}")


def _failure(instance, run) -> str:
    from trademl_jobs.run_outcome import step_failure_messages

    messages = step_failure_messages(instance, run.run_id)
    return messages[0] if messages else "see `make ui`"


def _decided_version() -> str | None:
    """The challenger version a promotion decision was already recorded for (the sensor's cursor)."""
    from trademl.models import registry

    challenger = registry.challenger(MODEL)
    if challenger is None:
        return None
    return challenger.version if registry.version_tags(MODEL, challenger.version).get("promotion.decision") else None


def _report_version(path) -> str | None:
    """The model version the report at `path` was written from (None when there is none)."""
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    versions = {str(s.get("model_version")) for s in doc.get("strategies", {}).values()}
    return versions.pop() if len(versions) == 1 else None
