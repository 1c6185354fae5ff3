"""Replay an order in a real Chromium against a real server: play, seek, step to a round, inspect it, reopen
a deep link at the same moment — and check the page holds exactly the stored fixes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
import pytest
from playwright.sync_api import Browser, Page, expect

from storage.kv.lmdb import LMDBStore
from storage.tracks import TrackStore
from tests.e2e.demo_server import DATASET, PASSWORD, USERNAME, DemoServer, demo_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-var")) as running:
        yield running


@pytest.fixture(scope="module")
def incident_job(server: DemoServer) -> dict[str, Any]:
    """An order the simulator made notable: re-dispatched if it made one, else late."""
    manifest = orjson.loads((server.var_dir / "sim" / DATASET / "incidents.json").read_bytes())
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for item in manifest["incidents"]:
        if item.get("jobs"):
            by_kind.setdefault(item["kind"], []).append(item)
    for kind in ("redispatched", "late", "cross_river"):
        if by_kind.get(kind):
            return by_kind[kind][0]
    raise AssertionError(f"the simulated day has no order incident: {sorted(by_kind)}")


def _login(page: Page, server: DemoServer) -> None:
    page.goto(f"{server.url}/accounts/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Search", exact=True)).to_be_visible()


def _ready(page: Page) -> None:
    expect(page.locator("[data-playback]")).to_have_attribute("data-ready", "true", timeout=20_000)
    expect(page.locator("[data-playback]")).to_have_attribute("data-first-frame", "drawn", timeout=20_000)


def _playhead(page: Page) -> int:
    return int(page.evaluate("Math.round(window.dispatchscope.playback.clock.time())"))


def _all_loaded(page: Page) -> None:
    page.wait_for_function(
        "() => { const s = window.dispatchscope.playback;"
        " return s.manifest && s.coverage.covers(s.manifest.range.start, s.manifest.range.end); }",
        timeout=30_000,
    )


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@pytest.fixture
def page_1400(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def test_replay_an_order_play_seek_step_inspect_and_share(
    page_1400: Page, server: DemoServer, incident_job: dict[str, Any]
) -> None:
    page = page_1400
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, server)
    job = incident_job["jobs"][0]

    search_box = page.get_by_label("Order, courier or bike id")
    search_box.fill(job)
    search_box.press("Enter")
    expect(page).to_have_url(re.compile(r"/playback/\?"))
    _ready(page)
    expect(page.get_by_role("heading", name=job)).to_be_visible()
    _shot(page, "playback-order-1400x900")

    # Play at ×60 for a moment: the playhead moves forward.
    page.get_by_label("Speed, times real time").select_option("60")
    before = _playhead(page)
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="Pause", exact=True).click()
    assert _playhead(page) > before + 30_000

    # Seek by clicking three quarters along the timeline's scrub strip.
    strip = page.locator("[data-timeline-scrub]")
    box = strip.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    manifest_range = page.evaluate("window.dispatchscope.playback.manifest.range")
    expected = manifest_range["start"] + 0.75 * (manifest_range["end"] - manifest_range["start"])
    assert abs(_playhead(page) - expected) < 0.05 * (manifest_range["end"] - manifest_range["start"])

    # "." steps to the next event or round after the playhead.
    moments = page.evaluate(
        "() => { const m = window.dispatchscope.playback.manifest; return [...m.events.map((e) => e.ts),"
        " ...m.rounds.map((r) => r.ts), ...(m.anomalies || []).map((a) => a.ts)].sort((a, b) => a - b); }"
    )
    page.evaluate(f"window.dispatchscope.playback.seek({moments[0]})")
    page.keyboard.press(".")
    expect(page.locator("[data-time]")).not_to_have_text("–")
    assert _playhead(page) == next(m for m in moments if m > moments[0] + 500)

    # Pick the first round: the inspector shows it with its candidates.
    first_round = page.evaluate("window.dispatchscope.playback.manifest.rounds[0]")
    page.locator(".round-chip").first.click()
    expect(page.locator(".round-chip.is-current")).to_have_count(1)
    expect(page.locator("[data-round] h3")).to_have_text(first_round["round"])
    expect(page.get_by_test_id("candidates-logged")).to_contain_text("logged for this order")
    assert page.locator("table.candidates tbody tr:not(.features)").count() >= 1
    _shot(page, "playback-round-inspector-1400x900")

    # The incident summary names the order and carries the link.
    page.get_by_role("button", name="Incident summary").click()
    summary = page.get_by_role("textbox", name="Incident summary").input_value()
    assert job in summary
    assert "Replay: http" in summary
    page.get_by_role("button", name="Close").first.click()

    # The URL holds the moment: a second tab opened on it lands at the same playhead and speed.
    page.wait_for_timeout(400)
    link = page.url
    query = parse_qs(urlsplit(link).query)
    assert query["dataset"] == [DATASET]
    assert query["job"] == [job]
    moment = _playhead(page)
    assert int(query["t"][0]) == moment
    other = page.context.new_page()
    other.goto(link)
    _ready(other)
    assert _playhead(other) == moment
    assert other.evaluate("window.dispatchscope.playback.clock.speed") == 60
    assert errors == []


def test_the_page_holds_exactly_the_stored_fixes_and_marks_interpolation(
    page_1400: Page, server: DemoServer, incident_job: dict[str, Any]
) -> None:
    page = page_1400
    _login(page, server)
    page.goto(f"{server.url}/playback/?{urlencode({'dataset': DATASET, 'job': incident_job['jobs'][0]})}")
    _ready(page)
    _all_loaded(page)
    held = page.evaluate(
        "() => { const s = window.dispatchscope.playback; return s.manifest.entities.map((e, i) => ({"
        " id: e.id, ts: Array.from(s.tracks[i].ts), lat: Array.from(s.tracks[i].lat),"
        " lon: Array.from(s.tracks[i].lon) })); }"
    )
    window = page.evaluate("window.dispatchscope.playback.manifest.range")
    store = TrackStore(LMDBStore(path=server.var_dir / "tracks", map_size_gb=2))
    try:
        checked = 0
        for entity in held:
            stored = store.entity_window(
                dataset=DATASET, entity=entity["id"], start=window["start"], end=window["end"]
            )
            assert entity["ts"] == stored.ts.tolist(), f"{entity['id']}: times differ or a fix is missing"
            assert entity["lat"] == stored.lat_e7.tolist(), f"{entity['id']}: latitudes differ"
            assert entity["lon"] == stored.lon_e7.tolist(), f"{entity['id']}: longitudes differ"
            checked += len(stored)
    finally:
        store.kv.close()
    assert checked > 100

    # At a stored fix the page says "fix"; half-way between two close fixes it says "interpolated".
    kinds = page.evaluate(
        "() => { const t = window.dispatchscope.playback.tracks.find((x) => x.n > 10);"
        " const i = Math.floor(t.n / 2); return [t.positionAt(t.ts[i], 10000).kind,"
        " t.positionAt((t.ts[i] + t.ts[i + 1]) / 2, 10000).kind]; }"
    )
    assert kinds == ["fix", "interpolated"]


def test_a_courier_afternoon_replays_and_reads_at_1280x720(
    browser: Browser, server: DemoServer, incident_job: dict[str, Any]
) -> None:
    courier = incident_job["entity"]
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        _login(page, server)
        page.goto(f"{server.url}/playback/?{urlencode({'dataset': DATASET, 'entity': courier})}")
        _ready(page)
        expect(page.get_by_role("heading", name=courier)).to_be_visible()
        expect(page.locator("[data-time]")).to_contain_text("UTC")
        _shot(page, "playback-courier-1280x720")
    finally:
        context.close()


def test_an_unknown_order_says_not_found(page_1400: Page, server: DemoServer) -> None:
    page = page_1400
    _login(page, server)
    page.goto(f"{server.url}/playback/?{urlencode({'dataset': DATASET, 'job': 'order:does-not-exist'})}")
    expect(page.locator("[data-failure]")).to_be_visible()
    expect(page.locator("[data-failure-title]")).to_have_text("Nothing to replay for this id")
