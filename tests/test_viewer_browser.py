"""``clawgym view`` end to end in headless Chromium: two real runs made here, the viewer serving them on
127.0.0.1, and Debian's ``chromium`` driven by Playwright filtering, opening an episode, stepping
through it and comparing the runs, with assertions on the page.

A screenshot of an episode is kept as a test artifact: always in the test's tmp folder (its path is
printed), and as ``docs/viewer.png`` (the README's) when ``CLAWGYM_UPDATE_SCREENSHOT=1``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from viewer_runs import NOTES, Runs, make_runs

from clawgym_env.viewer import VIEWER_URL
from clawgym_env.viewer.data import Run
from clawgym_env.viewer.server import ViewerServer

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install "
                                     "-e '.[dev]'; .ci/run does)")
if not Path(CHROMIUM).is_file():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)", allow_module_level=True)


@pytest.fixture
def runs(tmp_path: Path) -> Runs:
    return make_runs(tmp_path / "runs")


@pytest.fixture
def browser_page(runs: Runs) -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page and the console and page errors it reports (after ``runs``: the eval's asyncio
    loop cannot run inside Playwright's)."""
    with playwright_api.sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's own sandbox cannot start
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1360, "height": 860})
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        try:
            yield page, errors
        finally:
            browser.close()


def rows(page: Any, table: str = "#episodes") -> list[str]:
    return page.eval_on_selector_all(f"{table} tbody tr.row", "trs => trs.map(tr => tr.dataset.id)")


