"""Issue 11 speed: the research data path (curated + features + labels) for 5 years x 500 symbols.

A prepared data root (synthetic market, 500 symbols, 2020-07-01..2025-06-30; raw and reference
tables ingested straight through `trademl.data.ingest`, macro vintages from a year earlier) is
copied twice. On one copy each layer runs as ONE Dagster run (`materialize_assets`, checks
included); on the other the same range builders run directly (our code alone). Every layer runs
in a fresh child process, in data-flow order, so each reports its own wall time and peak RSS;
Dagster's share is the difference, per partition.

    .venv/bin/python benchmarks/bench_research.py [--symbols 500] [--first 2020-07-01] [--last 2025-06-30]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INPUTS = ("calendars", "universe", "corp_actions", "delistings", "equities_eod", "earnings_calendar", "shares_outstanding")
# layer: (asset keys, first-session offset into the window: the history the layer needs)
LAYERS = {
    "curated": (["curated/equities_ohlcv_adj"], "first"),
    "features": (["features/equities_xs", "features/indicators_default", "features/indicators_minimal"], "xs"),
    "context": (["features/market_context"], "ctx"),
    "labels": (["labels/equities_xs"], "xs"),
}


def _env(root: Path, symbols: int) -> dict[str, str]:
    return {
        **os.environ,
        "TRADEML_DATA_ROOT": str(root / "data"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "TRADEML_SYNTHETIC_N_SYMBOLS": str(symbols),
        "TRADEML_SYNTHETIC_OUTAGES": "off",
        "TRADEML_VENDOR": "synthetic",
    }


def prepare(first: str, last: str) -> dict:
    """Child: ingest the inputs of the research path (untimed set-up of both copies)."""
    from trademl import calendar
    from trademl.config import settings
    from trademl.data import control
    from trademl.data.connectors.registry import connector_for
    from trademl.data.ingest import ingest
    from trademl.data.lake import Lake

    s = settings()
    lake, engine = Lake(s.data_root), control.make_engine(s.db_uri)
    connector = connector_for("synthetic", data_root=s.data_root)
    t0 = time.perf_counter()
    for dataset in INPUTS:
        ingest(dataset, first, last, connector=connector, lake=lake, engine=engine)
    macro_first = calendar.previous_session(first, 300).strftime("%Y-%m-%d")
    ingest("macros_fred", macro_first, last, connector=connector, lake=lake, engine=engine)
    return {"seconds": round(time.perf_counter() - t0, 1)}


def run_layer(layer: str, first: str, last: str, dagster: bool) -> dict:
    """Child: one layer over its range, through Dagster (one run) or the range builders directly."""
    from trademl import calendar
    from trademl.config import settings
    from trademl.data import control
    from trademl.data.lake import Lake
    from trademl.features.equities_xs import lookback_sessions
    from trademl.labels.label_sets import complete_through

    keys, start = LAYERS[layer]
    days = calendar.sessions(first, last)
    from trademl.features.market_context import warmup_sessions

    lo = {"first": days[0], "xs": days[lookback_sessions() - 1], "ctx": days[warmup_sessions() + 1]}[start]
    hi = pd_last = days[-1]
    if layer == "labels":
        hi = complete_through("equities_xs", pd_last)
    lo, hi = str(lo)[:10], str(hi)[:10]
    s = settings()
    lake, engine = Lake(s.data_root), control.make_engine(s.db_uri)
    if dagster:
        import dagster as dg

        from trademl_jobs.runner import dagster_instance, materialize_assets

        instance = dagster_instance()
        t0 = time.perf_counter()
        run = materialize_assets(instance, [dg.AssetKey.from_user_string(k) for k in keys], lo, hi, vendor="synthetic")
        ok = run.success
    else:
        from functools import partial

        from trademl.curate.partitions import curate_sessions
        from trademl.features.partitions import build_equities_xs, build_indicator_set, build_market_context_range
        from trademl.labels.partitions import build_daily_labels

        builders = {
            "curated/equities_ohlcv_adj": curate_sessions,
            "features/equities_xs": build_equities_xs,
            "features/indicators_default": partial(build_indicator_set, "default"),
            "features/indicators_minimal": partial(build_indicator_set, "minimal"),
            "features/market_context": build_market_context_range,
            "labels/equities_xs": partial(build_daily_labels, "equities_xs"),
        }
        t0 = time.perf_counter()
        reports = [builders[k](lo, hi, lake=lake, engine=engine) for k in keys]
        ok = all(r.colour_counts["RED"] == 0 for r in reports)
    seconds = time.perf_counter() - t0
    colours = {k: control.status_counts(engine).get(k, {}) for k in keys}
    return {
        "layer": layer,
        "dagster": dagster,
        "range": f"{lo}..{hi}",
        "partitions": len(calendar.sessions(lo, hi)) * len(keys),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "ok": ok,
        "status": colours,
    }


def _child(args: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"child {args} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(lines[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--symbols", type=int, default=500)
    p.add_argument("--first", default="2020-07-01")
    p.add_argument("--last", default="2025-06-30")
    p.add_argument("--child", nargs="*")
    args = p.parse_args()
    if args.child:
        kind, *rest = args.child
        result = prepare(args.first, args.last) if kind == "prepare" else run_layer(rest[0], args.first, args.last, rest[1] == "dagster")
        print(json.dumps(result))
        return
    window = ["--first", args.first, "--last", args.last]
    with tempfile.TemporaryDirectory(prefix="bench_research_") as tmp:
        base = Path(tmp) / "prepared"
        (base / "dagster_home").mkdir(parents=True)
        prep = _child(["--child", "prepare", *window], _env(base, args.symbols))
        print(f"prepared {args.symbols} symbols x {args.first}..{args.last} in {prep['seconds']} s (untimed)", flush=True)
        rows = []
        for mode in ("direct", "dagster"):
            root = Path(tmp) / mode
            shutil.copytree(base, root)
            for layer in LAYERS:
                result = _child(["--child", "layer", layer, mode, *window], _env(root, args.symbols))
                rows.append(result)
                print(json.dumps(result), flush=True)
    print("\n| layer | partitions | direct s | dagster s | Dagster ms / partition | peak RSS MB (direct / dagster) | RED |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for layer in LAYERS:
        d, g = (next(r for r in rows if r["layer"] == layer and r["dagster"] == flag) for flag in (False, True))
        share = 1000 * (g["seconds"] - d["seconds"]) / g["partitions"]
        red = sum(c.get("RED", 0) for c in g["status"].values())
        print(f"| {layer} | {g['partitions']:,} | {d['seconds']} | {g['seconds']} | {share:.0f} | {d['peak_rss_mb']:.0f} / {g['peak_rss_mb']:.0f} | {red} |")


if __name__ == "__main__":
    main()
