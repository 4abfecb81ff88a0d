"""Files mappings: one YAML document per source saying how a user's file columns become a dataset.

Every key is documented, with examples, in configs/files/TEMPLATE.yml.example (copy it to
``<name>.yml`` in the mappings folder). The folder is ``TRADEML_FILES_MAPPINGS`` when set (a user's
own folder, which *replaces* the shipped mappings), else ``configs/files/`` of the config
directory. Only ``*.yml`` files are mappings; the template and READMEs are not loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trademl.config import config_dir

MAPPINGS_ENV = "TRADEML_FILES_MAPPINGS"
FILE_DATASETS = (
    "equities_eod", "equities_minute", "corp_actions", "delistings", "macros_fred", "earnings_calendar", "shares_outstanding",
)
REQUIRED_TARGETS = {
    "equities_eod": ("symbol", "date", "open", "high", "low", "close", "volume"),
    "equities_minute": ("symbol", "ts", "open", "high", "low", "close", "volume"),
    "corp_actions": ("symbol", "ex_date"),
    "delistings": ("symbol", "delist_date"),
    "macros_fred": ("series_id", "observation_date", "value"),
    "earnings_calendar": ("symbol", "earnings_date"),
    "shares_outstanding": ("symbol", "period_end", "shares_outstanding"),
}
# Target columns a mapping may fill per dataset (REQUIRED_TARGETS plus the optional ones).
OPTIONAL_TARGETS = {
    "equities_eod": ("vwap", "trades"),
    "equities_minute": ("vwap", "trades"),
    "corp_actions": ("event_type", "ratio", "amount", "record_date", "pay_date"),
    "delistings": ("reason",),
    "macros_fred": ("vintage_date",),
    "earnings_calendar": ("time_of_day", "known_date"),
    "shares_outstanding": ("filing_date", "accepted_at"),
}
KEYS = (
    "dataset", "path", "paths", "format", "columns", "constants", "timezone", "na_values", "events",
    "vintage_lag_days", "root", "source_priority",
)


@dataclass(frozen=True)
class FileMapping:
    """One mapping document: which files feed which dataset, and how their columns map.

    `source` is the YAML file it was read from (None when built in code); a relative `root:` and,
    when no root is set anywhere, relative paths resolve against that file's folder.
    """

    name: str
    dataset: str
    paths: tuple[str, ...]
    columns: dict[str, str]
    constants: dict[str, Any] = field(default_factory=dict)
    format: str | None = None
    timezone: str | None = None
    na_values: tuple[str, ...] = ()
    events: dict[str, dict[str, str]] = field(default_factory=dict)
    vintage_lag_days: int | None = None
    root: str | None = None
    source_priority: int = 90
    source: Path | None = None

    @classmethod
    def from_dict(cls, name: str, doc: dict[str, Any], source: Path | None = None) -> "FileMapping":
        """Validate a mapping document; ValueError names the mapping and the problem."""
        unknown = sorted(set(doc) - set(KEYS))
        if unknown:
            raise ValueError(f"files mapping {name!r}: unknown key(s) {unknown}; known keys: {', '.join(KEYS)} (see configs/files/TEMPLATE.yml.example)")
        dataset = doc.get("dataset")
        if dataset not in FILE_DATASETS:
            raise ValueError(f"files mapping {name!r}: dataset must be one of {FILE_DATASETS}, got {dataset!r}")
        raw_paths = doc.get("path") or doc.get("paths")
        if not raw_paths:
            raise ValueError(f"files mapping {name!r}: 'path' is required")
        paths = (raw_paths,) if isinstance(raw_paths, str) else tuple(str(p) for p in raw_paths)
        for key in ("columns", "constants", "events"):
            if doc.get(key) is not None and not isinstance(doc[key], dict):
                raise ValueError(f"files mapping {name!r}: {key!r} must be a mapping of target -> value, got {doc[key]!r}")
        columns = {str(k): str(v) for k, v in (doc.get("columns") or {}).items()}
        constants = dict(doc.get("constants") or {})
        events = {str(k): {str(a): str(b) for a, b in (v or {}).items()} for k, v in (doc.get("events") or {}).items()}
        provided = set(columns) | set(constants)
        allowed = set(REQUIRED_TARGETS[dataset]) | set(OPTIONAL_TARGETS[dataset])
        if provided - allowed:
            raise ValueError(
                f"files mapping {name!r}: {dataset} has no column(s) {sorted(provided - allowed)}; "
                f"targets are {', '.join(REQUIRED_TARGETS[dataset])} (required) and {', '.join(OPTIONAL_TARGETS[dataset])}"
            )
        if dataset == "macros_fred" and "vintage_date" not in provided and doc.get("vintage_lag_days") is None:
            raise ValueError(f"files mapping {name!r}: macro series need a vintage_date column/constant or vintage_lag_days")
        missing = [c for c in REQUIRED_TARGETS[dataset] if c not in provided]
        if missing:
            raise ValueError(f"files mapping {name!r}: no column or constant for {missing}")
        if dataset == "corp_actions" and "event_type" not in provided and not events:
            raise ValueError(f"files mapping {name!r}: corp_actions need 'events' or an event_type column")
        for event, spec in events.items():
            if event not in ("SPLIT", "DIVIDEND", "SPINOFF") or not set(spec) <= {"amount", "ratio"} or not spec:
                raise ValueError(f"files mapping {name!r}: event {event!r} must map 'amount' and/or 'ratio'")
        fmt = doc.get("format")
        if fmt is not None and fmt not in ("csv", "parquet"):
            raise ValueError(f"files mapping {name!r}: format must be csv or parquet, got {fmt!r}")
        lag = doc.get("vintage_lag_days")
        if lag is not None and int(lag) < 0:
            raise ValueError(f"files mapping {name!r}: vintage_lag_days must be >= 0")
        zone = doc.get("timezone")
        if zone is not None:
            try:
                ZoneInfo(str(zone))
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"files mapping {name!r}: timezone {zone!r} is not an IANA zone (e.g. America/New_York, UTC)"
                ) from None
        return cls(
            name=name,
            dataset=dataset,
            paths=paths,
            columns=columns,
            constants=constants,
            format=fmt,
            timezone=str(zone) if zone is not None else None,
            na_values=tuple(str(v) for v in doc.get("na_values") or ()),
            events=events,
            vintage_lag_days=int(lag) if lag is not None else None,
            root=doc.get("root"),
            source_priority=int(doc.get("source_priority", 90)),
            source=source,
        )


def mappings_dir() -> Path:
    """The mappings folder: TRADEML_FILES_MAPPINGS when set (replaces the shipped ones), else configs/files/."""
    user = os.environ.get(MAPPINGS_ENV, "").strip()
    return Path(user).expanduser().resolve() if user else config_dir() / "files"


def read_mapping(path: Path) -> FileMapping:
    """One mapping file (its name is the file stem); ValueError names the file for bad YAML."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(f"files mapping {path}: not valid YAML ({first})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"files mapping {path} must be a YAML mapping of keys (see configs/files/TEMPLATE.yml.example)")
    return FileMapping.from_dict(file_stem(path), doc, source=path.resolve())


