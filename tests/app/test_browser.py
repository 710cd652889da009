"""The app in a real Chromium against a real ``workbench up`` process: drag, refusals, runs, history, sessions."""
from __future__ import annotations

import re
import time

import pytest
import yaml

from playwright.sync_api import expect

from browsing import AppProcess, drag, handle, odd_host, screenshot
from conftest import TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def expect_counts(page, text: str) -> None:
    expect(page.locator(".wb-counts")).to_have_text(text)


def expect_notice(page, text: str) -> None:
    expect(page.locator(".wb-message")).to_contain_text(text)


def saved_network(page) -> dict:
    """Press "Save network" and read the file the browser downloads."""
    with page.expect_download() as download:
        page.locator(".wb-save").get_by_role("button").click()
    return yaml.safe_load(open(download.value.path(), encoding="utf-8"))


def test_opens_with_the_sample_network_placed_and_connected(app, new_page):
    page = new_page(app.url)
    nodes = page.locator(".react-flow__node")
    assert nodes.count() == 4
    assert page.locator(".react-flow__edge").count() == 3
    cnn = page.locator(".react-flow__node[data-id='cnn']")
    assert "CNN (torch)" in cnn.inner_text() and "torch/" in cnn.inner_text()
    assert "wb-s-idle" in cnn.get_attribute("class") or "wb-s-loading" in cnn.get_attribute("class")
    page.wait_for_selector(".react-flow__node[data-id='cnn']:has-text('torch/cpu')")  # device once loaded
    expect_counts(page, "4 models · 3 pathways")
    screenshot(page, "app-opened")


def inside(box: dict, outer: dict) -> bool:
    return (outer["x"] <= box["x"] and box["x"] + box["width"] <= outer["x"] + outer["width"]
            and outer["y"] <= box["y"] and box["y"] + box["height"] <= outer["y"] + outer["height"])


def test_an_opened_example_is_fitted_into_view(app, new_page):
    page = new_page(app.url)
    page.locator(".wb-examples select").select_option("ask-specialists")
    expect_counts(page, "5 models · 5 pathways")
    canvas = page.locator(".react-flow").first
    nodes = [page.locator(f".react-flow__node[data-id='{n}']") for n in ("router", "math", "general", "merge", "refine")]
    expect(nodes[-1]).to_be_visible()
    deadline = time.monotonic() + 20  # the view is fitted a moment after the nodes are drawn
    while not all(inside(node.bounding_box(), canvas.bounding_box()) for node in nodes):
        assert time.monotonic() < deadline, "the opened network is not all in view"
        page.wait_for_timeout(200)
    screenshot(page, "app-example-fitted")


def test_a_mouse_drag_creates_a_pathway_that_the_network_holds(app, new_page):
    page = new_page(app.url)
    page.locator(".wb-add-digits-logreg button").click()
    page.wait_for_selector(".react-flow__node[data-id='digits-logreg']")
    expect_counts(page, "5 models · 3 pathways")
    drag(page, handle("digits-logreg", "source"), handle("vote", "target"))
    page.wait_for_selector(".react-flow__edge[data-id='digits-logreg->vote']", state="attached")
    expect_notice(page, "pathway 'digits-logreg' → 'vote' added")
    expect_counts(page, "5 models · 4 pathways")
    pathways = saved_network(page)["pathways"]
    assert {"from": "digits-logreg", "to": "vote"} in pathways
    screenshot(page, "app-dragged-pathway")


def test_refused_pathways_show_why_and_the_canvas_stays_usable(app, new_page):
    page = new_page(app.url)
    drag(page, handle("vote", "source"), handle("vote", "target"))
    page.wait_for_selector(".wb-message.wb-refused")
    expect_notice(page, "a model cannot feed itself")
    screenshot(page, "app-self-loop-refused")
    drag(page, handle("vote", "source"), handle("cnn", "target"))
    page.wait_for_selector(".wb-message.wb-refused:has-text('produces')")
    expect_notice(page, "'vote' produces 'label.probs' but 'cnn' takes 'image.digits'")
    page.wait_for_timeout(500)
    assert page.locator(".react-flow__edge").count() == 3  # both refused edges were taken off the canvas
    expect_counts(page, "4 models · 3 pathways")
    page.locator(".wb-add-identity button").click()  # still usable: add a model, link it
    page.wait_for_selector(".react-flow__node[data-id='identity']")
    drag(page, handle("vote", "source"), handle("identity", "target"))
    page.wait_for_selector(".react-flow__edge[data-id='vote->identity']", state="attached")
    expect_counts(page, "5 models · 4 pathways")


