"""The report in a real browser (Debian's chromium driven by Playwright): opened from disk with file://, the index
sorts by the column clicked, every image of every run page loads, and nothing is fetched from elsewhere.
Screenshots land in the test's tmp folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                              "(apt-get install chromium)")


@pytest.fixture(scope="module")
def page():
    """A browser tab that records every address it requests and every script error."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.requested, tab.errors = [], []
        tab.on("request", lambda request: tab.requested.append(request.url))
        tab.on("pageerror", lambda error: tab.errors.append(str(error)))
        tab.on("console", lambda message: message.type == "error" and tab.errors.append(message.text))
        yield tab
        browser.close()


def _column(page, label: str) -> list[str]:
    """Click the header ``label``; the sort keys of its cells, top to bottom."""
    headers = page.locator("table.sortable thead th")
    names = [headers.nth(i).text_content().strip() for i in range(headers.count())]
    page.locator("table.sortable thead th button", has_text=re.compile(f"^{label}$")).click()
    return page.eval_on_selector_all(f"table.sortable tbody td:nth-child({names.index(label) + 1})",
                                     "cells => cells.map(cell => cell.dataset.sort)")


def test_the_index_sorts_by_the_clicked_column_with_missing_values_last(page, site, runs, tmp_path):
    page.goto(site.index.as_uri())
    assert page.locator("table.sortable tbody tr").count() == len(runs.readable)
    best_first = _column(page, "test acc")
    figures = [float(v) for v in best_first if v]
    assert figures == sorted(figures, reverse=True) and len(figures) >= 3
    assert best_first == [*best_first[:len(figures)], *[""] * (len(best_first) - len(figures))]
    worst_first = _column(page, "test acc")
    assert worst_first == [*(repr(v) for v in sorted(figures)), *[""] * (len(worst_first) - len(figures))]
    models = _column(page, "model")
    assert models == sorted(models, key=str.lower)
    assert page.locator("th[aria-sort]").text_content().strip() == "model"
    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
    assert page.errors == []


def test_every_image_of_every_run_page_loads_from_disk(page, site, runs, tmp_path):
    page.goto(site.index.as_uri())
    links = page.eval_on_selector_all("table.sortable tbody a", "links => links.map(a => a.href)")
    assert len(links) == len(runs.readable)
    shown = 0
    for i, link in enumerate(links):
        page.goto(link, wait_until="load")
        images = page.eval_on_selector_all("img", "images => images.map(i => [i.getAttribute('src'), "
                                                  "i.complete && i.naturalWidth > 0])")
        assert all(loaded for _, loaded in images), (link, images)
        shown += len(images)
        page.screenshot(path=str(tmp_path / f"run-{i}.png"), full_page=True)
    assert shown >= 12  # the runs' charts, galleries and grids
    assert page.errors == []
    assert all(url.startswith("file://") for url in page.requested), [u for u in page.requested
                                                                      if not u.startswith("file://")]
