"""``workbench up``: serve the app on 127.0.0.1, one :class:`~workbench.app.session.Workbench` per session.

Everything the page loads (Bokeh, Panel, React Flow, Tabulator, the app's stylesheets) comes from this
server: the page makes no request off 127.0.0.1.
"""
from __future__ import annotations

import logging
import socket
import threading
from workbench.config import store_path

DEFAULT_NETWORK = "digits-ensemble"
TITLE = "ModelNet Workbench"
log = logging.getLogger("workbench.app")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shared_state(network: str | None = None):
    """The engine, the run store, the connected hosts (``remotes.yaml``, each asked once) and the opening
    network (a file path or a shipped example's name; it may name ``model@host`` and ``cap:`` models)."""
    from workbench.app.connections import Hosts
    from workbench.app.layout import place_missing
    from workbench.app.session import Shared
    from workbench.core import files
    from workbench.engine.runner import Engine
    from workbench.examples import resolve
    from workbench.store.sqlite import Store

    store = Store(store_path())
    engine = Engine(sinks=[store.write])
    hosts = Hosts(engine=engine).start()
    if hosts.problem:
        log.warning("remote hosts not used: %s", hosts.problem)
    opening = files.load(resolve(network or DEFAULT_NETWORK), hosts.catalog)  # a bad file is refused here, once
    place_missing(opening)
    return Shared(engine, store, opening, hosts)


def warm_up(shared) -> threading.Thread:
    """Load the opening network's models in the background, so the first run does not wait for them."""

    def load():
        try:
            shared.engine.compile(shared.fresh_network())
        except Exception as exc:  # shown again, with its reason, when a user presses Run
            log.warning("could not load the models of %s: %s", shared.network.name, exc)

    thread = threading.Thread(target=load, name="workbench-warm-up", daemon=True)
    thread.start()
    return thread


def make_app(shared):
    """The function Panel calls once per browser session."""
    import holoviews as hv
    import panel as pn

    from workbench.app.session import PAGE_CSS, Workbench

    def session():
        pn.extension("tabulator", global_css=[PAGE_CSS])
        hv.extension("bokeh", logo=False)
        workbench = Workbench(shared)
        pn.state.on_session_destroyed(lambda _context: workbench.runs.cancel())
        return workbench
    return session


def serve(network: str | None = None, port: int = 5006, show: bool = True) -> None:
    """Serve until interrupted. ``port=0`` picks a free port."""
    import panel as pn

    shared = shared_state(network)
    warm_up(shared)
    port = port or free_port()
    server = pn.serve({"/": make_app(shared)}, port=port, address="127.0.0.1", show=False, start=False,
                      title=TITLE, websocket_origin=[f"127.0.0.1:{port}", f"localhost:{port}"])
    url = f"http://127.0.0.1:{port}/"
    server.start()
    print(f"{TITLE} at {url}  (runs are stored in {store_path()}; Ctrl+C stops it)", flush=True)
    if show:
        server.io_loop.add_callback(server.show, "/")
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        shared.engine.close()
