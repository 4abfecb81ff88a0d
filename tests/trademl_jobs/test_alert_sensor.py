"""The check_alerts sensor on a real temporary Dagster instance, sending to loopback receivers.

A tiny partitioned asset has a per-partition check whose colour the test sets; materializing a
partition stores a real AssetCheckEvaluation (passed -> GREEN, failed WARN -> AMBER, failed ERROR
-> RED). The webhook receiver is pytest-httpserver, the SMTP receiver an aiosmtpd Controller, both
on 127.0.0.1.
"""

import json
import socket

import dagster as dg
import pytest
from aiosmtpd.controller import Controller
from dagster._core.events import DagsterEvent, DagsterEventType

from trademl.data import qc
from trademl.monitoring.alerts import AlertConfig, read_alert_state
from trademl_assets.checks import evaluation_for
from trademl_jobs.alerts import SENSOR_NAME, alert_tick, build_alert_sensor
from trademl_jobs.definitions import build_definitions
from trademl_resources import ControlDbResource

KEY = dg.AssetKey(["raw", "toy_bars"])
PARTS = dg.StaticPartitionsDefinition(["2025-03-03", "2025-03-04", "2025-03-05"])
COLOURS: dict[str, str] = {}
_SEVERITY = {"GREEN": dg.AssetCheckSeverity.WARN, "AMBER": dg.AssetCheckSeverity.WARN, "RED": dg.AssetCheckSeverity.ERROR}
URL_ENV = "TEST_ALERT_WEBHOOK_URL"
SECRET_PATH = "/hooks/T000-S3CR3T-W3BH00K"


@dg.asset(key=KEY, partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run())
def toy_bars(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    if any(COLOURS.get(pk) == "CRASH" for pk in context.partition_keys):
        raise RuntimeError("vendor down")
    return dg.MaterializeResult()


def _evaluation(pk: str) -> dict:
    colour = COLOURS[pk]
    return dict(
        passed=colour == "GREEN",
        severity=_SEVERITY[colour],
        description=None if colour == "GREEN" else f"{colour}_CAUSE",
        metadata={"status": colour, "green_frac": {"GREEN": 1.0, "AMBER": 0.9, "RED": 0.5}[colour],
                  "row_count": 6, "expected_rows": 6, "qc_codes": "" if colour == "GREEN" else f"{colour}_CODE"},
    )


@dg.asset_check(asset=KEY, name="qc_coverage", partitions_def=PARTS)
def toy_qc(context: dg.AssetCheckExecutionContext):
    """One result per partition; a range run (like the project's checks) yields one evaluation per
    partition and then an unpartitioned summary, which Dagster stores with no partition."""
    keys = list(context.partition_keys)
    if len(keys) == 1:
        yield dg.AssetCheckResult(**_evaluation(keys[0]))
        return
    for pk in keys:
        yield dg.AssetCheckEvaluation(asset_key=KEY, check_name="qc_coverage", partition=pk, **_evaluation(pk))
    yield dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata={"sessions": len(keys)})


def _config(webhook: bool = True, smtp_port: int | None = None, max_retries: int = 0, attempts: int = 3) -> AlertConfig:
    channels = {}
    if webhook:
        channels["webhook"] = {"enabled": True, "url_env": URL_ENV, "timeout_seconds": 5, "max_retries": max_retries}
    if smtp_port is not None:
        channels["smtp"] = {"enabled": True, "host": "127.0.0.1", "port": smtp_port, "from": "node@example.com",
                            "to": ["ops@example.com"], "starttls": False}
    return AlertConfig.from_config(
        {"severities": ["RED", "AMBER", "FAILED"], "recoveries": True, "delivery_attempts": attempts, "channels": channels}
    )


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def control_db(tmp_path) -> ControlDbResource:
    return ControlDbResource(db_uri=f"sqlite:///{tmp_path / 'control.sqlite'}")


@pytest.fixture
def webhook(httpserver, monkeypatch):
    monkeypatch.setenv(URL_ENV, httpserver.url_for(SECRET_PATH))
    httpserver.expect_request(SECRET_PATH, method="POST").respond_with_data("ok")
    return httpserver


def _materialize(instance, colours: dict[str, str]) -> None:
    """One single-partition run per partition."""
    COLOURS.update(colours)
    for pk in colours:
        assert dg.materialize([toy_bars, toy_qc], partition_key=pk, instance=instance).success


