"""The files connector: serves a user's CSV or Parquet files (bars, corporate actions, delistings,
macro series) through the mappings of `trademl.data.connectors.files.mapping`.

Daily bars are stamped at midnight New York and minute bars keep the regular session only,
exactly like vendor bars (trademl.data.connectors.normalize); bars left out (outside regular
hours, on non-sessions, or dated outside the request) are counted per date in
``FetchResult.dropped``, never dropped silently.

Set-up errors fail the ingest (``SourceConfigError``) instead of turning sessions RED: a mapping
of the requested dataset whose path matches no file, and minute timestamps without a UTC offset
when the mapping names no ``timezone:`` (there is no safe default: New York times read as UTC
shift every bar by 4-5 hours).
"""

from __future__ import annotations

import datetime as dt
import glob
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from trademl import calendar
from trademl.data.connectors.base import Connector, FetchRequest, FetchResult, SourceConfigError, SymbolListing, VendorError
from trademl.data.connectors.normalize import (
    add_dropped,
    add_metadata,
    bars_table,
    date_range_mask,
    empty_frame,
    exchange_dates,
    failed_sessions,
    next_session_on_or_after,
    reference_frame,
    to_frame,
)
from trademl.data.connectors.pit_reference import earnings_rows, shares_rows
from trademl.data.connectors.files.mapping import FILE_DATASETS, MAPPINGS_ENV, FileMapping, file_stem, load_mappings
from trademl.schemas import table_spec

_OFFSET_RE = r"(?:[+-]\d\d:?\d\d|Z)$"


