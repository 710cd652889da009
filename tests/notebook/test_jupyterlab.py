"""The workbench in a real JupyterLab, in a real Chromium: the graph renders, a mouse drag creates a pathway that
the kernel's network holds, and a run started from Python shows on the graph and in the trace.

JupyterLab runs as its own process on 127.0.0.1 with a token and its own folders; every request the page
makes is recorded, and the test fails on any that leaves 127.0.0.1. The server and its kernel always stop.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from browsing import CHROMIUM, CHROMIUM_ARGS, Requests, handle, screenshot
from conftest import HERE, processes_with
from jupyter import JupyterLab

# One try in three fresh-clone CI runs (2026-12-04) ended with the trace table drawn empty in JupyterLab although
# the run, the graph and the timeline were right; not reproduced yet, so it is retried once and listed as a known
# bug in the README. A second failure in a row still fails.
pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.slow, pytest.mark.flaky(reruns=1)]

NOTEBOOK = "workbench-in-a-notebook.ipynb"
VIEW, CELL_PATHWAYS, CELL_RUN = 1, 2, 3  # the notebook's cells (see the notebook itself)
KERNEL_IDLE = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return kernel && kernel.status === 'idle'; }"""
CELL_TEXT = """(index) => { const cell = window.jupyterapp.shell.currentWidget.content.model.cells.get(index);
  return cell.toJSON().outputs.map(o => [].concat(o.text || (o.data && o.data['text/plain']) || '').join('')).join(''); }"""
RUN_CELL = """(index) => { const notebook = window.jupyterapp.shell.currentWidget.content;
  notebook.activeCellIndex = index; return window.jupyterapp.commands.execute('notebook:run-cell'); }"""


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(HERE / NOTEBOOK, root)  # the server may save the notebook: never into the repository
    server = JupyterLab(root, tmp_path, env={"WORKBENCH_HOME": str(tmp_path / "home")})
    try:
        yield server.start()
    finally:
        server.stop()
        deadline = time.monotonic() + 20
        while processes_with(str(tmp_path)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_with(str(tmp_path)) == [], "the server or its kernel outlived the test"


@pytest.fixture
def page(lab):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (bash .ci/setup test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.requests = Requests()
        page.on("request", lambda request: page.requests.append(request.url))
        page.set_default_timeout(180_000)  # a cold JupyterLab and kernel take a while on 2 busy cores
        page.goto(lab.notebook_url(NOTEBOOK))
        page.wait_for_function(KERNEL_IDLE)
        try:
            yield page
        finally:
            screenshot(page, "jupyterlab-last")  # what the page showed at the end, also when the test failed
            print("cell outputs:", [output(page, i) for i in range(4)])  # shown by pytest when the test failed
        assert page.requests.external() == [], f"requests left 127.0.0.1: {page.requests.external()}"
        browser.close()


def output(page, index: int) -> str:
    """The text a cell printed, read from the notebook's model (what the kernel sent, drawn or not)."""
    return page.evaluate(CELL_TEXT, index)


def cell(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def drag(page, source, target) -> None:
    """A real mouse drag from the centre of one element to the centre of another."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def rerun_until(page, index: int, text: str, timeout: float = 60) -> str:
    """Run a cell again and again until its output contains ``text`` (the kernel applies a drag a moment later)."""
    deadline = time.monotonic() + timeout
    while True:
        page.evaluate(RUN_CELL, index)
        page.wait_for_function(KERNEL_IDLE)
        seen = output(page, index)
        if text in seen or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)


def test_the_workbench_in_jupyterlab_drag_to_link_and_a_run_from_python(page):
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    view = cell(page, VIEW)
    view.locator(".react-flow__node[data-id='second']").wait_for()
    assert view.locator(".react-flow__node").count() == 3 and view.locator(".react-flow__edge").count() == 1
    page.wait_for_function(f"() => ({CELL_TEXT})({CELL_RUN}).includes('WAITING')")
    assert "['logreg->vote']" in output(page, CELL_PATHWAYS)

    view.locator(".react-flow__node[data-id='second']").scroll_into_view_if_needed()
    drag(page, view.locator(handle("second", "source")), view.locator(handle("vote", "target")))
    view.locator(".react-flow__edge[data-id='second->vote']").wait_for(state="attached")
    view.locator(".wb-counts:has-text('3 models · 2 pathways')").wait_for()  # the kernel's answer, drawn
    assert "['logreg->vote', 'second->vote']" in rerun_until(page, CELL_PATHWAYS, "second->vote")

    page.evaluate(RUN_CELL, CELL_RUN)  # both members now feed the vote: the graph lights up, the trace follows
    page.wait_for_function(f"() => ({CELL_TEXT})({CELL_RUN}).includes('RESULT')")
    assert "RESULT ok 9 9 3" in output(page, CELL_RUN)
    for node in ("logreg", "second", "vote"):
        view.locator(f".react-flow__node.wb-s-ok[data-id='{node}']").wait_for()
    steps = view.locator(".wb-steps .tabulator-row")
    steps.filter(has_text="2 inputs").wait_for()  # this run's vote, with both members' answers
    assert steps.count() == 3
    view.locator(".wb-trace-head .wb-badge-ok").wait_for()
    view.locator(".wb-trace-head").scroll_into_view_if_needed()
    screenshot(page, "jupyterlab-workbench")
