"""configs/ingest.yml read once through IngestSettings: per-dataset values, defaults, clear errors."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl.data.edge import dataset_units
from trademl.data.ingest import IngestSettings, chunk_sessions, ingest_settings

DOC = {
    "chunk_sessions": {"equities_minute": 5, "default": 260},
    "ledger_batch_partitions": 16,
    "large_revision_frac": {"default": 0.1, "macros_fred": None},
}


def test_a_dataset_named_in_a_field_takes_its_own_value_and_others_the_default():
    settings = IngestSettings.from_config(DOC)
    assert (settings.chunk_sessions_for("equities_minute"), settings.chunk_sessions_for("equities_eod")) == (5, 260)


def test_a_single_number_applies_to_every_dataset():
    assert IngestSettings.from_config(DOC).ledger_batch_partitions_for("options_chains") == 16


def test_a_null_revision_share_turns_the_guard_off_for_that_dataset():
    settings = IngestSettings.from_config(DOC)
    assert (settings.large_revision_frac_for("macros_fred"), settings.large_revision_frac_for("equities_eod")) == (None, 0.1)


def test_a_missing_field_is_an_error_naming_the_file_and_the_field():
    doc = {k: v for k, v in DOC.items() if k != "ledger_batch_partitions"}
    with pytest.raises(ValueError, match=r"configs/ingest.yml has no 'ledger_batch_partitions'"):
        IngestSettings.from_config(doc)


def test_a_chunk_of_zero_sessions_is_an_error_naming_the_dataset_entry():
    with pytest.raises(ValueError, match=r"configs/ingest.yml chunk_sessions.equities_minute must be a whole number >= 1, got 0"):
        IngestSettings.from_config({**DOC, "chunk_sessions": {"equities_minute": 0, "default": 260}})


def test_a_revision_share_above_one_is_an_error():
    with pytest.raises(ValueError, match=r"configs/ingest.yml large_revision_frac.default must lie in \[0, 1\] or be null, got 1.5"):
        IngestSettings.from_config({**DOC, "large_revision_frac": {"default": 1.5}})


def test_a_dataset_without_an_entry_or_default_is_an_error_naming_it():
    settings = IngestSettings.from_config({**DOC, "chunk_sessions": {"equities_minute": 5}})
    with pytest.raises(ValueError, match=r"configs/ingest.yml chunk_sessions has no entry for 'equities_eod' and no 'default'"):
        settings.chunk_sessions_for("equities_eod")


def test_the_project_config_chunks_minute_bars_by_five_sessions():
    assert (ingest_settings().chunk_sessions_for("equities_minute"), chunk_sessions("equities_eod")) == (5, 260)


def test_edge_units_chunk_sessions_as_configs_ingest_yml_says(tmp_path, monkeypatch):
    configs = tmp_path / "configs"
    shutil.copytree(REPO_ROOT / "configs", configs)
    doc = yaml.safe_load((configs / "ingest.yml").read_text())
    doc["chunk_sessions"]["equities_minute"] = 3
    (configs / "ingest.yml").write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("TRADEML_CONFIG_DIR", str(configs))
    units = dataset_units("equities_minute", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=["AAPL"], execute=lambda v, r: r)
    assert [(u.run().start, u.run().end) for u in units] == [(dt.date(2024, 3, 4), dt.date(2024, 3, 6)), (dt.date(2024, 3, 7), dt.date(2024, 3, 8))]
