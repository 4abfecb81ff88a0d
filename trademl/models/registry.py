"""The MLflow model registry of the sleeves' models: training runs, versions, champion/challenger (SSOT 6.4).

Driven by `MlflowClient` on `tracking_uri()` (MLFLOW_TRACKING_URI, else the embedded
`sqlite:///<data root>/mlflow/mlflow.db` with artifacts under `<data root>/mlflow/artifacts`).
A training run logs its params, metrics, tags and the whole artifact directory (under the run's
`model/` artifact path) and becomes a new version of the registered model, aliased `challenger`.
`set_champion` moves the `champion` alias and appends the version to the registered model's
`champion_history` tag (a JSON list of versions, oldest first), so `rollback` can restore the
previous champion; every version keeps its own tags. Promotion decisions are tags on the version
(`promotion.decision`, `.failed_bar`, `.value`, `.threshold`, `.failed`, `.reason`, `.decided_at`;
`promotion.promoted_at` / `promotion.rolled_back_at` when the alias moves).
Params and tags are scrubbed of secrets before logging (`safe_values`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from trademl.config import settings
from trademl.data.http.secrets import MASK, scrub
from trademl.models.policy import COST_SIGNATURE_KEY, CPCV_SIGNATURE_KEY, PromotionDecision

CHAMPION, CHALLENGER = "champion", "challenger"
HISTORY_TAG = "champion_history"
ROLLED_BACK_TAG = "promotion.rolled_back_at"  # on a version a rollback demoted
MODEL_ARTIFACT_PATH = "model"  # the artifact directory's place inside the run
DECISION_PREFIX = "promotion."
if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

SIGNATURE_KEYS = (CPCV_SIGNATURE_KEY, COST_SIGNATURE_KEY)
_MAX_TAG = 5000  # MLflow's limit on a model version tag value
_SECRET_NAME_RE = re.compile(r"(?i)(password|passwd|secret|token|api[_-]?key|apikey|credential|private[_-]?key|access[_-]?key)")


def quiet_mlflow() -> None:
    """Keep MLflow silent in CLI output: no telemetry, no progress bars, only its warnings and errors.

    MLflow logs the creation and migration of its sqlite tables at INFO (alembic too); the
    project's commands print their own one-line results instead.
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    importlib.import_module("mlflow")  # configures its loggers on import: the levels below must come after
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI, else `sqlite:///<data root>/mlflow/mlflow.db`; a local sqlite store's folder
    and its artifact folder are created."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{settings().data_root / 'mlflow' / 'mlflow.db'}"
    db = _sqlite_path(uri)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
        (db.parent / "artifacts").mkdir(exist_ok=True)
    return uri


def _sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    raw = uri[len("sqlite:///"):]
    return Path(raw) if raw and raw != ":memory:" else None


def artifact_root(uri: str | None = None) -> Path | None:
    """Where runs' artifacts go for a local sqlite store: the `artifacts/` folder beside the db file.

    None for other stores (a tracking server decides its own artifact location).
    """
    db = _sqlite_path(uri or tracking_uri())
    return None if db is None else db.parent / "artifacts"


def client() -> MlflowClient:
    """An MlflowClient on `tracking_uri()` (MLflow quietened first)."""
    quiet_mlflow()
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri(), registry_uri=tracking_uri())


@dataclass(frozen=True)
class ModelVersionRef:
    """One registered model version and the training run that produced it."""

    run_id: str
    version: str


def _secret_env_values() -> list[str]:
    """Values of credential-named environment variables, longest first; short values (< 8 chars, e.g.
    TOKENIZERS_PARALLELISM=false) are skipped so common words in params are not masked."""
    return sorted((v for k, v in os.environ.items() if _SECRET_NAME_RE.search(k) and len(v) >= 8), key=len, reverse=True)


def safe_values(values: Mapping[str, Any]) -> dict[str, str]:
    """`values` flattened (nested mappings as dotted keys) to strings with secrets masked.

    A key that names a credential (password, secret, token, api key, ...) has its value masked;
    any value holding a credential (URI passwords, bearer tokens, secret query parameters, the
    value of a credential-named environment variable) is masked where it appears.
    """
    secrets = _secret_env_values()
    out: dict[str, str] = {}

    def put(prefix: str, mapping: Mapping[str, Any]) -> None:
        for key, value in mapping.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping):
                put(f"{name}.", value)
                continue
            text = json.dumps(value, default=str) if isinstance(value, (list, tuple)) else str(value)
            if _SECRET_NAME_RE.search(str(key)):
                text = MASK
            text = scrub(text)
            for secret in secrets:
                text = text.replace(secret, MASK)
            out[name] = text

    put("", values)
    return out


