"""Asset-check alerts: one message per (check, partition, status change) to a webhook and/or SMTP.

The check evaluations come from Dagster (the `check_alerts` sensor, trademl_jobs/alerts.py, reads
them and builds `Alert`s); this module holds everything that does not need Dagster: the settings
of configs/alerts.yml (`AlertConfig`), the status vocabulary (passed -> GREEN, failed WARN ->
AMBER, failed ERROR -> RED, FAILED when the check never evaluated because its run failed), which
changes alert (`transitions`, `should_alert`), the message (`format_alert`), the channels
(`send_webhook` through the project's one HTTP client, `send_email` with smtplib), `dispatch`,
which never raises on a failed channel, and the small `alert_state` control-db table holding the
last status seen of every (check, partition) that is not GREEN (absent means GREEN).

Secrets (the webhook URL, the SMTP password) live only in the environment variables the config
names; they are read at send time, registered with `trademl.data.http.register_secret` so every
scrubbed log line or error masks them, and never enter a message: messages are built from the
alert's fields alone.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import Column, Integer, MetaData, PrimaryKeyConstraint, Table, Text, delete, select
from sqlalchemy.engine import Engine

from trademl.config import config_value, typed_config
from trademl.data.control import UTCDateTime, dialect_insert, utc_now, write_transaction
from trademl.data.http import VendorHttpClient, VendorLimits, register_secret, scrub

log = logging.getLogger("trademl.monitoring.alerts")

STATUSES: tuple[str, ...] = ("GREEN", "AMBER", "RED", "FAILED")
CHANNELS: tuple[str, ...] = ("webhook", "smtp")
_CONFIG = "alerts"


# -- configuration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class WebhookSettings:
    """A Slack-compatible incoming webhook; the URL is read from the variable `url_env` at send time."""

    enabled: bool
    url_env: str
    timeout_seconds: float = 10.0
    max_retries: int = 2
    requests_per_minute: float = 60.0

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> WebhookSettings:
        path = "channels.webhook"
        out = cls(
            enabled=config_value(doc, "enabled", bool, name=_CONFIG, path=path, default=False),
            url_env=config_value(doc, "url_env", str, name=_CONFIG, path=path),
            timeout_seconds=config_value(doc, "timeout_seconds", float, name=_CONFIG, path=path, default=10.0),
            max_retries=config_value(doc, "max_retries", int, name=_CONFIG, path=path, default=2),
            requests_per_minute=config_value(doc, "requests_per_minute", float, name=_CONFIG, path=path, default=60.0),
        )
        if not out.url_env.strip():
            raise ValueError(f"configs/{_CONFIG}.yml {path}.url_env must name an environment variable")
        if out.timeout_seconds <= 0 or out.max_retries < 0 or out.requests_per_minute <= 0:
            raise ValueError(
                f"configs/{_CONFIG}.yml {path} needs timeout_seconds > 0, max_retries >= 0 and requests_per_minute > 0, "
                f"got {out.timeout_seconds}, {out.max_retries}, {out.requests_per_minute}"
            )
        return out


@dataclass(frozen=True)
class SmtpSettings:
    """An SMTP relay: host/port/from/to; login with the variables `user_env`/`password_env` when the user is set."""

    enabled: bool
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    starttls: bool = True
    user_env: str = ""
    password_env: str = ""
    timeout_seconds: float = 10.0

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> SmtpSettings:
        path = "channels.smtp"
        to = doc.get("to") or []
        if isinstance(to, str):
            to = [to]
        out = cls(
            enabled=config_value(doc, "enabled", bool, name=_CONFIG, path=path, default=False),
            host=config_value(doc, "host", str, name=_CONFIG, path=path),
            port=config_value(doc, "port", int, name=_CONFIG, path=path),
            sender=config_value(doc, "from", str, name=_CONFIG, path=path),
            to=tuple(str(a) for a in to),
            starttls=config_value(doc, "starttls", bool, name=_CONFIG, path=path, default=True),
            user_env=config_value(doc, "user_env", str, name=_CONFIG, path=path, default=""),
            password_env=config_value(doc, "password_env", str, name=_CONFIG, path=path, default=""),
            timeout_seconds=config_value(doc, "timeout_seconds", float, name=_CONFIG, path=path, default=10.0),
        )
        if out.enabled and not out.to:
            raise ValueError(f"configs/{_CONFIG}.yml {path}.to needs at least one recipient when smtp is enabled")
        if not 0 < out.port < 65536 or out.timeout_seconds <= 0:
            raise ValueError(f"configs/{_CONFIG}.yml {path} needs 0 < port < 65536 and timeout_seconds > 0")
        return out


@dataclass(frozen=True)
class AlertConfig:
    """configs/alerts.yml: the channels, which statuses alert (`severities`), whether a return to GREEN
    sends a recovery alert, which assets (exact keys or prefixes ending in "/") and check names are
    watched (empty = all), how many evaluations one sensor tick reads, and how many times in all
    (one per tick) an alert is sent to a channel that fails."""

    webhook: WebhookSettings | None
    smtp: SmtpSettings | None
    severities: frozenset[str] = frozenset({"RED", "AMBER", "FAILED"})
    recoveries: bool = True
    assets: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    max_evaluations_per_tick: int = 2000
    delivery_attempts: int = 3

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> AlertConfig:
        channels = doc.get("channels") or {}
        if not isinstance(channels, Mapping):
            raise ValueError(f"configs/{_CONFIG}.yml channels: expected a mapping, got {channels!r}")
        unknown = sorted(set(channels) - set(CHANNELS))
        if unknown:
            raise ValueError(f"configs/{_CONFIG}.yml channels: unknown channel(s) {unknown} (known: {list(CHANNELS)})")
        severities = [str(s).upper() for s in (doc.get("severities") or ["RED", "AMBER"])]
        bad = sorted(set(severities) - set(STATUSES))
        if bad:
            raise ValueError(f"configs/{_CONFIG}.yml severities: unknown status(es) {bad} (known: {list(STATUSES)})")
        out = cls(
            webhook=WebhookSettings.from_config(channels["webhook"]) if channels.get("webhook") else None,
            smtp=SmtpSettings.from_config(channels["smtp"]) if channels.get("smtp") else None,
            severities=frozenset(severities),
            recoveries=config_value(doc, "recoveries", bool, name=_CONFIG, default=True),
            assets=tuple(str(a) for a in (doc.get("assets") or ())),
            checks=tuple(str(c) for c in (doc.get("checks") or ())),
            max_evaluations_per_tick=config_value(doc, "max_evaluations_per_tick", int, name=_CONFIG, default=2000),
            delivery_attempts=config_value(doc, "delivery_attempts", int, name=_CONFIG, default=3),
        )
        if out.max_evaluations_per_tick < 1 or out.delivery_attempts < 1:
            raise ValueError(f"configs/{_CONFIG}.yml needs max_evaluations_per_tick >= 1 and delivery_attempts >= 1")
        return out

    @property
    def enabled_channels(self) -> tuple[str, ...]:
        """The names of the enabled channels, in CHANNELS order."""
        return tuple(name for name in CHANNELS if getattr(self, name) is not None and getattr(self, name).enabled)

    def watches(self, asset_key: str, check_name: str) -> bool:
        """Whether the check `check_name` of `asset_key` ("raw/equities_bars") is watched."""
        asset_ok = not self.assets or any(
            asset_key.startswith(a) if a.endswith("/") else asset_key == a for a in self.assets
        )
        return asset_ok and (not self.checks or check_name in self.checks)


def alert_config() -> AlertConfig:
    """The current AlertConfig (re-read when configs/alerts.yml or its env override changes)."""
    return typed_config(AlertConfig, _CONFIG)


# -- alerts ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Alert:
    """One status of one check on one partition (`partition` None for an unpartitioned check).

    `previous_status` is the status seen before (None: never seen, i.e. GREEN); the metadata summary
    is what the check recorded (`green_frac` in [0, 1], `row_count` / `expected_rows` symbol-rows,
    `qc_codes` comma-separated) and `cause` a one-line reason (the evaluation's description, else the
    QC codes). `evaluated_at` is UTC.
    """

    asset_key: str
    check_name: str
    partition: str | None
    status: str
    previous_status: str | None = None
    green_frac: float | None = None
    row_count: int | None = None
    expected_rows: int | None = None
    qc_codes: str = ""
    cause: str = ""
    run_id: str | None = None
    evaluated_at: dt.datetime | None = None
    storage_id: int | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"alert status must be one of {STATUSES}, got {self.status!r}")

    @property
    def check(self) -> str:
        """The check's full name, "asset/key:check_name"."""
        return f"{self.asset_key}:{self.check_name}"

    @property
    def is_recovery(self) -> bool:
        return self.status == "GREEN" and self.previous_status not in (None, "GREEN")