def _materialize_range(instance, colours: dict[str, str]) -> None:
    """One range run over the partitions (in order), as the project's layers run."""
    COLOURS.update(colours)
    keys = list(colours)
    tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
    assert dg.materialize([toy_bars, toy_qc], instance=instance, tags=tags).success


class Ticker:
    """Evaluates one sensor repeatedly, carrying its cursor like the daemon does."""

    def __init__(self, instance, control_db, cfg: AlertConfig) -> None:
        self.sensor = build_alert_sensor(True, config=lambda: cfg)
        self.defs = dg.Definitions(assets=[toy_bars], asset_checks=[toy_qc], sensors=[self.sensor])
        self.instance, self.control_db, self.cursor = instance, control_db, None

    def tick(self):
        ctx = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, definitions=self.defs, sensor_name=SENSOR_NAME,
            resources={"control_db": self.control_db},
        )
        result = self.sensor.evaluate_tick(ctx)
        self.cursor = result.cursor
        return result


def _posted(server) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def test_first_tick_alerts_amber_and_red_once_each(instance, control_db, webhook):
    _materialize(instance, {"2025-03-03": "GREEN", "2025-03-04": "AMBER", "2025-03-05": "RED"})
    result = Ticker(instance, control_db, _config()).tick()
    texts = sorted(p["text"] for p in _posted(webhook))
    assert len(texts) == 2
    assert "AMBER: raw/toy_bars qc_coverage 2025-03-04" in texts[0] and "cause: AMBER_CAUSE" in texts[0]
    assert "RED: raw/toy_bars qc_coverage 2025-03-05" in texts[1] and "green_frac: 0.5000" in texts[1]
    assert "3 new check evaluation(s), 2 status change(s), 2 alert(s) sent, 0 failed deliveries" in result.skip_message
    assert "RED raw/toy_bars:qc_coverage 2025-03-05 [webhook ok]" in result.skip_message


def test_range_run_alerts_each_session_but_not_its_unpartitioned_summary(instance, control_db, webhook):
    _materialize_range(instance, {"2025-03-03": "GREEN", "2025-03-04": "AMBER", "2025-03-05": "RED"})
    result = Ticker(instance, control_db, _config()).tick()
    texts = sorted(p["text"] for p in _posted(webhook))
    assert [t.split("\n")[0] for t in texts] == [
        "[TradeML] AMBER: raw/toy_bars qc_coverage 2025-03-04",
        "[TradeML] RED: raw/toy_bars qc_coverage 2025-03-05",
    ]
    assert "2 alert(s) sent" in result.skip_message


def test_check_whose_run_failed_before_evaluating_alerts_failed(instance, control_db, webhook):
    COLOURS["2025-03-03"] = "CRASH"
    run = dg.materialize([toy_bars, toy_qc], partition_key="2025-03-03", instance=instance, raise_on_error=False)
    assert not run.success
    Ticker(instance, control_db, _config()).tick()
    texts = [p["text"] for p in _posted(webhook)]
    assert len(texts) == 1
    assert texts[0].startswith("[TradeML] FAILED: raw/toy_bars qc_coverage 2025-03-03")
    assert f"cause: run {run.run_id} FAILURE before the check evaluated" in texts[0]


def test_second_tick_without_new_evaluations_sends_nothing(instance, control_db, webhook):
    _materialize(instance, {"2025-03-04": "AMBER", "2025-03-05": "RED"})
    ticker = Ticker(instance, control_db, _config())
    ticker.tick()
    second = ticker.tick()
    assert len(webhook.log) == 2
    assert second.skip_message.startswith("0 new check evaluation(s), 0 status change(s), 0 alert(s) sent")


def test_a_sensor_reset_to_no_cursor_sends_no_duplicate(instance, control_db, webhook):
    _materialize(instance, {"2025-03-04": "AMBER", "2025-03-05": "RED"})
    Ticker(instance, control_db, _config()).tick()
    again = Ticker(instance, control_db, _config()).tick()  # cursor lost: everything is read again
    assert len(webhook.log) == 2
    assert "2 new check evaluation(s), 0 status change(s), 0 alert(s) sent" in again.skip_message


