"""Report files written atomically and only when their bytes change, so a rerun of a report touches no file."""

from __future__ import annotations

import os
from pathlib import Path


def write_if_changed(path: str | os.PathLike[str], data: bytes) -> bool:
    """Write `data` to `path` through a temporary file and a rename (readers never see a half-written file).

    A file already holding exactly `data` is left alone (same bytes, same mtime); returns whether it was written.
    """
    target = Path(path)
    if target.is_file() and target.read_bytes() == data:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return True
