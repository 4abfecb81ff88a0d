"""`trademl materialize --select KEYS|group:NAME --start D --end D`: a session range of any
partitioned assets as ONE run on the project's instance, with progress and per-session colours;
user errors are one line and exit 2.

Errors run in-process through `trademl_jobs.cli.main`; the runs drive the real console script in a
subprocess from a directory that is not the checkout, on the isolated `node` (6-symbol synthetic
market, outages off unless a test turns one on).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from trademl.data.lake import Lake
from trademl_jobs.cli import main
from trademl_jobs.cli.args import CliError
from trademl_jobs.cli.materialize import resolve_selection, session_partitions_of, session_range
from trademl_jobs.definitions import build_definitions
from trademl_jobs.jobs import MATERIALIZE_GROUPS

TRADEML = Path(sys.executable).with_name("trademl")
REPO_ROOT = Path(__file__).resolve().parents[2]
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
DAYS = dg.TimeWindowPartitionsDefinition(
    start="2025-03-03", end="2025-03-10", fmt="%Y-%m-%d", cron_schedule="0 0 * * 1-5", timezone="America/New_York"
)  # the sessions 2025-03-03..2025-03-07


@pytest.fixture
def run(node, tmp_path):
    """`trademl *argv` from tmp_path/elsewhere (not the checkout) with the node's environment."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()

    def _run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(TRADEML), *argv], cwd=cwd, env=dict(os.environ), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)

    return _run


