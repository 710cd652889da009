"""The network as a graph editor: React Flow (through ``panel-reactflow``) kept in step with a Network.

Every edit made on the canvas goes through :class:`~workbench.core.network.Network`, so the engine's rules
decide: a pathway the network refuses (self-loop, duplicate, incompatible kinds, a cycle the protocol
forbids) is taken off the canvas again and its reason shown in ``message``. Node cards show name, backend,
device and status; :meth:`GraphView.show_statuses` restyles only the nodes whose status changed.
"""
from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer
import panel_reactflow

from workbench.app import layout
from workbench.app.theme import node_css
from workbench.core.network import Network, Pathway
from workbench.errors import WorkbenchError

ARROW = {"type": "arrowclosed", "width": 18, "height": 18, "color": "#94a3b8"}

# In the page: press this canvas's own "fit view" control once React Flow has drawn the new nodes.
FIT_VIEW = """
const fit = (tries) => {
  for (const root of Object.values(Bokeh.index)) {
    const view = root.owner.find_one(flow)
    const button = view && view.shadow_el.querySelector('.react-flow__controls-fitview')
    if (button) { button.click(); return }
  }
  if (tries > 0) setTimeout(() => fit(tries - 1), 100)
}
setTimeout(() => fit(20), 50)
"""


class ReactFlow(panel_reactflow.ReactFlow):
    """React Flow with one more setting: ``fits`` counts the requests to fit the whole network in view.
    (Same class name: the page finds the component in panel-reactflow's bundle by it.)"""

    fits = param.Integer(default=0, doc="Bumped to fit the view to the network (a new network was opened).")


def _no_editor(*args, **kwargs):
    return None  # nodes are inspected in the Inspector, not in per-node editors (they cost 1 model each)


