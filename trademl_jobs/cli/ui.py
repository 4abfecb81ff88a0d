"""`trademl ui`: Dagster's webserver and daemon over the project's instance."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from trademl.config import REPO_ROOT
from trademl_jobs.cli.args import positive_int, say

def cmd_ui(args: argparse.Namespace) -> int:
    from trademl_jobs.runner import dagster_instance

    from trademl_jobs.automation import automation_on

    on = automation_on(args.automation)  # --automation, else TRADEML_AUTOMATION, else configs/runs.yml
    dagster_instance()
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    cmd = [dagster, "dev", "-w", str(REPO_ROOT / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    say(f"Dagster UI on http://{args.host}:{args.port} (webserver + daemon; Ctrl-C stops both)")
    say(
        "schedules and sensors start RUNNING (the node loop runs; `--automation off` to start them stopped)"
        if on
        else "automation off: schedules and sensors start STOPPED; runs happen only when you launch them"
    )
    # `dagster dev` started from a script ignores SIGINT unless it is reset to default before exec.
    # The webserver and daemon load the code location themselves: the switch reaches them in their own environment.
    env = {**os.environ, "TRADEML_AUTOMATION": "on" if on else "off"}
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait()


def register(sub: argparse._SubParsersAction) -> None:
    """Add `ui` to the `trademl` parser."""
    ui = sub.add_parser("ui", help="Dagster webserver + daemon over the project's instance")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=positive_int, default=3000)
    ui.add_argument("--automation", choices=("on", "off"), default=None,
                    help="start schedules and sensors RUNNING (on, the default) or STOPPED (off); passed to Dagster as TRADEML_AUTOMATION")
    ui.set_defaults(func=cmd_ui)
