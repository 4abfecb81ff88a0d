"""Layered configuration (SSOT 1.4): configs/<name>.yml < configs/env/<env>/<name>.yml < environment.

`settings()` returns the runtime settings read from the environment (paths, DB URI, vendor);
`load_config(name)` returns one YAML document merged with its environment override. Secrets are
never read here: connectors read their keys from the environment at call time.
"""

from __future__ import annotations

import copy
import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = ("local", "dev", "prod", "ci")


def config_dir() -> Path:
    """Directory holding the YAML configs: $TRADEML_CONFIG_DIR or the repository's configs/."""
    return Path(os.environ.get("TRADEML_CONFIG_DIR", REPO_ROOT / "configs"))


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`base` with `override` merged in: nested mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    """The mapping in `path`; parsed once per file version (path, mtime, size) and copied on each read."""
    st = path.stat()
    return copy.deepcopy(_parse_yaml(str(path), st.st_mtime_ns, st.st_size))


@lru_cache(maxsize=128)
def _parse_yaml(path: str, _mtime_ns: int, _size: int) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"config file {path} must hold a mapping at top level")
    return doc


def load_config(name: str, env: str | None = None) -> dict[str, Any]:
    """The YAML config `name` (e.g. "backfill") merged with configs/env/<env>/<name>.yml when present."""
    env = env or os.environ.get("TRADEML_ENV", "local")
    base_path = config_dir() / f"{name}.yml"
    if not base_path.exists():
        known = sorted(p.stem for p in config_dir().glob("*.yml"))
        raise ValueError(f"no config named {name!r} in {config_dir()} (known: {', '.join(known)})")
    doc = _read_yaml(base_path)
    override = config_dir() / "env" / env / f"{name}.yml"
    if override.exists():
        doc = deep_merge(doc, _read_yaml(override))
    return doc


def _config_stamp(name: str) -> tuple:
    """What a config's content depends on: its name, the environment and both files' mtimes."""
    base = config_dir()
    env = os.environ.get("TRADEML_ENV", "local")
    stamps = []
    for path in (base / f"{name}.yml", base / "env" / env / f"{name}.yml"):
        try:
            stamps.append((str(path), path.stat().st_mtime_ns))
        except FileNotFoundError:
            stamps.append((str(path), None))
    return (name, env, *stamps)


@lru_cache(maxsize=32)
def _snapshot(stamp: tuple) -> Mapping[str, Any]:
    return load_config(stamp[0], env=stamp[1])


def config_snapshot(name: str) -> Mapping[str, Any]:
    """`load_config(name)`, cached until configs/<name>.yml or its env override changes (mtime).

    The queue and QC read their configs on every call (leases, per-session QC); parsing and
    merging YAML each time would dominate. Treat the returned mapping as read-only.
    """
    return _snapshot(_config_stamp(name))


T = TypeVar("T")


@lru_cache(maxsize=64)
def _typed(model: Any, stamp: tuple, section: str | None) -> Any:
    doc = _snapshot(stamp)
    if section is not None:
        if not isinstance(doc.get(section), Mapping):
            raise ValueError(f"configs/{stamp[0]}.yml has no `{section}:` section")
        doc = doc[section]
    return model.from_config(doc)


def typed_config(model: type[T], name: str, section: str | None = None) -> T:
    """`model.from_config(...)` of configs/<name>.yml (or of its `section:`), built once per file
    version: the one way a layer reads its typed settings (frozen dataclasses validating their
    fields, like `QcRules`)."""
    return _typed(model, _config_stamp(name), section)


@dataclass(frozen=True)
class Settings:
    """Runtime settings from the environment, with the embedded single-machine defaults."""

    env: str
    data_root: Path
    dagster_home: Path
    db_uri: str
    vendor: str
    node_id: str

    @property
    def control_db_path(self) -> Path:
        return self.data_root / "control" / "node.sqlite"

    @property
    def exports_dir(self) -> Path:
        return self.data_root / "exports"


USER_CONFIG_KEYS = ("data_root", "dagster_home")
CHECKOUT_DEFAULT = "checkout default"
# Path settings: (the Settings field, its environment variable, its default relative to the checkout).
_PATH_SETTINGS = (("data_root", "TRADEML_DATA_ROOT", "data_layer"), ("dagster_home", "DAGSTER_HOME", ".dagster_home"))
_PATH_VARIABLES = ("TRADEML_DATA_ROOT", "DAGSTER_HOME", "TRADEML_CONFIG_DIR")
# Relative values found in the environment: variable -> (value as given, directory resolved in, absolute path).
_RESOLVED_RELATIVE: dict[str, tuple[str, str, str]] = {}


def user_config_path() -> Path:
    """The optional user config: $XDG_CONFIG_HOME/trademl/config.yml (default ~/.config/trademl/config.yml).

    It may set `data_root` and `dagster_home` (relative values resolve against the file's own
    folder), so every checkout and every working directory of one user shares one lake.
    """
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "trademl" / "config.yml"


def user_config() -> dict[str, Any]:
    """The user config's mapping ({} when the file does not exist); unknown keys are an error."""
    path = user_config_path()
    if not path.is_file():
        return {}
    doc = _read_yaml(path)
    unknown = sorted(set(doc) - set(USER_CONFIG_KEYS))
    if unknown:
        raise ValueError(f"user config {path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(USER_CONFIG_KEYS)}")
    return doc


