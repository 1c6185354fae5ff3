"""Playback page: from opening an order's replay to the first frame with data drawn, in Debian's Chromium.

Serves a small simulated day exactly as the end-to-end tests do (`manage.py runserver`, the real socket),
logs in once, then opens the replay of a notable order `--runs` times in a fresh browser context (cold: an
empty cache, as a first visit) and `--runs` times again in one context (warm: plotly.js and the modules
cached). The figure is the page's own mark — `performance.now()` when the first frame with positions is
drawn, measured from navigation start — with the page's other marks (socket connected, manifest, roads,
snapshot, plotly loaded) beside it. Prints a table, then one JSON line.

    python benchmarks/playback_page.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, ViewportSize, sync_playwright  # noqa: E402

from tests.e2e.demo_server import DATASET, PASSWORD, USERNAME, DemoServer, demo_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}


def _login(context: BrowserContext, server: DemoServer) -> None:
    page = context.new_page()
    page.goto(f"{server.url}/accounts/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.url}/")
    page.close()


def _open(context: BrowserContext, url: str) -> dict[str, Any]:
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("[data-playback][data-first-frame='drawn']", timeout=30_000)
    page.wait_for_function("() => window.dispatchscope.playback.marks.plotly !== undefined", timeout=30_000)
    result: dict[str, Any] = page.evaluate(
        "() => ({first_frame: window.dispatchscope.playback.firstFrameAt,"
        " ...window.dispatchscope.playback.marks})"
    )
    page.close()
    return result


def _runs(browser: Browser, server: DemoServer, url: str, runs: int) -> tuple[list[dict[str, Any]], ...]:
    cold: list[dict[str, Any]] = []
    for _ in range(runs):
        context = browser.new_context(viewport=VIEWPORT)
        _login(context, server)
        cold.append(_open(context, url))
        context.close()
    context = browser.new_context(viewport=VIEWPORT)
    _login(context, server)
    _open(context, url)  # fills the cache
    warm = [_open(context, url) for _ in range(runs)]
    context.close()
    return cold, warm


def _p50(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [float(r[key]) for r in rows if r.get(key) is not None]
    return round(statistics.median(values), 1) if values else None


def main() -> None:
    """Measure and print the first-frame figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="playback-page-") as tmp, demo_server(Path(tmp)) as server:
        manifest = orjson.loads((Path(tmp) / "sim" / DATASET / "incidents.json").read_bytes())
        job = next(i["jobs"][0] for i in manifest["incidents"] if i.get("jobs"))
        url = f"{server.url}/playback/?{urlencode({'dataset': DATASET, 'job': job})}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            cold, warm = _runs(browser, server, url, args.runs)
            browser.close()
    keys = ("connected", "manifest", "roads", "snapshot", "first_frame", "plotly")
    print(f"opening {job} in {DATASET}: p50 of {args.runs} runs, ms since navigation start")
    print(f"{'cache':<6}" + "".join(f"{k:>13}" for k in keys))
    for name, rows in (("cold", cold), ("warm", warm)):
        print(f"{name:<6}" + "".join(f"{(_p50(rows, k) or 0):>13.1f}" for k in keys))
    print("targets: first frame ≤ 1000 ms warm, ≤ 2000 ms cold")
    print(
        json.dumps(
            {
                "first_frame_cold_p50_ms": _p50(cold, "first_frame"),
                "first_frame_warm_p50_ms": _p50(warm, "first_frame"),
                "timeline_ready_cold_p50_ms": _p50(cold, "plotly"),
                "runs": args.runs,
            }
        )
    )


if __name__ == "__main__":
    main()
