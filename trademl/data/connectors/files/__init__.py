"""Import a user's own CSV or Parquet files (bars, corporate actions, delistings, macro series).

One YAML mapping per source says how a file's columns become a dataset's raw/reference schema;
every key is documented in configs/files/TEMPLATE.yml.example. Mappings are read from the folder
``TRADEML_FILES_MAPPINGS`` (a user's own folder, replacing the shipped ones) or else
``configs/files/``; relative file paths resolve under ``TRADEML_FILES_ROOT``, else the mapping's
``root:``, else the mapping file's folder.

Modules: `mapping` (the mapping document, the mappings folder), `connector` (FilesConnector: reads
and normalises the files on fetch), `check` (``trademl files check``: what a mapping would ingest
and what is wrong with it, without writing anything).
"""

from trademl.data.connectors.files.check import MappingCheck, check_mapping
from trademl.data.connectors.files.connector import FilesConnector
from trademl.data.connectors.files.mapping import (
    FILE_DATASETS,
    MAPPINGS_ENV,
    FileMapping,
    find_mapping,
    load_mappings,
    mappings_dir,
)

__all__ = [
    "FILE_DATASETS",
    "MAPPINGS_ENV",
    "FileMapping",
    "FilesConnector",
    "MappingCheck",
    "check_mapping",
    "find_mapping",
    "load_mappings",
    "mappings_dir",
]