def test_reevaluating_the_same_status_sends_nothing(instance, control_db, webhook):
    ticker = Ticker(instance, control_db, _config())
    _materialize(instance, {"2025-03-05": "RED"})
    ticker.tick()
    _materialize(instance, {"2025-03-05": "RED"})
    result = ticker.tick()
    assert len(webhook.log) == 1
    assert "1 new check evaluation(s), 0 status change(s)" in result.skip_message


def test_red_to_green_sends_one_recovery_alert(instance, control_db, webhook):
    ticker = Ticker(instance, control_db, _config())
    _materialize(instance, {"2025-03-05": "RED"})
    ticker.tick()
    _materialize(instance, {"2025-03-05": "GREEN"})
    ticker.tick()
    ticker.tick()
    texts = [p["text"] for p in _posted(webhook)]
    assert len(texts) == 2
    assert texts[1].startswith("[TradeML] RECOVERED: raw/toy_bars qc_coverage 2025-03-05")
    assert "status: GREEN (was RED)" in texts[1]
    assert read_alert_state(control_db.engine()) == {}


def test_amber_to_red_alerts_again_as_red(instance, control_db, webhook):
    ticker = Ticker(instance, control_db, _config())
    _materialize(instance, {"2025-03-04": "AMBER"})
    ticker.tick()
    _materialize(instance, {"2025-03-04": "RED"})
    ticker.tick()
    texts = [p["text"] for p in _posted(webhook)]
    assert [t.split(":")[0] for t in texts] == ["[TradeML] AMBER", "[TradeML] RED"]
    assert "status: RED (was AMBER)" in texts[1]
    assert read_alert_state(control_db.engine()) == {("raw/toy_bars:qc_coverage", "2025-03-04"): "RED"}


def test_failing_receiver_does_not_crash_the_sensor_and_names_no_secret(instance, control_db, httpserver, monkeypatch):
    monkeypatch.setenv(URL_ENV, httpserver.url_for(SECRET_PATH))
    httpserver.expect_request(SECRET_PATH, method="POST").respond_with_data("boom", status=500)
    _materialize(instance, {"2025-03-05": "RED"})
    result = Ticker(instance, control_db, _config(max_retries=0)).tick()
    assert len(httpserver.log) == 1
    assert "1 alert(s) sent, 1 failed delivery" in result.skip_message
    assert "webhook FAILED (VendorUnavailable" in result.skip_message
    assert "S3CR3T" not in result.skip_message
    assert read_alert_state(control_db.engine()) == {("raw/toy_bars:qc_coverage", "2025-03-05"): "RED"}


def test_failed_delivery_is_retried_on_the_next_tick_once(instance, control_db, httpserver, monkeypatch):
    monkeypatch.setenv(URL_ENV, httpserver.url_for(SECRET_PATH))
    httpserver.expect_oneshot_request(SECRET_PATH, method="POST").respond_with_data("boom", status=500)
    httpserver.expect_request(SECRET_PATH, method="POST").respond_with_data("ok")
    _materialize(instance, {"2025-03-05": "RED"})
    ticker = Ticker(instance, control_db, _config())
    ticker.tick()
    second = ticker.tick()
    third = ticker.tick()
    assert [response.status_code for _, response in httpserver.log] == [500, 200]
    assert second.skip_message.startswith(
        "0 new check evaluation(s), 0 status change(s), 0 alert(s) sent, 0 failed deliveries, 1 earlier alert(s) retried"
    )
    assert "RED raw/toy_bars:qc_coverage 2025-03-05 [webhook ok]" in second.skip_message
    assert "retried" not in third.skip_message


def test_retries_stop_after_the_configured_attempts(instance, control_db, httpserver, monkeypatch):
    monkeypatch.setenv(URL_ENV, httpserver.url_for(SECRET_PATH))
    httpserver.expect_request(SECRET_PATH, method="POST").respond_with_data("boom", status=500)
    _materialize(instance, {"2025-03-05": "RED"})
    ticker = Ticker(instance, control_db, _config(attempts=2))
    for _ in range(4):
        ticker.tick()
    assert len(httpserver.log) == 2


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webhook_and_email_both_receive_a_red_alert(instance, control_db, webhook):
    inbox, port = _Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _materialize(instance, {"2025-03-05": "RED"})
        result = Ticker(instance, control_db, _config(smtp_port=port)).tick()
    finally:
        controller.stop()
    assert len(webhook.log) == 1 and len(inbox.messages) == 1
    mail = inbox.messages[0].decode()
    assert "Subject: [TradeML] RED: raw/toy_bars qc_coverage 2025-03-05" in mail
    assert "cause: RED_CAUSE" in mail
    assert "[webhook ok, smtp ok]" in result.skip_message


