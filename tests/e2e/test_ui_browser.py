"""`trademl ui` serves the asset graph: headless Chromium finds the raw assets and a check result."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from local_servers import free_port, wait_for_http

from trademl_jobs.runner import dagster_instance, materialize_range

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (apt-get install chromium)"),
]
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def ui(node, tmp_path):
    instance = dagster_instance()
    run = materialize_range(instance, ["calendars", "equities_eod"], "2025-03-03", "2025-03-05")
    assert run.success
    port = free_port()
    exe = Path(sys.executable).with_name("trademl")
    log = open(tmp_path / "ui.log", "w")
    # own session so the webserver and daemon children are stopped together by process group
    proc = subprocess.Popen(
        [str(exe), "ui", "--port", str(port)], env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/server_info", proc, what="`trademl ui`")
        yield f"http://127.0.0.1:{port}"
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if proc.poll() is not None:
                break
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                continue
        log.close()


def test_asset_graph_shows_raw_assets_their_downstream_layers_and_their_check_result(ui):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            # tall enough for the raw group and the derived layers' group nodes below it
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(f"{ui}/asset-groups/raw", wait_until="domcontentloaded", timeout=90_000)
            skip = page.get_by_role("button", name="Skip")  # the community sign-up dialog of a fresh instance
            try:
                skip.wait_for(timeout=15_000)
                skip.click()
            except PlaywrightTimeout:
                pass
            # the graph shows collapsed groups; double-clicking the "raw" group node opens its assets
            page.get_by_text("raw", exact=True).last.dblclick()
            for name in ("equities_bars", "equities_minute", "options_nbbo", "macros_fred"):
                page.get_by_text(name, exact=True).first.wait_for(timeout=90_000)
            # the lineage goes on from raw into the derived layers (collapsed group nodes beside it)
            for group in ("curated", "features", "labels"):
                page.get_by_text(group, exact=True).last.wait_for(timeout=30_000)
            page.goto(f"{ui}/assets/raw/equities_bars?view=checks", wait_until="domcontentloaded", timeout=90_000)
            page.get_by_text("qc_coverage").first.wait_for(timeout=90_000)
            page.get_by_text("Passed").first.wait_for(timeout=90_000)
            page.get_by_text("This is a blocking asset check.").wait_for(timeout=30_000)
        finally:
            browser.close()
