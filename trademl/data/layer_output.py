"""Derived-layer output: the ledger verdict of a built session range and storing it ledger-first.

Curated, feature and label tables are built from other lake tables, so their colour per session
is the worst of four things (SSOT 2.8, DESIGN.md "Data quality"):

- the inputs: an input table RED (or absent) on a session the build reads -> RED ``INPUT_RED``;
  AMBER -> AMBER ``INPUT_AMBER`` ("upstream RED blocks downstream");
- the build's own problems (a blocked corporate action, a schema or point-in-time mismatch), each
  with its status and qc_code;
- coverage: the share of eligible symbols with every required column non-null against
  `CoverageThresholds` -> AMBER/RED ``COVERAGE_LOW``;
- nothing produced -> RED ``NO_OUTPUT`` (or the build's own reason, e.g. ``WINDOW_NOT_OBSERVED``).

One symbol-less ledger row per session carries the verdict (``detail`` names the symbols behind
it). `store_layer_output` stages the session partitions, upserts their ledger rows and only then
commits them, so a killed run never leaves a visible partition without its verdict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from trademl.config import typed_config
from trademl.data import control, qc
from trademl.data.ingest.ledger import record_then_commit
from trademl.data.lake import Lake
from trademl.schemas import table_spec

_RANK = {"GREEN": 0, "AMBER": 1, "RED": 2}
_COLOUR = np.array(["GREEN", "AMBER", "RED"], dtype=object)
PROBLEM_COLUMNS = ("date", "symbol", "status", "qc_code", "detail")


@dataclass(frozen=True)
class CoverageThresholds:
    """Coverage (share of eligible symbols whose required columns are all non-null) to colour:
    >= `green` GREEN, >= `amber` AMBER, else RED."""

    green: float = 0.98
    amber: float = 0.90

    def __post_init__(self) -> None:
        if not 0.0 <= self.amber <= self.green <= 1.0:
            raise ValueError(f"coverage thresholds need 0 <= amber <= green <= 1, got amber={self.amber} green={self.green}")

    @classmethod
    def from_config(cls, doc: Mapping[str, object] | None) -> CoverageThresholds:
        """From a ``coverage: {green: 0.98, amber: 0.9}`` mapping (missing keys take the defaults)."""
        doc = dict(doc or {})
        unknown = sorted(set(doc) - {"green", "amber"})
        if unknown:
            raise ValueError(f"unknown coverage keys {unknown}; known: amber, green")
        try:
            return cls(green=float(doc.get("green", cls.green)), amber=float(doc.get("amber", cls.amber)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"coverage thresholds must be numbers in [0, 1]: {exc}") from None

    def colours(self, share: np.ndarray) -> np.ndarray:
        """The colour of each coverage share (NaN = nothing eligible = RED)."""
        share = np.asarray(share, dtype=float)
        rank = np.where(share >= self.green, 0, np.where(share >= self.amber, 1, 2))
        return _COLOUR[rank]


@dataclass(frozen=True)
class LayerSettings:
    """configs/layers.yml: the price convention derived layers read curated prices with, the number
    of point-in-time spot checks per run, the coverage thresholds per table (`default` else) and the
    columns coverage does not require per table (`optional_columns`)."""

    price_convention: str = "crsp"
    spot_checks: int = 1
    coverage: tuple[tuple[str, CoverageThresholds], ...] = (("default", CoverageThresholds()),)
    optional: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_config(cls, doc: Mapping[str, object]) -> LayerSettings:
        """Validate and build the settings from the whole document."""
        unknown = sorted(set(doc) - {"price_convention", "spot_checks", "coverage", "optional_columns"})
        if unknown:
            raise ValueError(f"configs/layers.yml: unknown keys {unknown}; known: coverage, optional_columns, price_convention, spot_checks")
        convention = str(doc.get("price_convention", cls.price_convention))
        if convention not in ("crsp", "alpha_vantage"):
            raise ValueError(f"configs/layers.yml price_convention must be crsp or alpha_vantage, got {convention!r}")
        spot = doc.get("spot_checks", cls.spot_checks)
        if not isinstance(spot, int) or isinstance(spot, bool) or spot < 0:
            raise ValueError(f"configs/layers.yml spot_checks must be an integer >= 0, got {spot!r}")
        raw = doc.get("coverage") or {}
        if not isinstance(raw, Mapping):
            raise ValueError("configs/layers.yml coverage must map table names (or `default`) to {green, amber}")
        coverage = {"default": CoverageThresholds()}
        for name, value in raw.items():
            try:
                coverage[str(name)] = CoverageThresholds.from_config(value)
            except ValueError as exc:
                raise ValueError(f"configs/layers.yml coverage.{name}: {exc}") from None
        optional = doc.get("optional_columns") or {}
        if not isinstance(optional, Mapping) or not all(isinstance(v, list) for v in optional.values()):
            raise ValueError("configs/layers.yml optional_columns must map table names to lists of columns")
        return cls(
            price_convention=convention,
            spot_checks=spot,
            coverage=tuple(coverage.items()),
            optional=tuple((str(t), tuple(str(c) for c in cols)) for t, cols in optional.items()),
        )

    def required(self, table: str, columns: Sequence[str]) -> tuple[str, ...]:
        """`columns` without the table's optional ones (coverage counts a row when all required are non-null)."""
        skip = set(dict(self.optional).get(table, ()))
        return tuple(c for c in columns if c not in skip)

    def thresholds(self, table: str) -> CoverageThresholds:
        """The coverage thresholds of `table` (its own entry, else `default`)."""
        found = dict(self.coverage)
        return found.get(table, found["default"])


