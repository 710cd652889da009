"""Helpers for the app's tests: a real ``workbench up`` process and Debian's Chromium through Playwright.

Every page records its requests; a test fails if any left 127.0.0.1. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    from workbench.app.server import free_port as pick

    return pick()


class AppProcess:
    """``workbench up --no-browser --port FREE`` as a subprocess with its own WORKBENCH_HOME."""

    def __init__(self, home: Path, network: str | None = None):
        self.home, self.network = home, network
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen | None = None
        self.log = home / f"app-{self.port}.log"

    def start(self, timeout: float = 90) -> "AppProcess":
        command = [sys.executable, "-m", "workbench.cli", "up", "--no-browser", "--port", str(self.port)]
        if self.network:
            command.insert(4, self.network)
        env = {**os.environ, "WORKBENCH_HOME": str(self.home)}
        self.proc = subprocess.Popen(command, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"workbench up exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                urllib.request.urlopen(self.url, timeout=5).read()
                return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"workbench up did not answer within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)


class Requests(list):
    def external(self) -> list[str]:
        local = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")
        return [url for url in self if not url.startswith(local)]


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def drag(page, source_selector: str, target_selector: str) -> None:
    """A real mouse drag from the centre of one element to the centre of another (both on screen: a click
    lower in a long palette may have scrolled the canvas away)."""
    page.locator(source_selector).scroll_into_view_if_needed()
    page.locator(target_selector).scroll_into_view_if_needed()
    start = page.locator(source_selector).bounding_box()
    end = page.locator(target_selector).bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def handle(node: str, kind: str) -> str:
    return f".react-flow__node[data-id='{node}'] .react-flow__handle.{kind}"


@contextlib.contextmanager
def odd_host():
    """oddhost.py in its own process (a web server, not a workbench host); yields its URL."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).parent / "oddhost.py")], stdout=subprocess.PIPE,
                            text=True)
    try:
        yield f"http://127.0.0.1:{proc.stdout.readline().split()[1]}"
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
