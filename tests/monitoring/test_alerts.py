"""Asset-check alerts without Dagster: configuration, status changes, messages and real loopback channels.

The webhook receiver is pytest-httpserver and the SMTP receiver an aiosmtpd Controller, both on
127.0.0.1; the secrets (webhook URL, SMTP password) are distinctive strings that must appear in no
message, payload, delivery record or log line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from trademl.config import load_config
from trademl.data.control import control_engine
from trademl.monitoring.alerts import (
    Alert,
    AlertConfig,
    Delivery,
    SmtpSettings,
    alert_key,
    dispatch,
    format_alert,
    read_alert_state,
    record_alert_state,
    send_email,
    send_webhook,
    should_alert,
    status_of,
    transitions,
)

URL_ENV, USER_ENV, PASSWORD_ENV = "TEST_ALERT_WEBHOOK_URL", "TEST_ALERT_SMTP_USER", "TEST_ALERT_SMTP_PASSWORD"
SECRET_PATH = "/hooks/T0-XOXB-9f3c1d2e-SECRETPATH"
PASSWORD = "pw-7Zq!-DO-NOT-LEAK"
CHECK = "raw/equities_bars:qc_coverage"

RED = Alert(
    asset_key="raw/equities_bars", check_name="qc_coverage", partition="2025-03-04", status="RED",
    green_frac=0.5, row_count=3, expected_rows=6, qc_codes="MISSING_ROWS", cause="MISSING_ROWS", run_id="run-1",
    evaluated_at=dt.datetime(2025, 3, 4, 21, 5, tzinfo=dt.timezone.utc),
)


def _cfg(webhook: bool = True, smtp_port: int | None = None, **top) -> AlertConfig:
    channels = {}
    if webhook:
        channels["webhook"] = {"enabled": True, "url_env": URL_ENV, "timeout_seconds": 5, "max_retries": 0}
    if smtp_port is not None:
        channels["smtp"] = {"enabled": True, "host": "127.0.0.1", "port": smtp_port, "from": "node@example.com",
                            "to": ["ops@example.com"], "starttls": False, "user_env": USER_ENV, "password_env": PASSWORD_ENV}
    return AlertConfig.from_config({"channels": channels, **top})


class _Inbox:
    """An aiosmtpd handler keeping every message it receives, and the logins it saw."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content.decode())
        return "250 OK"

    def __call__(self, server, session, envelope, mechanism, auth_data):  # authenticator
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


@pytest.fixture
def smtp_inbox():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox, auth_require_tls=False)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def webhook(httpserver, monkeypatch):
    monkeypatch.setenv(URL_ENV, httpserver.url_for(SECRET_PATH))
    httpserver.expect_request(SECRET_PATH, method="POST").respond_with_data("ok")
    return httpserver


# -- configuration --------------------------------------------------------------------------------
def test_shipped_config_alerts_red_amber_and_failed_with_no_channel_enabled():
    cfg = AlertConfig.from_config(load_config("alerts"))
    assert cfg.severities == frozenset({"RED", "AMBER", "FAILED"})
    assert cfg.enabled_channels == ()
    assert cfg.webhook.url_env == "TRADEML_ALERT_WEBHOOK_URL"
    assert cfg.smtp.password_env == "TRADEML_ALERT_SMTP_PASSWORD"


def test_severities_default_to_red_and_amber():
    assert AlertConfig.from_config({}).severities == frozenset({"RED", "AMBER"})


def test_unknown_severity_is_rejected_by_name():
    with pytest.raises(ValueError, match=r"configs/alerts.yml severities: unknown status\(es\) \['PURPLE'\]"):
        AlertConfig.from_config({"severities": ["RED", "purple"]})


def test_enabled_smtp_without_recipients_is_rejected():
    doc = {"channels": {"smtp": {"enabled": True, "host": "h", "port": 25, "from": "a@b", "to": []}}}
    with pytest.raises(ValueError, match="channels.smtp.to needs at least one recipient"):
        AlertConfig.from_config(doc)


def test_webhook_without_url_env_names_the_missing_field():
    with pytest.raises(ValueError, match=r"^configs/alerts.yml channels.webhook.url_env is missing$"):
        AlertConfig.from_config({"channels": {"webhook": {"enabled": True}}})


def test_assets_filter_takes_exact_keys_and_prefixes():
    cfg = AlertConfig.from_config({"assets": ["curated/", "raw/equities_bars"], "checks": ["qc_coverage"]})
    assert cfg.watches("curated/equities_ohlcv_adj", "qc_coverage")
    assert cfg.watches("raw/equities_bars", "qc_coverage")
    assert not cfg.watches("raw/equities_minute", "qc_coverage")
    assert not cfg.watches("curated/equities_ohlcv_adj", "freshness")


