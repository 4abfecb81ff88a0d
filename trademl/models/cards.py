"""Model cards (spec 000 write_model_card): what a trained model is, on which data, and how it scored.

The JSON card is the record; the Markdown card renders exactly the JSON's fields and nothing else.
`lineage` maps each input table to {partition date: content hash of the version read}, so the
card names every input partition version; `data_hash` is the sha256 of that lineage (or, without
a lineage, of the training frame's content).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

CARD_JSON = "model_card.json"
CARD_MD = "model_card.md"
_REPO = Path(__file__).resolve().parents[2]


def git_sha() -> str:
    """The full commit hash of the checkout the code runs from ("unknown" outside git)."""
    try:
        out = subprocess.run(["git", "-C", str(_REPO), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             stdin=subprocess.DEVNULL, check=False)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def data_hash(*, lineage: Mapping[str, Mapping[str, str]] | None = None, frame: pd.DataFrame | None = None) -> str:
    """sha256 of the lineage map (canonical JSON), or of the frame's row hashes when no lineage is given."""
    if lineage:
        return hashlib.sha256(_canonical(lineage).encode()).hexdigest()
    if frame is None:
        raise ValueError("data_hash needs a lineage or a frame")
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(rows.tobytes() + _canonical(list(frame.columns)).encode()).hexdigest()


def model_card(
    *,
    model_id: str,
    event: str,
    asof: dt.date,
    window: Mapping[str, Any],
    features: Sequence[str],
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    lineage: Mapping[str, Mapping[str, str]] | None = None,
    frame: pd.DataFrame | None = None,
    pack_id: str = "equities_xs",
    notes: str | None = None,
    git_commit: str | None = None,
) -> dict[str, Any]:
    """The card as a JSON-ready dict: ids, event, as-of, data window, data hash, git SHA, params,
    metrics, ordered features and lineage (table -> partition -> content hash)."""
    return {
        "pack_id": pack_id,
        "model_id": model_id,
        "event": event,
        "asof": asof.isoformat(),
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "data_window": {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in window.items()},
        "data_hash": data_hash(lineage=lineage, frame=frame),
        "git_sha": git_commit or git_sha(),
        "params": json.loads(_canonical(dict(params))),
        "metrics": {k: float(v) for k, v in metrics.items()},
        "features": list(features),
        "lineage": {table: dict(parts) for table, parts in (lineage or {}).items()},
        "notes": notes or "",
    }


def _markdown(card: Mapping[str, Any]) -> str:
    lines = [f"# Model card: {card['model_id']}", ""]
    for key in ("pack_id", "model_id", "event", "asof", "created_at", "data_hash", "git_sha"):
        lines.append(f"- **{key}**: `{card[key]}`")
    lines += ["", "## Data window", ""]
    lines += [f"- **{k}**: {v}" for k, v in card["data_window"].items()]
    lines += ["", "## Metrics", "", "| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {v:.6g} |" for k, v in card["metrics"].items()]
    lines += ["", "## Parameters", "", "| parameter | value |", "| --- | --- |"]
    lines += [f"| {k} | {json.dumps(v, default=str)} |" for k, v in sorted(card["params"].items())]
    lines += ["", f"## Features ({len(card['features'])})", ""]
    lines += [f"{i}. `{name}`" for i, name in enumerate(card["features"], 1)]
    lines += ["", "## Lineage", ""]
    for table, parts in card["lineage"].items():
        lines += [f"### {table} ({len(parts)} partitions)", "", "| partition | content hash |", "| --- | --- |"]
        lines += [f"| {day} | `{digest}` |" for day, digest in parts.items()]
        lines.append("")
    if card["notes"]:
        lines += ["## Notes", "", str(card["notes"])]
    return "\n".join(lines).rstrip() + "\n"


def write_model_card(card: Mapping[str, Any], directory: str | os.PathLike) -> tuple[Path, Path]:
    """Write model_card.json and model_card.md (rendered from the same dict) into `directory`."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / CARD_JSON, out / CARD_MD
    json_path.write_text(json.dumps(card, indent=1, sort_keys=False, default=str))
    md_path.write_text(_markdown(json.loads(json_path.read_text())))
    return json_path, md_path
