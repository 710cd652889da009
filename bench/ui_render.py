"""The app in Chromium: first render of a big network, and how fast the page follows a run.

    python bench/ui_render.py [--loads 3]

1. First render: a 500-model, 1,000-pathway network opened by ``workbench up FILE``; the time from navigation
   to every node and arrow drawn (median of --loads page loads), against the 4-model sample network served
   the same way in the same run. Target: ≤ 2 s.
2. Step updates: a pipeline of 200 fast steps (``delay`` models, 5 ms each). A MutationObserver in the page
   records when each node's card turns "ok"; the rate the page shows is compared with the rate the engine
   produced the steps (from the stored trace). Targets: ≥ 20 updates/s, no lost step.

Needs Debian's Chromium (/usr/bin/chromium) and the ``playwright`` package (the test extra).
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from workbench import Network, Store, save_network
from workbench.core.network import Pathway

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# Count elements matching a selector through every shadow root (Panel renders components in shadow DOM).
DEEP_COUNT = """(selector) => { let n = 0; const walk = (root) => { n += root.querySelectorAll(selector).length;
  root.querySelectorAll('*').forEach(el => el.shadowRoot && walk(el.shadowRoot)); }; walk(document); return n; }"""
WATCH_OK = """() => { window.__ok = {}; const seen = new Set();
  const watch = (root) => { if (seen.has(root)) return; seen.add(root);
    new MutationObserver((records) => { for (const r of records) { const el = r.target;
      if (el.classList && el.classList.contains('wb-s-ok') && el.dataset.id && !(el.dataset.id in window.__ok))
        window.__ok[el.dataset.id] = performance.now(); } })
      .observe(root, {attributes: true, attributeFilter: ['class'], subtree: true});
    root.querySelectorAll('*').forEach(el => el.shadowRoot && watch(el.shadowRoot)); };
  watch(document); window.__clicked = performance.now(); }"""


def big_network(path: Path, models: int = 500, pathways: int = 1000) -> Path:
    """Join nodes (each takes many inputs) linked forward only, so the graph is acyclic."""
    rng, net = random.Random(0), Network("big-500", protocol="graph")
    for i in range(models):
        net.add("gather", f"g{i}")
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < pathways:
        j = rng.randrange(1, models)
        pairs.add((rng.randrange(max(0, j - 25), j), j))
    for i, j in sorted(pairs):
        net.add_pathway(Pathway(f"g{i}", f"g{j}"))
    return save_network(net, path)


def fast_pipeline(path: Path, steps: int = 200, seconds: float = 0.005) -> Path:
    net = Network("fast-200", protocol="pipeline")
    for i in range(steps):
        net.add("delay", f"s{i}", params={"seconds": seconds})
        if i:
            net.connect(f"s{i - 1}", f"s{i}")
    return save_network(net, path)


class App:
    def __init__(self, network: str, home: Path, port: int):
        self.url, self.log = f"http://127.0.0.1:{port}/", home / f"app-{port}.log"
        command = [sys.executable, "-m", "workbench.cli", "up", network, "--no-browser", "--port", str(port)]
        self.proc = subprocess.Popen(command, env={**os.environ, "WORKBENCH_HOME": str(home)},
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(600):
            try:
                urllib.request.urlopen(self.url, timeout=5).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit(f"workbench up failed:\n{self.log.read_text()}")
                time.sleep(0.2)
        raise SystemExit("workbench up did not answer")

    def __enter__(self):
        return self

    def __exit__(self, *_):
        os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.wait(timeout=20)


def first_render(browser, url: str, nodes: int, edges: int) -> tuple[float, float, float]:
    """Seconds from navigation start to every node and arrow drawn, to the server's answer, to the page's
    scripts having run (DOMContentLoaded)."""
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(url, wait_until="commit")
    page.wait_for_function(f"() => ({DEEP_COUNT})('.react-flow__node') >= {nodes} && "
                           f"({DEEP_COUNT})('.react-flow__edge') >= {edges}", timeout=120_000, polling="raf")
    drawn = page.evaluate("performance.now()")
    nav = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
    page.close()
    return drawn / 1000, nav["responseEnd"] / 1000, nav["domContentLoadedEventEnd"] / 1000


def step_updates(browser, url: str, home: Path, steps: int) -> dict:
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(url)
    page.wait_for_function(f"() => ({DEEP_COUNT})('.react-flow__node') >= {steps}", timeout=120_000)
    page.wait_for_timeout(1500)  # models loaded (the preload), statuses back to idle
    page.evaluate(WATCH_OK)
    page.locator(".wb-run button").click()
    page.wait_for_selector(".wb-trace-title .wb-badge", timeout=120_000)
    page.wait_for_timeout(500)
    shown = page.evaluate("Object.values(window.__ok)")
    rows = int(page.locator(".wb-where .wb-step-of").inner_text().split(" of ")[1].split(":")[0])
    page.close()
    record = Store(home / "runs.sqlite").runs(limit=1)[0]
    shown_span = max(shown) - min(shown) if len(shown) > 1 else float("nan")
    return {"shown": len(shown), "rows": rows, "page_rate": (len(shown) - 1) / (shown_span / 1000),
            "engine_rate": steps / (record.ended - record.started), "status": record.status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=3, help="page loads per network (median taken)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        tmp = Path(tmp)
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        times = {}
        for name, network, nodes, edges, port in [("sample (4 models)", "digits-ensemble", 4, 3, 5391),
                                                  ("500 models, 1,000 pathways", str(big_network(tmp / "big.yaml")),
                                                   500, 1000, 5392)]:
            home = tmp / f"home-{port}"
            home.mkdir()
            with App(network, home, port) as app:
                first_render(browser, app.url, nodes, edges)  # warm: the server's first page builds its caches
                loads = sorted(first_render(browser, app.url, nodes, edges) for _ in range(args.loads))
                times[name] = loads[len(loads) // 2]  # the median load, by time to drawn
                drawn, answered, booted = times[name]
                print(f"{name}: server answered {answered:.2f} s, scripts ran {booted:.2f} s, drawn {drawn:.2f} s")
        reference, big = times["sample (4 models)"][0], times["500 models, 1,000 pathways"][0]
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"first render   sample network: {reference:.2f} s   500/1,000 network: {big:.2f} s   "
              f"ratio {big / reference:.2f}×   target ≤ 2 s: {'met' if big <= 2 else 'MISSED'}")
        home = tmp / "home-steps"
        home.mkdir()
        with App(str(fast_pipeline(tmp / "fast.yaml")), home, 5393) as app:
            result = step_updates(browser, app.url, home, 200)
        lost = 200 - min(result["shown"], result["rows"])
        print(f"step updates   page shows {result['page_rate']:.0f} steps/s, engine made {result['engine_rate']:.0f} "
              f"steps/s (ratio {result['page_rate'] / result['engine_rate']:.2f}×); {result['shown']} of 200 steps "
              f"shown on the graph, {result['rows']} in the trace ({lost} lost); run {result['status']}   "
              f"target ≥ 20/s, none lost: {'met' if result['page_rate'] >= 20 and lost == 0 else 'MISSED'}")
        browser.close()


if __name__ == "__main__":
    main()
