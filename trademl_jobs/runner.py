"""Running the graph from the command line: every ingest is a real run on the project's Dagster instance.

Runs are executed in-process through `ingest_job` (and, for `trademl materialize`, any selection of
the data layers through `materialize_job`), so they show up in the UI with their partitions and
check results, and never one run per session: a range is one run. Every run is
tagged with the process that executes it and watched while it runs (trademl_jobs/run_health.py):
dead runs are reaped before each launch, a step waiting for a pool slot says who holds it, and
SIGINT/SIGTERM stop a waiting run at once.

The vendor is an explicit argument (`vendor=`, a TRADEML_VENDOR value; None means the
environment's, read at call time), as are the synthetic market's settings (`synthetic=`): the
runner executes the jobs of `trademl_jobs.definitions.build_definitions(vendor, synthetic=...)`,
so a run's pool and connector are the vendor's it was given. Run config is typed (`dg.RunConfig`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from trademl.data import backfill
from trademl.config import REPO_ROOT, settings
from trademl.data.edge import edge_settings
from trademl.schemas import table_spec
from trademl_assets.ingest_asset import asset_key_for
from trademl_jobs.queue import (
    INGEST_JOB,
    PROBE_JOB,
    RANGE_END,
    RANGE_START,
    TASK_TAG,
    close_task,
    ingest_run_config,
    probe_run_config,
    run_request_for_task,
    task_range,
)
from trademl_jobs.run_health import process_tags, reap_before_launch, watch_run
from trademl_jobs.run_progress import StepProgress
from trademl_resources.training import TrainingResource
from trademl_resources.vendors import SyntheticResource

MATERIALIZE_JOB = "materialize_job"
CLI_TASK_TAG = "trademl/cli_task_id"  # not TASK_TAG: the run-status sensors leave CLI-closed tasks alone
# Expected RED checks fail the run by design; the CLI reports them itself, the UI shows the details.
_QUIET_LOGGERS = {"console": {"config": {"log_level": "CRITICAL"}}}


def dagster_instance() -> dg.DagsterInstance:
    """The project's persistent instance in DAGSTER_HOME (created with the project's dagster.yaml),
    with the vendor pools applied and runs whose process is gone reaped (their slots freed)."""
    home = settings().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists():
        shutil.copyfile(REPO_ROOT / "dagster.yaml", target)
    os.environ["DAGSTER_HOME"] = str(home)
    instance = dg.DagsterInstance.get()
    apply_pool_limits(instance)
    reap_before_launch(instance)
    return instance


def apply_pool_limits(instance: dg.DagsterInstance) -> None:
    """Per-vendor pools (configs/edge.yml `pools`), as `dagster instance concurrency set <vendor> N` would."""
    for pool, limit in edge_settings().pools.items():
        instance.event_log_storage.set_concurrency_slots(pool, limit)


@dataclass
class RangeRun:
    """Outcome of one range run."""

    run_id: str
    success: bool
    seconds: float
    not_run: tuple[str, ...] = ()  # planned steps that never started (known when progress was watched)


def job_for(
    name: str, vendor: str | None = None, synthetic: SyntheticResource | None = None, training: TrainingResource | None = None
) -> dg.JobDefinition:
    """Job `name` of the definitions built for `vendor` (None: TRADEML_VENDOR now), `synthetic` and `training`."""
    from trademl_jobs.definitions import build_definitions

    return build_definitions(vendor or settings().vendor, synthetic=synthetic, training=training).resolve_job_def(name)


def quiet(config: dg.RunConfig) -> dg.RunConfig:
    """`config` with Dagster's console logger silenced (the CLI prints its own summary)."""
    return dg.RunConfig(ops=config.ops, resources=config.resources, loggers=_QUIET_LOGGERS, execution=config.execution)


def materialize_range(
    instance: dg.DagsterInstance,
    datasets: list[str],
    first: str,
    last: str,
    *,
    symbols: list[str] | None = None,
    extra_tags: dict[str, str] | None = None,
    vendor: str | None = None,
    synthetic: SyntheticResource | None = None,
) -> RangeRun:
    """One single-run materialization of `datasets` over sessions [first, last] (checks included),
    from `vendor` (None: TRADEML_VENDOR), optionally narrowed to `symbols`."""
    keys = [asset_key_for(table_spec(d).name) for d in datasets]
    return _execute(
        instance,
        job_for(INGEST_JOB, vendor, synthetic),
        asset_selection=keys,
        run_config=quiet(ingest_run_config(keys, symbols)),
        tags={RANGE_START: first, RANGE_END: last, **(extra_tags or {})},
    )