def load_mappings(directory: str | os.PathLike | None = None) -> list[FileMapping]:
    """Every mapping in `directory` (default `mappings_dir()`), sorted by file name.

    A TRADEML_FILES_MAPPINGS folder that does not exist is an error (a typo would otherwise serve
    nothing and look like missing data).
    """
    folder = Path(directory) if directory else mappings_dir()
    if directory is None and os.environ.get(MAPPINGS_ENV, "").strip() and not folder.is_dir():
        raise ValueError(f"{MAPPINGS_ENV}={folder} is not a folder; point it at the folder holding your <name>.yml mappings")
    return [read_mapping(path) for path in sorted(folder.glob("*.yml"))]


def find_mapping(name_or_path: str) -> FileMapping:
    """A mapping by name (in `mappings_dir()`) or by the path of its YAML file; ValueError lists the known names."""
    given = Path(name_or_path).expanduser()
    if given.suffix in (".yml", ".yaml") or given.is_file():
        if not given.is_file():
            raise ValueError(f"files mapping {given}: no such file")
        return read_mapping(given)
    folder = mappings_dir()
    path = folder / f"{name_or_path}.yml"
    if not path.is_file():
        names = sorted(p.stem for p in folder.glob("*.yml"))
        raise ValueError(
            f"no files mapping {name_or_path!r} in {folder} (mappings there: {', '.join(names) or 'none'}); "
            f"give a mapping name or a .yml path, or set {MAPPINGS_ENV} to your mappings folder"
        )
    return read_mapping(path)


def file_stem(path: Path) -> str:
    """A file name without its data suffixes (.csv, .csv.gz, .parquet, .pq, .yml): ``{stem}`` in mappings."""
    name = path.name
    for suffix in (".yml", ".yaml", ".gz", ".csv", ".parquet", ".pq"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name
