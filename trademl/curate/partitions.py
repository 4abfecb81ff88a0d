"""curated/equities_ohlcv_adj's session partitions: a range curated, judged and stored ledger-first.

The body of the curated asset (trademl_assets/curated.py): `build_curated` builds the rows of the
range from raw bars, corporate actions and delistings, and `run_layer_build` stores them with one
ledger row per session (source ``curator``): RED when raw/equities_bars is RED or has no bar for the
session, or a blocking corporate-action problem hit it; AMBER when the corporate actions are
AMBER/RED/missing for the session (the adjustment may miss an event) or a non-blocking problem.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine

from trademl.curate.store import CORP_ACTIONS, CURATED, RAW_BARS, build_curated
from trademl.data.lake import Lake
from trademl.data.layer_build import BuildOutput, LayerBuild, run_layer_build
from trademl.data.layer_output import LayerReport

SOURCE = "curator"


def curated_layer(lake: Lake, engine: Engine) -> LayerBuild:
    """The build of curated/equities_ohlcv_adj. No point-in-time spot check: a session's factors are
    seeded from the stored row before it, which a rebuild of one mid-range session would not see yet
    (the PIT property of the adjustment itself is proven in tests/curate)."""

    def build(sessions: list[dt.date], known_through: dt.date | None = None) -> BuildOutput:
        out = build_curated(sessions[0], sessions[-1], lake=lake, engine=engine)
        not_built = {d: ("NO_INPUT", "no raw/equities_bars row for the session") for d in out.missing_input}
        return BuildOutput(frame=out.rows, problems=out.problems, not_built=not_built)

    return LayerBuild(
        table=CURATED, source=SOURCE, build=build, inputs=(RAW_BARS,), marginal_inputs=(CORP_ACTIONS,), spot_checks=0
    )


def curate_sessions(first: str, last: str, *, lake: Lake, engine: Engine) -> LayerReport:
    """Materialize curated/equities_ohlcv_adj for the sessions of [first, last]."""
    return run_layer_build(curated_layer(lake, engine), first, last, lake=lake, engine=engine)