# -- statuses and changes -------------------------------------------------------------------------
@pytest.mark.parametrize(("passed", "severity", "status"), [(True, "WARN", "GREEN"), (True, "ERROR", "GREEN"),
                                                           (False, "WARN", "AMBER"), (False, "ERROR", "RED")])
def test_status_of_maps_passed_and_severity(passed, severity, status):
    assert status_of(passed, severity) == status


def test_alert_key_is_check_partition_status():
    assert alert_key(RED) == (CHECK, "2025-03-04", "RED")


def test_transitions_keep_only_changed_statuses_with_their_previous():
    seen = {(CHECK, "2025-03-04"): "AMBER", (CHECK, "2025-03-05"): "RED"}
    candidates = [
        RED,  # AMBER -> RED
        Alert("raw/equities_bars", "qc_coverage", "2025-03-05", "RED"),  # unchanged
        Alert("raw/equities_bars", "qc_coverage", "2025-03-06", "GREEN"),  # never seen: no change
        Alert("raw/equities_bars", "qc_coverage", "2025-03-07", "AMBER"),  # new
    ]
    out = transitions(candidates, seen)
    assert [(a.partition, a.previous_status, a.status) for a in out] == [
        ("2025-03-04", "AMBER", "RED"),
        ("2025-03-07", None, "AMBER"),
    ]


def test_recovery_alerts_only_from_an_alerting_status_and_when_enabled():
    back = Alert("raw/equities_bars", "qc_coverage", "2025-03-04", "GREEN", previous_status="RED")
    assert should_alert(back, _cfg())
    assert not should_alert(back, _cfg(recoveries=False))
    assert not should_alert(back, _cfg(severities=["AMBER"]))


def test_status_outside_severities_does_not_alert():
    amber = Alert("raw/equities_bars", "qc_coverage", "2025-03-04", "AMBER")
    assert not should_alert(amber, _cfg(severities=["RED"]))
    assert should_alert(amber, _cfg(severities=["RED", "AMBER"]))


# -- messages -------------------------------------------------------------------------------------
def test_format_alert_names_asset_check_partition_status_and_cause():
    subject, text = format_alert(RED)
    assert subject == "[TradeML] RED: raw/equities_bars qc_coverage 2025-03-04"
    assert text.splitlines() == [
        "RED: check qc_coverage on raw/equities_bars, partition 2025-03-04",
        "status: RED (was GREEN)",
        "cause: MISSING_ROWS",
        "green_frac: 0.5000",
        "rows: 3 of 6 expected",
        "run: run-1",
        "evaluated_at: 2025-03-04T21:05:00+00:00",
    ]


def test_format_alert_marks_a_recovery():
    subject, text = format_alert(Alert("raw/equities_bars", "qc_coverage", "2025-03-04", "GREEN", previous_status="RED"))
    assert subject == "[TradeML] RECOVERED: raw/equities_bars qc_coverage 2025-03-04"
    assert "status: GREEN (was RED)" in text


# -- channels through real loopback receivers -----------------------------------------------------
def test_send_webhook_posts_slack_json(webhook):
    send_webhook(RED, webhook.url_for(SECRET_PATH), timeout=5, max_retries=0)
    (request, _), = webhook.log
    body = json.loads(request.get_data())
    assert request.headers["Content-Type"] == "application/json"
    assert body["text"].startswith("[TradeML] RED: raw/equities_bars qc_coverage 2025-03-04\n")
    assert "cause: MISSING_ROWS" in body["text"]
    assert body["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": format_alert(RED)[0]}}
    assert body["blocks"][1]["text"]["text"] == format_alert(RED)[1]


def test_send_email_delivers_subject_and_body_with_login(smtp_inbox):
    inbox, port = smtp_inbox
    smtp = SmtpSettings(enabled=True, host="127.0.0.1", port=port, sender="node@example.com", to=("ops@example.com",),
                        starttls=False, user_env=USER_ENV, password_env=PASSWORD_ENV)
    send_email(RED, smtp, env={USER_ENV: "alerts", PASSWORD_ENV: PASSWORD})
    (mail,) = inbox.messages
    assert "Subject: [TradeML] RED: raw/equities_bars qc_coverage 2025-03-04" in mail
    assert "To: ops@example.com" in mail and "partition 2025-03-04" in mail and "cause: MISSING_ROWS" in mail
    assert inbox.logins == [("alerts", PASSWORD)]


