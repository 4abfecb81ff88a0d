"""The `check_alerts` sensor: new asset-check evaluations -> status changes -> webhook / SMTP alerts.

Each tick reads, for every check of every asset in the code location (raw, reference, curated,
features, labels, ...), the latest evaluation of each partition stored after the cursor
(`event_log_storage.get_asset_check_partition_info(keys, after_storage_id=...)`), maps it to a
status (passed -> GREEN, failed WARN -> AMBER, failed ERROR -> RED; a check whose run failed before
it evaluated -> FAILED), compares it with the last status seen for that (check, partition) in the
control db table `alert_state` (trademl.monitoring.alerts), and dispatches one alert per change
into a configured status, plus one recovery alert when a pair returns to GREEN. A channel that
fails is recorded in `alert_state` and retried on the next ticks (configs/alerts.yml
`delivery_attempts` in all); the tick's message says what was sent, retried and what failed.

State: the cursor holds one number, the Dagster event storage id read up to (bounded by design);
the last status per (check, partition) lives in `alert_state`, which keeps only pairs that are not
GREEN. A check planned in a run that is still going holds the cursor just below it, so its
evaluation is read once it lands. The range summary a check yields without a partition in a range
run is not alerted for partitioned checks (each session's own evaluation is).

Default status: RUNNING only when automation is on and configs/alerts.yml enables at least one
channel; otherwise STOPPED (it can be started in the UI and then says that no channel is enabled).
"""

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import replace

import dagster as dg
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.base import PartitionKeyFilter  # not re-exported by dagster 1.13
from sqlalchemy.engine import Engine

from trademl.monitoring.alerts import (
    Alert,
    AlertConfig,
    TickSummary,
    alert_config,
    dispatch,
    read_alert_state,
    record_alert_state,
    retry_failed_deliveries,
    should_alert,
    status_of,
    transitions,
)
from trademl_jobs.automation import sensor_status
from trademl_resources import ControlDbResource

SENSOR_NAME = "check_alerts"
_RUN_FAILED = {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def _cursor_after(cursor: str | None) -> int | None:
    """The storage id read up to, from the sensor cursor (None: from the beginning)."""
    if not cursor:
        return None
    try:
        return int(json.loads(cursor)["after"])
    except (ValueError, KeyError, TypeError):
        return None


def _value(metadata: dict, key: str):
    entry = metadata.get(key)
    return getattr(entry, "value", entry)


def _alert_from_record(key: dg.AssetCheckKey, partition: str | None, storage_id: int, record) -> Alert:
    """The Alert of one stored evaluation (status from passed/severity, summary from its metadata)."""
    evaluation = record.event.dagster_event.event_specific_data
    metadata = dict(evaluation.metadata or {})
    expected = _value(metadata, "expected_rows")
    qc_codes = str(_value(metadata, "qc_codes") or "")
    green_frac, row_count = _value(metadata, "green_frac"), _value(metadata, "row_count")
    return Alert(
        asset_key=key.asset_key.to_user_string(),
        check_name=key.name,
        partition=partition,
        status=status_of(evaluation.passed, evaluation.severity.value),
        green_frac=float(green_frac) if green_frac is not None else None,
        row_count=int(row_count) if row_count is not None else None,
        expected_rows=int(expected) if expected is not None and int(expected) >= 0 else None,
        qc_codes=qc_codes,
        cause=evaluation.description or qc_codes,
        run_id=record.run_id or None,
        evaluated_at=dt.datetime.fromtimestamp(record.event.timestamp, tz=dt.timezone.utc),
        storage_id=storage_id,
    )


def _latest_record(instance: dg.DagsterInstance, key: dg.AssetCheckKey, partition: str | None):
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [key], partition_filter=PartitionKeyFilter(key=partition)
    )
    return records.get(key)


