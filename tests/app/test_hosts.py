"""Connecting hosts from the app, in process, against real hosts: the form, the palette, runs, faults."""
from __future__ import annotations

import html
import stat
from pathlib import Path

import pytest

pytest.importorskip("panel_reactflow")
import holoviews.plotting.bokeh  # noqa: E402,F401  (the trace's timeline is drawn when a run ends)

from browsing import odd_host  # noqa: E402
from conftest import TOKEN  # noqa: E402

from workbench.app.connections import Hosts  # noqa: E402
from workbench.app.palette import css_name  # noqa: E402
from workbench.app.server import free_port  # noqa: E402
from workbench.app.session import Shared, Workbench  # noqa: E402
from workbench.engine.runner import Engine  # noqa: E402
from workbench.examples import load_network  # noqa: E402
from workbench.net.remotes import Remotes  # noqa: E402
from workbench.store.sqlite import Store  # noqa: E402

pytestmark = pytest.mark.network


def app_for(home: Path, probe_timeout: float = 5.0) -> Workbench:
    """One session of the app as ``workbench up`` builds it, with its data in ``home``."""
    engine = Engine()
    hosts = Hosts(home / "remotes.yaml", engine=engine, probe_timeout=probe_timeout)
    shared = Shared(engine, Store(home / "runs.sqlite"), load_network("digits-ensemble", hosts.catalog), hosts)
    return Workbench(shared)


def fill(app: Workbench, url: str, name: str = "b", key: str = "", kind: str = "peer", chat: str = "") -> None:
    form = app.hosts
    form.kind.value = kind
    form.host_name.value, form.url.value, form.key.value, form.chat.value = name, url, key, chat


def said(app: Workbench) -> str:
    """What the form says now, as text."""
    return html.unescape(app.hosts.result.object)


def palette_names(app: Workbench) -> list[str]:
    return [item.label.removeprefix("+  ") for item in app.palette._layout if hasattr(item, "clicks")]


def click_palette(app: Workbench, name: str) -> None:
    button = next(item for item in app.palette._layout if f"wb-add-{css_name(name)}" in item.css_classes)
    button.clicks += 1


def heading(app: Workbench, host: str) -> str:
    return app.palette._headings[host].object


async def test_a_connected_host_joins_the_palette_and_its_model_runs_with_its_device_in_the_trace(host_b, tmp_path):
    app = app_for(tmp_path)
    assert not any("@" in name for name in palette_names(app))
    fill(app, host_b.url, key=TOKEN)
    assert await app.hosts.connect_host()
    assert "connected <b>b</b>" in said(app) and "digits-cnn@b" in said(app)
    names = palette_names(app)
    assert {"digits-cnn@b", "digits-mlp@b", "reverse-chat@b", "cap:image.classify.digits"} <= set(names)
    assert names.index("digits-cnn") < names.index("digits-cnn@b") < names.index("cap:image.classify.digits")
    assert "on b" in heading(app, "b") and "healthy" in heading(app, "b")
    assert "healthy" in app.host_list._panes["b"].object and "b-token" not in app.host_list._panes["b"].object
    click_palette(app, "digits-cnn@b")
    assert app.graph.network.card("digits-cnn@b").device == "torch/cpu@b"
    assert app.graph.connect("digits-cnn@b", "vote")
    await app.runs.run()
    rows = {row.step: row for row in app.trace.rows}
    assert rows["digits-cnn@b"].status == "ok" and rows["digits-cnn@b"].device == "peer/torch/cpu@b"
    assert rows["cnn"].device == "torch/cpu" and "4 of 4 votes" in rows["vote"].output
    saved = Remotes.load(tmp_path / "remotes.yaml").get("b")   # where `workbench peers list` reads it
    assert (saved.url, saved.token, saved.kind) == (host_b.url, TOKEN, "peer")
    assert stat.S_IMODE((tmp_path / "remotes.yaml").stat().st_mode) == 0o600
    assert app.hosts.key.value == ""


async def test_a_wrong_or_missing_token_is_refused_with_the_401_and_nothing_is_saved(host_b, tmp_path):
    app = app_for(tmp_path)
    fill(app, host_b.url, key="not-the-token")
    assert not await app.hosts.connect_host()
    assert f"host 'b': wrong token: {host_b.url} answered HTTP 401" in said(app)
    fill(app, host_b.url)
    assert not await app.hosts.connect_host()
    assert "missing token" in said(app) and "HTTP 401" in said(app)
    assert not (tmp_path / "remotes.yaml").exists() and not any("@" in n for n in palette_names(app))
    assert not app.hosts.busy and not app.hosts.connect.disabled


async def test_an_unreachable_url_says_so_at_once_and_the_page_stays_usable(tmp_path):
    app = app_for(tmp_path)
    fill(app, f"http://127.0.0.1:{free_port()}", name="gone")
    assert not await app.hosts.connect_host()
    result = said(app)
    assert "cannot reach http://127.0.0.1:" in result and "connection refused" in result
    assert "attempts" not in result   # one try: a probe reports, it does not insist
    assert not (tmp_path / "remotes.yaml").exists()
    app.graph.add_model("digits-logreg")   # the canvas still works
    assert "digits-logreg" in app.graph.network.nodes


