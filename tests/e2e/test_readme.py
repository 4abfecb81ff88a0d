"""The README's first hour, end to end: every shell and Python example of README.md runs as written,
in README order, on one fresh node; the demo of "Start here" does what the README says of it.

The blocks are read from the README itself, so the README cannot drift from what the CLI does. Each
```bash block runs as one `bash -euo pipefail` script and each ```python block with the project's
Python, all in one working directory that is not the checkout (paths must not depend on it; its
`.venv` is a link to the venv running the tests, so `source .venv/bin/activate` works), with a fresh
data root, Dagster home and $HOME shared by every block: `make demo` in the first block makes the lake
the later blocks look at. `make` runs the checkout's Makefile with that venv.

A block may be preceded by one marker comment:
- `<!-- readme-test: exit N -->` the block's last command is expected to exit N (a failure shown on purpose);
- `<!-- readme-test: server [/path] -->` the block starts a server: it must answer HTTP 200 on $PORT (at
  /server_info, or the path given), then it is stopped;
- `<!-- readme-test: skip: <reason> -->` not run here (a real vendor's keys); the reason is required,
  and at most a few blocks may be skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from local_servers import free_port, wait_for_http

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
VENV = Path(sys.prefix)
MAX_SKIPPED = 2
_FENCE = re.compile(r"^```(?P<lang>bash|python)\s*$")
_MARKER = re.compile(r"^<!--\s*readme-test:\s*(exit\s+(?P<exit>\d+)|(?P<server>server)(\s+(?P<path>/\S*))?|skip:\s*(?P<reason>.*?))\s*-->\s*$")

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class ReadmeBlock:
    """One ```bash or ```python block of the README: its first line number, language, text and how it is run."""

    line: int
    lang: str
    text: str
    expect_exit: int = 0
    server: bool = False
    server_path: str = "/server_info"  # what the server must answer 200 on (`server /health` for another)
    skip_reason: str | None = None


def readme_blocks(text: str) -> list[ReadmeBlock]:
    """The README's ```bash and ```python blocks in order, each with the marker comment right above it (if any)."""
    lines = text.splitlines()
    blocks: list[ReadmeBlock] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        prev = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = _MARKER.match(prev.strip())
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            raise AssertionError(f"README.md:{i + 1}: a ```{fence['lang']} block is never closed")
        kwargs: dict = {}
        if marker:
            if marker["exit"]:
                kwargs["expect_exit"] = int(marker["exit"])
            elif marker["server"]:
                kwargs["server"] = True
                if marker["path"]:
                    kwargs["server_path"] = marker["path"]
            else:
                kwargs["skip_reason"] = marker["reason"]
        blocks.append(ReadmeBlock(line=i + 1, lang=fence["lang"], text="\n".join(lines[i + 1 : end]) + "\n", **kwargs))
        i = end + 1
    return blocks


BLOCKS = readme_blocks(README.read_text())
START_HERE, REST = BLOCKS[0], BLOCKS[1:]


def test_readme_blocks_are_found_in_order_with_their_markers():
    sample = (
        "x\n<!-- readme-test: exit 1 -->\n```bash\nfalse\n```\n\n```python\nprint(1)\n```\n"
        "<!-- readme-test: skip: needs keys -->\n\n```bash\nz\n```\n```text\nnot run\n```\n"
    )
    blocks = readme_blocks(sample)
    assert [(b.line, b.lang, b.text, b.expect_exit, b.skip_reason) for b in blocks] == [
        (3, "bash", "false\n", 1, None), (7, "python", "print(1)\n", 0, None), (12, "bash", "z\n", 0, "needs keys"),
    ]


def test_an_unclosed_block_is_named_by_its_line():
    with pytest.raises(AssertionError, match="README.md:2: a ```bash block is never closed"):
        readme_blocks("x\n```bash\nmake demo\n")


def test_every_skipped_block_says_why_and_few_are_skipped():
    skipped = [b for b in BLOCKS if b.skip_reason is not None]
    assert all(b.skip_reason.strip() for b in skipped), [b.line for b in skipped if not b.skip_reason.strip()]
    assert len(skipped) <= MAX_SKIPPED, [b.line for b in skipped]
    assert len(BLOCKS) - len(skipped) >= 6  # the README keeps its runnable examples


def test_start_here_is_the_demo():
    assert START_HERE.lang == "bash" and START_HERE.text.lstrip().startswith("make demo"), START_HERE.text


def _venv_is_installed() -> bool:
    """True when the Makefile would install nothing into the test's venv (`make -q install`)."""
    done = subprocess.run(
        ["make", "-q", "-C", str(REPO), f"VENV={VENV}", "install"], capture_output=True, stdin=subprocess.DEVNULL
    )
    return done.returncode == 0


@pytest.fixture(scope="module")
def readme_node(tmp_path_factory) -> dict:
    """A fresh node for all blocks: data root, Dagster home, $HOME, and a working directory outside the checkout."""
    if not _venv_is_installed():
        message = f"the venv {VENV} is not installed by {REPO}'s Makefile (run `make install` there first)"
        if os.environ.get("CI"):
            pytest.fail(message)  # `make test` installs it: in CI this is a real failure
        pytest.skip(message)
    base = tmp_path_factory.mktemp("readme")
    work, home = base / "work", base / "home"
    work.mkdir()
    home.mkdir()
    (work / ".venv").symlink_to(VENV)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEML_", "DAGSTER_", "VIRTUAL_ENV", "XDG_"))}
    env.pop("DB_URI", None)
    env.update(
        HOME=str(home),
        TRADEML_DATA_ROOT=str(base / "data_layer"),
        DAGSTER_HOME=str(base / "dagster_home"),
        TRADEML_AUTOMATION="off",
        PORT=str(free_port()),
        CI="true",
    )
    return {"env": env, "cwd": work, "data_root": base / "data_layer", "dagster_home": base / "dagster_home"}