def layer_settings() -> LayerSettings:
    """configs/layers.yml, read once per file version."""
    return typed_config(LayerSettings, "layers")


@dataclass
class LayerReport:
    """What building one session range of a derived table did: partitions written / unchanged, the
    colour of every session and the problems behind the non-GREEN ones."""

    table: str
    sessions: list[dt.date]
    colours: dict[dt.date, str] = field(default_factory=dict)
    codes: dict[dt.date, str] = field(default_factory=dict)
    rows_written: int = 0
    partitions_written: int = 0
    partitions_unchanged: int = 0
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PROBLEM_COLUMNS)))

    @property
    def colour_counts(self) -> dict[str, int]:
        counts = {"GREEN": 0, "AMBER": 0, "RED": 0}
        for colour in self.colours.values():
            counts[colour] += 1
        return counts

    def red_sessions(self) -> list[dt.date]:
        return [d for d in self.sessions if self.colours.get(d) == "RED"]


def problems_frame(rows: pd.DataFrame | Sequence[Mapping[str, object]] | None = None) -> pd.DataFrame:
    """A problems frame (date, symbol, status, qc_code, detail) from rows (empty when None)."""
    frame = pd.DataFrame(rows if rows is not None else [], columns=list(PROBLEM_COLUMNS))
    frame = frame.reindex(columns=list(PROBLEM_COLUMNS))
    if len(frame):
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        bad = ~frame["status"].isin(("AMBER", "RED"))
        if bad.any():
            raise ValueError(f"problem status must be AMBER or RED, got {sorted(frame.loc[bad, 'status'].astype(str).unique())}")
    return frame


def coverage_by_session(frame: pd.DataFrame, columns: Sequence[str], expected: Mapping[dt.date, int] | None = None) -> dict[dt.date, float]:
    """Per session, the share of symbols whose `columns` are all non-null: over the rows built, or
    over `expected` symbols per session when given (a symbol not built counts as missing)."""
    if len(frame) == 0:
        return {}
    ok = frame[list(columns)].notna().all(axis=1).to_numpy()
    days = pd.to_datetime(frame["date"]).dt.date.to_numpy()
    counts = pd.DataFrame({"date": days, "ok": ok}).groupby("date", sort=True)["ok"].agg(["sum", "size"])
    if expected is None:
        return dict(zip(counts.index, (counts["sum"] / counts["size"]).to_numpy(dtype=float)))
    return {d: (float(counts.loc[d, "sum"]) / n if n else float("nan")) if d in counts.index else 0.0 for d, n in expected.items()}


