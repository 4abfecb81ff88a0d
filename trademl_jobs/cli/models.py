"""`trademl train | evaluate | promote | report`: the model loop from the shell (SSOT 7), each a Dagster run.

- `train MODEL [--asof D] [--lookback N]`: one run of `train_job` (the `models/MODEL` partition of
  the as-of session); refused first, in one line naming each short table and its GREEN share, when
  the data gate is not met. The as-of defaults to the last session every undelayed input reached.
- `evaluate MODEL`: the challenger's and the champion's OOS metrics against the policy's
  go/no-go bars, and what a promotion would decide now (nothing is recorded or moved).
- `promote MODEL [--rollback]`: one run of `promote_job`: a manual decision (every bar still
  applies; recorded in MLflow and pipeline_runs), or the previous champion restored.
- `report --asof D [--out DIR]`: the champion's scores, the targets, the backtest and the daily
  report of D as one run; `--out` copies the report there (inside the data root unless
  `--allow-outside`).
"""

from __future__ import annotations

import argparse
import shutil

from trademl_jobs.cli.args import CliError, parse_date, positive_int, say

MODELS = ("equities_xs",)
REPORT_CHAIN = ("models/equities_xs_scores", "portfolio/targets", "backtests/equities_xs", "reports/daily")
SHOWN = ("oos_sharpe_net", "max_drawdown", "dsr", "dsr_margin", "pbo", "n_trials", "rank_ic_mean", "rank_ic_tstat")


def _failure(instance, run) -> str:
    from trademl_jobs.run_outcome import step_failure_messages

    messages = step_failure_messages(instance, run.run_id)
    return messages[0] if messages else f"run {run.run_id} failed (see `make ui`)"


def default_asof(model: str):
    """The last session every undelayed dependency of `model` reached in the ledger (None: none yet)."""
    from trademl.data.control import control_engine
    from trademl.models.readiness import training_gate
    from trademl.models.train_schedule import latest_sessions

    gate = training_gate(model)
    reached = latest_sessions(control_engine(), [d.table for d in gate.dependencies if d.lag_sessions == 0])
    return None if any(v is None for v in reached.values()) else min(reached.values())


def metric_lines(metrics: dict) -> list[str]:
    return [f"  {k:<16} {float(metrics[k]):.4f}" for k in SHOWN if k in metrics]


def cmd_train(args: argparse.Namespace) -> int:
    import dagster as dg

    from trademl import calendar
    from trademl.data.control import control_engine
    from trademl.models import registry
    from trademl.models.readiness import check_readiness, training_gate
    from trademl_jobs.runner import dagster_instance, materialize_assets
    from trademl_resources.training import TrainingResource

    asof = parse_date(args.asof, "--asof") if args.asof else default_asof(args.model)
    if asof is None:
        raise CliError(f"{args.model}: its inputs have no ledger rows yet; run `trademl demo` or ingest first")
    if not calendar.is_session(asof):
        asof = calendar.previous_session(asof).date()
    readiness = check_readiness(control_engine(), training_gate(args.model), asof, lookback_sessions=args.lookback)
    if not readiness.ready:
        raise CliError(f"not training {args.model} as of {asof}: {readiness.reason()}")
    instance = dagster_instance()
    key = dg.AssetKey(["models", args.model])
    if asof.isoformat() in instance.get_materialized_partitions(key):
        say(f"{args.model} is already trained as of {asof}; nothing to do")
        return 0
    say(f"training {args.model} as of {asof} (one run; CPCV over the configured trials)")
    run = materialize_assets(instance, [key], asof.isoformat(), asof.isoformat(), progress=say,
                             training=TrainingResource(lookback_sessions=args.lookback))
    if not run.success:
        say(_failure(instance, run))
        return 1
    ref = registry.challenger(args.model)
    say(f"{args.model} v{ref.version} registered as challenger in {run.seconds:.1f}s; OOS, net of costs:")
    for line in metric_lines(registry.version_metrics(args.model, ref.version)):
        say(line)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import dagster as dg

    from trademl.backtest.training_run import NoChallenger
    from trademl.models import registry
    from trademl_jobs.runner import dagster_instance, run_job
    from trademl_jobs.training import EvaluateConfig

    if registry.challenger(args.model) is None:
        raise CliError(str(NoChallenger(args.model)))
    instance = dagster_instance()
    run = run_job(instance, "evaluate_job", run_config=dg.RunConfig(ops={"evaluate_op": EvaluateConfig(model=args.model)}))
    if not run.success:
        say(_failure(instance, run))
        return 1
    for line in _evaluation_lines(_observation(instance, run.run_id)):
        say(line)
    say(f"      run {run.run_id[:8]} ok in {run.seconds:.1f}s (`make ui` shows it)")
    return 0