async def test_a_web_page_and_a_host_that_never_answers_get_short_clear_errors(tmp_path):
    app = app_for(tmp_path, probe_timeout=1.0)
    with odd_host() as url:
        fill(app, url, name="site")
        assert not await app.hosts.check_host()
        assert "answered HTTP 200 with an HTML page, not JSON (Welcome" in said(app)
        assert "is it a workbench host?" in said(app)
        fill(app, url + "/slow", name="slow")
        assert not await app.hosts.connect_host()
        assert f"no answer from {url}/slow within 1 s" in said(app)
    fill(app, "ftp://somewhere")
    assert not await app.hosts.connect_host()
    assert "must start with http:// or https://" in said(app)
    assert not (tmp_path / "remotes.yaml").exists()


async def test_an_openai_compatible_endpoint_connects_with_its_chat_model_and_streams(host_b, tmp_path):
    app = app_for(tmp_path)
    fill(app, host_b.url, name="llm", key=TOKEN, kind="openai", chat="reverse-chat")
    assert not await app.hosts.check_host()
    assert f"{host_b.url} is a workbench host: choose that kind, or give its OpenAI-compatible URL" in said(app)
    fill(app, host_b.url + "/api", name="llm", key=TOKEN, kind="openai", chat="reverse-chat")
    assert not await app.hosts.check_host()
    assert "answered HTTP 404" in said(app) and "usually ends in /v1" in said(app)
    fill(app, host_b.url + "/v1", name="llm", key=TOKEN, kind="openai", chat="reverse-chat")
    assert await app.hosts.connect_host()
    assert "reverse-chat@llm" in palette_names(app) and "hash-embed@llm" not in palette_names(app)
    assert app.load_text("schema: workbench.network/1\nname: chat\nprotocol: pipeline\n"
                         "nodes:\n- {id: chat, model: reverse-chat@llm}\n", "chat.yaml")
    app.runs.text.value = "one two three"
    await app.runs.run()
    assert app.trace.rows[0].device == "openai/remote@llm" and app.trace.rows[0].output == "three two one"
    assert "three two one" in app.runs.tokens.object   # streamed, piece by piece


async def test_removing_a_host_empties_its_palette_group_and_its_nodes_say_why_they_cannot_run(host_b, tmp_path):
    app = app_for(tmp_path)
    fill(app, host_b.url, key=TOKEN)
    assert await app.hosts.connect_host()
    other = Workbench(app.shared)              # a second session of the same app
    assert "digits-cnn@b" in palette_names(other)
    fill(app, host_b.url, key=TOKEN)
    assert not await app.hosts.connect_host()
    assert "a host named 'b' is connected already" in said(app)
    app.graph.add_model("digits-cnn@b")
    assert app.graph.connect("digits-cnn@b", "vote")
    await app.host_list.remove("b")
    assert not any(name.endswith("@b") or name.startswith("cap:") for name in palette_names(app))
    assert "b" not in app.host_list._panes and "No hosts connected yet" in app.host_list.message.object
    assert "digits-cnn@b" in app.graph.network.nodes   # still drawn
    await app.runs.run()
    assert "no remote named 'b'" in html.unescape(app.runs.status.object)
    assert len(Remotes.load(tmp_path / "remotes.yaml")) == 0
    assert "digits-cnn@b" in palette_names(other)      # until its next look at the hosts …
    await other.poll_hosts()
    assert "digits-cnn@b" not in palette_names(other)


async def test_the_app_starts_with_the_hosts_of_the_config_and_opens_networks_naming_them(host_b, tmp_path):
    (tmp_path / "remotes.yaml").write_text(f"peers:\n- {{name: b, url: '{host_b.url}', token: {TOKEN}}}\n")
    hosts = Hosts(tmp_path / "remotes.yaml")
    await hosts.reload()
    assert hosts.catalog.get("digits-mlp@b").card.host == "b" and [r.name for r in hosts.rows()] == ["b"]
    (tmp_path / "remotes.yaml").write_text("peers: [1, 2]\n")
    await hosts.reload()
    assert "remotes.yaml: peers[0]: expected a mapping" in hosts.problem


async def test_check_hosts_picks_up_a_host_added_with_the_command_line(host_b, tmp_path):
    from workbench.net.remotes import Remote

    app = app_for(tmp_path)
    Remotes([Remote("b", "peer", host_b.url, token=TOKEN)], tmp_path / "remotes.yaml").save()  # as `peers add` does
    assert "digits-cnn@b" not in palette_names(app)
    await app.host_list.check_health()
    assert "digits-cnn@b" in palette_names(app) and "healthy" in app.host_list._panes["b"].object
    assert app.graph.network.catalog is app.shared.hosts.catalog