def test_sensor_without_enabled_channel_is_stopped_and_skips(instance, control_db):
    cfg = AlertConfig.from_config({"channels": {"webhook": {"enabled": False, "url_env": URL_ENV}}})
    sensor = build_alert_sensor(True, config=lambda: cfg)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    ctx = dg.build_sensor_context(instance=instance, resources={"control_db": control_db},
                                  definitions=dg.Definitions(assets=[toy_bars], asset_checks=[toy_qc], sensors=[sensor]))
    assert "no alert channel enabled" in sensor.evaluate_tick(ctx).skip_message


def test_sensor_with_a_channel_runs_only_with_automation_on():
    assert build_alert_sensor(True, config=_config).default_status == dg.DefaultSensorStatus.RUNNING
    assert build_alert_sensor(False, config=_config).default_status == dg.DefaultSensorStatus.STOPPED


def _set_run_status(instance, run_id: str, event_type: DagsterEventType) -> None:
    run = instance.get_run_by_id(run_id)
    instance.run_storage.handle_run_event(run_id, DagsterEvent(event_type_value=event_type.value, job_name=run.job_name))


def test_check_of_a_run_still_going_holds_the_cursor_until_it_ends(instance, control_db, webhook):
    COLOURS["2025-03-03"] = "CRASH"
    run = dg.materialize([toy_bars, toy_qc], partition_key="2025-03-03", instance=instance, raise_on_error=False)
    _set_run_status(instance, run.run_id, DagsterEventType.RUN_START)  # as if the run were still going
    ticker = Ticker(instance, control_db, _config())
    assert "0 alert(s) sent" in ticker.tick().skip_message
    _materialize(instance, {"2025-03-05": "RED"})  # a later evaluation does not move the cursor past the pending check
    ticker.tick()
    _set_run_status(instance, run.run_id, DagsterEventType.RUN_FAILURE)
    ticker.tick()
    texts = [p["text"].split("\n")[0] for p in _posted(webhook)]
    assert texts == [
        "[TradeML] RED: raw/toy_bars qc_coverage 2025-03-05",
        "[TradeML] FAILED: raw/toy_bars qc_coverage 2025-03-03",
    ]


def test_project_checks_of_every_layer_alert_with_their_qc_summary(instance, control_db, webhook):
    """The project's own check evaluations (trademl_assets.checks.evaluation_for), reported on the
    instance, over the graph of every layer the code location defines."""
    graph = build_definitions("synthetic").resolve_asset_graph()
    layers = {k.asset_key.path[0] for k in graph.asset_check_keys}
    assert {"raw", "reference", "curated", "features", "labels"} <= layers
    labels = sorted(k.asset_key for k in graph.asset_check_keys if k.asset_key.path[0] == "labels")[0]
    curated = dg.AssetKey(["curated", "equities_ohlcv_adj"])
    for key, summary in [
        (curated, qc.PartitionSummary("RED", 0.5, 3, 6, ["MISSING_ROWS", "STALE"])),
        (labels, qc.PartitionSummary("AMBER", 0.9, 9, 10, ["LATE_ROWS"])),
        (dg.AssetKey(["raw", "equities_bars"]), qc.PartitionSummary("GREEN", 1.0, 6, 6, [])),
    ]:
        instance.report_runless_asset_event(evaluation_for(key, "2025-03-04", summary))
    summary, cursor = alert_tick(instance, graph, control_db.engine(), _config(), None)
    texts = sorted(p["text"] for p in _posted(webhook))
    assert [t.split("\n")[0] for t in texts] == [
        f"[TradeML] AMBER: {labels.to_user_string()} qc_coverage 2025-03-04",
        "[TradeML] RED: curated/equities_ohlcv_adj qc_coverage 2025-03-04",
    ]
    assert "cause: LATE_ROWS\ngreen_frac: 0.9000\nrows: 9 of 10 expected" in texts[0]
    assert "cause: MISSING_ROWS,STALE\ngreen_frac: 0.5000\nrows: 3 of 6 expected" in texts[1]
    assert summary.evaluations == 3 and json.loads(cursor)["after"] >= 3
