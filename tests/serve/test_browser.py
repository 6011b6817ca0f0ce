"""The page in a real browser (Debian's chromium driven by Playwright): strokes drawn with the mouse are read as
the digits meant, an uploaded PNG too; screenshots go to the test's tmp folder. Skipped only where chromium or
Playwright is missing."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from .conftest import png_bytes

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 15_000  # the longest a prediction may take to show


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium is not installed ({CHROMIUM} is missing): apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=60_000)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport={"width": 900, "height": 720}, device_scale_factor=1)
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    opened.goto(f"{live}/")
    opened.wait_for_selector("#model-info:has-text('test accuracy')")  # the page's strict CSP forbids eval: selectors
    yield opened
    context.close()


def draw(page, strokes: list[list[tuple[float, float]]]) -> str:
    """Clear the pad, draw each stroke (points as fractions of the pad's width and height) with the mouse, and
    return the digit the page then shows."""
    page.click("#clear")
    box = page.locator("#pad").bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=4)
        page.mouse.up()
    return shown_digit(page)


def shown_digit(page) -> str:
    page.wait_for_selector("#digit:not([data-state='empty']), #notice:not([hidden])")
    return page.text_content("#digit")


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 40) -> list[tuple[float, float]]:
    return [(cx + rx * math.sin(2 * math.pi * i / n), cy - ry * math.cos(2 * math.pi * i / n)) for i in range(n + 1)]


STROKES = {
    "1": [[(0.50, 0.18), (0.50, 0.50), (0.50, 0.82)]],
    "0": [ellipse(0.5, 0.5, 0.22, 0.32)],
    "7": [[(0.28, 0.2), (0.72, 0.2), (0.58, 0.5), (0.45, 0.82)]],
}


@pytest.mark.parametrize("meant", list(STROKES))
def test_a_digit_drawn_with_the_mouse_is_read(page, meant, tmp_path):
    assert draw(page, STROKES[meant]) == meant
    assert page.is_hidden("#notice"), page.text_content("#notice")
    assert page.locator("#bars li").count() == 3
    seen = page.evaluate("Array.from(document.getElementById('seen').getContext('2d')"
                         ".getImageData(0, 0, 28, 28).data).filter((v, i) => i % 4 === 0 && v > 0).length")
    assert 30 < seen < 400  # the 28x28 view shows an MNIST-sized digit
    page.screenshot(path=str(tmp_path / f"drawn-{meant}.png"))


def test_an_uploaded_png_is_read_and_clear_empties_the_page(page, mini, tmp_path):
    photo = tmp_path / "digit.png"
    photo.write_bytes(png_bytes(mini.X_test[0], size=300, dark_on_light=True))
    page.set_input_files("#upload", str(photo))
    assert shown_digit(page) == str(mini.y_test[0])
    page.screenshot(path=str(tmp_path / "uploaded.png"))
    page.click("#clear")
    assert page.text_content("#digit") == "?" and page.locator("#bars li").count() == 0


def test_two_digits_side_by_side_get_the_low_confidence_notice(page, tmp_path):
    draw(page, [ellipse(0.28, 0.5, 0.14, 0.22), ellipse(0.72, 0.5, 0.14, 0.22)])  # two 0s
    page.wait_for_selector("#notice:not([hidden])")
    assert "side by side" in page.text_content("#notice")
    assert page.get_attribute("#digit", "data-state") == "unsure"
    page.screenshot(path=str(tmp_path / "two-digits.png"))


def test_a_small_drawing_is_read_but_asked_to_be_larger(page, tmp_path):
    draw(page, [[(0.45, 0.45), (0.5, 0.52)]])
    page.wait_for_selector("#notice:not([hidden])")
    assert "larger" in page.text_content("#confidence") and page.get_attribute("#digit", "data-state") == "unsure"
    page.screenshot(path=str(tmp_path / "small.png"))
