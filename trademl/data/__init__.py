"""The data node: a point-in-time market-data lake kept complete (GREEN/AMBER/RED per partition).

Modules, in the order data flows through them:

- `connectors/` one module per vendor (+ files, + the embedded synthetic market); `routing` picks
  the vendor for a dataset (SSOT 2.6); `http` is the one HTTP client; `edge` schedules vendor work.
- `ingest` fetch -> validate -> `lake` (immutable, content-hashed partitions) -> `qc` -> the
  `control` db's partition ledger; `red_explanation` says why sessions stayed RED.
- `backfill` audits the ledger, plans and leases GAP/FORWARD/BOOTSTRAP tasks within vendor budgets;
  `qc_probe` cross-checks two vendors; `exports` writes the nightly export.
- `macro` reads ALFRED vintages point in time; `liveness` proves a process is alive or gone.

Nothing here imports dagster or any layer above the data node (curate, features, labels, ...).
"""

__all__ = [
    "backfill",
    "connectors",
    "control",
    "edge",
    "exports",
    "http",
    "ingest",
    "lake",
    "liveness",
    "macro",
    "qc",
    "qc_probe",
    "red_explanation",
    "routing",
]