def _error(capsys, *argv: str) -> str:
    """The stderr of `trademl materialize *argv`, which must be a one-line user error (exit 2)."""
    code = main(["materialize", *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("trademl: error: ") and err.count("\n") == 1, err
    return err


def test_unknown_asset_key_is_one_line_naming_it_and_its_close_matches(node, capsys):
    err = _error(capsys, "--select", "raw/equities_barz", "--start", "2025-03-03", "--end", "2025-03-04")
    assert "unknown asset key 'raw/equities_barz'; close matches: raw/equities_bars" in err


def test_unknown_group_is_one_line_listing_the_known_groups(node, capsys):
    err = _error(capsys, "--select", "group:featurez", "--start", "2025-03-03", "--end", "2025-03-04")
    assert "unknown group 'featurez'" in err
    assert "known groups: " in err and "raw, reference" in err


def test_reversed_range_is_one_line_naming_both_bounds(node, capsys):
    err = _error(capsys, "--select", "raw/equities_bars", "--start", "2025-03-05", "--end", "2025-03-04")
    assert "--end 2025-03-04 is before --start 2025-03-05" in err


def test_a_weekend_range_has_no_session_and_is_refused(node, capsys):
    err = _error(capsys, "--select", "raw/equities_bars", "--start", "2025-03-08", "--end", "2025-03-09")
    assert "no XNYS session between 2025-03-08 and 2025-03-09" in err


def test_start_before_the_first_partition_names_that_partition(node, capsys):
    err = _error(capsys, "--select", "raw/equities_bars", "--start", "2009-12-31", "--end", "2010-01-05")
    assert "--start 2009-12-31 is before the first session partition 2010-01-04" in err


def test_end_after_the_last_partition_names_it():
    with pytest.raises(CliError, match="--end 2025-03-11 is after the last session partition 2025-03-07"):
        session_range(dt.date(2025, 3, 3), dt.date(2025, 3, 11), DAYS)


def test_an_unknown_vendor_is_one_line_listing_the_known_ones(node, capsys):
    err = _error(capsys, "--select", "raw/equities_bars", "--start", "2025-03-03", "--end", "2025-03-04", "--vendor", "acme")
    assert "unknown vendor 'acme'; known vendors: " in err


@dg.asset(key=["features", "feature_metadata"], group_name="features")
def _feature_metadata() -> None:
    return None


@dg.asset(key=["features", "equities_xs"], group_name="features", partitions_def=DAYS)
def _features_xs() -> None:
    return None


def test_a_selection_of_only_unpartitioned_assets_is_refused_by_name():
    defs = dg.Definitions(assets=[_feature_metadata, _features_xs])
    with pytest.raises(CliError, match="features/feature_metadata is not partitioned by session"):
        session_partitions_of(defs, resolve_selection(defs, "features/feature_metadata"))


def test_unpartitioned_assets_of_a_group_are_left_out_of_the_session_run():
    defs = dg.Definitions(assets=[_feature_metadata, _features_xs])
    partitions, keys = session_partitions_of(defs, resolve_selection(defs, "group:features"))
    assert keys == [dg.AssetKey(["features", "equities_xs"])]
    assert partitions.get_first_partition_key() == "2025-03-03"


def test_a_range_is_trimmed_to_its_first_and_last_session():
    assert session_range(dt.date(2025, 3, 1), dt.date(2025, 3, 9)) == ("2025-03-03", "2025-03-07", 5)


def test_group_reference_resolves_to_the_reference_assets(node):
    keys = resolve_selection(build_definitions("synthetic"), "group:reference")
    assert [k.to_user_string() for k in keys] == [
        "reference/calendars", "reference/corp_actions", "reference/delistings", "reference/earnings_calendar",
        "reference/index_membership", "reference/shares_outstanding", "reference/tick_size_regime", "reference/universe",
    ]


def test_an_upstream_asset_that_is_not_defined_cannot_be_selected():
    @dg.asset(key=["features", "equities_xs"], deps=[dg.AssetKey(["curated", "equities_ohlcv_adj"])], group_name="features")
    def xs() -> None:
        return None

    with pytest.raises(CliError, match=r"unknown asset key 'curated/equities_ohlcv_adj'; .*known groups: features \(select"):
        resolve_selection(dg.Definitions(assets=[xs]), "curated/equities_ohlcv_adj")


def test_keys_and_groups_resolve_in_the_order_given_each_once(node):
    keys = resolve_selection(build_definitions("synthetic"), "reference/universe, group:reference,raw/equities_bars")
    names = [k.to_user_string() for k in keys]
    assert names[0] == "reference/universe" and names[-1] == "raw/equities_bars"
    assert len(names) == len(set(names)) == 9  # the 8 reference assets and the bars


def test_materialize_job_selects_every_asset_of_the_session_partitioned_groups(node):
    defs = build_definitions("synthetic")
    graph = defs.resolve_asset_graph()
    job_keys = set(defs.resolve_job_def("materialize_job").asset_layer.executable_asset_keys)
    layers = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name in MATERIALIZE_GROUPS}
    assert job_keys == layers  # a group not built yet selects nothing instead of failing
    assert {dg.AssetKey(["raw", "equities_bars"]), dg.AssetKey(["reference", "universe"]), dg.AssetKey(["models", "equities_xs"]),
            dg.AssetKey(["reports", "daily"])} <= job_keys


@pytest.fixture(scope="module")
def bars_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict[str, Path]]:
    """`trademl materialize --select raw/equities_bars --start 2025-03-03 --end 2025-03-05`, run once
    for the tests that read its output, lake and instance (a node like `node`, built for the module)."""
    root = tmp_path_factory.mktemp("materialize")
    paths = {"data_root": root / "data_layer", "dagster_home": root / "dagster_home"}
    env = {k: v for k, v in os.environ.items() if k != "DB_URI"}
    env.update(TRADEML_DATA_ROOT=str(paths["data_root"]), DAGSTER_HOME=str(paths["dagster_home"]), TRADEML_VENDOR="synthetic",
               TRADEML_SYNTHETIC_N_SYMBOLS="6", TRADEML_SYNTHETIC_OUTAGES="off")
    (root / "elsewhere").mkdir()
    proc = subprocess.run([str(TRADEML), "materialize", "--select", "raw/equities_bars", "--start", "2025-03-03", "--end", "2025-03-05"],
                          cwd=root / "elsewhere", env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    return proc, paths


def test_a_range_of_bars_is_one_run_that_materializes_exactly_those_sessions(bars_run):
    proc, paths = bars_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert Lake(paths["data_root"]).partitions("raw/equities_bars") == [dt.date(2025, 3, d) for d in (3, 4, 5)]
    instance = dg.DagsterInstance.from_config(str(paths["dagster_home"]))
    (dagster_run,) = instance.get_runs()
    assert dagster_run.job_name == "materialize_job"
    assert (dagster_run.tags[RANGE_START], dagster_run.tags[RANGE_END]) == ("2025-03-03", "2025-03-05")
    assert dagster_run.asset_selection == {dg.AssetKey(["raw", "equities_bars"])}


def test_a_run_prints_a_line_per_step_start_and_finish_then_the_check_colours(bars_run):
    lines = bars_run[0].stdout.splitlines()
    assert lines[0] == "materializing raw/equities_bars over 2025-03-03..2025-03-05 (3 sessions) from synthetic, as one run"
    steps = [line.split("s  ", 1)[1] for line in lines[1:5]]  # after the "+N.Ns" elapsed column
    assert steps[0] == "step 1/2 started: raw__equities_bars"
    assert steps[1].startswith("succeeded in ") and steps[1].endswith(
        ": raw__equities_bars, 3 partitions materialized (1/2 steps done)")
    assert steps[2] == "step 2/2 started: raw__equities_bars_qc_coverage"
    assert steps[3].endswith(": raw__equities_bars_qc_coverage, GREEN 3 AMBER 0 RED 0 (2/2 steps done)")
    assert "raw/equities_bars: GREEN 3  AMBER 0  RED 0 (sessions; check qc_coverage)" in lines
    assert lines[-1].startswith("run ") and " succeeded in " in lines[-1]


def test_a_run_prints_no_dagster_warnings_or_tracebacks(bars_run):
    assert bars_run[0].stderr == ""


def test_a_red_blocking_check_fails_the_run_with_one_line_naming_the_stopped_steps(run, tmp_path, monkeypatch):
    configs = tmp_path / "configs"
    shutil.copytree(REPO_ROOT / "configs", configs)
    (configs / "env" / "local").mkdir(parents=True, exist_ok=True)
    (configs / "env" / "local" / "synthetic.yml").write_text(yaml.safe_dump({"outages": [
        {"name": "universe-outage", "datasets": ["universe"], "sessions": ["2025-03-05"], "failures": 5, "mode": "omit"},
    ]}))
    monkeypatch.setenv("TRADEML_CONFIG_DIR", str(configs))
    monkeypatch.setenv("TRADEML_ENV", "local")
    monkeypatch.setenv("TRADEML_SYNTHETIC_OUTAGES", "on")

    proc = run("materialize", "--select", "reference/universe,raw/equities_bars", "--start", "2025-03-03", "--end", "2025-03-07")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "reference/universe: GREEN 4  AMBER 0  RED 1 (sessions; check qc_coverage)" in lines
    assert "  RED 2025-03-05 (1 session): VENDOR_OUTAGE" in lines
    assert "raw/equities_bars: not run (stopped by a failed step or a RED blocking check upstream)" in lines
    assert lines[-1].endswith(": RED sessions in reference/universe (blocking check), which stopped 2 downstream step(s): "
                              "raw__equities_bars, raw__equities_bars_qc_coverage")
    assert "Traceback" not in proc.stdout + proc.stderr