_ACTIVATE = "source .venv/bin/activate"


def _script(block: ReadmeBlock, node: dict) -> list[str]:
    if block.lang == "python":
        return [str(VENV / "bin" / "python"), "-c", block.text]
    # `make` is the checkout's Makefile (with the tests' venv), whatever the working directory
    prelude = f'make() {{ command make --no-print-directory -C "{REPO}" VENV="{VENV}" "$@"; }}\n'
    if node.get("activated"):  # one terminal: a block after the one that activated the venv runs in it
        prelude += _ACTIVATE + "\n"
    return ["bash", "-euo", "pipefail", "-c", prelude + block.text]


def _run(block: ReadmeBlock, node: dict) -> str:
    done = subprocess.run(
        _script(block, node), env=node["env"], cwd=node["cwd"], capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL
    )
    out = done.stdout + done.stderr
    assert done.returncode == block.expect_exit, f"README.md:{block.line} exited {done.returncode}:\n{out[-4000:]}"
    assert "Traceback" not in out, f"README.md:{block.line} printed a traceback:\n{out[-4000:]}"
    if block.lang == "bash" and any(line.split("#")[0].strip() == _ACTIVATE for line in block.text.splitlines()):
        node["activated"] = True
    return out


def _run_server(block: ReadmeBlock, node: dict) -> None:
    proc = subprocess.Popen(
        _script(block, node), env=node["env"], cwd=node["cwd"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{node['env']['PORT']}{block.server_path}", proc, timeout=180)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _trademl(node: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV / "bin" / "trademl"), *args], env=node["env"], cwd=node["cwd"],
        capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
    )


def _lake_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet")) if p.relative_to(root).parts[0] != "exports"
    }


def test_start_here_demo_heals_its_outage_and_a_rerun_changes_nothing(readme_node):
    out = _run(START_HERE, readme_node)
    assert "[14/14]" in out
    # the model loop: the train sensor asked for a run, the champion was promoted, the report written
    assert "requests a training run as of 2025-06-30" in out, out[-3000:]
    assert "champion: equities_xs v1; OOS net of costs: oos_sharpe_net" in out, out[-3000:]
    report = readme_node["data_root"] / "reports" / "daily" / "2025-06-30"
    assert f"report: {report / 'daily.md'}" in out
    payload = json.loads((report / "daily.json").read_text())
    assert payload["asof"] == "2025-06-30" and payload["strategies"]["equities_xs"]["model_version"] == "1"
    assert payload["positions"] and {p["strategy_tag"] for p in payload["positions"]} == {"equities_xs"}
    assert sorted(p.name for p in report.glob("*.png")) == ["coverage.png", "equity_drawdown.png", "oos_ic.png"]
    # `trademl where` (and the demo's summary) name the node's paths, not the checkout's
    assert str(readme_node["data_root"]) in out and str(readme_node["dagster_home"]) in out
    status = json.loads(_trademl(readme_node, "status", "--json").stdout)
    bars = status["tables"]["raw/equities_bars"]
    assert bars["RED"] == 0 and bars["GREEN"] > 0
    assert status["queue"]["DONE"] >= 1  # the outage was planned as GAP work and healed by the queue
    assert status["queue"]["PENDING"] == status["queue"]["LEASED"] == 0

    digest = _lake_digest(readme_node["data_root"])
    reports = {p.name: p.read_bytes() for p in report.iterdir()}
    again = _trademl(readme_node, "demo")
    assert again.returncode == 0, again.stderr[-3000:]
    assert _lake_digest(readme_node["data_root"]) == digest
    # a rerun trains nothing new, promotes nothing and leaves the report as it was
    assert "equities_xs was trained as of 2025-06-30 (as of this session 2025-06-30)" in again.stdout
    assert "v1 was already decided" in again.stdout and "already written by v1, skipped" in again.stdout
    assert {p.name: p.read_bytes() for p in report.iterdir()} == reports
    assert json.loads(_trademl(readme_node, "status", "--json").stdout) == status


@pytest.mark.parametrize("block", REST, ids=[f"README.md:{b.line}" for b in REST])
def test_readme_block_runs(block: ReadmeBlock, readme_node):
    if block.skip_reason is not None:
        pytest.skip(f"README.md:{block.line}: {block.skip_reason}")
    if block.server:
        _run_server(block, readme_node)
    else:
        _run(block, readme_node)


def _command_reference(text: str) -> list[str]:
    """The `trademl ...` lines of the ```text block under "## The command line"."""
    section = text[text.index("## The command line") :]
    start = section.index("```text\n") + len("```text\n")
    return [line for line in section[start : section.index("```", start)].splitlines() if line.startswith("trademl ")]


def _help(capsys, words: list[str]) -> str:
    from trademl_jobs.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args([*words, "--help"])
    return capsys.readouterr().out


def test_every_command_and_option_of_the_command_reference_exists(capsys):
    lines = _command_reference(README.read_text())
    assert len(lines) >= 10
    for line in lines:
        words = line.split("#")[0].split()[1:]
        head = [w for w in words[:2] if re.fullmatch(r"[a-z|]+", w)]
        variants = [[head[0]]] if len(head) == 1 else [[head[0], alt] for alt in head[1].split("|")]
        helps = " ".join(_help(capsys, v) for v in variants)
        flags = set(re.findall(r"--[a-z][a-z-]*", line.split("#")[0]))
        missing = sorted(f for f in flags if f not in helps)
        assert not missing, f"README command reference `{line.split('#')[0].strip()}`: {missing} not in --help"
