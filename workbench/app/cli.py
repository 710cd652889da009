"""``workbench up``: the app's command (registered in :mod:`workbench.cli`; imports Panel only when run)."""
from __future__ import annotations

import click

from workbench.errors import WorkbenchError


@click.command()
@click.argument("network", required=False)
@click.option("--port", default=5006, show_default=True, type=click.IntRange(0, 65535),
              help="Port on 127.0.0.1; 0 picks a free one.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; just print the URL.")
def up(network, port, no_browser):
    """Start the workbench app: the live network as a graph, runs, traces.

    NETWORK is a network file or a shipped example's name (default: digits-ensemble).
    """
    try:
        from workbench.app.server import serve
    except ImportError as exc:
        raise click.ClickException(f"the app needs its extra: pip install 'modelnet-workbench[app]' ({exc})") from exc
    try:
        serve(network, port=port, show=not no_browser)
    except WorkbenchError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}; "
                                   f"try another --port (0 picks a free one)") from exc
