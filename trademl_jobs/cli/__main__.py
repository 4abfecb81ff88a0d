"""`python -m trademl_jobs.cli` runs the `trademl` console script."""

import sys

from trademl_jobs.cli import main

sys.exit(main())
