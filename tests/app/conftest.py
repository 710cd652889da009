"""Fixtures for the app's tests: a real app process per module, one Chromium per session, a second host."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from browsing import CHROMIUM, CHROMIUM_ARGS, ROOT, AppProcess, Requests

TOKEN = "b-token"


@pytest.fixture(scope="module")
def host_b(tmp_path_factory):
    """A real ``workbench host`` named b on a free port, with a token, serving the sample models and the
    network tests' text models (so its OpenAI-compatible /v1 lists reverse-chat and hash-embed)."""
    from workbench.net.process import HostProcess

    tmp = tmp_path_factory.mktemp("host-b")
    env = {"WORKBENCH_HOME": str(tmp), "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "net"), str(ROOT)])}
    with HostProcess("b", extra=["--models-from", "textmodels:ENTRIES"], token=TOKEN, env=env, log=tmp / "b.log",
                     cwd=ROOT) as host:
        yield host


@pytest.fixture(scope="module")
def app_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("workbench-home")


@pytest.fixture(scope="module")
def app(app_home):
    """One app process for the module's tests (each test opens its own browser session)."""
    process = AppProcess(app_home).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module (sync Playwright holds an event loop; async tests elsewhere need none)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (bash .ci/setup test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts (separate sessions); each fails the test on an external request."""
    opened = []

    def open_page(url: str, width: int = 1500, height: int = 1000):
        context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        page = context.new_page()
        page.requests = Requests()
        page.on("request", lambda request: page.requests.append(request.url))
        page.set_default_timeout(60_000)
        page.goto(url)
        page.wait_for_selector(".react-flow__node")
        opened.append((context, page))
        return page

    yield open_page
    for context, page in opened:
        assert page.requests.external() == [], f"requests left 127.0.0.1: {page.requests.external()}"
        context.close()


@pytest.fixture(autouse=True)
def _panel_state():
    """Panel keeps global state between apps served in one process: reset it around in-process tests."""
    yield
    if "panel" in sys.modules:
        from panel.io.state import state

        state.reset()