def _experiment_id(c: MlflowClient, name: str) -> str:
    exp = c.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    root = artifact_root()
    location = None if root is None else (root / name).as_uri()
    return c.create_experiment(name, artifact_location=location)


def _ensure_registered_model(c: MlflowClient, model_name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        c.get_registered_model(model_name)
    except MlflowException:
        c.create_registered_model(model_name)


def log_training_run(
    model_name: str,
    *,
    artifacts_dir: str | Path,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    tags: Mapping[str, Any],
    experiment: str | None = None,
) -> ModelVersionRef:
    """One MLflow run (experiment `experiment`, default `model_name`) with params, metrics, tags and the
    artifact directory, registered as a new version of `model_name` aliased `challenger`.

    Metrics are floats (CpcvReport.metrics); the evaluation signatures (`cpcv_signature`,
    `cost_signature`) go in `tags` and are copied onto the version's tags.
    """
    from mlflow.entities import Metric, Param

    artifacts_dir = Path(artifacts_dir)
    if not artifacts_dir.is_dir():
        raise ValueError(f"artifact directory {artifacts_dir} does not exist")
    bad = sorted(k for k, v in metrics.items() if isinstance(v, bool) or not isinstance(v, (int, float)))
    if bad:
        raise ValueError(f"metrics must be numbers; not numeric: {', '.join(bad)} (put strings in tags)")
    c = client()
    clean_tags = safe_values(tags)
    run_name = f"{model_name} asof {clean_tags['asof']}" if "asof" in clean_tags else None
    run = c.create_run(_experiment_id(c, experiment or model_name), tags=clean_tags, run_name=run_name)
    run_id = run.info.run_id
    try:
        now_ms = int(time.time() * 1000)
        param_list = [Param(k, v[:6000]) for k, v in safe_values(params).items()]
        metric_list = [Metric(k, float(v), now_ms, 0) for k, v in metrics.items()]
        for i in range(0, max(len(param_list), len(metric_list)), 100):
            c.log_batch(run_id, metrics=metric_list[i : i + 100], params=param_list[i : i + 100], tags=[])
        c.log_artifacts(run_id, str(artifacts_dir), artifact_path=MODEL_ARTIFACT_PATH)
    except Exception:
        c.set_terminated(run_id, "FAILED")
        raise
    c.set_terminated(run_id, "FINISHED")
    _ensure_registered_model(c, model_name)
    version_tags = {k: clean_tags[k] for k in SIGNATURE_KEYS if k in clean_tags}
    mv = c.create_model_version(
        model_name, source=f"{run.info.artifact_uri}/{MODEL_ARTIFACT_PATH}", run_id=run_id, tags=version_tags
    )
    c.set_registered_model_alias(model_name, CHALLENGER, mv.version)
    return ModelVersionRef(run_id=run_id, version=str(mv.version))


def _by_alias(model_name: str, alias: str) -> ModelVersionRef | None:
    from mlflow.exceptions import MlflowException

    try:
        mv = client().get_model_version_by_alias(model_name, alias)
    except MlflowException:
        return None  # no such registered model, or the alias is not set
    return ModelVersionRef(run_id=mv.run_id, version=str(mv.version))


def champion(model_name: str) -> ModelVersionRef | None:
    """The version aliased `champion`, or None when there is none yet."""
    return _by_alias(model_name, CHAMPION)


def challenger(model_name: str) -> ModelVersionRef | None:
    """The version aliased `challenger` (the latest trained), or None."""
    return _by_alias(model_name, CHALLENGER)


def version_metrics(model_name: str, version: str | int) -> dict[str, Any]:
    """The metrics of the run behind a version, plus its `cpcv_signature` / `cost_signature` strings."""
    c = client()
    mv = c.get_model_version(model_name, str(version))
    run = c.get_run(mv.run_id)
    out: dict[str, Any] = dict(run.data.metrics)
    for key in SIGNATURE_KEYS:
        value = mv.tags.get(key) or run.data.tags.get(key)
        if value is not None:
            out[key] = value
    return out


def version_tags(model_name: str, version: str | int) -> dict[str, str]:
    """The tags of one model version."""
    return dict(client().get_model_version(model_name, str(version)).tags)


def champion_history(model_name: str) -> list[str]:
    """Versions that have been champion, oldest first (the registered model's `champion_history` tag)."""
    raw = client().get_registered_model(model_name).tags.get(HISTORY_TAG)
    return [str(v) for v in json.loads(raw)] if raw else []


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def record_decision(model_name: str, version: str | int, decision: PromotionDecision) -> None:
    """The decision as tags on the version: promotion.decision (promoted/refused), .failed_bar, .value,
    .threshold (comma-separated, one per failing bar, in order; "none" when every bar passed), .failed
    (the same as a JSON list of [bar, value, threshold]), .reason, .decided_at (UTC ISO 8601)."""
    c = client()
    failed = decision.failed
    tags = {
        "decision": "promoted" if decision.promote else "refused",
        "failed_bar": ",".join(bar for bar, _, _ in failed) or "none",
        "value": ",".join(str(v) for _, v, _ in failed) or "none",
        "threshold": ",".join(str(t) for _, _, t in failed) or "none",
        "failed": json.dumps([[bar, value, threshold] for bar, value, threshold in failed], default=str),
        "reason": decision.reason,
        "decided_at": _now(),
    }
    for key, value in safe_values(tags).items():
        c.set_model_version_tag(model_name, str(version), DECISION_PREFIX + key, value[:_MAX_TAG])


def set_champion(model_name: str, version: str | int, *, decision: PromotionDecision) -> ModelVersionRef:
    """Move the `champion` alias to `version` and append it to `champion_history`; only for a promoting decision."""
    if not decision.promote:
        raise ValueError(f"refusing to make {model_name} v{version} champion: the decision does not promote ({decision.reason})")
    c = client()
    version = str(version)
    mv = c.get_model_version(model_name, version)
    history = champion_history(model_name)
    if not history or history[-1] != version:
        history.append(version)
    c.set_registered_model_tag(model_name, HISTORY_TAG, json.dumps(history))
    c.set_registered_model_alias(model_name, CHAMPION, version)
    c.set_model_version_tag(model_name, version, DECISION_PREFIX + "promoted_at", _now())
    return ModelVersionRef(run_id=mv.run_id, version=version)


def rollback(model_name: str) -> ModelVersionRef:
    """Restore the previous champion: the alias moves back, the current one leaves the history
    (it keeps its tags, plus `promotion.rolled_back_at`). ValueError when there is no previous champion."""
    c = client()
    current = champion(model_name)
    history = champion_history(model_name)
    while history and current is not None and history[-1] == current.version:
        history.pop()
    if not history:
        raise ValueError(f"{model_name} has no previous champion to roll back to (history: {champion_history(model_name)})")
    previous = history[-1]
    mv = c.get_model_version(model_name, previous)
    c.set_registered_model_tag(model_name, HISTORY_TAG, json.dumps(history))
    c.set_registered_model_alias(model_name, CHAMPION, previous)
    if current is not None:
        c.set_model_version_tag(model_name, current.version, ROLLED_BACK_TAG, _now())
    return ModelVersionRef(run_id=mv.run_id, version=previous)


def download_version(model_name: str, version: str | int, dst: str | Path) -> Path:
    """Copy the version's artifact directory (model.txt, model.onnx, feature_list.json, ...) into `dst`;
    returns the local copy, `dst/model` (what `trademl.models.equities_xs.load_model` reads)."""
    c = client()
    mv = c.get_model_version(model_name, str(version))
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    return Path(c.download_artifacts(mv.run_id, MODEL_ARTIFACT_PATH, str(dst)))


def server_command(*, host: str = "127.0.0.1", port: int = 5000, uri: str | None = None) -> list[str]:
    """The `mlflow server` command line serving the UI over the project's tracking store (`make mlflow`)."""
    uri = uri or tracking_uri()
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri, "--host", host, "--port", str(port), "--workers", "1"]
    root = artifact_root(uri)
    if root is not None:
        cmd += ["--default-artifact-root", root.as_uri(), "--no-serve-artifacts"]
    return cmd


def server_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the UI server: no telemetry, no job runner (MLflow 3 would start seven huey
    consumer processes for server-side jobs the project does not use), no deprecation-warning spew."""
    env = dict(os.environ if base is None else base)
    env.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    return env


def serve(*, host: str = "127.0.0.1", port: int = 5000) -> NoReturn:
    """Replace this process by the MLflow UI server (`make mlflow`); Ctrl-C or SIGINT to its PID stops it.

    SIGINT is reset to its default first: a server started in the background from a script
    would otherwise inherit an ignored SIGINT and outlive its stop signal.
    """
    quiet_mlflow()
    uri = tracking_uri()
    print(f"MLflow UI on http://{host}:{port} over {scrub(uri)} (Ctrl-C stops it)", flush=True)
    cmd = server_command(host=host, port=port, uri=uri)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execve(cmd[0], cmd, server_env())
