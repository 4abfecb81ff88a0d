"""Training and CPCV evaluation of equities_xs at production size, and the research-integrity sweep.

Part 1 (`--part size`): the production grid (configs/training/equities_xs.yml: 6 trials x CPCV(8, 2,
embargo 10) = 168 LightGBM fits, then PBO/DSR and the final fit) on a random frame of 500 symbols x
10 years (2,520 sessions, 1.26M rows, the 35 equities_xs v1 features), num_threads = cores. The
strategy is a vectorised rank long-short on the 1-session label (the stand-in of the tests). Prints
wall time per phase and the process peak RSS.

Part 2 (`--part seeds`): the research-integrity check over N seeds each way on the embedded synthetic
market (100 symbols, 2021-01-04..2023-12-29, built through the library as in
tests/models/models_market.py): with signal_strength 0.05 every bar should pass, with 0 at least
one should fail. `--grid production` uses the config's grid and CPCV; `--grid test` the 4-trial,
6-group setup of tests/models/test_research_integrity.py.

Part 3 (`--part planted`): the ceiling of part 2. Per seed, the realised OOS-free rank IC of the planted
signal itself (feat_mom_5, the 5-session trailing return, against the next-session label), the mean
over sessions of the per-session Spearman correlation: what a perfect model would score.

Run: ``.venv/bin/python benchmarks/bench_training.py --part size`` (about 20-40 min on 2 cores) or
``--part seeds --seeds 10 --grid test``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "models"))

from models_market import standin_strategy, synthetic_market  # noqa: E402  (the tests' in-memory market)

from trademl.backtest.production import production_strategy  # noqa: E402

from trademl import calendar  # noqa: E402
from trademl.models.equities_xs import train  # noqa: E402
from trademl.models.evaluation import run_cpcv  # noqa: E402
from trademl.models.settings import CpcvSettings, Trial, training_config  # noqa: E402
from trademl.schemas import EQUITIES_XS_FEATURES  # noqa: E402
from trademl.validation.metrics import information_coefficient  # noqa: E402


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def random_frame(n_symbols: int, n_sessions: int, seed: int = 0) -> pd.DataFrame:
    """Date-major frame of the production shape: float32-rounded random features, a weak planted label."""
    days = calendar.sessions(calendar.previous_session("2024-06-28", n_sessions - 1), "2024-06-28")
    rng = np.random.default_rng(seed)
    n = n_symbols * n_sessions
    frame = pd.DataFrame({"date": np.repeat(days.date, n_symbols), "symbol": np.tile([f"S{i:04d}" for i in range(n_symbols)], n_sessions)})
    for name in EQUITIES_XS_FEATURES:
        frame[name] = rng.standard_normal(n)
    for k, name in ((1, "xs_logret_fwd_1d"), (5, "xs_logret_fwd_5d"), (20, "xs_logret_fwd_20d")):
        frame[name] = 0.0005 * frame["feat_mom_5"].to_numpy() + 0.02 * np.sqrt(k) * rng.standard_normal(n)
    return frame


def label_strategy(frame: pd.DataFrame):
    """Rank long-short (gross 1) earning the 1-session label, 5 bps per unit turnover; vectorised."""
    outcome = frame.pivot(index="date", columns="symbol", values="xs_logret_fwd_1d")

    def strategy(scores: pd.DataFrame) -> pd.Series:
        wide = scores.pivot(index="date", columns="symbol", values="score")
        ranks = wide.rank(axis=1)
        centred = ranks.sub(ranks.mean(axis=1), axis=0)
        w = centred.div(centred.abs().sum(axis=1), axis=0).fillna(0.0)
        gross = (w * outcome.reindex_like(w).fillna(0.0)).sum(axis=1)
        return gross - 5e-4 * w.diff().abs().sum(axis=1).fillna(w.abs().sum(axis=1))

    return strategy


def part_size(n_symbols: int, n_years: int) -> None:
    cfg = dataclasses.replace(training_config(), num_threads=0)
    t0 = time.perf_counter()
    frame = random_frame(n_symbols, 252 * n_years)
    build = time.perf_counter() - t0
    asof = calendar.next_session(frame["date"].max()).date()
    t0 = time.perf_counter()
    one = train(frame, cfg, asof=asof, params=cfg.grid[1].params, label=cfg.grid[1].label, horizon=cfg.grid[1].horizon)
    one_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = run_cpcv(frame, cfg, strategy=label_strategy(frame), asof=asof)
    cpcv = time.perf_counter() - t0
    t0 = time.perf_counter()
    trial = report.selected
    train(frame, cfg, asof=asof, params=trial.params, label=trial.label, horizon=trial.horizon)
    final = time.perf_counter() - t0
    print(f"| rows | {len(frame):,} ({n_symbols} symbols x {frame['date'].nunique():,} sessions x {len(EQUITIES_XS_FEATURES)} features) |")
    print(f"| threads | {cfg.threads} |")
    print(f"| frame build (s) | {build:.1f} |")
    print(f"| one fit, {cfg.grid[1].name} (s) | {one_fit:.1f} |")
    print(f"| run_cpcv: {len(cfg.grid)} trials x {int(report.metrics['n_splits'])} splits + paths + PBO/DSR (s) | {cpcv:.1f} |")
    print(f"| final fit of {trial.name} (s) | {final:.1f} |")
    print(f"| total (s) | {build + cpcv + final:.1f} |")
    print(f"| peak RSS (GiB) | {peak_rss_gib():.2f} |")
    print("metrics:", {k: round(v, 4) for k, v in report.metrics.items()})
    del one


def part_seeds(n_seeds: int, grid: str, strategy_name: str = "production") -> None:
    """The research-integrity sweep: `n_seeds` seeds with the planted 0.05 edge and without one, each
    through CPCV scored by the production strategy (portfolio + cost model) or the simple stand-in."""
    cfg = dataclasses.replace(training_config(), num_threads=1)
    if grid == "test":
        fast = {"num_boost_round": 40, "max_bin": 63, "min_data_in_leaf": 200}
        trials = tuple(
            Trial(f"h{h}_{size}", f"xs_logret_fwd_{h}d", h, {**fast, "num_leaves": leaves})
            for h in (1, 20) for size, leaves in (("shallow", 7), ("deep", 31))
        )
        cfg = dataclasses.replace(cfg, grid=trials, cpcv=CpcvSettings(6, 2, 10, 126))
    print("| strength | seed | oos_sharpe_net | max_drawdown | dsr_margin | pbo | rank_ic_mean | selected | bars failed | s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |")
    for strength in (0.05, 0.0):
        for seed in range(1, n_seeds + 1):
            t0 = time.perf_counter()
            m = synthetic_market(signal_strength=strength, seed=seed, n_symbols=100,
                                 start=pd.Timestamp("2021-01-04").date(), end=pd.Timestamp("2023-12-29").date(),
                                 first_feature=pd.Timestamp("2021-08-02").date())
            strategy = production_strategy(m.panel) if strategy_name == "production" else standin_strategy(m.returns)
            r = run_cpcv(m.frame, cfg, strategy=strategy)
            x = r.metrics
            failed = [n for n, ok in (("sharpe", x["oos_sharpe_net"] >= 1), ("mdd", x["max_drawdown"] <= 0.2),
                                      ("dsr", x["dsr_margin"] > 0), ("pbo", x["pbo"] <= 0.05)) if not ok]
            print(f"| {strength} | {seed} | {x['oos_sharpe_net']:.2f} | {x['max_drawdown']:.3f} | {x['dsr_margin']:.2f} | "
                  f"{x['pbo']:.3f} | {x['rank_ic_mean']:.4f} | {r.selected.name} | {','.join(failed) or '-'} | {time.perf_counter() - t0:.0f} |", flush=True)


def planted_rank_ic(frame: pd.DataFrame, feature: str = "feat_mom_5", label: str = "xs_logret_fwd_1d") -> float:
    """Mean over sessions of Spearman(feature, label) across symbols (the per-session rank IC)."""
    return float(information_coefficient(frame[feature], frame[label], frame["date"], method="spearman").mean())


def part_planted(n_seeds: int, n_symbols: int) -> None:
    """The realised rank IC of the planted 0.05 signal per seed on the embedded market (a perfect model's IC)."""
    print("| seed | symbols | sessions | planted rank IC realised | s |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    values = []
    for seed in range(1, n_seeds + 1):
        t0 = time.perf_counter()
        m = synthetic_market(signal_strength=0.05, seed=seed, n_symbols=n_symbols,
                             start=pd.Timestamp("2021-01-04").date(), end=pd.Timestamp("2023-12-29").date(),
                             first_feature=pd.Timestamp("2021-08-02").date())
        values.append(planted_rank_ic(m.frame))
        print(f"| {seed} | {n_symbols} | {m.frame['date'].nunique()} | {values[-1]:.4f} | {time.perf_counter() - t0:.0f} |", flush=True)
    print(f"mean {np.mean(values):.4f}, standard error {np.std(values, ddof=1) / np.sqrt(len(values)):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["size", "seeds", "planted"], default="size")
    parser.add_argument("--symbols", type=int, default=None, help="default 500 for size, 100 for planted")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--grid", choices=["test", "production"], default="test")
    parser.add_argument("--strategy", choices=["production", "standin"], default="production")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    if args.part == "size":
        part_size(args.symbols or 500, args.years)
    elif args.part == "planted":
        part_planted(args.seeds, args.symbols or 100)
    else:
        part_seeds(args.seeds, args.grid, args.strategy)


if __name__ == "__main__":
    main()
