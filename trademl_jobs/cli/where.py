"""`trademl where`: every folder and database the commands read and write, and where each came from.

Paths never depend on the current directory (trademl.config.path_sources): an environment
variable wins, then the user config ($XDG_CONFIG_HOME/trademl/config.yml), then the checkout.
The control db URI is printed with its password masked (trademl.data.http's `scrub`).
"""

from __future__ import annotations

import argparse
import json
import os

from trademl.config import path_sources, settings, user_config_path
from trademl_jobs.cli.args import say


def where_payload() -> dict[str, dict]:
    """The `trademl where --json` document: for each setting its `value`, `source` and, for
    folders, whether it `exists` (nothing here creates a folder)."""
    from trademl.data.http import scrub

    s = settings()
    paths = path_sources()
    out: dict[str, dict] = {}
    for key in ("config_dir", "data_root"):
        value, source = paths[key]
        out[key] = {"value": str(value), "source": source, "exists": value.is_dir()}
    out["control_db"] = {
        "value": scrub(s.db_uri),
        "source": "env DB_URI" if os.environ.get("DB_URI") else "the data root's control/node.sqlite",
    }
    if not os.environ.get("DB_URI"):
        out["control_db"]["exists"] = s.control_db_path.is_file()
    home, source = paths["dagster_home"]
    out["dagster_home"] = {"value": str(home), "source": source, "exists": home.is_dir()}
    out["vendor"] = {"value": s.vendor, "source": "env TRADEML_VENDOR" if os.environ.get("TRADEML_VENDOR") else "default"}
    out["env"] = {"value": s.env, "source": "env TRADEML_ENV" if os.environ.get("TRADEML_ENV") else "default"}
    user = user_config_path()
    out["user_config"] = {
        "value": str(user),
        "source": "env XDG_CONFIG_HOME" if os.environ.get("XDG_CONFIG_HOME") else "default (~/.config)",
        "exists": user.is_file(),
    }
    return out


LABELS = {
    "config_dir": "config dir",
    "data_root": "data root",
    "control_db": "control db",
    "dagster_home": "dagster home",
    "vendor": "vendor",
    "env": "env",
    "user_config": "user config",
}


def cmd_where(args: argparse.Namespace) -> int:
    payload = where_payload()
    if args.json:
        print(json.dumps(payload, sort_keys=True))
        return 0
    width = max(len(label) for label in LABELS.values())
    for key, label in LABELS.items():
        item = payload[key]
        missing = ""
        if item.get("exists") is False:
            missing = "  (none)" if key == "user_config" else "  (does not exist yet)"
        say(f"{label:<{width}}  {item['value']}{missing}  [{item['source']}]")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `where` to the `trademl` parser."""
    wh = sub.add_parser("where", help="the config dir, data root, control db, Dagster home, vendor and env, with their sources")
    wh.add_argument("--json", action="store_true")
    wh.set_defaults(func=cmd_where)
