"""The connector interface every vendor implements (synthetic, files and the real HTTP vendors).

A connector turns a request for one logical dataset over a closed session range into rows in
the dataset's raw/reference schema (``trademl.schemas``), metadata columns included. Nothing
downstream of a connector knows which vendor produced the rows except through ``source_name``.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa


class VendorError(RuntimeError):
    """A vendor request failed; `retryable` says whether trying again later can help."""

    def __init__(self, vendor: str, message: str, *, retryable: bool = True, qc_code: str = "VENDOR_ERROR") -> None:
        self.vendor, self.retryable, self.qc_code = vendor, retryable, qc_code
        super().__init__(f"{vendor}: {message}")


class SourceConfigError(ValueError):
    """The source is set up wrongly (a files mapping names a file that does not exist, or its
    timestamps carry no time zone): the ingest fails with this message, naming the file and the
    fix, instead of recording sessions RED (or leaving stored ones GREEN) as a vendor failure would."""


class VendorUnavailable(VendorError):
    """The vendor is down or refused service for now (outage, 5xx after retries, frozen after 429)."""

    def __init__(self, vendor: str, message: str) -> None:
        super().__init__(vendor, message, retryable=True, qc_code="VENDOR_OUTAGE")


class VendorAuthError(VendorError):
    """Credentials are missing or rejected (401/403); names the environment variable, never its value."""

    def __init__(self, vendor: str, message: str) -> None:
        super().__init__(vendor, message, retryable=False, qc_code="AUTH_ERROR")


# qc_codes of a payload that arrived but was unusable; unlike an outage they mark the whole session
# RED (ingest) and are not worth a fallback vendor's retry of the same request (routing).
PAYLOAD_FAULT_CODES = frozenset({"MALFORMED_PAYLOAD", "SCHEMA_VIOLATION", "CHECKSUM_MISMATCH"})


@dataclass(frozen=True)
class FetchRequest:
    """One unit of vendor work: a dataset over sessions [start, end] (closed) for some symbols/series."""

    dataset: str
    start: dt.date
    end: dt.date
    symbols: tuple[str, ...] | None = None
    series: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"request end {self.end} is before start {self.start}")


@dataclass
class FetchResult:
    """Rows returned for a request plus what the vendor could not serve (for QC and fallback).

    `frame` is a pandas frame, or an Arrow table when the connector builds its rows in Arrow
    (Alpaca): ingest conforms either without a pandas round trip; `to_pandas()` gives a frame.
    """

    dataset: str
    frame: pd.DataFrame | pa.Table
    source_name: str
    failed_sessions: dict[str, str] = field(default_factory=dict)  # "YYYY-MM-DD" -> reason
    # Rows the vendor sent that are not in `frame`, by reason -> {"YYYY-MM-DD": rows}: reasons
    # "outside_regular_hours" (minute bars of a session outside [open, close)), "non_session"
    # (dated on a day XNYS did not trade), "outside_window" (dated outside the request).
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return 0 if self.frame is None else (self.frame.num_rows if isinstance(self.frame, pa.Table) else len(self.frame))

    def to_pandas(self) -> pd.DataFrame:
        """The rows as a pandas frame (an Arrow result is converted, columns and types kept)."""
        return self.frame.to_pandas() if isinstance(self.frame, pa.Table) else self.frame


@dataclass(frozen=True)
class SymbolListing:
    """What a vendor serves on `asof`: its symbols (sorted), where that list comes from (`source`,
    one phrase a user can check, e.g. "the synthetic universe of configs/synthetic.yml") and, when
    the vendor knows them, each symbol's first and last stored session (`spans`, "YYYY-MM-DD")."""

    vendor: str
    asof: dt.date
    symbols: tuple[str, ...]
    source: str
    spans: dict[str, tuple[str, str]] = field(default_factory=dict)


class Connector(ABC):
    """A market-data vendor. Subclasses declare `source_name`, `api_version` and `datasets`."""

    source_name: str = ""
    api_version: str = ""
    datasets: frozenset[str] = frozenset()

    def supports(self, dataset: str) -> bool:
        return dataset in self.datasets

    def fetch(self, request: FetchRequest) -> FetchResult:
        """Fetch `request`; raises ValueError for a dataset this vendor does not serve."""
        if not self.supports(request.dataset):
            raise ValueError(
                f"vendor {self.source_name!r} does not serve dataset {request.dataset!r} "
                f"(it serves: {', '.join(sorted(self.datasets))})"
            )
        return self._fetch(request)

    @abstractmethod
    def _fetch(self, request: FetchRequest) -> FetchResult:
        """Vendor-specific fetch returning rows in the raw schema of `request.dataset`."""

    def symbols(self, asof: dt.date) -> SymbolListing | None:
        """The symbols this vendor serves on `asof`, or None when it publishes no listing of its own
        (an HTTP vendor's list is what the lake's reference/universe holds from it:
        `trademl.data.listings.vendor_symbols`)."""
        return None

    def universe_symbols(self, asof: dt.date) -> list[str]:
        """Symbols this vendor lists as tradable on `asof` (used when a request names no symbols)."""
        raise VendorError(self.source_name, "this vendor cannot list a universe; pass symbols explicitly", retryable=False)
