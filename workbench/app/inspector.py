"""The inspector: what the network knows about the selected model or pathway, and a delete button."""
from __future__ import annotations

import html

import panel as pn
import param
from panel.viewable import Viewer

from workbench.app.graph import GraphView
from workbench.app.theme import html_pane


class Inspector(Viewer):
    """Shows the model card of the selected node, or the two ends of the selected pathway."""

    graph = param.ClassSelector(class_=GraphView, doc="The canvas whose selection is shown.")

    def __init__(self, **params):
        super().__init__(**params)
        self._body = html_pane("", sizing_mode="stretch_width", css_classes=["wb-inspector"], margin=(0, 4))
        self._delete = pn.widgets.Button(label="Delete selected", color="danger", variant="outline",
                                         disabled=True, sizing_mode="stretch_width", css_classes=["wb-delete"])
        self._delete.on_click(lambda _: self.graph.delete_selected())
        self.graph.param.watch(self._refresh, ["selection", "edited"])
        self._refresh()

    def _refresh(self, *_events) -> None:
        nodes, edges = self.graph.selection["nodes"], self.graph.selection["edges"]
        self._delete.disabled = not (nodes or edges)
        if nodes:
            self._body.object = self._node_html(nodes[0]) + _more(len(nodes) - 1, "model")
        elif edges:
            self._body.object = self._edge_html(*edges[0]) + _more(len(edges) - 1, "pathway")
        else:
            net = self.graph.network
            self._body.object = (f"<p class='wb-muted'>Select a model or pathway on the canvas. "
                                 f"<b>{len(net.nodes)}</b> models, <b>{len(net.pathways)}</b> pathways.</p>")

    def _node_html(self, node_id: str) -> str:
        net = self.graph.network
        if node_id not in net.nodes:
            return ""
        node, card = net.nodes[node_id], net.card(node_id)
        rows = [("id", node_id), ("model", node.model or card.name), ("backend", card.backend),
                ("device", self.graph.devices.get(node_id) or node.device), ("host", card.host),
                ("takes", card.input_kind + (" (joins all inputs)" if card.join else "")),
                ("gives", card.output_kind), ("skills", ", ".join(card.capabilities) or "–"),
                ("status", self.graph.statuses.get(node_id, "idle"))]
        return f"<h4 class='wb-h'>{html.escape(node.name)}</h4>" + _table(rows) + \
               f"<p class='wb-muted'>{html.escape(card.description)}</p>"

    def _edge_html(self, source: str, target: str) -> str:
        net = self.graph.network
        rows = [("from", source), ("to", target), ("carries", net.card(source).output_kind),
                ("into", net.card(target).input_kind)]
        return "<h4 class='wb-h'>Pathway</h4>" + _table(rows)

    def __panel__(self):
        return pn.Column(self._body, self._delete, sizing_mode="stretch_width")


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table class='wb-kv'>{cells}</table>"


def _more(count: int, what: str) -> str:
    return f"<p class='wb-muted'>and {count} more {what}{'s' if count > 1 else ''} selected</p>" if count > 0 else ""
