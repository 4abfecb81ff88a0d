"""Where the data root and the Dagster home live: fixed by the checkout or the user config, never the cwd."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trademl.config import REPO_ROOT, path_sources, settings


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current directory outside the checkout, no path variables set and an empty user config home."""
    for var in ("TRADEML_DATA_ROOT", "DAGSTER_HOME", "TRADEML_CONFIG_DIR", "DB_URI"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    cwd = tmp_path / "somewhere_else"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def _write_user_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xdg" / "trademl" / "config.yml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_data_root_defaults_to_the_checkout_whatever_the_current_directory(elsewhere):
    s = settings()
    assert s.data_root == REPO_ROOT / "data_layer"
    assert s.db_uri == f"sqlite:///{REPO_ROOT / 'data_layer' / 'control' / 'node.sqlite'}"
    assert path_sources()["data_root"] == (REPO_ROOT / "data_layer", "checkout default")


def test_dagster_home_defaults_to_the_checkout_whatever_the_current_directory(elsewhere):
    assert settings().dagster_home == REPO_ROOT / ".dagster_home"


def test_user_config_sets_the_paths_relative_to_its_own_folder(elsewhere, tmp_path):
    path = _write_user_config(tmp_path, "data_root: lakes/main\ndagster_home: /srv/dagster\n")
    s = settings()
    assert s.data_root == path.parent / "lakes" / "main"
    assert s.dagster_home == Path("/srv/dagster")
    assert path_sources()["data_root"][1] == f"user config {path}"


def test_environment_variable_wins_over_the_user_config(elsewhere, tmp_path, monkeypatch):
    _write_user_config(tmp_path, "data_root: /from/user/config\n")
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(tmp_path / "from_env"))
    assert path_sources()["data_root"] == (tmp_path / "from_env", "env TRADEML_DATA_ROOT")


def test_user_config_with_an_unknown_key_is_an_error_naming_the_file(elsewhere, tmp_path):
    path = _write_user_config(tmp_path, "data_rot: /typo\n")
    with pytest.raises(ValueError, match=f"user config {path}: unknown key\\(s\\) data_rot"):
        settings()


def test_relative_environment_value_is_resolved_once_against_the_first_directory(elsewhere, monkeypatch):
    monkeypatch.setenv("TRADEML_DATA_ROOT", "my_lake")
    first = settings().data_root
    monkeypatch.chdir(elsewhere.parent)
    assert settings().data_root == first == elsewhere / "my_lake"
    assert os.environ["TRADEML_DATA_ROOT"] == str(elsewhere / "my_lake")  # subprocesses see the same folder
    assert path_sources()["data_root"][1] == f"env TRADEML_DATA_ROOT (relative 'my_lake', resolved against {elsewhere})"
