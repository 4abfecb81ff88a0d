"""`trademl train | evaluate | promote | report`: refusals are one line (exit 2) naming the cause.

The whole loop (a real training run, promotion and report) runs in the README's demo test; these
are the user-facing refusals, in-process through `trademl_jobs.cli.main` on an isolated node.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from trademl import calendar
from trademl.data import control
from trademl.models.readiness import training_gate
from trademl_jobs.cli import main

ASOF = dt.date(2025, 6, 30)


def _error(capsys, *argv: str) -> str:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("trademl: error: ") and err.count("\n") == 1, err
    return err


def _ledger(node, red: tuple[dt.date, ...] = ()) -> None:
    engine = control.make_engine(node["db_uri"])
    days = [d.date() for d in calendar.sessions(calendar.previous_session(ASOF, 80), ASOF)]
    rows = []
    for dep in training_gate("equities_xs").dependencies:
        for d in days[: len(days) - dep.lag_sessions]:
            status = "RED" if (d in red and dep.table == "curated/equities_ohlcv_adj") else "GREEN"
            rows.append({"source_name": "t", "table_name": dep.table, "symbol": None, "dt": pd.Timestamp(d),
                         "partition_key": None, "status": status, "qc_score": 1.0, "row_count": 1,
                         "expected_rows": None, "qc_code": None if status == "GREEN" else "MISSING_ROWS"})
    control.upsert_partition_status(engine, pd.DataFrame(rows))
    engine.dispose()


def test_train_with_no_ledger_rows_says_to_ingest_first(node, capsys):
    err = _error(capsys, "train", "equities_xs")
    assert "its inputs have no ledger rows yet" in err


def test_train_refuses_in_one_line_naming_the_short_table_and_its_green_share(node, capsys):
    _ledger(node, red=(dt.date(2025, 6, 25), dt.date(2025, 6, 26)))
    err = _error(capsys, "train", "equities_xs", "--lookback", "50")
    first = calendar.previous_session(ASOF, 49).date()
    assert err == (f"trademl: error: not training equities_xs as of {ASOF}: curated/equities_ohlcv_adj is 96.0% GREEN "
                   f"over {first}..{ASOF} (48 of 50 sessions), needs 98.0%\n")


def test_train_refuses_a_window_longer_than_the_ledger(node, capsys):
    _ledger(node)
    err = _error(capsys, "train", "equities_xs")  # the configured 756-session window
    assert f"not training equities_xs as of {ASOF}:" in err and "needs 98.0%" in err


def test_evaluate_without_a_challenger_says_to_train_first(node, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    err = _error(capsys, "evaluate", "equities_xs")
    assert "has no challenger yet: `trademl train equities_xs` first" in err


def test_report_refuses_a_day_that_is_not_a_session(node, capsys):
    err = _error(capsys, "report", "--asof", "2025-07-04")
    assert "--asof 2025-07-04 is not an XNYS session" in err


def test_report_refuses_an_out_path_outside_the_data_root(node, capsys, tmp_path):
    err = _error(capsys, "report", "--asof", "2025-06-30", "--out", str(tmp_path.parent / "elsewhere"))
    assert "outside" in err


def test_evaluate_prints_both_versions_and_the_refusal_from_the_runs_observation():
    from trademl_jobs.cli.models import _evaluation_lines

    lines = _evaluation_lines({
        "challenger_version": "3", "champion_version": "2", "champion_on_challenger_paths": True,
        "challenger_metrics": {"oos_sharpe_net": 1.2}, "champion_metrics": {"oos_sharpe_net": 1.5},
        "evaluation": "would be refused", "green": False, "green_reason": "features/equities_xs is 90.0% GREEN",
        "reason": "refused: must_beat_champion: oos_sharpe_net 1.2 does not beat the champion's 1.5",
    })
    assert lines == [
        "challenger v3:", "  oos_sharpe_net   1.2000",
        "champion v2 (on the challenger’s paths):", "  oos_sharpe_net   1.5000",
        "a promotion now would be refused: must_beat_champion: oos_sharpe_net 1.2 does not beat the champion's 1.5"
        " (features/equities_xs is 90.0% GREEN)",
    ]


def test_evaluate_without_a_champion_says_so_and_what_a_promotion_would_do():
    from trademl_jobs.cli.models import _evaluation_lines

    lines = _evaluation_lines({
        "challenger_version": "1", "champion_version": "none", "champion_on_challenger_paths": False,
        "challenger_metrics": {"pbo": 0.01}, "champion_metrics": {}, "evaluation": "would be promoted", "green": True,
        "green_reason": "", "reason": "every bar passed: pbo 0.01 <= 0.05",
    })
    assert lines[2:] == ["no champion yet", "a promotion now would be accepted: every bar passes: pbo 0.01 <= 0.05"]
