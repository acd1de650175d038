"""A person with a browser: log in with the password `local up` printed, open the repository's
notebook, run its cells on the engines and read the engine ids off the page.

The chromium is $CHROMIUM (the users' CI sets it to Playwright's chromium), else `chromium` on
PATH (Debian's, installed by tests/run.sh as root), driven by Playwright; no browser is downloaded.
The screenshot of the run notebook is the README's picture (docs/notebook.png); the one of a
notebook whose cell waits with ``AsyncResult.wait_interactive()`` is the widgets recipe's
(docs/recipes/widgets.png). Each run writes them under build/screenshots/ (a test does not
change tracked files); ``UPDATE_SCREENSHOTS=1`` also copies them over the docs' pictures.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from .deployment import NOTEBOOK, engine_ids

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
SCREENSHOT = SCREENSHOTS / "notebook.png"
WIDGETS_SCREENSHOT = SCREENSHOTS / "widgets.png"
#: Where each screenshot goes in the docs, with UPDATE_SCREENSHOTS=1.
DOCS_PICTURES = {SCREENSHOT: ROOT / "docs" / "notebook.png", WIDGETS_SCREENSHOT: ROOT / "docs" / "recipes" / "widgets.png"}


def keep_screenshot(path: Path) -> None:
    """The docs' picture is replaced by a new screenshot only when asked (UPDATE_SCREENSHOTS=1)."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(path, DOCS_PICTURES[path])
TIMEOUT_MS = 90_000


def chromium_executable() -> str:
    """$CHROMIUM, else `chromium` on PATH; else the test fails with one line saying what to do."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail(
            "no chromium: install Debian's chromium (apt-get install chromium) "
            "or set CHROMIUM to a chromium executable",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def browser():
    executable = chromium_executable()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def log_in(page, url: str, password: str) -> None:
    page.goto(f"{url}login")
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_load_state("domcontentloaded")


def run_all_cells(page, *, until) -> None:
    """Run > Run All Cells, as a person does, until ``until`` shows.

    A fresh session sometimes asks which kernel to start (the "Select Kernel" dialog, racing
    with the page's start-up); the dialog is answered with its default (Python 3) and the
    cells are run again if the first request met no kernel.
    """
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        try:
            page.locator(".jp-Dialog .jp-mod-accept").click(timeout=3_000)
        except PlaywrightTimeout:
            pass  # no dialog
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            until.wait_for(timeout=20_000)
            return
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise


def test_a_wrong_password_shows_the_login_page_again(page, cluster):
    log_in(page, cluster.url, cluster.password + "-wrong")
    assert urlsplit(page.url).path == "/login"
    assert page.locator("#password_input").is_visible()
    page.goto(f"{cluster.url}tree")
    assert urlsplit(page.url).path == "/login"  # still not logged in


def test_the_notebook_runs_in_the_browser_and_shows_the_engine_ids(page, cluster, tmp_path):
    expected = engine_ids(cluster.viewer(), cluster.engines)  # the engines have registered
    log_in(page, cluster.url, cluster.password)
    assert urlsplit(page.url).path.startswith("/tree")
    page.goto(f"{cluster.url}notebooks/{NOTEBOOK}")
    page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
    assert page.locator(".jp-OutputArea-output").count() == 0  # the repository has no outputs
    ids_output = page.locator(".jp-OutputArea-output").filter(has_text="engine ids:").first
    last = page.locator(".jp-OutputArea-output").filter(has_text="engine hosts:").first
    try:
        run_all_cells(page, until=last)
    except Exception:
        page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
        raise AssertionError(f"outputs on the page: {page.locator('.jp-OutputArea-output').all_inner_texts()}; "
                             f"screenshot {tmp_path / 'failed.png'}") from None
    match = re.search(r"engine ids: (\[[0-9, ]*\])", ids_output.inner_text())
    assert match, ids_output.inner_text()
    assert ast.literal_eval(match.group(1)) == expected
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    keep_screenshot(SCREENSHOT)


WIDGETS_NOTEBOOK = "wait-interactive.ipynb"
RECIPE = Path(__file__).resolve().parents[2] / "docs" / "recipes" / "widgets.md"


def recipe_cell() -> str:
    """The cell docs/recipes/widgets.md shows (its one python block): run here as written."""
    [cell] = re.findall(r"```python\n(.*?)```", RECIPE.read_text(), re.S)
    return cell.rstrip("\n")


def _xsrf_headers(page) -> dict[str, str]:
    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "_xsrf")
    return {"X-XSRFToken": token, "Content-Type": "application/json"}


def put_notebook(page, url: str, name: str, cells: list[str]) -> None:
    """Save a notebook into the workspace through Jupyter's contents API, as the logged-in browser."""
    content = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell-{n}", "metadata": {}, "outputs": [],
                   "source": source} for n, source in enumerate(cells)],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    response = page.request.put(f"{url}api/contents/{name}", headers=_xsrf_headers(page),
                                data=json.dumps({"type": "notebook", "content": content}))
    assert response.ok, f"PUT {name}: HTTP {response.status}"


def _down_to(page, element, margin: int = 24) -> dict[str, float]:
    """The top of the page down to ``element`` (a picture without the empty page below it)."""
    box = element.bounding_box()
    viewport = page.viewport_size
    return {"x": 0, "y": 0, "width": viewport["width"], "height": min(viewport["height"], box["y"] + box["height"] + margin)}


def test_wait_interactive_draws_its_progress_bar_in_the_notebook(page, cluster, tmp_path):
    """ipywidgets in the image: the kernel's tqdm.notebook bar renders as a widget in the page (without
    ipywidgets the kernel would print a text bar, and no widget would show)."""
    engine_ids(cluster.viewer(), cluster.engines)  # the engines have registered
    log_in(page, cluster.url, cluster.password)
    cell = recipe_cell()
    tasks = int(re.search(r"\[[0-9.]+\] \* (\d+)", cell).group(1))
    put_notebook(page, cluster.url, WIDGETS_NOTEBOOK, [cell])
    try:
        page.goto(f"{cluster.url}notebooks/{WIDGETS_NOTEBOOK}")
        page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
        done = page.locator(".jp-OutputArea-output").filter(has_text=f"tasks done: {tasks}").first
        try:
            run_all_cells(page, until=done)
        except Exception:
            page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
            raise AssertionError(f"outputs on the page: {page.locator('.jp-OutputArea-output').all_inner_texts()}; "
                                 f"screenshot {tmp_path / 'failed.png'}") from None
        widget = page.locator(".jp-OutputArea-output .widget-hbox").filter(has=page.locator(".widget-hprogress")).first
        widget.wait_for(state="visible")
        bar = widget.locator(".widget-hprogress")
        assert bar.is_visible()
        # tqdm closes the bar at the end: full, and styled as a success
        assert bar.locator(".progress-bar-success").count() == 1
        assert f"{tasks}/{tasks}" in widget.inner_text()
        assert "tasks/s" in widget.inner_text()
        WIDGETS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(WIDGETS_SCREENSHOT), clip=_down_to(page, page.locator(".jp-CodeCell").first))
        keep_screenshot(WIDGETS_SCREENSHOT)
    finally:
        page.request.delete(f"{cluster.url}api/contents/{WIDGETS_NOTEBOOK}", headers=_xsrf_headers(page))
