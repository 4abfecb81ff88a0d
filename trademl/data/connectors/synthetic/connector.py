"""SyntheticConnector: the embedded default market behind the same Connector interface as real vendors.

Serves every dataset of trademl.schemas.DATASET_TABLES from a deterministic, seeded simulation
(see market.py, minute.py, options.py, macro.py, reference.py). Rows carry the SSOT metadata
columns with a deterministic ingested_at (session close + `publication_lag_minutes`), so fetching
the same session twice — from any request range, in any process — gives byte-identical rows.

Kept whole: the simulation already lives in its own modules; this is only the Connector face of
it (request narrowing, outages, metadata, one small builder per dataset over the shared panel).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.config import settings
from trademl.data.connectors.base import Connector, FetchRequest, FetchResult, SymbolListing, VendorUnavailable
from trademl.data.connectors.synthetic import macro, options, reference
from trademl.data.connectors.synthetic.config import SyntheticConfig
from trademl.data.connectors.synthetic.market import PRICE_DECIMALS, SESSIONS_PER_YEAR, DailyPanel, simulate_daily
from trademl.data.connectors.synthetic.minute import simulate_minutes
from trademl.data.connectors.synthetic.outages import OutageBook
from trademl.data.connectors.synthetic.roster import Roster, build_roster
from trademl.data.connectors.synthetic.timeline import Timeline
from trademl.schemas import DATASET_TABLES, session_id, table_spec

STATE_SUBDIR = Path("vendor_state") / "synthetic"
ENV_N_SYMBOLS = "TRADEML_SYNTHETIC_N_SYMBOLS"
ENV_SEED = "TRADEML_SYNTHETIC_SEED"
ENV_SIGNAL = "TRADEML_SYNTHETIC_SIGNAL_STRENGTH"
ENV_OUTAGES = "TRADEML_SYNTHETIC_OUTAGES"
OPTION_SNAPSHOT_BEFORE_CLOSE = pd.Timedelta(minutes=1)


def _env_overrides() -> tuple[dict[str, object], bool]:
    """Config overrides from TRADEML_SYNTHETIC_* and whether outages are on (default on)."""
    out: dict[str, object] = {}
    for name, key, cast in ((ENV_N_SYMBOLS, "n_symbols", int), (ENV_SEED, "seed", int), (ENV_SIGNAL, "signal_strength", float)):
        raw = os.environ.get(name)
        if raw is None or raw.strip() == "":
            continue
        try:
            out[key] = cast(raw.strip())
        except ValueError as exc:
            raise ValueError(f"{name}={raw!r} is not a valid {cast.__name__}") from exc
    raw = os.environ.get(ENV_OUTAGES, "on").strip().lower()
    if raw not in {"on", "off", "1", "0", "true", "false", "yes", "no"}:
        raise ValueError(f"{ENV_OUTAGES}={raw!r} must be 'on' or 'off'")
    return out, raw in {"on", "1", "true", "yes"}


class SyntheticConnector(Connector):
    """A deterministic (seeded) vendor serving all ten datasets; see the package docstring."""

    source_name = "synthetic"
    api_version = "synthetic/1"
    datasets = frozenset(DATASET_TABLES)

    def __init__(self, config: SyntheticConfig | None = None, *, state_dir: Path | None = None) -> None:
        self.config = config if config is not None else SyntheticConfig()
        self.timeline = Timeline.build(self.config.origin)
        self.roster: Roster = build_roster(self.config, self.timeline)
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.outages = OutageBook(self.config.outages, seed=self.config.seed, state_dir=self.state_dir)
        self._panel: DailyPanel | None = None
        self._lock = threading.Lock()
        self._underliers = self._option_underliers()

    @classmethod
    def from_settings(
        cls, data_root: str | Path | None = None, defaults: Mapping[str, object] | None = None
    ) -> SyntheticConnector:
        """configs/synthetic.yml < `defaults` (e.g. the demo's n_symbols, signal_strength) < TRADEML_SYNTHETIC_*
        overrides; outage state under <data_root>/vendor_state/synthetic."""
        env, outages_on = _env_overrides()
        overrides = {**(defaults or {}), **env}
        if not outages_on:
            overrides["outages"] = ()
        config = SyntheticConfig.from_config(**overrides)
        root = Path(data_root) if data_root is not None else settings().data_root
        return cls(config, state_dir=root / STATE_SUBDIR)

    # ------------------------------------------------------------------------------------- universe
    def universe_symbols(self, asof: dt.date) -> list[str]:
        """Symbols with a bar on the last session on or before `asof` (empty before the origin)."""
        t = int(self.timeline.sessions.searchsorted(pd.Timestamp(asof), side="right")) - 1
        if t < 0:
            return []
        listed = (self.roster.first_index <= t) & (t < self.roster.end_index)
        return [str(s) for s in self.roster.symbols[listed]]

    def symbols(self, asof: dt.date) -> SymbolListing:
        """The synthetic universe on `asof` (symbols with a bar on the last session on or before it;
        empty before the market's origin), from configs/synthetic.yml and TRADEML_SYNTHETIC_*."""
        return SymbolListing(
            self.source_name,
            asof,
            tuple(sorted(self.universe_symbols(asof))),
            f"the synthetic universe (configs/synthetic.yml: {self.config.n_symbols} symbols, history from {self.config.origin})",
        )

    def _unknown_symbols_reason(self) -> str:
        """Why a request naming only symbols this market never listed is not served, naming what it lists
        (the requested symbols are named by whoever reports it: the reason is per session)."""
        listed = [str(s) for s in self.roster.symbols]
        span = f"{listed[0]}..{listed[-1]}" if len(listed) > 1 else ", ".join(listed)
        return f"UNKNOWN_SYMBOL: not in the synthetic universe; its symbols are {span}, see `trademl symbols`"

    def panel(self, n_sessions: int) -> DailyPanel:
        """The simulated daily panel covering at least the first `n_sessions` sessions of the timeline.

        Simulates through the end of the calendar year holding the last needed session (causal, so
        extending the horizon never changes earlier sessions) and caches the result.
        """
        with self._lock:
            if self._panel is None or self._panel.n_sessions < n_sessions:
                last_year = self.timeline.year[max(n_sessions, 1) - 1]
                horizon = int(np.searchsorted(self.timeline.year, last_year, side="right"))
                self._panel = simulate_daily(self.config, self.timeline, self.roster, horizon)
            return self._panel

    def _option_underliers(self) -> np.ndarray:
        opt = self.config.options
        if opt.underliers is None:
            return np.arange(min(opt.n_underliers, len(self.roster)))
        idx = self.roster.index_of(opt.underliers)
        if (idx < 0).any():
            unknown = [u for u, i in zip(opt.underliers, idx) if i < 0]
            raise ValueError(f"options.underliers {unknown} are not symbols of this synthetic market")
        return np.sort(idx)

    # ---------------------------------------------------------------------------------------- fetch
    def published_through(self, now: dt.datetime | None = None) -> dt.date:
        """The last session this market has data for: its configured `end`, else the latest session
        whose close + publication lag has passed on the wall clock (`now`, aware UTC)."""
        latest = calendar.latest_completed_session(now, self.config.publication_lag_minutes)
        return latest if self.config.end is None else min(self.config.end, latest)

    def _unservable(self, request: FetchRequest) -> tuple[FetchRequest | None, dict[str, str]]:
        """`request` narrowed to what this market can serve, and why each other session is not served.

        Sessions after `published_through` have not happened; sessions before the origin precede
        the market's history (macro vintages and the exchange calendar are exempt: the former has
        `macro.history_years` of back history, the latter is published in advance). A request
        naming only symbols this market never listed fails every session with UNKNOWN_SYMBOL.
        """
        start, end, failed = request.start, request.end, {}
        sessions = calendar.sessions(request.start, request.end)
        if request.dataset != "calendars":
            last = self.published_through()
            late = sessions[sessions > pd.Timestamp(last)]
            failed.update({s.date().isoformat(): f"NOT_PUBLISHED: {s.date()} is after the latest completed session {last}" for s in late})
            end = min(end, last)
        if request.dataset not in ("calendars", "macros_fred"):
            early = sessions[sessions < pd.Timestamp(self.config.origin)]
            failed.update(
                {s.date().isoformat(): f"BEFORE_HISTORY: the synthetic market's history starts {self.config.origin}" for s in early}
            )
            start = max(start, self.config.origin)
        if request.symbols and request.dataset not in ("macros_fred", "calendars") and len(self._symbol_index(request.symbols)) == 0:
            reason = self._unknown_symbols_reason()
            failed.update({s.date().isoformat(): reason for s in sessions})
            return None, failed
        if end < start:
            return None, failed
        return dataclasses.replace(request, start=start, end=end), failed

    def _fetch(self, request: FetchRequest) -> FetchResult:
        served, unservable = self._unservable(request)
        if served is None:
            empty = pd.DataFrame(columns=table_spec(request.dataset).schema.names)
            return FetchResult(request.dataset, self._with_metadata(request.dataset, empty), self.source_name, unservable)
        result = self._fetch_served(served)
        result.failed_sessions.update(unservable)
        return result

    def _fetch_served(self, request: FetchRequest) -> FetchResult:
        sessions = calendar.sessions(request.start, request.end)
        builders: dict[str, Callable[[FetchRequest, int, int, np.ndarray], pd.DataFrame]] = {
            "equities_eod": self._daily_bars,
            "equities_minute": self._minute_bars,
            "options_chains": self._option_chains,
            "corp_actions": self._corp_actions,
            "delistings": self._delistings,
            "universe": self._universe,
            "index_membership": self._index_membership,
            "tick_size_regime": self._tick_size_regime,
            "earnings_calendar": self._earnings_calendar,
            "shares_outstanding": self._shares_outstanding,
        }
        spec = table_spec(request.dataset)
        requested = frozenset(request.symbols) if request.symbols else None
        if request.dataset == "macros_fred":
            frame = self._macros(request)
        elif request.dataset == "calendars":
            frame = self._calendars(sessions)
        else:
            i0, i1 = self.timeline.span(request.start, request.end)
            symbols = self._symbol_index(request.symbols)
            if i1 <= i0 or len(symbols) == 0:
                frame = pd.DataFrame(columns=[*spec.schema.names, "_t"])
            else:
                frame = builders[request.dataset](request, i0, i1, symbols)
        frame, failed = self._apply_outages(request.dataset, frame, sessions, requested)
        return FetchResult(dataset=request.dataset, frame=self._with_metadata(request.dataset, frame), source_name=self.source_name, failed_sessions=failed)

    def _symbol_index(self, symbols: tuple[str, ...] | None) -> np.ndarray:
        if not symbols:
            return np.arange(len(self.roster))
        idx = self.roster.index_of(symbols)
        return np.unique(idx[idx >= 0])

    def _apply_outages(
        self, dataset: str, frame: pd.DataFrame, sessions: pd.DatetimeIndex, requested: frozenset[str] | None
    ) -> tuple[pd.DataFrame, dict[str, str]]:
        """Drop the rows an outage withholds and report those sessions; mode 'error' raises instead."""
        ordinals = calendar.all_sessions_index().get_indexer(sessions)
        hits = self.outages.check(
            dataset,
            sessions,
            ordinals,
            requested=requested,
            universe=self.roster.symbols,
            universe_index=np.arange(len(self.roster)),
        )
        if not hits:
            return frame, {}
        if any(h.mode == "error" for h in hits):
            raise VendorUnavailable(self.source_name, "; ".join(h.reason for h in hits))
        spec = table_spec(dataset)
        part = pd.to_datetime(frame[spec.partition_column]) if len(frame) else pd.Series([], dtype="datetime64[ns]")
        drop = np.zeros(len(frame), dtype=bool)
        for hit in hits:  # a handful of (outage, session) pairs
            on_day = (part == hit.session).to_numpy()
            if hit.symbols is not None and spec.symbol_column is not None:
                on_day &= frame[spec.symbol_column].isin(hit.symbols).to_numpy()
            drop |= on_day
        failed = {h.session.strftime("%Y-%m-%d"): h.reason for h in hits}
        return frame.loc[~drop].reset_index(drop=True), failed

    def _with_metadata(self, dataset: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Schema-ordered columns plus metadata; ingested_at = partition session close + publication lag."""
        spec = table_spec(dataset)
        part = pd.DatetimeIndex(pd.to_datetime(frame[spec.partition_column])) if len(frame) else pd.DatetimeIndex([])
        days, inverse = np.unique(part.to_numpy(), return_inverse=True)
        days = pd.DatetimeIndex(days)
        closes = _session_closes(days)
        lag = pd.Timedelta(minutes=self.config.publication_lag_minutes)
        tag = f"&seed={self.config.seed}&n={self.config.n_symbols}"
        uris = np.array([f"synthetic://{dataset}?date={d:%Y-%m-%d}{tag}" for d in days], dtype=object)
        out = frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
        out["ingested_at"] = pd.DatetimeIndex(closes + lag)[inverse] if len(days) else pd.DatetimeIndex([], tz="UTC")
        out["source_name"] = self.source_name
        out["source_uri"] = uris[inverse] if len(days) else np.array([], dtype=object)
        if "vendor_ts" not in out.columns:
            out["vendor_ts"] = pd.DatetimeIndex(closes)[inverse] if len(days) else pd.DatetimeIndex([], tz="UTC")
        out["api_version"] = self.api_version
        return out[spec.schema.names].reset_index(drop=True)

    # ------------------------------------------------------------------------------------- datasets
    def _daily_bars(self, request: FetchRequest, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
        p = self.panel(i1)
        rows, cols = np.nonzero(p.active[i0:i1][:, symbols])
        t, s = rows + i0, symbols[cols]
        dates = self.timeline.sessions[t]
        r = PRICE_DECIMALS
        return pd.DataFrame(
            {
                "date": dates,
                "symbol": self.roster.symbols[s],
                "open": np.round(p.open[t, s], r),
                "high": np.round(p.high[t, s], r),
                "low": np.round(p.low[t, s], r),
                "close": np.round(p.close[t, s], r),
                "vwap": np.round(p.vwap[t, s], r),
                "volume": p.volume[t, s],
                "nbbo_spread": p.spread[t, s],
                "trades": p.trades[t, s],
                "session_id": _session_ids(dates),
                "_t": t,
            }
        )

    def _minute_bars(self, request: FetchRequest, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
        p = self.panel(i1)
        frames = []
        for t in range(i0, i1):  # one vectorised block per session
            sym = symbols[p.active[t, symbols]]
            if len(sym) == 0:
                continue
            minutes = int(self.timeline.minutes[t])
            b = simulate_minutes(
                p,
                t,
                int(self.timeline.ordinal[t]),
                sym,
                minutes,
                seed=self.config.seed,
                trade_size=self.roster.trade_size,
                overnight_share=self.config.market.overnight_share,
                missing_prob=self.config.minute_missing_prob,
            )
            row, minute = np.nonzero(b.kept)
            ts = self.timeline.open_utc[t] + pd.to_timedelta(minute, unit="min")
            session = self.timeline.sessions[t]
            frames.append(
                pd.DataFrame(
                    {
                        "ts": ts,
                        "date": np.full(len(row), session.to_datetime64()),
                        "symbol": self.roster.symbols[sym[row]],
                        "open": np.round(b.open[row, minute], PRICE_DECIMALS),
                        "high": np.round(b.high[row, minute], PRICE_DECIMALS),
                        "low": np.round(b.low[row, minute], PRICE_DECIMALS),
                        "close": np.round(b.close[row, minute], PRICE_DECIMALS),
                        "vwap": np.round(b.vwap[row, minute], PRICE_DECIMALS),
                        "volume": b.volume[row, minute],
                        "trades": b.trades[row, minute],
                        "session_id": f"XNYS:{session:%Y-%m-%d}",
                        "vendor_ts": ts + pd.Timedelta(minutes=1),
                    }
                )
            )
        if not frames:
            return pd.DataFrame(columns=[*table_spec("equities_minute").schema.names])
        return pd.concat(frames, ignore_index=True)

    def _option_chains(self, request: FetchRequest, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
        p = self.panel(i1)
        under = np.intersect1d(self._underliers, symbols)
        opt, ro = self.config.options, self.roster
        frames = []
        for t in range(i0, i1):  # a few underliers per session
            session = self.timeline.sessions[t]
            snap = self.timeline.close_utc[t] - OPTION_SNAPSHOT_BEFORE_CLOSE
            for u in under[p.active[t, under]]:
                surf = self._surface(p, t, int(u))
                quotes = options.chain(
                    surf,
                    spot=float(surf.attrs["spot"]),
                    div_yield=float(ro.dividend_yield[u]),
                    params=opt,
                    seed=self.config.seed,
                    key=int(self.timeline.ordinal[t]) * 10_000 + int(u),
                )
                quotes["ts_ns"] = np.int64(snap.value)
                quotes["date"] = session
                quotes["underlier"] = ro.symbols[u]
                quotes["vendor_ts"] = snap
                frames.append(quotes)
        if not frames:
            return pd.DataFrame(columns=[*table_spec("options_chains").schema.names])
        out = pd.concat(frames, ignore_index=True)
        return out.drop(columns=["t", "k", "theta", "model"])

    def _surface(self, p: DailyPanel, t: int, u: int) -> pd.DataFrame:
        mp, ro = self.config.market, self.roster
        v_inf = ro.beta[u] ** 2 * mp.market_vol**2 + (ro.sector_loading[u] * mp.sector_vol) ** 2 + ro.idio_var[u] * SESSIONS_PER_YEAR
        spot = float(np.round(p.close[t, u], PRICE_DECIMALS))
        surf = options.surface(
            session=self.timeline.sessions[t],
            spot=spot,
            v0=float(p.h_total[t, u] * SESSIONS_PER_YEAR),
            v_inf=float(v_inf),
            div_yield=float(ro.dividend_yield[u]),
            rho=options.underlier_skew(self.config.seed, u),
            params=self.config.options,
            all_sessions=calendar.all_sessions_index(),
        )
        surf.attrs["spot"] = spot
        return surf

    def option_surface(self, underlier: str, session: dt.date) -> pd.DataFrame:
        """The true SSVI surface (raw SVI slice per expiry) behind `underlier`'s chain on `session`.

        Ground truth for tests and research: the quotes of options_chains are priced off exactly
        these slices. ValueError when the symbol is not an option underlier or does not trade then.
        """
        u = int(self.roster.index_of([underlier])[0])
        if u < 0 or u not in set(self._underliers.tolist()):
            raise ValueError(f"{underlier!r} is not an option underlier of this synthetic market")
        i0, i1 = self.timeline.span(session, session)
        if i1 <= i0:
            raise ValueError(f"{session} is not a simulated XNYS session (origin {self.timeline.first.date()})")
        p = self.panel(i1)
        if not p.active[i0, u]:
            raise ValueError(f"{underlier} does not trade on {session}")
        return self._surface(p, i0, u)

    def _corp_actions(self, request: FetchRequest, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
        return reference.corp_actions(self.panel(i1), self.timeline, self.roster, i0, i1, symbols)

    def _delistings(self, request: FetchRequest, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
        return reference.delistings(self.roster, self.timeline, i0, i1, symbols)

    def _universe(self, request: FetchRequest, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
        return reference.universe(self.config, self.panel(i1), self.timeline, self.roster, i0, i1, symbols)

    def _index_membership(self, request: FetchRequest, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
        return reference.index_membership(self.config, self.panel(i1), self.timeline, self.roster, i0, i1, symbols)

    def _tick_size_regime(self, request: FetchRequest, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
        return reference.tick_size_regime(self.config, self.panel(i1), self.timeline, self.roster, i0, i1, symbols)

    def _earnings_calendar(self, request: FetchRequest, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
        return reference.earnings_calendar(self.config, self.timeline, self.roster, i0, i1, symbols)

    def _shares_outstanding(self, request: FetchRequest, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
        return reference.shares_outstanding(self.config, self.panel(i1), self.timeline, self.roster, i0, i1, symbols)

    def _macros(self, request: FetchRequest) -> pd.DataFrame:
        served = self.config.macro.series
        if request.series:
            unknown = sorted(set(request.series) - set(served))
            if unknown:
                raise ValueError(f"synthetic vendor does not publish macro series {unknown}; it serves {list(served)}")
            served = tuple(request.series)
        start_year = self.config.origin.year - self.config.macro.history_years
        allv = macro.vintages(self.config.seed, start_year, self.config.origin, self.config.market)
        # By partition session: a weekend or holiday vintage is served with the session after it.
        keep = (
            allv["series_id"].isin(served)
            & (allv["date"] >= pd.Timestamp(request.start))
            & (allv["date"] <= pd.Timestamp(request.end))
        )
        return allv.loc[keep].reset_index(drop=True)

    def _calendars(self, sessions: pd.DatetimeIndex) -> pd.DataFrame:
        if len(sessions) == 0:
            return pd.DataFrame(columns=[*table_spec("calendars").schema.names])
        table = calendar.session_table(sessions[0], sessions[-1])
        return pd.DataFrame(
            {
                "date": table["session"],
                "exchange": calendar.EXCHANGE,
                "open_utc": table["open_utc"],
                "close_utc": table["close_utc"],
                "minutes": table["minutes"].astype(np.int32),
                "is_half_day": table["is_half_day"],
                "vendor_ts": table["open_utc"],
            }
        )


def _session_ids(dates: pd.DatetimeIndex) -> np.ndarray:
    """XNYS:YYYY-MM-DD per row, formatting each distinct session once."""
    days, inverse = np.unique(dates.to_numpy(), return_inverse=True)
    return session_id(days).to_numpy(dtype=object)[inverse]


def _session_closes(days: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """UTC close instants of sessions (vectorised lookup in the calendar schedule)."""
    if len(days) == 0:
        return pd.DatetimeIndex([], tz="UTC")
    closes = calendar.exchange_calendar().schedule["close"]
    idx = closes.index.tz_localize(None) if closes.index.tz is not None else closes.index
    pos = idx.get_indexer(days)
    if (pos < 0).any():
        raise ValueError(f"{days[pos < 0][0].date()} is not an XNYS session")
    out = pd.DatetimeIndex(closes.to_numpy()[pos])
    return out.tz_localize("UTC") if out.tz is None else out.tz_convert("UTC")