class FilesConnector(Connector):
    """Serves equities bars, corp actions, delistings and macro series from local files via YAML mappings."""

    source_name = "files"
    api_version = "files/v1"
    datasets = frozenset(FILE_DATASETS)

    def __init__(self, mappings: list[FileMapping] | None = None, *, root: str | os.PathLike | None = None) -> None:
        self._mappings = mappings
        self._root = Path(root) if root else None

    @classmethod
    def from_env(cls) -> "FilesConnector":
        """Mappings from TRADEML_FILES_MAPPINGS (else configs/files/), root from TRADEML_FILES_ROOT (read at fetch time)."""
        return cls()

    @property
    def mappings(self) -> list[FileMapping]:
        if self._mappings is None:
            self._mappings = load_mappings()
        return self._mappings

    def supports(self, dataset: str) -> bool:
        return any(m.dataset == dataset for m in self.mappings)

    def root_for(self, mapping: FileMapping) -> Path:
        """Where relative paths resolve: constructor root > TRADEML_FILES_ROOT > the mapping's `root:`
        (relative to the mapping file) > the folder of the mapping file."""
        if self._root:
            return self._root
        if os.environ.get("TRADEML_FILES_ROOT"):
            return Path(os.environ["TRADEML_FILES_ROOT"]).expanduser()
        here = mapping.source.parent if mapping.source is not None else None
        if mapping.root:
            root = Path(mapping.root).expanduser()
            return root if root.is_absolute() or here is None else here / root
        if here is None:
            raise VendorError(self.source_name, f"mapping {mapping.name!r}: set TRADEML_FILES_ROOT or 'root:'", retryable=False)
        return here

    def files_for(self, mapping: FileMapping) -> list[Path]:
        """The existing files a mapping names (globs expanded).

        Raises SourceConfigError naming every path looked for when one of the mapping's paths
        matches no file: a mapping promises data, so a missing file is a set-up error, not NO_DATA.
        """
        root = self.root_for(mapping)
        found: list[Path] = []
        missing: list[str] = []
        for pattern in mapping.paths:
            full = Path(pattern) if Path(pattern).is_absolute() else root / pattern
            matches = sorted(Path(p) for p in glob.glob(str(full)))
            if not matches:
                missing.append(str(full))
            found.extend(matches)
        if missing:
            raise SourceConfigError(
                f"files mapping {mapping.name!r} ({mapping.dataset}): no file matches {', '.join(missing)}; "
                "put the file there, fix 'path:' in the mapping, point TRADEML_FILES_ROOT at the data, "
                f"or set {MAPPINGS_ENV} to a folder holding only your own mappings"
            )
        return found

    @staticmethod
    def _serves(mapping: FileMapping, request: FetchRequest) -> bool:
        """False when the mapping's constant symbol/series is not among those requested (its files are not needed)."""
        for target, wanted in (("symbol", request.symbols), ("series_id", request.series)):
            value = mapping.constants.get(target)
            if wanted and isinstance(value, str) and "{" not in value and value not in set(wanted):
                return False
        return True

    def _fetch(self, request: FetchRequest) -> FetchResult:
        frames = []
        dropped: dict[str, dict[str, int]] = {}
        mappings = [m for m in self.mappings if m.dataset == request.dataset and self._serves(m, request)]
        for mapping in mappings:
            for path in self.files_for(mapping):
                part = self._read(mapping, path, request, dropped)
                if len(part):
                    frames.append(part)
        sessions = calendar.session_table(request.start, request.end)
        if frames:
            frame = pd.concat(frames, ignore_index=True)
        else:
            frame = empty_frame(request.dataset)
        failed = failed_sessions(frame, sessions) if request.dataset in ("equities_eod", "equities_minute") else {}
        return FetchResult(request.dataset, frame, self.source_name, failed, dropped=dropped)

    def symbols(self, asof: dt.date) -> SymbolListing:
        """The symbols the bar mappings' files hold on or before `asof`, each with its first and last
        session: the mappings' files are read through `fetch`, so what is listed is what an ingest stores."""
        first = calendar.all_sessions_index()[0].date()
        frames = [
            self.fetch(FetchRequest(d, first, asof)).to_pandas()[["symbol", "date"]]
            for d in ("equities_eod", "equities_minute")
            if self.supports(d) and asof >= first
        ]
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"symbol": [], "date": []})
        spans = rows.assign(date=pd.to_datetime(rows["date"]).dt.strftime("%Y-%m-%d")).groupby("symbol")["date"].agg(["min", "max"])
        names = ", ".join(m.name for m in self.mappings if m.dataset in ("equities_eod", "equities_minute")) or "none"
        return SymbolListing(
            self.source_name,
            asof,
            tuple(str(s) for s in spans.index),
            f"the files of the bar mappings ({names})",
            {str(k): (str(a), str(b)) for k, a, b in zip(spans.index, spans["min"], spans["max"])},
        )

    # -- reading ---------------------------------------------------------------------------------
    def _source_columns(self, mapping: FileMapping, stem: str) -> dict[str, str]:
        cols = {t: s.format(stem=stem) for t, s in mapping.columns.items()}
        for spec in mapping.events.values():
            for target, source in spec.items():
                cols[f"__event_{source}"] = source.format(stem=stem)
        return cols

    def _read(
        self, mapping: FileMapping, path: Path, request: FetchRequest, dropped: dict[str, dict[str, int]]
    ) -> pd.DataFrame:
        stem = file_stem(path)
        cols = self._source_columns(mapping, stem)
        wanted = sorted(set(cols.values()))
        fmt = mapping.format or ("parquet" if path.suffix in (".parquet", ".pq") else "csv")
        try:
            if fmt == "parquet":
                filters = self._parquet_filters(mapping, cols, request)
                raw = pq.read_table(path, columns=wanted, filters=filters or None).to_pandas()
            else:
                raw = pd.read_csv(path, usecols=wanted, na_values=list(mapping.na_values) or None, low_memory=False)
        except (ValueError, KeyError, OSError, pa.ArrowInvalid) as exc:
            raise VendorError(self.source_name, f"{path.name} ({mapping.name}): {exc}", retryable=False, qc_code="MALFORMED_PAYLOAD") from None
        data = pd.DataFrame({target: raw[source].to_numpy() for target, source in cols.items()}, index=raw.index)
        for target, value in mapping.constants.items():
            data[target] = value.format(stem=stem) if isinstance(value, str) else value
        uri = f"file://{path.resolve()}"
        if request.symbols and "symbol" in data:
            data = data[data["symbol"].astype(str).isin(set(request.symbols))]
        if request.series and "series_id" in data:
            data = data[data["series_id"].astype(str).isin(set(request.series))]
        if mapping.dataset in ("equities_eod", "equities_minute"):
            return self._bars(mapping, data, request, uri, path, cols.get("ts", "ts"), dropped)
        if mapping.dataset == "macros_fred":
            return self._macro(mapping, data, request, uri)
        return self._reference(mapping, data, request, uri)

    @staticmethod
    def _parquet_filters(mapping: FileMapping, cols: dict[str, str], request: FetchRequest) -> list[tuple]:
        filters: list[tuple] = []
        if mapping.dataset == "equities_eod" and "date" in cols:
            filters += [(cols["date"], ">=", request.start), (cols["date"], "<=", request.end)]
        if request.symbols and "symbol" in cols:
            filters.append((cols["symbol"], "in", list(request.symbols)))
        return filters

    def _timestamps(self, mapping: FileMapping, values: pd.Series, path: Path, column: str) -> pd.Series:
        """UTC instants from a timestamp column: aware values converted, naive ones read in `timezone`.

        Naive values with no `timezone:` in the mapping raise SourceConfigError naming the file,
        the column and the fix (reading them as UTC would silently shift New York bars by hours).
        """
        if values.dtype == object:
            text = values.astype(str)
            if text.str.contains(_OFFSET_RE).all():  # ISO strings with offsets (may change at DST)
                return pd.to_datetime(text, utc=True, format="ISO8601")
            parsed = pd.to_datetime(text, format="ISO8601")
        else:
            parsed = pd.to_datetime(values)
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            return parsed.dt.tz_convert("UTC")
        if mapping.timezone is None:
            example = str(values.iloc[0]) if len(values) else ""
            raise SourceConfigError(
                f"{path}: column {column!r} has timestamps without a time zone (e.g. {example!r}) and files "
                f"mapping {mapping.name!r} names none; add `timezone: America/New_York` (or the zone the file "
                "was written in, e.g. UTC) to the mapping, or write the timestamps with their UTC offset"
            )
        return parsed.dt.tz_localize(mapping.timezone, ambiguous="raise", nonexistent="raise").dt.tz_convert("UTC")

    def _bars(
        self,
        mapping: FileMapping,
        data: pd.DataFrame,
        request: FetchRequest,
        uri: str,
        path: Path,
        ts_column: str,
        dropped: dict[str, dict[str, int]],
    ) -> pd.DataFrame:
        """Bars of the request's dates from one file; rows of other dates are counted as outside_window."""
        minute = mapping.dataset == "equities_minute"
        if minute:
            ts = self._timestamps(mapping, data["ts"], path, ts_column)
            utc = pa.array(ts.dt.as_unit("us"), type=pa.timestamp("us", tz="UTC"))
            days = pd.Series(exchange_dates(utc).to_numpy(zero_copy_only=False), index=data.index)
        else:
            days = pd.to_datetime(data["date"]).dt.normalize()
        keep = date_range_mask(days, request.start, request.end).to_numpy()
        if not keep.all():
            outside = days[~keep].value_counts()  # one entry per date, formatted below
            add_dropped(dropped, {"outside_window": {pd.Timestamp(d).strftime("%Y-%m-%d"): int(n) for d, n in outside.items()}})
        data, days = data[keep], days[keep]
        if minute:
            ts = ts[keep]
        else:
            ts = days.dt.tz_localize(calendar.EXCHANGE_TZ).dt.tz_convert("UTC")
        if data.empty:
            return empty_frame(mapping.dataset)
        cols = {
            "symbol": pa.array(data["symbol"].astype(str).to_numpy(), type=pa.string()),
            "ts": pa.array(ts.dt.as_unit("us"), type=pa.timestamp("us", tz="UTC")),
        }
        for name in ("open", "high", "low", "close", "volume", "vwap", "trades"):
            if name in data:
                cols[name] = pa.array(pd.to_numeric(data[name], errors="coerce").to_numpy(dtype="float64"), type=pa.float64())
        try:
            norm = bars_table(cols, minute=minute)
        except ValueError as exc:
            raise VendorError(self.source_name, f"{mapping.name}: {exc}", retryable=False, qc_code="MALFORMED_PAYLOAD") from None
        add_dropped(dropped, norm.dropped)
        table = add_metadata(norm.table, source_name=self.source_name, source_uri=uri, api_version=f"{self.api_version}:{mapping.name}")
        return to_frame(table, mapping.dataset)

    def _macro(self, mapping: FileMapping, data: pd.DataFrame, request: FetchRequest, uri: str) -> pd.DataFrame:
        obs = pd.to_datetime(data["observation_date"]).dt.normalize()
        if "vintage_date" in data:
            vintage = pd.to_datetime(data["vintage_date"]).dt.normalize()
        else:
            vintage = next_session_on_or_after(obs + pd.Timedelta(days=mapping.vintage_lag_days or 0))
        value = pd.to_numeric(data["value"], errors="coerce")
        session = next_session_on_or_after(vintage)  # a weekend/holiday vintage is acted on at the next session
        frame = pd.DataFrame(
            {
                "date": session.dt.date.to_numpy(),
                "series_id": data["series_id"].astype(str).to_numpy(),
                "observation_date": obs.dt.date.to_numpy(),
                "value": value.to_numpy(dtype="float64"),
                "vintage_date": vintage.dt.date.to_numpy(),
            }
        )
        frame = frame[date_range_mask(session, request.start, request.end).to_numpy() & session.notna().to_numpy()]
        if frame.empty:
            return empty_frame("macros_fred")
        frame = frame.assign(
            ingested_at=pd.Timestamp.now(tz="UTC"),
            source_name=self.source_name,
            source_uri=uri,
            vendor_ts=pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]"),
            api_version=f"{self.api_version}:{mapping.name}",
        )
        return frame[list(table_spec("macros_fred").schema.names)].reset_index(drop=True)

    def _reference(self, mapping: FileMapping, data: pd.DataFrame, request: FetchRequest, uri: str) -> pd.DataFrame:
        if mapping.dataset == "corp_actions" and mapping.events:
            parts = []
            for event, spec in mapping.events.items():  # one pass per event kind (DIVIDEND, SPLIT)
                mask = pd.Series(False, index=data.index)
                part = pd.DataFrame({"symbol": data["symbol"], "ex_date": data["ex_date"], "event_type": event})
                for target, source in spec.items():
                    values = pd.to_numeric(data[f"__event_{source}"], errors="coerce")
                    part[target] = values
                    neutral = 1.0 if target == "ratio" else 0.0
                    mask |= values.notna() & (values != neutral)
                for col in ("record_date", "pay_date"):
                    if col in data:
                        part[col] = data[col]
                parts.append(part[mask.to_numpy()])
            events = pd.concat(parts, ignore_index=True)
        else:
            events = data.drop(columns=[c for c in data.columns if c.startswith("__event_")])
        events = events.assign(source_uri=uri)
        if mapping.dataset in ("earnings_calendar", "shares_outstanding"):
            rows = earnings_rows if mapping.dataset == "earnings_calendar" else shares_rows
            return rows(events, request, source_name=self.source_name, api_version=f"{self.api_version}:{mapping.name}", received_at=None)
        return reference_frame(
            mapping.dataset,
            events,
            request,
            source_name=self.source_name,
            api_version=f"{self.api_version}:{mapping.name}",
            source_priority=mapping.source_priority,
            received_at=None,
        )