def test_dispatch_sends_every_alert_to_every_enabled_channel(webhook, smtp_inbox, monkeypatch):
    inbox, port = smtp_inbox
    monkeypatch.setenv(USER_ENV, "alerts")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    amber = Alert("curated/equities_ohlcv_adj", "qc_coverage", "2025-03-05", "AMBER", cause="LATE_ROWS")
    out = dispatch([RED, amber], _cfg(smtp_port=port))
    assert [(d.key[2], d.channel, d.ok) for d in out] == [
        ("RED", "webhook", True), ("RED", "smtp", True), ("AMBER", "webhook", True), ("AMBER", "smtp", True),
    ]
    assert len(webhook.log) == 2 and len(inbox.messages) == 2
    assert "curated/equities_ohlcv_adj" in inbox.messages[1] and "cause: LATE_ROWS" in inbox.messages[1]


def test_failed_webhook_is_recorded_not_raised_and_email_still_goes(httpserver, smtp_inbox, monkeypatch):
    inbox, port = smtp_inbox
    monkeypatch.setenv(URL_ENV, httpserver.url_for(SECRET_PATH))
    httpserver.expect_request(SECRET_PATH, method="POST").respond_with_data("down", status=503)
    out = dispatch([RED], _cfg(smtp_port=port))
    webhook_result, smtp_result = out
    assert (webhook_result.ok, smtp_result.ok) == (False, True)
    assert webhook_result.error.startswith("VendorUnavailable:")
    assert len(inbox.messages) == 1


def test_missing_webhook_variable_is_named_in_the_failure(monkeypatch):
    monkeypatch.delenv(URL_ENV, raising=False)
    (result,) = dispatch([RED], _cfg())
    assert result == Delivery((CHECK, "2025-03-04", "RED"), "webhook", False,
                              f"LookupError: environment variable {URL_ENV} (the webhook URL) is not set")


def test_unreachable_smtp_is_recorded_not_raised(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    (result,) = dispatch([RED], _cfg(webhook=False, smtp_port=closed_port))
    assert not result.ok and result.channel == "smtp"
    assert result.error.startswith("ConnectionRefusedError")


def test_no_secret_appears_in_any_message_payload_delivery_or_log(httpserver, smtp_inbox, monkeypatch, caplog):
    """Every log line of the sending side counts (the receiver's own werkzeug access log is not ours)."""
    inbox, port = smtp_inbox
    url = httpserver.url_for(SECRET_PATH)
    monkeypatch.setenv(URL_ENV, url)
    monkeypatch.setenv(USER_ENV, "alerts")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    httpserver.expect_ordered_request(SECRET_PATH, method="POST").respond_with_data("ok")
    httpserver.expect_ordered_request(SECRET_PATH, method="POST").respond_with_data(f"no: {url} {PASSWORD}", status=400)
    caplog.set_level(logging.DEBUG)
    amber = Alert("raw/equities_bars", "qc_coverage", "2025-03-05", "AMBER", cause="LATE_ROWS")
    out = dispatch([RED, amber], _cfg(smtp_port=port))
    assert [d.ok for d in out] == [True, True, False, True]
    seen = [*(t for a in (RED, amber) for t in format_alert(a)),
            *(r.get_data(as_text=True) for r, _ in httpserver.log), *inbox.messages,
            *(d.error for d in out), *(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))]
    for secret in (SECRET_PATH.rsplit("/", 1)[-1], PASSWORD):
        assert not [s for s in seen if secret in s]
    assert "HTTP 400" in out[2].error


# -- state ----------------------------------------------------------------------------------------
def test_alert_state_keeps_non_green_pairs_and_forgets_recovered_ones(tmp_path):
    engine = control_engine(f"sqlite:///{tmp_path / 'control.sqlite'}")
    amber = Alert("raw/equities_bars", "qc_coverage", "2025-03-05", "AMBER")
    record_alert_state(engine, [RED, amber], [Delivery(alert_key(RED), "webhook", True)])
    assert read_alert_state(engine) == {(CHECK, "2025-03-04"): "RED", (CHECK, "2025-03-05"): "AMBER"}
    record_alert_state(engine, [Alert("raw/equities_bars", "qc_coverage", "2025-03-04", "GREEN", previous_status="RED"),
                                Alert("raw/equities_bars", "qc_coverage", "2025-03-05", "RED", previous_status="AMBER")])
    assert read_alert_state(engine) == {(CHECK, "2025-03-05"): "RED"}