def status_of(passed: bool, severity: str) -> str:
    """The GREEN/AMBER/RED status of a check evaluation: passed -> GREEN, failed WARN -> AMBER, failed ERROR -> RED."""
    if passed:
        return "GREEN"
    sev = str(severity).upper().rsplit(".", 1)[-1]
    if sev not in ("WARN", "ERROR"):
        raise ValueError(f"check severity must be WARN or ERROR, got {severity!r}")
    return "AMBER" if sev == "WARN" else "RED"


def alert_key(alert: Alert) -> tuple[str, str, str]:
    """(check, partition, status): at most one alert is sent per key and status change."""
    return alert.check, alert.partition or "", alert.status


def transitions(candidates: Iterable[Alert], previous: Mapping[tuple[str, str], str]) -> list[Alert]:
    """The candidates whose status differs from the last one seen for their (check, partition)
    (`previous`, absent = GREEN), with `previous_status` filled in; a GREEN never seen before is no change."""
    out = []
    for alert in candidates:
        before = previous.get((alert.check, alert.partition or ""), "GREEN")
        if alert.status != before:
            out.append(replace(alert, previous_status=None if before == "GREEN" else before))
    return out


def should_alert(alert: Alert, cfg: AlertConfig) -> bool:
    """Whether a status change is sent: into a status listed in `severities`, or back to GREEN from
    one (a recovery) when `recoveries` is on."""
    if not cfg.watches(alert.asset_key, alert.check_name):
        return False
    if alert.status in cfg.severities:
        return True
    return alert.is_recovery and cfg.recoveries and alert.previous_status in cfg.severities


