"""Every shell example of README.md runs, as written, against the embedded market.

The blocks are extracted from the README itself, so the README cannot drift from what the CLI
does. Each ```bash block runs in README order as one `bash -euo pipefail` script, from a directory
that is not the checkout, with `trademl` on PATH (as after `source .venv/bin/activate`), a fresh
data root and Dagster home shared by all blocks (so `make demo` in the first block makes the lake
the later blocks look at). `make` runs the checkout's Makefile.

A block may be preceded by one marker comment:
- `<!-- readme-test: exit N -->` the block's last command is expected to exit N (a failure shown on purpose);
- `<!-- readme-test: server -->` the block starts a server: it must answer HTTP on $PORT, then it is stopped;
- `<!-- readme-test: skip: <reason> -->` not run here (a real vendor's keys, the test suite itself);
  the reason is required, and at most a few blocks may be skipped.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
MAX_SKIPPED = 4
_FENCE = re.compile(r"^```bash\s*$")
_MARKER = re.compile(r"^<!--\s*readme-test:\s*(exit\s+(?P<exit>\d+)|(?P<server>server)|skip:\s*(?P<reason>.*?))\s*-->\s*$")

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class ShellBlock:
    """One ```bash block of the README: its first line number, its text and how it is run."""

    line: int
    text: str
    expect_exit: int = 0
    server: bool = False
    skip_reason: str | None = None


def readme_blocks(text: str) -> list[ShellBlock]:
    """The README's ```bash blocks in order, each with the marker comment right above it (if any)."""
    lines = text.splitlines()
    blocks: list[ShellBlock] = []
    i = 0
    while i < len(lines):
        if not _FENCE.match(lines[i]):
            i += 1
            continue
        prev = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = _MARKER.match(prev.strip())
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            raise AssertionError(f"README.md:{i + 1}: a ```bash block is never closed")
        kwargs: dict = {}
        if marker:
            if marker["exit"]:
                kwargs["expect_exit"] = int(marker["exit"])
            elif marker["server"]:
                kwargs["server"] = True
            else:
                kwargs["skip_reason"] = marker["reason"]
        blocks.append(ShellBlock(line=i + 1, text="\n".join(lines[i + 1 : end]) + "\n", **kwargs))
        i = end + 1
    return blocks


BLOCKS = readme_blocks(README.read_text())


def test_readme_blocks_are_found_with_their_markers():
    sample = "x\n<!-- readme-test: exit 1 -->\n```bash\nfalse\n```\n\n```bash\ntrue\n```\n<!-- readme-test: skip: needs keys -->\n\n```bash\nz\n```\n"
    blocks = readme_blocks(sample)
    assert [(b.line, b.text, b.expect_exit, b.skip_reason) for b in blocks] == [
        (3, "false\n", 1, None), (7, "true\n", 0, None), (12, "z\n", 0, "needs keys"),
    ]


def test_every_skipped_block_says_why_and_few_are_skipped():
    skipped = [b for b in BLOCKS if b.skip_reason is not None]
    assert all(b.skip_reason.strip() for b in skipped), [b.line for b in skipped if not b.skip_reason.strip()]
    assert len(skipped) <= MAX_SKIPPED, [b.line for b in skipped]
    assert len(BLOCKS) - len(skipped) >= 5  # the README keeps its runnable examples


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def readme_env(tmp_path_factory) -> dict:
    """A fresh node (data root, Dagster home, working directory outside the checkout) for all blocks."""
    base = tmp_path_factory.mktemp("readme")
    work = base / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEML_", "DAGSTER_"))}
    env.update(
        TRADEML_DATA_ROOT=str(base / "data_layer"),
        DAGSTER_HOME=str(base / "dagster_home"),
        TRADEML_SYNTHETIC_N_SYMBOLS="6",  # a small embedded market keeps the suite fast
        TRADEML_AUTOMATION="off",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PORT=str(_free_port()),
        CI="true",
    )
    return {"env": env, "cwd": work}


def _script(block: ShellBlock) -> str:
    # `make` is the checkout's Makefile, whatever the working directory
    return f'make() {{ command make --no-print-directory -C "{REPO}" "$@"; }}\n{block.text}'


def _wait_for_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(1.0)
    raise AssertionError(f"nothing answered {url} within {timeout:.0f}s")


def _run_server(block: ShellBlock, env: dict, cwd: Path) -> None:
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", _script(block)], env=env, cwd=cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        _wait_for_http(f"http://127.0.0.1:{env['PORT']}/server_info", proc, timeout=180)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize("block", BLOCKS, ids=[f"README.md:{b.line}" for b in BLOCKS])
def test_readme_shell_block_runs(block: ShellBlock, readme_env):
    if block.skip_reason is not None:
        pytest.skip(f"README.md:{block.line}: {block.skip_reason}")
    env, cwd = readme_env["env"], readme_env["cwd"]
    if block.server:
        _run_server(block, env, cwd)
        return
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _script(block)], env=env, cwd=cwd,
        capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
    )
    out = done.stdout + done.stderr
    assert done.returncode == block.expect_exit, f"README.md:{block.line} exited {done.returncode}:\n{out[-4000:]}"
    assert "Traceback" not in out, f"README.md:{block.line} printed a traceback:\n{out[-4000:]}"