def resolve_relative_path_variables() -> list[str]:
    """Make relative TRADEML_DATA_ROOT / DAGSTER_HOME / TRADEML_CONFIG_DIR absolute, once, in os.environ.

    A relative value is resolved against the current directory the first time it is seen and
    written back, so a later chdir, `dagster dev` (started in the checkout) and every subprocess
    use the same folder. Returns one sentence per variable resolved now (the CLI prints them).
    """
    notes = []
    for var in _PATH_VARIABLES:
        raw = os.environ.get(var)
        if not raw or Path(raw).expanduser().is_absolute():
            continue
        cwd = os.getcwd()
        absolute = str(Path(raw).expanduser().resolve())
        _RESOLVED_RELATIVE[var] = (raw, cwd, absolute)
        os.environ[var] = absolute
        notes.append(f"{var}={raw} is relative: using {absolute} (resolved against {cwd})")
    return notes


def path_sources() -> dict[str, tuple[Path, str]]:
    """Each path setting (`data_root`, `dagster_home`, `config_dir`) with where it came from:
    "env VAR" (plus the relative value it was resolved from), "user config <file>" or "checkout default".

    Precedence: environment variable > user config (`user_config_path()`) > the checkout
    (REPO_ROOT/data_layer, REPO_ROOT/.dagster_home, REPO_ROOT/configs), never the current directory.
    """
    resolve_relative_path_variables()
    doc = user_config()
    out: dict[str, tuple[Path, str]] = {}
    for key, var, default in _PATH_SETTINGS:
        if os.environ.get(var):
            out[key] = (Path(os.environ[var]).expanduser().resolve(), _env_source(var))
        elif doc.get(key):
            path = user_config_path()
            out[key] = ((path.parent / Path(str(doc[key])).expanduser()).resolve(), f"user config {path}")
        else:
            out[key] = (REPO_ROOT / default, CHECKOUT_DEFAULT)
    env_dir = os.environ.get("TRADEML_CONFIG_DIR")
    out["config_dir"] = (
        (Path(env_dir).resolve(), _env_source("TRADEML_CONFIG_DIR")) if env_dir else (REPO_ROOT / "configs", CHECKOUT_DEFAULT)
    )
    return out


def _env_source(var: str) -> str:
    """`env VAR`, naming the relative value and directory when this process resolved it."""
    raw, cwd, absolute = _RESOLVED_RELATIVE.get(var, ("", "", ""))
    if absolute and os.environ.get(var) == absolute:
        return f"env {var} (relative {raw!r}, resolved against {cwd})"
    return f"env {var}"


def settings() -> Settings:
    """Read TRADEML_ENV, TRADEML_DATA_ROOT, DAGSTER_HOME, DB_URI, TRADEML_VENDOR and EDGE_NODE_ID.

    The data root and the Dagster home come from `path_sources()`: environment, else the user
    config, else the checkout's data_layer/ and .dagster_home/ — the same folders whatever the
    current directory (`trademl where` prints them and their sources).
    """
    env = os.environ.get("TRADEML_ENV", "local")
    if env not in ENVIRONMENTS:
        raise ValueError(f"TRADEML_ENV={env!r} is not one of {ENVIRONMENTS}")
    paths = path_sources()
    data_root, dagster_home = paths["data_root"][0], paths["dagster_home"][0]
    default_db = f"sqlite:///{data_root / 'control' / 'node.sqlite'}"
    return Settings(
        env=env,
        data_root=data_root,
        dagster_home=dagster_home,
        db_uri=os.environ.get("DB_URI") or default_db,
        vendor=os.environ.get("TRADEML_VENDOR", "synthetic"),
        node_id=os.environ.get("EDGE_NODE_ID") or socket.gethostname(),
    )


def env_flag(name: str, default: bool = False) -> bool:
    """A boolean environment flag ("1", "true", "yes" are true)."""
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in {"1", "true", "yes", "on"}


_REQUIRED: Any = object()


def config_value(
    doc: Mapping[str, Any], key: str, kind: Callable[[Any], T], *, name: str, path: str = "", default: Any = _REQUIRED
) -> T:
    """`kind(doc[key])`: one field of a typed config, for the `from_config` of its frozen dataclass.

    `name` is the config ("edge" for configs/edge.yml) and `path` the dotted place of `doc` in it
    ("budgets.alpaca"), so a missing or malformed field raises one ValueError naming file and field:
    ``configs/edge.yml budgets.alpaca.burst: expected float, got 'many'``. An absent or null field
    gives `default` when one is given.
    """
    where = f"configs/{name}.yml {path + '.' if path else ''}{key}"
    if not isinstance(doc, Mapping):
        raise ValueError(f"configs/{name}.yml {path or 'top level'}: expected a mapping, got {doc!r}")
    value = doc.get(key)
    if value is None:
        if default is _REQUIRED:
            raise ValueError(f"{where} is missing")
        return default
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected {getattr(kind, '__name__', 'a valid value')}, got {value!r}") from None


def sanitize_out_path(
    candidate: str | os.PathLike[str] | None, default_path: Path, *, allow_outside: bool = False, base: Path | None = None
) -> Path:
    """The output path to write: `candidate` (or `default_path` when None/empty), resolved, inside the data root.

    Relative candidates resolve against `base` (default: the data root, `settings().data_root`; e.g.
    its exports/ folder); symlinks and `..` are resolved before the check, so neither can lead a write
    out of the root. Anything outside raises ValueError naming the root, unless `allow_outside` (an
    explicit user choice). The parent directory is created (spec 000).
    """
    root = settings().data_root.resolve()
    raw = default_path if candidate is None or str(candidate) == "" else Path(candidate).expanduser()
    path = Path(raw) if Path(raw).is_absolute() else (base or root) / raw
    resolved = path.resolve()
    if not allow_outside and not resolved.is_relative_to(root):
        raise ValueError(
            f"output path {str(candidate if candidate else default_path)!r} resolves to {resolved}, outside the data root {root}; "
            "choose a path under the data root (or allow writing outside it explicitly)"
        )
    resolved.parent.mkdir(parents=True, exist_ok=True)
    return resolved
