"""The on-disk record of a partition's versions: vNNNNN.parquet files and the ``_manifest.json`` beside them.

One concern: which versions are committed (the version files present: the rename is the commit
point), what the manifest records about each (checksums, revision counts, review flags) and how
the manifest is read and atomically replaced.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from trademl.data.lake.codec import LakeIntegrityError
from trademl.data.lake.store import Store
from trademl.schemas import TableSpec

MANIFEST_NAME = "_manifest.json"
_VERSION_RE = re.compile(r"^v(\d{5,})\.parquet$")
_PARTITION_RE = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class VersionInfo:
    """One committed version of a partition as recorded in its manifest (created_at is UTC).

    previous_version / previous_rows / revised_rows describe what the version changed of the one
    before it (None/0 for a first version); `review` is the flag a writer's RevisionGuard put on it
    (with ``accepted_at`` once accepted).
    """

    version: int
    path: str
    row_count: int
    sha256: str
    content_hash: str
    created_at: dt.datetime
    vendor: str | None = None
    mode: str | None = None
    previous_version: int | None = None
    previous_rows: int = 0
    revised_rows: int = 0
    review: dict | None = None



def version_path(store: Store, pdir: str, version: int) -> str:
    """Path of version `version` of the partition in `pdir` (vNNNNN.parquet)."""
    return store.join(pdir, f"v{version:05d}.parquet")


def committed_versions(store: Store, pdir: str) -> dict[int, str]:
    """Committed versions of a partition (the vNNNNN.parquet files present) -> their paths."""
    out = {}
    for name in store.listdir(pdir):
        m = _VERSION_RE.match(name)
        if m:
            out[int(m.group(1))] = store.join(pdir, name)
    return out


def load_manifest(store: Store, pdir: str) -> dict[int, dict]:
    """The manifest entries of a partition by version ({} when it has no manifest yet)."""
    path = store.join(pdir, MANIFEST_NAME)
    try:
        doc = json.loads(store.read_bytes(path))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise LakeIntegrityError(f"manifest {path} is not valid JSON: {exc}") from exc
    return {int(e["version"]): e for e in doc.get("versions", [])}

def save_manifest(store: Store, pdir: str, spec: TableSpec, partition: dt.date, entries: dict[int, dict]) -> None:
    """Replace the partition's manifest atomically with `entries`."""
    doc = {
        "format": _MANIFEST_FORMAT,
        "table": spec.name,
        "partition": partition.isoformat(),
        "versions": [entries[v] for v in sorted(entries)],
    }
    payload = json.dumps(doc, indent=1, sort_keys=True).encode()
    store.put_atomic(store.join(pdir, MANIFEST_NAME), payload)


def _pending_review(entry: dict | None) -> dict | None:
    """The review of a manifest entry while it is not accepted, else None."""
    review = (entry or {}).get("review")
    return dict(review) if review and not review.get("accepted_at") else None