def format_alert(alert: Alert) -> tuple[str, str]:
    """(subject, text) of an alert, built from its fields only (so no secret can enter it)."""
    where = f"{alert.asset_key} {alert.check_name}" + (f" {alert.partition}" if alert.partition else "")
    label = "RECOVERED" if alert.is_recovery else alert.status
    subject = f"[TradeML] {label}: {where}"
    lines = [
        f"{label}: check {alert.check_name} on {alert.asset_key}, partition {alert.partition or '(none)'}",
        f"status: {alert.status} (was {alert.previous_status or 'GREEN'})",
    ]
    if alert.cause:
        lines.append(f"cause: {alert.cause}")
    if alert.qc_codes and alert.qc_codes != alert.cause:
        lines.append(f"qc_codes: {alert.qc_codes}")
    if alert.green_frac is not None:
        lines.append(f"green_frac: {alert.green_frac:.4f}")
    if alert.row_count is not None:
        expected = f" of {alert.expected_rows} expected" if alert.expected_rows is not None else ""
        lines.append(f"rows: {alert.row_count}{expected}")
    if alert.run_id:
        lines.append(f"run: {alert.run_id}")
    if alert.evaluated_at is not None:
        lines.append(f"evaluated_at: {alert.evaluated_at.astimezone(dt.timezone.utc).isoformat(timespec='seconds')}")
    return scrub(subject), scrub("\n".join(lines))