def test_select_and_delete_a_pathway_and_a_model(app, new_page):
    page = new_page(app.url)
    page.locator(".react-flow__node[data-id='logreg']").click()
    page.wait_for_selector(".wb-inspector:has-text('digits-logreg')")
    page.locator(".wb-delete button").click()
    page.wait_for_selector(".react-flow__node[data-id='logreg']", state="detached")
    expect_counts(page, "3 models · 2 pathways")
    page.locator(".react-flow__edge[data-id='mlp->vote']").click(force=True)
    page.wait_for_selector(".wb-inspector:has-text('Pathway')")
    page.keyboard.press("Delete")
    page.wait_for_selector(".react-flow__edge[data-id='mlp->vote']", state="detached")
    expect_counts(page, "3 models · 1 pathways")
    assert [p["from"] for p in saved_network(page)["pathways"]] == ["cnn"]


def test_a_digit_run_lights_up_the_graph_and_fills_the_trace(app, new_page):
    page = new_page(app.url)
    page.wait_for_selector(".wb-picture svg")
    page.locator(".wb-run button").click()
    page.wait_for_selector(".wb-trace-title .wb-badge-ok")
    rows = page.locator(".wb-steps .tabulator-row")
    expect(rows).to_have_count(4)
    steps = {rows.nth(i).locator("[tabulator-field='step']").inner_text() for i in range(4)}
    assert steps == {"cnn", "mlp", "logreg", "vote"}
    expect(page.locator(".wb-steps .tabulator-tableholder")).to_contain_text("majority 9: 3 of 3 votes")
    assert re.search(r"9 \(p=\d\.\d\d\) · ok in", page.locator(".wb-run-status .wb-alert").inner_text())
    for node in ("cnn", "mlp", "logreg", "vote"):
        expect(page.locator(f".react-flow__node[data-id='{node}']")).to_have_class(re.compile(r"\bwb-s-ok\b"))
    assert page.locator(".wb-timeline canvas").count() > 0
    page.locator(".wb-prev button").click()   # step-through replays the run on the graph
    page.wait_for_selector(".wb-where:has-text('step 3 of 4')")
    current = page.locator(".react-flow__node.wb-current")
    assert current.count() == 1
    last = page.locator(".wb-steps .tabulator-row").nth(3).locator("[tabulator-field='step']").inner_text()
    assert "wb-s-idle" in page.locator(f".react-flow__node[data-id='{last}']").get_attribute("class")
    screenshot(page, "app-run-trace")


def test_the_whole_held_out_set_runs_and_reports_accuracy(app, new_page):
    page = new_page(app.url)
    page.locator(".wb-mode").get_by_text("Whole held-out set").click()
    page.locator(".wb-run button").click()
    page.wait_for_selector(".wb-run-status:has-text('450 runs')", timeout=180_000)
    text = page.locator(".wb-run-status .wb-alert").inner_text()
    assert "(0 failed)" in text
    accuracy = float(re.search(r"vote\s+python/cpu\s+([\d.]+) %", text).group(1))
    assert accuracy > 95
    screenshot(page, "app-held-out-set")


def test_runs_are_reopened_from_the_history_after_a_restart(app_home, browser, new_page):
    first = AppProcess(app_home).start()
    try:
        page = new_page(first.url)
        page.locator(".wb-run button").click()
        page.wait_for_selector(".wb-trace-title .wb-badge-ok")
        run_id = re.search(r"Run (\w+)", page.locator(".wb-trace-head").inner_text()).group(1)
    finally:
        first.stop()
    second = AppProcess(app_home).start()
    try:
        page = new_page(second.url)
        page.locator(".bk-tab", has_text="History").click()
        row = page.locator(".wb-history .tabulator-row", has_text=run_id)
        row.locator("[tabulator-field='id']").click()
        page.wait_for_selector(f".wb-trace-title:has-text('Stored run {run_id}')")
        expect(page.locator(".wb-steps .tabulator-row")).to_have_count(4)  # the table may draw after the title
        page.locator(".wb-prev button").click()
        page.wait_for_selector(".react-flow__node.wb-current")
        page.wait_for_selector(".wb-where:has-text('step 3 of 4')")
        screenshot(page, "app-history-reopened")
    finally:
        second.stop()


