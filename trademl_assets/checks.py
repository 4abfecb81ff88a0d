"""GREEN/AMBER/RED asset checks: one evaluation per session, read from the partition_status ledger.

In a single-run range the check step yields one AssetCheckEvaluation per partition (so the UI
and the instance hold one result per session) and then a range summary. RED is ERROR severity
and blocking: downstream steps of the run do not execute.
"""


import datetime as dt

import dagster as dg

from trademl.data import control, qc
from trademl.schemas import table_spec
from trademl_assets.ingest_asset import asset_key_for
from trademl_assets.partitions import session_partitions
from trademl_resources import ControlDbResource

CHECK_NAME = "qc_coverage"
_SEVERITY = {"AMBER": dg.AssetCheckSeverity.WARN, "RED": dg.AssetCheckSeverity.ERROR, "GREEN": dg.AssetCheckSeverity.WARN}


def evaluation_for(key: dg.AssetKey, partition: str, summary: qc.PartitionSummary) -> dg.AssetCheckEvaluation:
    """The check evaluation of one session from its QC summary."""
    return dg.AssetCheckEvaluation(
        asset_key=key,
        check_name=CHECK_NAME,
        partition=partition,
        passed=summary.color == "GREEN",
        severity=_SEVERITY[summary.color],
        blocking=summary.color == "RED",
        metadata={
            "status": summary.color,
            "green_frac": float(summary.green_frac),
            "row_count": int(summary.row_count),
            "expected_rows": int(summary.expected_rows) if summary.expected_rows is not None else -1,
            "qc_codes": ",".join(summary.qc_codes),
        },
    )


def build_qc_check(table: str) -> dg.AssetChecksDefinition:
    """The per-session coverage check of one raw or reference table."""
    spec = table_spec(table)
    key = asset_key_for(spec.name)

    @dg.asset_check(
        asset=key,
        name=CHECK_NAME,
        partitions_def=session_partitions(),
        blocking=True,
        description=f"GREEN/AMBER/RED coverage of {spec.name} per session (partition_status ledger)",
    )
    def _check(context: dg.AssetCheckExecutionContext, control_db: ControlDbResource):
        keys = list(context.partition_keys)
        rows = control.read_partition_status(control_db.engine(), table_name=spec.name, start=keys[0], end=keys[-1])
        summaries = qc.summaries_by_session(rows, [dt.date.fromisoformat(k) for k in keys])
        counts = {"GREEN": 0, "AMBER": 0, "RED": 0}
        for pk in keys:
            summary = summaries[pk]
            counts[summary.color] += 1
            yield evaluation_for(key, pk, summary)
        worst = "RED" if counts["RED"] else "AMBER" if counts["AMBER"] else "GREEN"
        yield dg.AssetCheckResult(
            passed=worst == "GREEN",
            severity=_SEVERITY[worst],
            metadata={"sessions": len(keys), **{k.lower(): v for k, v in counts.items()}},
        )

    return _check
