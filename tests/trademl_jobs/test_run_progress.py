"""StepProgress: one line per step start and finish of a run, printed while the run executes.

The runs are tiny in-process asset jobs on an ephemeral instance (no vendor, no lake): what is
under test is reading the event log, not the project's assets.
"""

from __future__ import annotations

import threading

import dagster as dg
import pytest

from trademl_jobs.run_progress import StepProgress, check_colour

DAYS = dg.DailyPartitionsDefinition(start_date="2025-03-03", end_date="2025-03-06")
RANGE = {"dagster/asset_partition_range_start": "2025-03-03", "dagster/asset_partition_range_end": "2025-03-05"}


def _run(assets: list, checks: list = (), *, selection: list[dg.AssetKey] | None = None) -> tuple[bool, list[str], StepProgress]:
    """Execute the assets' job on an ephemeral instance inside a StepProgress; its lines as emitted."""
    job = dg.define_asset_job("progress_job", selection=dg.AssetSelection.all())
    defs = dg.Definitions(assets=assets, asset_checks=list(checks), jobs=[job])
    instance = dg.DagsterInstance.ephemeral()
    lines: list[str] = []
    with StepProgress(instance, "3b5e1a44-0000-4000-8000-000000000001", lines.append, poll_seconds=0.05) as progress:
        result = defs.resolve_job_def("progress_job").execute_in_process(
            instance=instance, run_id=progress.run_id, tags=RANGE, raise_on_error=False, asset_selection=selection
        )
    return result.success, lines, progress


def _body(line: str) -> str:
    """A progress line without its leading "+N.Ns" elapsed column."""
    elapsed, body = line.split("s  ", 1)
    assert elapsed.strip().startswith("+") and float(elapsed.strip()[1:]) >= 0.0
    return body


def test_a_start_line_is_printed_while_its_step_is_still_running():
    seen = threading.Event()

    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def slow(context) -> None:
        # Succeeds only if the progress thread reported this step's start while it runs.
        if not seen.wait(timeout=10):
            raise RuntimeError("no start line while the step ran")

    job = dg.define_asset_job("progress_job", selection=dg.AssetSelection.all())
    defs = dg.Definitions(assets=[slow], jobs=[job])
    instance = dg.DagsterInstance.ephemeral()

    def emit(line: str) -> None:
        if line.endswith("started: slow"):
            seen.set()

    with StepProgress(instance, "3b5e1a44-0000-4000-8000-000000000002", emit, poll_seconds=0.05) as progress:
        result = defs.resolve_job_def("progress_job").execute_in_process(
            instance=instance, run_id=progress.run_id, tags=RANGE, raise_on_error=False
        )
    assert result.success


def test_each_step_has_a_start_and_a_finish_line_counting_k_of_n_steps():
    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def first(context) -> None:
        return None

    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[first])
    def second(context) -> None:
        return None

    ok, lines, progress = _run([first, second])
    assert ok and progress.total == 2
    bodies = [_body(line) for line in lines]
    assert bodies[0] == "step 1/2 started: first"
    assert bodies[1].startswith("succeeded in ") and bodies[1].endswith(": first, 3 partitions materialized (1/2 steps done)")
    assert bodies[2] == "step 2/2 started: second"
    assert bodies[3].endswith(": second, 3 partitions materialized (2/2 steps done)")
    assert len(bodies) == 4


def test_a_check_step_line_counts_its_sessions_by_colour():
    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def bars(context) -> None:
        return None

    @dg.asset_check(asset=bars, name="coverage", partitions_def=DAYS)
    def coverage(context):
        for pk, status in zip(context.partition_keys, ["GREEN", "AMBER", "GREEN"]):
            yield dg.AssetCheckEvaluation(asset_key=bars.key, check_name="coverage", partition=pk, passed=status == "GREEN",
                                          severity=dg.AssetCheckSeverity.WARN, metadata={"status": status})
        yield dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    ok, lines, _ = _run([bars], [coverage])
    assert ok
    assert _body(lines[-1]).endswith(": bars_coverage, GREEN 2 AMBER 1 RED 0 (2/2 steps done)")


def test_a_failed_step_is_reported_failed_and_its_downstream_steps_as_not_run():
    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def broken(context) -> None:
        raise ValueError("vendor down")

    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[broken])
    def child(context) -> None:
        return None

    ok, lines, progress = _run([broken, child])
    assert not ok
    assert [_body(line).split(" in ")[0] for line in lines] == ["step 1/2 started: broken", "failed"]
    assert _body(lines[1]).endswith(": broken (1/2 steps done)")
    assert progress.not_run() == ["child"]


def test_only_the_selected_steps_are_counted():
    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def wanted(context) -> None:
        return None

    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def other(context) -> None:
        return None

    ok, lines, progress = _run([wanted, other], selection=[wanted.key])
    assert ok and progress.total == 1 and progress.not_run() == []
    assert _body(lines[0]) == "step 1/1 started: wanted"


@pytest.mark.parametrize(
    "passed, severity, metadata, colour",
    [
        (False, dg.AssetCheckSeverity.WARN, {"status": "RED"}, "RED"),  # the QC checks' own status wins
        (True, dg.AssetCheckSeverity.WARN, {}, "GREEN"),
        (False, dg.AssetCheckSeverity.WARN, {}, "AMBER"),
        (False, dg.AssetCheckSeverity.ERROR, {}, "RED"),
    ],
)
def test_check_colour_is_the_status_metadata_else_passed_and_severity(passed, severity, metadata, colour):
    evaluation = dg.AssetCheckEvaluation(asset_key=dg.AssetKey("x"), check_name="c", passed=passed, severity=severity,
                                         metadata=metadata)
    assert check_colour(evaluation) == colour