def test_filter_open_step_and_compare_in_chromium(runs: Runs, browser_page: tuple[Any, list[str]],
                                                   tmp_path: Path) -> None:
    page, errors = browser_page
    t0, t1, t2 = runs.tasks
    expect = playwright_api.expect
    with ViewerServer({"a": Run(runs.a), "b": Run(runs.b)}, port=0) as viewer:
        # ---- the run table, filtered and sorted
        page.goto(viewer.url)
        expect(page.locator("#count")).to_have_text("3 of 3 episodes")
        assert rows(page) == [f"{t}#0" for t in runs.tasks]
        page.select_option("#f-category", runs.categories[t1])
        expect(page.locator("#count")).to_have_text("1 of 3 episodes")
        assert rows(page) == [f"{t1}#0"]
        page.click("#f-clear")
        expect(page.locator("#count")).to_have_text("3 of 3 episodes")
        page.fill("#f-rmax", "0.5")
        expect(page.locator("#count")).to_have_text("0 of 3 episodes")  # the oracle solves all three

        page.select_option("#f-run", "b")
        expect(page.locator("h2")).to_have_text(f"Episodes of {runs.b.name}")
        expect(page.locator("#count")).to_have_text("3 of 3 episodes")  # B scores 0: reward ≤ 0.5 keeps all
        page.select_option("#f-infra", "yes")
        expect(page.locator("#count")).to_have_text("1 of 3 episodes")
        assert rows(page) == [f"{t2}#0"]
        expect(page.locator("#episodes td.infra")).to_contain_text("AgentError")
        expect(page.locator("#episodes td.infra")).to_have_attribute("title", re.compile("HTTP 400"))
        page.select_option("#f-infra", "no")
        page.fill("#f-kmin", "10000")
        assert rows(page) == [f"{t1}#0"]  # the stand-in charged the second task more tokens
        page.fill("#f-kmin", "")
        page.select_option("#f-infra", "any")
        page.fill("#f-tmin", "1")
        expect(page.locator("#count")).to_have_text("2 of 3 episodes")  # the infra error had no turn
        page.fill("#f-tmin", "")
        page.click("th[data-sort=tokens]")
        assert rows(page) == [f"{t2}#0", f"{t0}#0", f"{t1}#0"]  # no tokens first, then ascending
        page.click("th[data-sort=tokens]")
        assert rows(page) == [f"{t1}#0", f"{t0}#0", f"{t2}#0"]
        assert "sort=tokens" in page.evaluate("location.hash") and "desc=1" in page.evaluate("location.hash")

        # ---- one episode, step by step
        page.click(f"#episodes tr[data-id='{t0}#0']")
        expect(page.locator("#episode-title")).to_have_text(f"{t0}#0")
        expect(page.locator("#step-pos")).to_have_text("Step 1 of 6")
        expect(page.locator("#step .call .name")).to_have_text("read")
        page.click("#next")
        expect(page.locator("#step-pos")).to_have_text("Step 2 of 6")
        expect(page.locator("#step .assistant-text")).to_have_text("working on it")
        expect(page.locator("#step .call .name")).to_have_text("write")
        expect(page.locator("#step .change")).to_contain_text(f"{NOTES} write: created")
        assert page.locator("#step .diff .add").all_inner_texts() == ["+# Notes", "+draft line"]
        page.keyboard.press("ArrowRight")
        expect(page.locator("#step-pos")).to_have_text("Step 3 of 6")
        assert page.locator("#step .diff .del").all_inner_texts() == ["-draft line"]
        assert page.locator("#step .diff .add").all_inner_texts() == ["+final line"]
        expect(page.locator("#step .turn-costs")).to_contain_text("prompt_tokens 1300")
        screenshot = tmp_path / "viewer.png"
        page.screenshot(path=str(screenshot))
        print(f"viewer screenshot: {screenshot}")
        if os.environ.get("CLAWGYM_UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(screenshot, REPO / "docs" / "viewer.png")
        page.click("#timeline button:text-is('4')")
        expect(page.locator("#step .change")).to_contain_text("exec: unknown")
        page.click("#next")
        expect(page.locator("#step .change")).to_contain_text("read: changed outside write/edit")
        assert page.locator("#step .diff .add").all_inner_texts() == ["+appended by exec"]
        page.click("#next")
        expect(page.locator("#step-pos")).to_have_text("Step 6 of 6")
        expect(page.locator("#final")).to_contain_text("I wrote my notes")
        page.click("#next")  # past the end: stays
        expect(page.locator("#step-pos")).to_have_text("Step 6 of 6")
        expect(page.locator("#reward")).to_have_text("0.000")
        assert page.locator("#subscores tr.sub-false").count() > 0
        expect(page.locator("#costs")).to_contain_text("total_tokens")
        page.click("#show-all")
        assert page.locator("#step .step").count() == 6
        assert screenshot.stat().st_size > 10_000

        # ---- the eval report's task link opens the viewer on that task
        page.goto((runs.b / "report.html").as_uri())
        href = page.get_attribute(f"a[href$='?task={t0}']", "href")
        assert href is not None and href.startswith(VIEWER_URL)
        page.goto(viewer.url + href[len(VIEWER_URL):])
        expect(page.locator("#count")).to_have_text("1 of 3 episodes")
        assert rows(page) == [f"{t0}#0"]

        # ---- compare A (oracle) with B (the stand-in model)
        page.click("#nav-compare")
        expect(page.locator("#compare-summary")).to_contain_text("3 episodes in both · B better on 0, worse on 3")
        assert rows(page, "#compare-table") == [f"{t}#0" for t in runs.tasks]
        assert page.locator("#compare-table td.delta").all_inner_texts() == ["-1.000"] * 3
        assert page.locator("#compare-table td.divergence").all_inner_texts() == ["turn 2", "turn 2", "turn 1"]
        page.click(f"#compare-table tr[data-id='{t0}#0']")
        expect(page.locator("#compare-episode-summary")).to_contain_text("first diverging turn: 2")
        diverged = page.locator(".cmp-row.diverged")
        expect(diverged).to_have_count(1)
        assert diverged.get_attribute("data-index") == "1"
        a_cell, b_cell = diverged.locator(".cmp-step").all()
        expect(b_cell.locator(".call .name")).to_have_text("write")
        assert NOTES in b_cell.inner_text() and NOTES not in a_cell.inner_text()  # the oracle does something else
        first = page.locator(".cmp-row[data-index='0'] .cmp-step").all()
        assert first[0].locator(".call .args").inner_text() == first[1].locator(".call .args").inner_text()
        page.screenshot(path=str(tmp_path / "viewer-compare.png"))
    assert errors == []
