"""Pictures for notebooks (HoloViews): a network as a graph, and a run as a timeline.

Both are plain HoloViews objects: display them, lay them out with ``+``, or restyle them with ``.opts``.
"""
from __future__ import annotations

from typing import Iterable

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh renderer the plots use)
import pandas as pd

from workbench.app import layout
from workbench.app.steps import step_rows
from workbench.app.theme import BACKEND_COLOURS, DEFAULT_COLOUR, STATUS_COLOURS
from workbench.core.network import Network
from workbench.engine.events import Event

HOST_COLOURS = ["#0f766e", "#7c3aed", "#d97706", "#2563eb", "#dc2626", "#65a30d"]


def node_table(network: Network, statuses: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per node: id, position (laid out as on the canvas), backend, host and status."""
    positions = {n: node.position for n, node in network.nodes.items()}
    if any(p is None for p in positions.values()):
        positions = layout.layered(network)
    rows = []
    for node_id, node in network.nodes.items():
        card, (x, y) = network.card(node_id), positions[node_id]
        rows.append({"x": x, "y": -y, "node": node_id, "label": node.name, "model": node.model or card.name,
                     "backend": card.backend, "host": card.host, "status": (statuses or {}).get(node_id, "idle")})
    return pd.DataFrame(rows)


def network_plot(network: Network, color_by: str = "backend", statuses: dict[str, str] | None = None,
                 width: int = 700, height: int = 360):
    """The network as a graph: models as circles (coloured by ``backend``, ``host`` or ``status``), pathways
    as arrows, each model labelled with its name."""
    table = node_table(network, statuses)
    nodes = hv.Nodes(table, ["x", "y", "node"], ["label", "model", "backend", "host", "status"])
    edges = pd.DataFrame([(p.source, p.target) for p in network.pathways], columns=["source", "target"])
    graph = hv.Graph((edges, nodes), ["source", "target"])
    labels = hv.Labels(table, ["x", "y"], "label").opts(yoffset=-28, text_font_size="9pt", text_color="#334155")
    return (graph * labels).opts(
        hv.opts.Graph(node_color=color_by, cmap=_colours(table[color_by], color_by), node_size=26,
                      directed=True, arrowhead_length=0.04, edge_line_color="#94a3b8", edge_line_width=2,
                      tools=["hover"], xaxis=None, yaxis=None, show_frame=False, legend_position="right",
                      padding=0.25, width=width, height=height, title=f"{network.name} · {network.protocol}"))


def _colours(values: Iterable[str], color_by: str) -> dict[str, str]:
    known = {"backend": BACKEND_COLOURS, "status": STATUS_COLOURS}.get(color_by, {})
    distinct = sorted(set(values))
    return {v: known.get(v, HOST_COLOURS[i % len(HOST_COLOURS)] if color_by == "host" else DEFAULT_COLOUR)
            for i, v in enumerate(distinct)}


def timeline(events: Iterable[Event]):
    """A run's steps on a time axis (the app's timeline), coloured by status; None if no step was timed."""
    from workbench.app.trace import timeline as draw

    return draw(step_rows(events))
