"""A real, throw-away PostgreSQL server for the control-db tests (initdb + pg_ctl on a free loopback port).

Binaries come from /usr/lib/postgresql/*/bin (Debian's postgresql package). PostgreSQL refuses to
run as root, so when the tests run as root (CI) initdb/pg_ctl run as the `postgres` user through
`runuser -u postgres --` and the data directory is chowned to it. One server per test process,
stopped at exit; every test gets its own fresh database.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_USER = "postgres"


@dataclass
class Cluster:
    """A running server: its data dir, port and the OS user it runs as."""

    bindir: Path
    datadir: Path
    port: int
    run_as: str | None

    def uri(self, database: str) -> str:
        return f"postgresql+psycopg2://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh empty database; returns its SQLAlchemy URI."""
        import psycopg2

        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.uri(name)

    def stop(self) -> None:
        _run(self.run_as, [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop"], check=False)


_CLUSTER: Cluster | None = None


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or None."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bindir = Path(initdb).parent
        if (bindir / "pg_ctl").exists():
            try:
                found.append((float(bindir.parent.name), bindir))
            except ValueError:
                continue
    return max(found)[1] if found else None


def _run(run_as: str | None, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["runuser", "-u", run_as, "--", *argv] if run_as else argv
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _open_path_for(user: str, path: Path) -> None:
    """Let `user` traverse every ancestor of `path` (pytest's root-owned temp dirs are 0700)."""
    pw = pwd.getpwnam(user)
    for parent in reversed(path.parents):
        st = parent.stat()
        if st.st_uid == 0 and not st.st_mode & stat.S_IXOTH:
            os.chmod(parent, st.st_mode | stat.S_IXOTH)
    os.chown(path, pw.pw_uid, pw.pw_gid)


def cluster(base: Path) -> Cluster:
    """The process-wide server, started on first use under `base`; skips the test if PostgreSQL is absent."""
    global _CLUSTER
    if _CLUSTER is not None:
        return _CLUSTER
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install the postgresql package)")
    run_as = None
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root but `runuser` is missing; PostgreSQL refuses to run as root")
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            pytest.skip("running as root and there is no `postgres` OS user to run the server as")
        run_as = PG_USER
    datadir = base / "pgdata"
    datadir.mkdir(parents=True)
    if run_as:
        _open_path_for(run_as, datadir)
    _run(run_as, [str(bindir / "initdb"), "-D", str(datadir), "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync"])
    for attempt in range(3):
        port = _free_port()
        opts = f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        res = _run(
            run_as,
            [str(bindir / "pg_ctl"), "-D", str(datadir), "-o", opts, "-l", str(datadir / "server.log"), "-w", "-t", "60", "start"],
            check=False,
        )
        if res.returncode == 0:
            break
        if attempt == 2:
            log = (datadir / "server.log").read_text() if (datadir / "server.log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {res.stderr}\n{log[-2000:]}")
        time.sleep(0.5)
    _CLUSTER = Cluster(bindir, datadir, port, run_as)
    atexit.register(_CLUSTER.stop)
    return _CLUSTER