def input_status(
    engine: Engine,
    tables: Sequence[str],
    sessions: Sequence[dt.date],
    *,
    lookback: int = 0,
    lookahead: int = 0,
    calendar_sessions: Sequence[dt.date] | None = None,
    marginal: Sequence[str] = (),
) -> pd.DataFrame:
    """Per target session, the worst ledger colour of each input table over the sessions it reads
    ([s - lookback, s + lookahead] in `calendar_sessions`, default just s): columns date, status,
    qc_code (``INPUT_RED``/``INPUT_AMBER``), detail (which table, which session). A session with
    no ledger row at all for an input is RED: nothing is known about it (qc's NO_DATA); window
    sessions beyond the ends of `calendar_sessions` are not judged, so pass a grid covering them.
    Tables in `marginal` (a source the build can do without, e.g. corporate actions) make a session
    at worst AMBER."""
    targets = [pd.Timestamp(s).date() for s in sessions]
    grid = [pd.Timestamp(s).date() for s in (calendar_sessions if calendar_sessions is not None else targets)]
    pos = {d: i for i, d in enumerate(grid)}
    missing = [d for d in targets if d not in pos]
    if missing:
        raise ValueError(f"target sessions {missing[:3]} are not on the session grid")
    idx = np.array([pos[d] for d in targets], dtype=np.int64)
    worst = np.zeros(len(targets), dtype=np.int64)
    detail = np.full(len(targets), "", dtype=object)
    for table in tables:  # one iteration per input table
        rows = control.read_partition_status(engine, table_name=table, start=grid[0], end=grid[-1])
        summaries = qc.summaries_by_session(rows, grid)
        rank = np.array([_RANK[summaries[d.isoformat()].color] for d in grid], dtype=np.int64)
        if table in marginal:
            rank = np.minimum(rank, _RANK["AMBER"])
        padded = np.concatenate([np.zeros(lookback, np.int64), rank, np.zeros(lookahead, np.int64)])
        windows = np.lib.stride_tricks.sliding_window_view(padded, lookback + lookahead + 1)  # window i covers grid[i-lb..i+la]
        at = windows[idx]
        table_worst = at.max(axis=1)
        first_bad = np.argmax(at == table_worst[:, None], axis=1) + idx - lookback
        worse = table_worst > worst
        for i in np.flatnonzero(table_worst > 0):  # only the sessions with a non-GREEN input
            note = f"{table} {_COLOUR[table_worst[i]]} on {grid[first_bad[i]].isoformat()}"
            detail[i] = note if not detail[i] else (note + "; " + detail[i] if worse[i] else detail[i] + "; " + note)
        worst = np.maximum(worst, table_worst)
    return pd.DataFrame(
        {
            "date": targets,
            "status": _COLOUR[worst],
            "qc_code": np.where(worst == 2, "INPUT_RED", np.where(worst == 1, "INPUT_AMBER", None)),
            "detail": detail,
        }
    )


def session_verdicts(
    sessions: Sequence[dt.date],
    *,
    rows_out: Mapping[dt.date, int],
    inputs: pd.DataFrame | None = None,
    problems: pd.DataFrame | None = None,
    coverage: Mapping[dt.date, float] | None = None,
    thresholds: CoverageThresholds | None = None,
    empty_code: str = "NO_OUTPUT",
) -> pd.DataFrame:
    """The verdict of every session: columns date, status, qc_code (comma-joined, worst first),
    detail, row_count, qc_score (coverage, NaN when not measured). Worst of inputs, problems,
    coverage and "nothing produced" (RED `empty_code`), as in the module docstring."""
    days = [pd.Timestamp(s).date() for s in sessions]
    parts: list[pd.DataFrame] = []
    if inputs is not None and len(inputs):
        parts.append(inputs.loc[inputs["status"] != "GREEN", ["date", "status", "qc_code", "detail"]])
    if problems is not None and len(problems):
        probs = problems_frame(problems)
        grouped = probs.assign(what=probs["symbol"].fillna("*").astype(str) + ": " + probs["detail"].fillna("").astype(str))
        agg = grouped.groupby(["date", "status", "qc_code"], sort=True)["what"].agg(lambda s: "; ".join(s.iloc[:5]) + (f"; +{len(s) - 5} more" if len(s) > 5 else ""))
        parts.append(agg.reset_index().rename(columns={"what": "detail"}))
    counts = np.array([int(rows_out.get(d, 0)) for d in days], dtype=np.int64)
    share = np.array([float(coverage.get(d, np.nan)) if coverage is not None else np.nan for d in days])
    explained = set()  # empty sessions whose RED problem already says why (e.g. WINDOW_NOT_OBSERVED)
    if problems is not None and len(problems):
        explained = set(problems_frame(problems).loc[lambda f: f["status"] == "RED", "date"])
    empty = (counts == 0) & ~np.isin(np.array(days, dtype=object), list(explained))
    parts.append(pd.DataFrame({"date": np.array(days, dtype=object)[empty], "status": "RED", "qc_code": empty_code, "detail": "no rows built"}))
    if coverage is not None:
        colour = (thresholds or CoverageThresholds()).colours(share)
        low = (colour != "GREEN") & (counts > 0)
        parts.append(
            pd.DataFrame(
                {
                    "date": np.array(days, dtype=object)[low],
                    "status": colour[low],
                    "qc_code": "COVERAGE_LOW",
                    "detail": [f"coverage {s:.3f} of eligible symbols" for s in share[low]],
                }
            )
        )
    flags = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    out = pd.DataFrame({"date": days, "row_count": counts, "qc_score": share})
    if flags is None:
        out["status"], out["qc_code"], out["detail"] = "GREEN", None, None
        return out[["date", "status", "qc_code", "detail", "row_count", "qc_score"]]
    flags["rank"] = flags["status"].map(_RANK)
    flags = flags.sort_values(["date", "rank"], ascending=[True, False], kind="stable")
    summary = flags.groupby("date", sort=False).agg(
        rank=("rank", "max"),
        qc_code=("qc_code", lambda s: ",".join(dict.fromkeys(str(c) for c in s if c))),
        detail=("detail", lambda s: " | ".join(str(d) for d in s if d)),
    )
    merged = out.merge(summary, left_on="date", right_index=True, how="left")
    merged["status"] = _COLOUR[merged["rank"].fillna(0).astype(int).to_numpy()]
    merged["qc_code"] = merged["qc_code"].where(merged["rank"].notna(), None)
    merged["detail"] = merged["detail"].where(merged["rank"].notna(), None)
    return merged[["date", "status", "qc_code", "detail", "row_count", "qc_score"]]