def _candidates(
    instance: dg.DagsterInstance, graph: BaseAssetGraph, cfg: AlertConfig, after: int | None
) -> tuple[list[Alert], int | None, int]:
    """(candidate alerts, new cursor storage id, evaluations read) for the evaluations stored after `after`.

    GREEN candidates carry no metadata (read only when they turn into a recovery alert); FAILED
    ones carry the failed run; AMBER/RED ones carry their evaluation's metadata."""
    keys = sorted(
        (k for k in graph.asset_check_keys if cfg.watches(k.asset_key.to_user_string(), k.name)),
        key=lambda k: (k.asset_key.to_user_string(), k.name),
    )
    if not keys:
        return [], after, 0
    infos = [
        i
        for i in instance.event_log_storage.get_asset_check_partition_info(keys, after_storage_id=after)
        if i.latest_check_event_storage_id is not None and (after is None or i.latest_check_event_storage_id > after)
    ]
    infos.sort(key=lambda i: i.latest_check_event_storage_id)
    infos = infos[: cfg.max_evaluations_per_tick]
    partitioned = {k: graph.get(k).partitions_def is not None for k in keys}
    out: list[Alert] = []
    pending: list[int] = []
    for info in infos:  # one per (check, partition) changed since the cursor, at most max_evaluations_per_tick
        key, pk, sid = info.check_key, info.partition_key, info.latest_check_event_storage_id
        if pk is None and partitioned[key]:
            continue  # a range run's summary result; each session has its own evaluation
        base = dict(asset_key=key.asset_key.to_user_string(), check_name=key.name, partition=pk, storage_id=sid)
        status = info.latest_execution_status
        if status == AssetCheckExecutionRecordStatus.SUCCEEDED:
            out.append(Alert(status="GREEN", **base))
        elif status == AssetCheckExecutionRecordStatus.FAILED:
            record = _latest_record(instance, key, pk)
            if record is not None and record.event is not None:
                out.append(_alert_from_record(key, pk, sid, record))
        else:  # PLANNED: the run is going, or ended before the check evaluated
            run = instance.get_run_by_id(info.latest_planned_run_id)
            if run is None or run.status in _RUN_FAILED:
                state = run.status.value if run is not None else "deleted"
                out.append(
                    Alert(
                        status="FAILED",
                        cause=f"run {info.latest_planned_run_id} {state} before the check evaluated",
                        run_id=info.latest_planned_run_id,
                        **base,
                    )
                )
            elif not run.is_finished:
                pending.append(sid)
    read_up_to = infos[-1].latest_check_event_storage_id if infos else after
    if pending:
        read_up_to = min(pending) - 1 if read_up_to is None else min(read_up_to, min(pending) - 1)
    return out, read_up_to, len(infos)


def alert_tick(
    instance: dg.DagsterInstance, graph: BaseAssetGraph, engine: Engine, cfg: AlertConfig, cursor: str | None
) -> tuple[TickSummary, str | None]:
    """One pass of the sensor: (what was sent, the new cursor). Never raises on a failed channel.

    Alerts whose channel failed on an earlier tick are retried first (up to `delivery_attempts`)."""
    retried, redelivered = retry_failed_deliveries(engine, cfg)
    after = _cursor_after(cursor)
    candidates, read_up_to, n_read = _candidates(instance, graph, cfg, after)
    changed = transitions(candidates, read_alert_state(engine))
    to_send = []
    for alert in changed:  # the few status changes of this tick
        if not should_alert(alert, cfg):
            continue
        if alert.status == "GREEN":  # a recovery: bring its evaluation's summary along
            key = dg.AssetCheckKey(dg.AssetKey.from_user_string(alert.asset_key), alert.check_name)
            record = _latest_record(instance, key, alert.partition)
            if record is not None and record.event is not None and record.event.dagster_event is not None:
                detail = _alert_from_record(key, alert.partition, alert.storage_id, record)
                alert = replace(detail, status="GREEN", previous_status=alert.previous_status)
        to_send.append(alert)
    deliveries = dispatch(to_send, cfg)
    record_alert_state(engine, changed, deliveries)
    new_cursor = json.dumps({"after": read_up_to}) if read_up_to is not None else cursor
    summary = TickSummary(
        evaluations=n_read, changes=len(changed), sent=to_send, deliveries=[*redelivered, *deliveries], retried=retried
    )
    return summary, new_cursor


def build_alert_sensor(
    automation: bool, *, config: Callable[[], AlertConfig] = alert_config, name: str = SENSOR_NAME
) -> dg.SensorDefinition:
    """The `check_alerts` sensor; `config` gives the AlertConfig at each tick (configs/alerts.yml by
    default, read again when the file changes). RUNNING by default only with automation on and a
    channel enabled in the config as it is when the definitions are built."""
    status = sensor_status(automation and bool(config().enabled_channels))

    def _check_alerts(context: dg.SensorEvaluationContext, control_db: ControlDbResource):
        cfg = config()
        if not cfg.enabled_channels:
            return dg.SkipReason(
                "no alert channel enabled in configs/alerts.yml (set channels.webhook.enabled or channels.smtp.enabled)"
            )
        graph = context.repository_def.asset_graph
        summary, cursor = alert_tick(context.instance, graph, control_db.engine(), cfg, context.cursor)
        return dg.SensorResult(skip_reason=summary.message(), cursor=cursor)

    return dg.sensor(
        name=name,
        minimum_interval_seconds=60,
        default_status=status,
        description=(
            "Sends each new RED/AMBER (and FAILED) asset-check evaluation, one per (check, partition, status change), "
            "to the webhook and/or SMTP of configs/alerts.yml, and a recovery when it returns to GREEN."
        ),
    )(_check_alerts)