def test_two_sessions_never_see_each_others_work(app, new_page):
    alice, bob = new_page(app.url), new_page(app.url)
    alice.locator(".wb-digit .noUi-handle").focus()
    for _ in range(3):
        alice.keyboard.press("ArrowRight")
    alice.wait_for_selector(".wb-picture:has-text('#20')")
    alice.locator(".wb-run button").click()
    alice.wait_for_selector(".wb-trace-title .wb-badge-ok")
    run_id = re.search(r"Run (\w+)", alice.locator(".wb-trace-head").inner_text()).group(1)
    assert "digit #20" in alice.locator(".wb-trace-head").inner_text()
    alice.locator(".wb-add-gather button").click()
    alice.wait_for_selector(".react-flow__node[data-id='gather']")
    assert "#17" in bob.locator(".wb-digit-card").inner_text()
    expect_counts(bob, "4 models · 3 pathways")
    assert bob.locator(".react-flow__node[data-id='gather']").count() == 0
    assert "No run yet" in bob.locator(".wb-trace-head").inner_text()
    assert bob.locator(".wb-run-status .wb-alert").count() == 0
    assert all("wb-s-ok" not in bob.locator(f".react-flow__node[data-id='{n}']").get_attribute("class")
               for n in ("cnn", "vote"))
    bob.locator(".bk-tab", has_text="History").click()
    bob.locator(".wb-history-refresh button").click()
    bob.wait_for_selector(f".wb-history .tabulator-row:has-text('{run_id}')")  # shared only through history


def test_a_host_connected_in_the_page_lends_its_model_to_the_canvas_and_the_run(host_b, tmp_path, new_page):
    app = AppProcess(tmp_path).start()   # its own WORKBENCH_HOME: connecting a host is shared config
    try:
        page, other = new_page(app.url), new_page(app.url)
        expect(page.locator(".wb-hosts-message")).to_contain_text("No hosts connected yet")
        page.locator(".card-header", has_text="Connect a remote host").click()
        page.locator(".wb-host-name input").fill("b")
        page.locator(".wb-host-url input").fill("ftp://" + host_b.url.removeprefix("http://"))
        page.locator(".wb-host-connect button").click()
        expect(page.locator(".wb-host-result .wb-alert-bad")).to_contain_text("must start with http:// or https://")
        with odd_host() as url:   # a host that never answers: the page says so, and stays usable meanwhile
            page.locator(".wb-host-url input").fill(url + "/slow")
            page.locator(".wb-host-connect button").click()
            expect(page.locator(".wb-host-result .wb-alert-info")).to_contain_text("asking")
            page.locator(".wb-add-identity button").click()
            page.wait_for_selector(".react-flow__node[data-id='identity']")
            expect(page.locator(".wb-host-result .wb-alert-info")).to_contain_text("asking")  # still
            refused = page.locator(".wb-host-result .wb-alert-bad")
            expect(refused).to_contain_text(f"no answer from {url}/slow within 5 s", timeout=30_000)
        page.locator(".react-flow__node[data-id='identity']").click()
        page.locator(".wb-delete button").click()
        page.locator(".wb-host-url input").fill(host_b.url)
        page.locator(".wb-host-key input").fill("not-the-token")
        page.locator(".wb-host-connect button").click()
        expect(page.locator(".wb-host-result .wb-alert-bad")).to_contain_text(
            f"host 'b': wrong token: {host_b.url} answered HTTP 401")
        page.locator(".wb-host-key input").fill(TOKEN)
        page.locator(".wb-host-connect button").click()
        expect(page.locator(".wb-host-result .wb-alert-ok")).to_contain_text("connected b")
        expect(page.locator(".wb-palette-host.wb-host-b")).to_contain_text("on b")
        expect(page.locator(".wb-palette-host.wb-host-b")).to_contain_text("healthy")
        expect(page.locator(".wb-hosts")).to_contain_text(host_b.url)
        assert page.locator(".wb-add-cap_image_classify_digits button").count() == 1
        expect(other.locator(".wb-add-digits-cnn_b button")).to_have_count(1, timeout=15_000)  # shared config
        expect(other.locator(".wb-hosts")).to_contain_text("healthy")
        page.locator(".wb-add-digits-cnn_b button").click()
        remote = page.locator(".react-flow__node[data-id='digits-cnn@b']")
        expect(remote).to_contain_text("peer/torch/cpu@b")
        drag(page, handle("digits-cnn@b", "source"), handle("vote", "target"))
        try:
            page.wait_for_selector(".react-flow__edge[data-id='digits-cnn@b->vote']", state="attached")
        finally:
            screenshot(page, "app-remote-drag")
        expect_counts(page, "5 models · 4 pathways")
        page.locator(".wb-run button").click()
        page.wait_for_selector(".wb-trace-title .wb-badge-ok")
        row = page.locator(".wb-steps .tabulator-row", has_text="digits-cnn@b")
        expect(row.locator("[tabulator-field='device']")).to_have_text("peer/torch/cpu@b")
        expect(row.locator("[tabulator-field='status']")).to_have_text("ok")
        expect(page.locator(".wb-steps .tabulator-tableholder")).to_contain_text("4 of 4 votes")
        expect(remote).to_have_class(re.compile(r"\bwb-s-ok\b"))
        assert other.locator(".react-flow__node[data-id='digits-cnn@b']").count() == 0  # canvases stay apart
        screenshot(page, "app-remote-host")
    finally:
        app.stop()