def webhook_payload(alert: Alert) -> dict[str, Any]:
    """The Slack-compatible JSON body: `text` (subject and message, the fallback every receiver shows)
    and `blocks` (a header and the message as one mrkdwn section)."""
    subject, text = format_alert(alert)
    return {
        "text": f"{subject}\n{text}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        ],
    }


# -- channels -------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _webhook_client(timeout: float, max_retries: int, requests_per_minute: float) -> VendorHttpClient:
    """One process-wide client per setting: its gate paces every webhook post of the process."""
    limits = VendorLimits(
        hard_rpm=requests_per_minute, burst_limit=20, soft_daily_cap=None, freeze_seconds=30.0, max_inflight=1
    )
    return VendorHttpClient(
        "alerts_webhook", limits=limits, timeout=timeout, max_retries=max_retries, backoff_base=0.5, backoff_cap=5.0,
        max_wait=60.0,
    )


def send_webhook(
    alert: Alert, url: str, *, timeout: float = 10.0, max_retries: int = 2, requests_per_minute: float = 60.0
) -> None:
    """POST `webhook_payload(alert)` to `url` through the project's HTTP client (retries 5xx and
    timeouts, paced by its gate); raises on failure with the URL masked."""
    prepared = requests.Request("POST", url).prepare().url or url
    parts = urlsplit(prepared)
    # The whole URL is the secret (Slack puts its token in the path): mask it, and its path and
    # query as urllib3 logs them ("POST /services/T../B../XXX"), wherever they appear.
    for secret in (url, prepared, parts.path + (f"?{parts.query}" if parts.query else ""), parts.path):
        if secret.strip("/"):
            register_secret(secret)
    client = _webhook_client(float(timeout), int(max_retries), float(requests_per_minute))
    client.request("POST", url, json_body=webhook_payload(alert), headers={"Content-Type": "application/json"})


