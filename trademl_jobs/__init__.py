"""TradeML's Dagster jobs, schedules, sensors, runner and CLI.

Importing this package (the CLI, the code location `trademl_jobs.definitions`, the daemon) silences
Dagster's Beta/Preview API warnings: the project pins Dagster and uses those APIs on purpose, and a
user's terminal should show what the node did, not a page of notices per command.
"""

import warnings

warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview)")