SLOW = """schema: workbench.network/1
name: slow-pipeline
protocol: pipeline
nodes:
- {id: first, model: identity}
- {id: wait, model: delay, params: {seconds: 5}}
pathways:
- {from: first, to: wait}
"""


def test_a_loaded_network_runs_live_and_cancel_stops_it(app, new_page, tmp_path):
    page = new_page(app.url)
    (tmp_path / "slow.yaml").write_text(SLOW)
    page.locator(".wb-load input[type=file]").set_input_files(str(tmp_path / "slow.yaml"))
    expect_counts(page, "2 models · 1 pathways")
    expect_notice(page, "opened 'slow-pipeline' from slow.yaml")
    page.locator(".wb-run button").click()
    page.wait_for_selector(".react-flow__node[data-id='wait'].wb-s-running")   # the active step lights up
    expect(page.locator(".react-flow__node[data-id='first']")).to_have_class(re.compile(r"\bwb-s-ok\b"))
    expect(page.locator(".wb-steps .tabulator-row")).to_have_count(1)  # the trace follows the live run
    screenshot(page, "app-running")
    page.locator(".wb-cancel button").click()
    page.wait_for_selector(".react-flow__node[data-id='wait'].wb-s-cancelled")
    expect(page.locator(".wb-run-status .wb-alert-bad")).to_contain_text("cancelled")
    expect(page.locator(".wb-trace-head .wb-badge-cancelled")).to_have_count(1)


def big_network_file(path, models: int = 500, pathways: int = 1000):
    """Join nodes linked forward only (acyclic), written as a network file."""
    import random

    from workbench import Network, save_network
    from workbench.core.network import Pathway

    rng, net = random.Random(1), Network("big", protocol="graph")
    for i in range(models):
        net.add("gather", f"g{i}")
    pairs = set()
    while len(pairs) < pathways:
        j = rng.randrange(1, models)
        pairs.add((rng.randrange(max(0, j - 25), j), j))
    for i, j in sorted(pairs):
        net.add_pathway(Pathway(f"g{i}", f"g{j}"))
    return save_network(net, path)


def test_at_500_models_the_canvas_stays_usable_and_nothing_moves_when_a_model_is_added(tmp_path, new_page):
    app = AppProcess(tmp_path, str(big_network_file(tmp_path / "big.yaml"))).start()
    try:
        page = new_page(app.url)
        expect(page.locator(".react-flow__node")).to_have_count(500)
        expect(page.locator(".react-flow__edge")).to_have_count(1000)
        placed = {n: page.locator(f".react-flow__node[data-id='{n}']").get_attribute("style")
                  for n in ("g0", "g250", "g499")}
        page.locator(".wb-add-identity button").click()
        page.wait_for_selector(".react-flow__node[data-id='identity']")
        expect_counts(page, "501 models · 1000 pathways")
        assert {n: page.locator(f".react-flow__node[data-id='{n}']").get_attribute("style") for n in placed} == placed
        page.locator(".react-flow__controls-fitview").click()
        screenshot(page, "app-500-models")
    finally:
        app.stop()