def send_email(alert: Alert, smtp_cfg: SmtpSettings, *, env: Mapping[str, str] | None = None) -> None:
    """Send the alert as a plain-text email with smtplib (STARTTLS when configured, login when the
    user variable is set); credentials come from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    user = env.get(smtp_cfg.user_env, "") if smtp_cfg.user_env else ""
    password = env.get(smtp_cfg.password_env, "") if smtp_cfg.password_env else ""
    register_secret(password)
    subject, text = format_alert(alert)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = smtp_cfg.sender
    msg["To"] = ", ".join(smtp_cfg.to)
    msg.set_content(text)
    with smtplib.SMTP(smtp_cfg.host, smtp_cfg.port, timeout=smtp_cfg.timeout_seconds) as smtp:
        if smtp_cfg.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if user:
            smtp.login(user, password)
        smtp.send_message(msg)


@dataclass(frozen=True)
class Delivery:
    """The outcome of one alert on one channel; `error` is scrubbed (no URL, no password)."""

    key: tuple[str, str, str]
    channel: str
    ok: bool
    error: str = ""


def _safe_error(exc: BaseException, secrets: Sequence[str]) -> str:
    text = f"{exc.__class__.__name__}: {scrub(exc)}"
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text[:500]


def dispatch(
    alerts: Sequence[Alert],
    cfg: AlertConfig,
    *,
    env: Mapping[str, str] | None = None,
    channels: Sequence[str] | None = None,
) -> list[Delivery]:
    """Send every alert to every enabled channel (or to those of `channels` that are enabled); a
    failing channel is recorded (and logged without secrets), never raised, so the other alerts and
    channels still go out."""
    env = os.environ if env is None else env
    targets = [c for c in cfg.enabled_channels if channels is None or c in channels]
    out: list[Delivery] = []
    for alert in alerts:
        key = alert_key(alert)
        for channel in targets:
            secrets: list[str] = []
            try:
                if channel == "webhook":
                    hook = cfg.webhook
                    url = env.get(hook.url_env, "").strip()
                    secrets.append(url)
                    if not url:
                        raise LookupError(f"environment variable {hook.url_env} (the webhook URL) is not set")
                    send_webhook(
                        alert, url, timeout=hook.timeout_seconds, max_retries=hook.max_retries,
                        requests_per_minute=hook.requests_per_minute,
                    )
                else:
                    if cfg.smtp.password_env:
                        secrets.append(env.get(cfg.smtp.password_env, ""))
                    send_email(alert, cfg.smtp, env=env)
                out.append(Delivery(key, channel, True))
            except Exception as exc:  # a channel failure must never stop the others
                error = _safe_error(exc, secrets)
                log.warning(
                    "alert not delivered",
                    extra={"channel": channel, "check": key[0], "partition": key[1], "status": key[2], "error": error},
                )
                out.append(Delivery(key, channel, False, error))
    return out


# -- state: the last status seen per (check, partition), control db ------------------------------
_metadata = MetaData()
alert_state = Table(
    "alert_state",
    _metadata,
    Column("check_key", Text, nullable=False),
    Column("partition_key", Text, nullable=False),  # "" for an unpartitioned check
    Column("status", Text, nullable=False),
    Column("storage_id", Integer, nullable=True),  # Dagster event storage id of the evaluation
    Column("updated_at", UTCDateTime, nullable=False),
    Column("delivered", Text, nullable=False),  # "webhook:ok smtp:failed", "" when not alerted
    Column("failed_channels", Text, nullable=False),  # channels still to deliver to, space-separated
    Column("attempts", Integer, nullable=False),  # deliveries tried so far for this status
    Column("alert_json", Text, nullable=True),  # the alert as sent, to retry failed channels
    PrimaryKeyConstraint("check_key", "partition_key", name="pk_alert_state"),
)
_created: set[str] = set()


def _ensure_table(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    if url not in _created:
        with write_transaction(engine) as conn:
            _metadata.create_all(conn, checkfirst=True)
        _created.add(url)


def _alert_json(alert: Alert) -> str:
    doc = {k: getattr(alert, k) for k in Alert.__dataclass_fields__}
    doc["evaluated_at"] = alert.evaluated_at.isoformat() if alert.evaluated_at is not None else None
    return json.dumps(doc)


def _alert_from_json(text: str) -> Alert:
    doc = json.loads(text)
    if doc.get("evaluated_at"):
        doc["evaluated_at"] = dt.datetime.fromisoformat(doc["evaluated_at"])
    return Alert(**doc)


def read_alert_state(engine: Engine) -> dict[tuple[str, str], str]:
    """(check, partition or "") -> last status seen, for every pair not GREEN (and GREEN pairs whose
    recovery alert is still to be delivered); bounded by the current failures."""
    _ensure_table(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(alert_state.c.check_key, alert_state.c.partition_key, alert_state.c.status)).all()
    return {(r.check_key, r.partition_key): r.status for r in rows}


def _outcomes(deliveries: Sequence[Delivery]) -> dict[tuple[str, str, str], list[Delivery]]:
    out: dict[tuple[str, str, str], list[Delivery]] = {}
    for d in deliveries:
        out.setdefault(d.key, []).append(d)
    return out


def record_alert_state(
    engine: Engine, changed: Sequence[Alert], deliveries: Sequence[Delivery] = (), *, now: dt.datetime | None = None
) -> None:
    """Store the new status of each changed (check, partition) with what was delivered for it: upsert
    when not GREEN, delete when GREEN (kept while a recovery alert still has a failed channel)."""
    if not changed:
        return
    _ensure_table(engine)
    now = now or utc_now()
    outcome = _outcomes(deliveries)
    rows, green = [], []
    for a in changed:
        done = outcome.get(alert_key(a), [])
        failed = " ".join(d.channel for d in done if not d.ok)
        if a.status == "GREEN" and not failed:
            green.append((a.check, a.partition or ""))
            continue
        rows.append(
            {
                "check_key": a.check,
                "partition_key": a.partition or "",
                "status": a.status,
                "storage_id": a.storage_id,
                "updated_at": now,
                "delivered": " ".join(f"{d.channel}:{'ok' if d.ok else 'failed'}" for d in done),
                "failed_channels": failed,
                "attempts": 1 if done else 0,
                "alert_json": _alert_json(a) if done else None,
            }
        )
    with write_transaction(engine) as conn:
        if rows:
            stmt = dialect_insert(conn, alert_state)
            stmt = stmt.on_conflict_do_update(
                index_elements=["check_key", "partition_key"],
                set_={c: stmt.excluded[c] for c in rows[0] if c not in ("check_key", "partition_key")},
            )
            conn.execute(stmt, rows)
        for check_key, partition_key in green:
            conn.execute(
                delete(alert_state).where(
                    (alert_state.c.check_key == check_key) & (alert_state.c.partition_key == partition_key)
                )
            )


def retry_failed_deliveries(
    engine: Engine, cfg: AlertConfig, *, env: Mapping[str, str] | None = None, now: dt.datetime | None = None
) -> tuple[list[Alert], list[Delivery]]:
    """Send again, to the channels that failed, every stored alert tried fewer than
    `cfg.delivery_attempts` times; returns (alerts retried, their deliveries) and records the outcome
    (a delivered recovery forgets its pair)."""
    _ensure_table(engine)
    now = now or utc_now()
    with engine.connect() as conn:
        rows = conn.execute(
            select(alert_state).where(
                (alert_state.c.failed_channels != "") & (alert_state.c.attempts < cfg.delivery_attempts)
                & alert_state.c.alert_json.isnot(None)
            )
        ).all()
    alerts, deliveries = [], []
    for row in rows:  # the few alerts whose channel failed on an earlier tick
        alert = _alert_from_json(row.alert_json)
        done = dispatch([alert], cfg, env=env, channels=row.failed_channels.split())
        alerts.append(alert)
        deliveries.extend(done)
        failed = " ".join(d.channel for d in done if not d.ok)
        where = (alert_state.c.check_key == row.check_key) & (alert_state.c.partition_key == row.partition_key)
        with write_transaction(engine) as conn:
            if alert.status == "GREEN" and not failed:
                conn.execute(delete(alert_state).where(where))
                continue
            delivered = " ".join(f"{d.channel}:{'ok' if d.ok else 'failed'}" for d in done)
            conn.execute(
                alert_state.update().where(where).values(
                    failed_channels=failed, attempts=row.attempts + 1, updated_at=now, delivered=delivered
                )
            )
    return alerts, deliveries


@dataclass(frozen=True)
class TickSummary:
    """What one alert pass did: evaluations read, status changes, alerts sent and failed deliveries."""

    evaluations: int
    changes: int
    sent: list[Alert] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    retried: list[Alert] = field(default_factory=list)

    def message(self) -> str:
        """One line for the sensor tick: counts, then each alert sent (or retried) with its channels' outcome."""
        failed = [d for d in self.deliveries if not d.ok]
        head = (
            f"{self.evaluations} new check evaluation(s), {self.changes} status change(s), "
            f"{len(self.sent)} alert(s) sent, {len(failed)} failed deliver{'y' if len(failed) == 1 else 'ies'}"
        )
        if self.retried:
            head += f", {len(self.retried)} earlier alert(s) retried"
        sent = [*self.retried, *self.sent]
        if not sent:
            return head
        outcome: dict[tuple[str, str, str], list[str]] = {}
        for d in self.deliveries:
            outcome.setdefault(d.key, []).append(f"{d.channel} {'ok' if d.ok else 'FAILED (' + d.error + ')'}")
        items = [
            f"{'RECOVERED' if a.is_recovery else a.status} {a.check} {a.partition or '-'} "
            f"[{', '.join(outcome.get(alert_key(a), []))}]"
            for a in sent[:20]
        ]
        more = f"; ... {len(sent) - 20} more" if len(sent) > 20 else ""
        return f"{head}: " + "; ".join(items) + more