class GraphView(Viewer):
    """The live network as a canvas: nodes, pathways as arrows, drag to link, select and delete."""

    network = param.ClassSelector(class_=Network, doc="The network shown and edited.")
    message = param.String(default="", doc="The last refusal or notice, in words.")
    selection = param.Dict(default={"nodes": [], "edges": []}, doc="Selected node ids and pathways (source, target).")
    edited = param.Event(doc="Fires after every change to the network made through this view.")

    def __init__(self, network: Network, **params):
        super().__init__(network=network, **params)
        self.statuses: dict[str, str] = {}
        self.devices: dict[str, str] = {}
        self.current: str | None = None
        self._edge_ends: dict[str, tuple[str, str]] = {}
        self.flow = ReactFlow(
            editor_mode="side", default_node_editor=_no_editor, default_edge_editor=_no_editor,
            display_side_bar=False, default_edge_options={"markerEnd": ARROW}, show_minimap=False,
            min_zoom=0.05, max_zoom=1.25, sizing_mode="stretch_both", min_height=420,
            stylesheets=[node_css()], css_classes=["wb-canvas"])
        self.flow.jscallback(fits=FIT_VIEW, args={"flow": self.flow})
        for kind, handler in [("edge_added", self._on_edge_added), ("edge_deleted", self._on_edge_deleted),
                              ("node_deleted", self._on_node_deleted), ("node_moved", self._on_node_moved),
                              ("selection_changed", self._on_selection)]:
            self.flow.on(kind, handler)
        self.set_network(network)

    # ---- network → canvas ---------------------------------------------------------------------
    def set_network(self, network: Network) -> None:
        """Show ``network`` (replacing what is shown); nodes without a position are laid out once."""
        layout.place_missing(network)
        self.network, self.statuses, self.devices, self.current = network, {}, {}, None
        self._edge_ends = {_edge_id(p.source, p.target): (p.source, p.target) for p in network.pathways}
        self.flow.param.update(nodes=[self._node(n) for n in network.nodes],
                               edges=[self._edge(p.source, p.target) for p in network.pathways],
                               fits=self.flow.fits + 1)
        self.param.trigger("edited")

    def _node(self, node_id: str) -> dict:
        node = self.network.nodes[node_id]
        x, y = node.position or (0.0, 0.0)
        return {"id": node_id, "type": "panel", "position": {"x": float(x), "y": float(y)},
                "label": self._label(node_id), "className": self._classes(node_id), "data": {}}

    def _edge(self, source: str, target: str) -> dict:
        return {"id": _edge_id(source, target), "source": source, "target": target, "markerEnd": ARROW, "data": {}}

    def _label(self, node_id: str) -> str:
        node, card = self.network.nodes[node_id], self.network.card(node_id)
        device = self.devices.get(node_id) or f"{card.backend}/{node.device if node.device != 'auto' else card.device}"
        return f"{node.name}\n{node.model or card.name} · {device}"

    def _classes(self, node_id: str) -> str:
        backend = self.network.card(node_id).backend
        extra = " wb-current" if node_id == self.current else ""
        return f"wb-node wb-b-{backend} wb-s-{self.statuses.get(node_id, 'idle')}{extra}"

    def show_statuses(self, statuses: dict[str, str], current: str | None = None) -> None:
        """Set node statuses (``idle``, ``loading``, ``running``, ``ok``, ``failed``, …); restyle only changes."""
        changed = {n for n, s in statuses.items() if self.statuses.get(n, "idle") != s}
        if current != self.current:
            changed |= {n for n in (current, self.current) if n}
        self.statuses.update(statuses)
        self.current = current
        self._patch({n: {"className": self._classes(n)} for n in changed if n in self.network.nodes})

    def _patch(self, patches: dict[str, dict]) -> None:
        """Patch the props of many nodes: one pass over the Python-side node list, one small message per node.

        ``ReactFlow.patch_node_props`` does the same per node but scans every node each time; at a run's pace
        (hundreds of patches a second on 500 nodes) that scan dominated. The message is panel-reactflow's own
        ``patch_node_props`` (version pinned; the browser tests cover it).
        """
        if not patches:
            return
        for node in self.flow.nodes:
            patch = patches.get(node["id"] if isinstance(node, dict) else node.id)
            if patch and isinstance(node, dict):
                node.update(patch)
        for node_id, patch in patches.items():
            self.flow._send_msg({"type": "patch_node_props", "node_id": node_id, "patch": patch})

    def reset_statuses(self) -> None:
        self.show_statuses({n: "idle" for n in self.network.nodes})

    def show_devices(self, devices: dict[str, str]) -> None:
        """Show where each node runs once its model is loaded (e.g. ``torch/cpu``)."""
        known = [n for n in devices if n in self.network.nodes]
        before = {n: self._label(n) for n in known}
        self.devices.update({n: devices[n] for n in known})
        self._patch({n: {"label": self._label(n)} for n in known if self._label(n) != before[n]})

    # ---- edits from code (palette, inspector) -------------------------------------------------
    def add_model(self, model: str) -> str:
        """Add a catalog model in the first free grid slot; returns the new node's id."""
        node = self.network.add(model, position=layout.free_slot(self.network))
        self.flow.add_node(self._node(node.id))
        self._notice(f"added {node.id!r} ({model})")
        return node.id

    def connect(self, source: str, target: str) -> bool:
        """Add a pathway as if drawn; False (and the reason in ``message``) when the network refuses it."""
        try:
            self.network.add_pathway(Pathway(source, target))
        except WorkbenchError as exc:
            self._notice(str(exc), refused=True)
            return False
        self._edge_ends[_edge_id(source, target)] = (source, target)
        self.flow.add_edge(self._edge(source, target))
        return True

    def delete_selected(self) -> None:
        nodes, edges = self.selection["nodes"], [_edge_id(s, t) for s, t in self.selection["edges"]]
        if edges:
            self.flow.remove_edge(edges)
        if nodes:
            self.flow.remove_node(nodes)

    # ---- edits from the canvas ----------------------------------------------------------------
    def _on_edge_added(self, payload: dict) -> None:
        edge = payload["edge"]
        source, target, edge_id = edge.get("source"), edge.get("target"), edge.get("id")
        if self._edge_ends.get(edge_id) == (source, target):
            return  # added from code: already in the network
        try:
            self.network.add_pathway(Pathway(source, target))
        except WorkbenchError as exc:
            self._notice(str(exc), refused=True)
            pn.state.execute(lambda: self.flow.remove_edge(edge_id), schedule=True)  # after this sync settles
            return
        self._edge_ends[edge_id] = (source, target)
        self.flow.patch_edge_props(edge_id, {"markerEnd": ARROW})
        self._notice(f"pathway {source!r} → {target!r} added")

    def _on_edge_deleted(self, payload: dict) -> None:
        ends = self._edge_ends.pop(payload["edge_id"], None)
        if ends and self.network.pathway(*ends) is not None:
            self.network.disconnect(*ends)
            self._notice(f"pathway {ends[0]!r} → {ends[1]!r} deleted")

    def _on_node_deleted(self, payload: dict) -> None:
        node_id = payload["node_id"]
        for edge_id in payload.get("deleted_edges", ()):
            self._edge_ends.pop(edge_id, None)
        if node_id in self.network.nodes:
            self.network.remove(node_id)
            self.statuses.pop(node_id, None)
            self._notice(f"model {node_id!r} deleted")

    def _on_node_moved(self, payload: dict) -> None:
        node = self.network.nodes.get(payload["node_id"])
        if node is not None:
            node.position = (float(payload["position"]["x"]), float(payload["position"]["y"]))

    def _on_selection(self, payload: dict) -> None:
        edges = [self._edge_ends[e] for e in payload.get("edges") or () if e in self._edge_ends]
        self.selection = {"nodes": [n for n in payload.get("nodes") or () if n in self.network.nodes], "edges": edges}

    def _notice(self, text: str, refused: bool = False) -> None:
        self.message = ("⚠ " if refused else "") + text
        self.param.trigger("edited")

    def __panel__(self):
        return self.flow


def _edge_id(source: str, target: str) -> str:
    return f"{source}->{target}"  # the id React Flow gives a dragged connection, so both sides agree