def _observation(instance, run_id: str) -> dict:
    """The metadata of the evaluation the run recorded on the model asset (plain values)."""
    import dagster as dg

    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_OBSERVATION).records
    observation = records[-1].event_log_entry.dagster_event.event_specific_data.asset_observation
    return {k: v.value for k, v in observation.metadata.items()}


def _evaluation_lines(ev: dict) -> list[str]:
    """What `trademl evaluate` prints from the run's evaluation: both versions' metrics and the verdict."""
    lines = [f"challenger v{ev['challenger_version']}:", *metric_lines(ev["challenger_metrics"])]
    if ev["champion_version"] == ev["challenger_version"]:
        return [*lines, f"v{ev['challenger_version']} is the champion already "
                        "(nothing to weigh it against until a new challenger is trained)"]
    if ev["champion_version"] == "none":
        lines.append("no champion yet")
    else:
        paths = " (on the challenger’s paths)" if ev["champion_on_challenger_paths"] else ""
        lines += [f"champion v{ev['champion_version']}{paths}:", *metric_lines(ev["champion_metrics"])]
    accepted = ev["evaluation"] == "would be promoted"
    reason = ev["reason"].removeprefix("refused: ").removeprefix("every bar passed: ")
    lines.append(f"a promotion now would be {'accepted: every bar passes' if accepted else 'refused'}: {reason}"
                 + ("" if ev["green"] else f" ({ev['green_reason']})"))
    return lines


def cmd_promote(args: argparse.Namespace) -> int:
    import dagster as dg

    from trademl.models import registry
    from trademl_jobs.runner import dagster_instance, run_job
    from trademl_jobs.training import PromoteConfig

    instance = dagster_instance()
    before = registry.champion(args.model)
    config = dg.RunConfig(ops={"promote_op": PromoteConfig(model=args.model, rollback=args.rollback)})
    run = run_job(instance, "promote_job", run_config=config)
    if not run.success:
        say(_failure(instance, run))
        return 1
    after = registry.champion(args.model)
    if args.rollback:
        say(f"{args.model}: champion rolled back from v{before.version if before else '-'} to v{after.version}")
        return 0
    challenger = registry.challenger(args.model)
    reason = registry.version_tags(args.model, challenger.version).get("promotion.reason", "") if challenger else ""
    if after is not None and (before is None or after.version != before.version):
        say(f"{args.model} v{after.version} is now champion: {reason}")
        return 0
    say(f"{args.model}: not promoted: {reason or 'no challenger to decide on'}")
    return 1


def cmd_report(args: argparse.Namespace) -> int:
    import dagster as dg

    from trademl import calendar
    from trademl.config import sanitize_out_path
    from trademl_assets.reports import reports_dir
    from trademl_jobs.runner import dagster_instance, materialize_assets

    day = parse_date(args.asof, "--asof")
    if not calendar.is_session(day):
        raise CliError(f"--asof {day} is not an XNYS session")
    out = sanitize_out_path(args.out, reports_dir(), allow_outside=args.allow_outside) if args.out else None
    instance = dagster_instance()
    keys = [dg.AssetKey.from_user_string(k) for k in REPORT_CHAIN]
    say(f"scoring, targets, backtest and report of {day} (one run)")
    run = materialize_assets(instance, keys, day.isoformat(), day.isoformat(), progress=say)
    if not run.success:
        say(_failure(instance, run))
        return 1
    folder = reports_dir() / day.isoformat()
    say(f"report: {folder / 'daily.md'} (JSON and plots beside it)")
    if out is not None:
        shutil.copytree(folder, out, dirs_exist_ok=True)
        say(f"copied to {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `train`, `evaluate`, `promote` and `report` to the `trademl` parser."""
    t = sub.add_parser("train", help="train a model as of a session (refused when its inputs are not GREEN enough)")
    t.add_argument("model", choices=MODELS)
    t.add_argument("--asof", default=None, help="as-of session (YYYY-MM-DD); default the last session its inputs reached")
    t.add_argument("--lookback", type=positive_int, default=None, help="training window in sessions (default: the config's)")
    t.set_defaults(func=cmd_train)
    e = sub.add_parser("evaluate", help="the challenger's and champion's OOS metrics against the go/no-go bars")
    e.add_argument("model", choices=MODELS)
    e.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("promote", help="promote the challenger if every bar passes, or --rollback to the previous champion")
    p.add_argument("model", choices=MODELS)
    p.add_argument("--rollback", action="store_true", help="restore the previous champion")
    p.set_defaults(func=cmd_promote)
    r = sub.add_parser("report", help="the daily report of a session (champion scores -> targets -> backtest -> report)")
    r.add_argument("--asof", required=True, help="session (YYYY-MM-DD)")
    r.add_argument("--out", default=None, help="also copy the report folder here (inside the data root)")
    r.add_argument("--allow-outside", action="store_true", help="let --out point outside the data root")
    r.set_defaults(func=cmd_report)
