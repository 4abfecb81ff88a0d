"""configs/ingest.yml, typed and validated once per file version: the one place it is read.

Each field is a number for every dataset or a mapping ``dataset -> number`` with a ``default``
entry for the datasets it does not name. ``chunk_sessions`` (sessions per vendor request, so
memory stays bounded) is used by the ingest and by the edge's work units; ``ledger_batch_partitions``
(partitions staged per ledger transaction) and ``large_revision_frac`` (the revision guard's share
of rows, null = off) by the ingest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from trademl.config import typed_config

CONFIG = "configs/ingest.yml"
DEFAULT = "default"


@dataclass(frozen=True)
class IngestSettings:
    """configs/ingest.yml: per dataset (``default`` for the others) request chunking, ledger
    batching and the revision guard. Read it with `ingest_settings()`; ask per dataset with
    `chunk_sessions_for`, `ledger_batch_partitions_for`, `large_revision_frac_for`."""

    chunk_sessions: Mapping[str, int]
    ledger_batch_partitions: Mapping[str, int]
    large_revision_frac: Mapping[str, float | None]

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> IngestSettings:
        """Validate and build the settings from the whole configs/ingest.yml mapping."""
        return cls(
            chunk_sessions=_per_dataset(doc, "chunk_sessions", _whole_number),
            ledger_batch_partitions=_per_dataset(doc, "ledger_batch_partitions", _whole_number),
            large_revision_frac=_per_dataset(doc, "large_revision_frac", _share_or_null),
        )

    def chunk_sessions_for(self, dataset: str) -> int:
        """Sessions per vendor request for `dataset`."""
        return int(_pick(self.chunk_sessions, "chunk_sessions", dataset))

    def ledger_batch_partitions_for(self, dataset: str) -> int:
        """Staged partitions per ledger transaction (then committed) for `dataset`."""
        return int(_pick(self.ledger_batch_partitions, "ledger_batch_partitions", dataset))

    def large_revision_frac_for(self, dataset: str) -> float | None:
        """The revision guard's share of rows for `dataset`; None (no entry, no default, or null) = off."""
        return self.large_revision_frac.get(dataset, self.large_revision_frac.get(DEFAULT))


def ingest_settings() -> IngestSettings:
    """The current IngestSettings (re-read when configs/ingest.yml or its env override changes)."""
    return typed_config(IngestSettings, "ingest")


def chunk_sessions(dataset: str) -> int:
    """Sessions per vendor request for `dataset` (configs/ingest.yml), so memory stays bounded."""
    return ingest_settings().chunk_sessions_for(dataset)


def _per_dataset(doc: Mapping[str, Any], key: str, check: Any) -> Mapping[str, Any]:
    """Field `key` as a read-only mapping dataset -> checked value (a single value becomes ``default``)."""
    if key not in doc:
        raise ValueError(f"{CONFIG} has no {key!r} (see the project's {CONFIG})")
    value = doc[key]
    if not isinstance(value, Mapping):
        return MappingProxyType({DEFAULT: check(value, key)})
    return MappingProxyType({str(name): check(v, f"{key}.{name}") for name, v in value.items()})


def _pick(values: Mapping[str, Any], key: str, dataset: str) -> Any:
    if dataset in values:
        return values[dataset]
    if DEFAULT in values:
        return values[DEFAULT]
    raise ValueError(f"{CONFIG} {key} has no entry for {dataset!r} and no {DEFAULT!r}")


def _whole_number(value: object, where: str) -> int:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError(f"{CONFIG} {where} must be a whole number >= 1, got {value!r}") from None
    if number < 1:
        raise ValueError(f"{CONFIG} {where} must be a whole number >= 1, got {value!r}")
    return number


def _share_or_null(value: object, where: str) -> float | None:
    if value is None:
        return None
    try:
        share = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{CONFIG} {where} must lie in [0, 1] or be null, got {value!r}") from None
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{CONFIG} {where} must lie in [0, 1] or be null, got {value!r}")
    return share