def ledger_rows(table: str, verdicts: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """partition_status rows (one symbol-less row per session) for `verdicts` of `session_verdicts`."""
    return pd.DataFrame(
        {
            "source_name": source,
            "table_name": table_spec(table).name,
            "symbol": None,
            "dt": pd.to_datetime(verdicts["date"]),
            "partition_key": None,
            "status": verdicts["status"].to_numpy(),
            "qc_score": verdicts["qc_score"].to_numpy(),
            "row_count": verdicts["row_count"].astype("int64").to_numpy(),
            "expected_rows": None,
            "qc_code": verdicts["qc_code"].to_numpy(),
            "detail": verdicts["detail"].to_numpy(),
        }
    )


def store_layer_output(
    table: str,
    frame: pd.DataFrame,
    verdicts: pd.DataFrame,
    *,
    lake: Lake,
    engine: Engine,
    source: str,
    problems: pd.DataFrame | None = None,
    batch_partitions: int = 64,
) -> LayerReport:
    """Write `frame`'s sessions to `table` (one immutable, content-hashed version per session: an
    unchanged session writes nothing) and the sessions' verdicts to the ledger, ledger first: each
    batch of staged partitions becomes visible only after its ledger rows are upserted. Sessions of
    `verdicts` without rows in `frame` get their ledger row and no partition."""
    spec = table_spec(table)
    days = [pd.Timestamp(d).date() for d in verdicts["date"]]
    report = LayerReport(
        table=spec.name,
        sessions=days,
        colours=dict(zip(days, verdicts["status"].astype(str))),
        codes={d: c for d, c in zip(days, verdicts["qc_code"]) if c},
        problems=problems_frame(problems) if problems is not None else problems_frame(),
    )
    rows = ledger_rows(spec.name, verdicts, source=source)
    row_day = pd.to_datetime(rows["dt"]).dt.date.to_numpy()
    staged_batch: list = []
    written_days: set[dt.date] = set()

    def flush() -> None:
        batch_days = {s.result.partition for s in staged_batch}
        record_then_commit(engine, rows[np.isin(row_day, list(batch_days))], list(staged_batch))
        staged_batch.clear()

    if len(frame):
        for staged in lake.stage_partitions(spec.name, frame):
            staged_batch.append(staged)
            written_days.add(staged.result.partition)
            if staged.result.changed:
                report.partitions_written += 1
                report.rows_written += staged.result.row_count
            else:
                report.partitions_unchanged += 1
            if len(staged_batch) >= batch_partitions:
                flush()
        if staged_batch:
            flush()
    rest = rows[~np.isin(row_day, list(written_days))]
    if len(rest):
        control.upsert_partition_status(engine, rest)
    return report