def materialize_assets(
    instance: dg.DagsterInstance,
    keys: Sequence[dg.AssetKey],
    first: str,
    last: str,
    *,
    vendor: str | None = None,
    synthetic: SyntheticResource | None = None,
    progress: Callable[[str], None] | None = None,
    extra_tags: dict[str, str] | None = None,
    training: TrainingResource | None = None,
) -> RangeRun:
    """ONE run of `materialize_job` over the selected assets `keys` (their checks included) and the
    sessions [first, last] (the partition range tags of a single-run backfill), from `vendor` (None:
    TRADEML_VENDOR); `progress` receives one line per step start and finish while it runs."""
    return _execute(
        instance,
        job_for(MATERIALIZE_JOB, vendor, synthetic, training),
        asset_selection=list(keys),
        run_config=quiet(dg.RunConfig()),
        tags={RANGE_START: first, RANGE_END: last, **(extra_tags or {})},
        progress=progress,
    )


def run_task(
    instance: dg.DagsterInstance,
    task: backfill.Task,
    extra_tags: dict[str, str] | None = None,
    *,
    vendor: str | None = None,
    synthetic: SyntheticResource | None = None,
) -> RangeRun:
    """The run a queue task stands for: a range materialization (over `backfill.task_symbols`: a
    symbol-less GAP task re-fetches only the symbols still RED), or for QC_PROBE one probe-job run."""
    from trademl.data.control import control_engine

    engine = control_engine(settings().db_uri)
    if task.kind != "QC_PROBE":
        first, last = task_range(task)
        symbols = backfill.task_symbols(engine, task)
        return materialize_range(
            instance, [task.dataset], first, last, symbols=symbols, extra_tags=extra_tags, vendor=vendor, synthetic=synthetic
        )
    request = run_request_for_task(task, engine)
    return _execute(
        instance,
        job_for(PROBE_JOB, vendor, synthetic),
        run_config=quiet(probe_run_config(task)),
        # Not TASK_TAG: the run-status sensors must leave a task this caller closes itself alone.
        tags={**{k: v for k, v in request.tags.items() if k != TASK_TAG}, **(extra_tags or {})},
    )


def _execute(
    instance: dg.DagsterInstance,
    job: dg.JobDefinition,
    *,
    tags: dict[str, str],
    progress: Callable[[str], None] | None = None,
    **kwargs,
) -> RangeRun:
    """Every in-process run goes through here: dead runs reaped first, the run tagged with this
    process and watched while it executes (slot waits reported, SIGINT/SIGTERM honoured; with
    `progress`, a line per step start and finish, see trademl_jobs/run_progress.py)."""
    reap_before_launch(instance)
    run_id = str(uuid.uuid4())
    t0 = time.perf_counter()
    steps = StepProgress(instance, run_id, progress) if progress is not None else None
    with watch_run(instance, run_id), steps or contextlib.nullcontext():
        result = job.execute_in_process(
            instance=instance, run_id=run_id, tags={**tags, **process_tags()}, raise_on_error=False, **kwargs
        )
    return RangeRun(result.run_id, result.success, time.perf_counter() - t0, tuple(steps.not_run()) if steps else ())


def run_job(
    instance: dg.DagsterInstance,
    name: str,
    *,
    run_config: dg.RunConfig | None = None,
    tags: dict[str, str] | None = None,
    training: TrainingResource | None = None,
    partition_key: str | None = None,
) -> RangeRun:
    """ONE in-process run of job `name` (e.g. promote_job, train_job) on the project's instance."""
    extra = {"partition_key": partition_key} if partition_key else {}
    return _execute(instance, job_for(name, None, None, training), run_config=quiet(run_config or dg.RunConfig()),
                    tags=dict(tags or {}), **extra)


def check_evaluations(
    instance: dg.DagsterInstance, run_id: str, asset_key: dg.AssetKey, check_name: str = "qc_coverage"
) -> dict[str, dg.AssetCheckEvaluation]:
    """The per-session evaluations a run recorded for one asset's check: partition key -> evaluation."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    out = {}
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.asset_key == asset_key and evaluation.check_name == check_name and evaluation.partition is not None:
            out[evaluation.partition] = evaluation
    return out


def execute_tasks(
    instance: dg.DagsterInstance, owner: str, *, vendor: str | None = None, synthetic: SyntheticResource | None = None
):
    """An `execute` callable for backfill_run: one range run per leased task (from `vendor`, None:
    TRADEML_VENDOR), then close the task."""
    from trademl.data.control import control_engine

    engine = control_engine(settings().db_uri)

    def _execute(tasks: list[backfill.Task]) -> list[str]:
        verdicts = []
        for task in tasks:
            run = run_task(instance, task, extra_tags={CLI_TASK_TAG: str(task.id)}, vendor=vendor, synthetic=synthetic)
            verdicts.append(close_task(engine, task.id, owner, run.success, run.run_id))
        return verdicts

    return _execute


def project_paths() -> dict[str, Path]:
    """Where the lake, the control db and the Dagster home live."""
    s = settings()
    return {"lake": s.data_root, "control_db": s.control_db_path, "dagster_home": s.dagster_home}
