"""The network: model nodes plus the pathways between them.

Every edit is checked as it is made, so a network in memory is always valid for its protocol::

    net = Network("digits-ensemble", protocol="vote")
    for name in ("digits-cnn", "digits-mlp", "digits-logreg"):
        net.add(name)
    net.add("vote")
    for member in ("digits-cnn", "digits-mlp", "digits-logreg"):
        net.connect(member, "vote")
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.core.cards import ModelCard, kinds_compatible
from workbench.core.catalog import Catalog, default_catalog
from workbench.core.protocols import check_options, protocol_rules
from workbench.errors import (CycleNotAllowed, DuplicateNode, DuplicatePathway, IncompatibleKinds,
                              NetworkError, PathwayError, SelfLoop, UnknownNode)

if TYPE_CHECKING:
    from workbench.backends.base import Model

ADAPTER_KEYS = {"template"}  # pathway adapters understood so far


@dataclass
class Node:
    id: str
    model: str | None                    # catalog name; None when ``instance`` was given in code
    name: str = ""                       # display name, any script
    device: str = "auto"
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] | None = None
    instance: "Model | None" = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.name = self.name or self.id


@dataclass(frozen=True)
class Pathway:
    source: str
    target: str
    adapter: dict[str, str] | None = None   # e.g. {"template": "Refine this answer: {text}"}


class Network:
    def __init__(self, name: str = "network", protocol: str = "graph", *, description: str = "",
                 dataset: str | None = None, options: dict | None = None, catalog: Catalog | None = None):
        if not isinstance(name, str) or not name.strip():
            raise NetworkError("a network's name cannot be empty")  # network files could not hold it
        self.options = check_options(protocol, dict(options or {}))  # refuses unknown protocols and options
        self.name, self.protocol, self.description, self.dataset = name, protocol, description, dataset
        self.catalog = catalog or default_catalog()
        self.nodes: dict[str, Node] = {}
        self.pathways: list[Pathway] = []
        self.version = 0  # bumped on every edit

    # ---- nodes -------------------------------------------------------------------------------
    def add(self, model: "str | Model", id: str | None = None, *, name: str = "", device: str = "auto",
            params: dict | None = None, position: tuple[float, float] | None = None) -> Node:
        """Add a model by catalog name, or a :class:`~workbench.backends.base.Model` built in code."""
        if isinstance(model, str):
            self.catalog.get(model)  # UnknownModel if not there
            node = Node(id or self._free_id(model), model, name, device, dict(params or {}), position)
        else:
            node = Node(id or self._free_id(model.card.name), None, name, device, {}, position, instance=model)
        if not node.id or not node.id.strip():
            raise NetworkError("a node id cannot be empty")
        if node.id in self.nodes:
            raise DuplicateNode(node.id)
        self.nodes[node.id] = node
        self.version += 1
        return node

    def remove(self, node_id: str) -> None:
        self.node(node_id)
        self.pathways = [p for p in self.pathways if node_id not in (p.source, p.target)]
        del self.nodes[node_id]
        self.version += 1

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise UnknownNode(node_id, list(self.nodes)) from None

    def card(self, node_id: str) -> ModelCard:
        node = self.node(node_id)
        return node.instance.card if node.instance is not None else self.catalog.get(node.model).card

    def _free_id(self, base: str) -> str:
        candidate, n = base, 1
        while candidate in self.nodes:
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    # ---- pathways ----------------------------------------------------------------------------
    def connect(self, source: str, target: str, adapter: dict | None = None) -> Pathway:
        """Add a pathway; connecting the same pair again with the same adapter returns the existing one."""
        existing = self.pathway(source, target)
        if existing is not None and existing.adapter == (adapter or None):
            return existing
        return self.add_pathway(Pathway(source, target, adapter or None))

    def add_pathway(self, pathway: Pathway) -> Pathway:
        """Add a pathway, refusing duplicates. Raises a :class:`~workbench.errors.PathwayError` naming both ends."""
        self.check_pathway(pathway)
        self.pathways.append(pathway)
        self.version += 1
        return pathway

    def check_pathway(self, pathway: Pathway) -> None:
        source, target = pathway.source, pathway.target
        self.node(source), self.node(target)
        if source == target:
            raise SelfLoop(source)
        if self.pathway(source, target) is not None:
            raise DuplicatePathway(source, target)
        self._check_adapter(pathway)
        out_card, in_card = self.card(source), self.card(target)
        rules = protocol_rules(self.protocol)
        if rules.carries_data and not kinds_compatible(out_card.output_kind, in_card.input_kind):
            raise IncompatibleKinds(source, target, f"{source!r} produces {out_card.output_kind!r} but "
                                                    f"{target!r} takes {in_card.input_kind!r}")
        feeding = self.predecessors(target)
        if rules.carries_data and feeding and not in_card.join:
            raise PathwayError(source, target, f"{target!r} takes one input and is already fed by {feeding[0]!r}")
        if not rules.allows_cycles and (path := self._path(target, source)):
            raise CycleNotAllowed(source, target, [source, *path], self.protocol)
        rules.check_pathway(self, source, target)

    def _check_adapter(self, pathway: Pathway) -> None:
        adapter = pathway.adapter or {}
        if not isinstance(adapter, dict) or set(adapter) - ADAPTER_KEYS:
            raise PathwayError(pathway.source, pathway.target,
                               f"unknown adapter {adapter!r}; adapters take: {', '.join(sorted(ADAPTER_KEYS))}")
        template = adapter.get("template")
        if template is not None and (not isinstance(template, str) or "{text}" not in template):
            raise PathwayError(pathway.source, pathway.target, "a template adapter is a string with a {text} slot")

    def disconnect(self, source: str, target: str) -> None:
        pathway = self.pathway(source, target)
        if pathway is None:
            raise PathwayError(source, target, "there is no such pathway")
        self.pathways.remove(pathway)
        self.version += 1

    def pathway(self, source: str, target: str) -> Pathway | None:
        return next((p for p in self.pathways if p.source == source and p.target == target), None)

    # ---- graph queries -----------------------------------------------------------------------
    def predecessors(self, node_id: str) -> list[str]:
        return [p.source for p in self.pathways if p.target == node_id]

    def successors(self, node_id: str) -> list[str]:
        return [p.target for p in self.pathways if p.source == node_id]

    def sources(self) -> list[str]:
        fed = {p.target for p in self.pathways}
        return [n for n in self.nodes if n not in fed]

    def sinks(self) -> list[str]:
        feeding = {p.source for p in self.pathways}
        return [n for n in self.nodes if n not in feeding]

    def _path(self, start: str, goal: str) -> list[str] | None:
        """A path start → … → goal along pathways, or None (depth-first)."""
        stack, seen = [(start, [start])], {start}
        while stack:
            here, path = stack.pop()
            if here == goal:
                return path
            for nxt in self.successors(here):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
        return None

    def run_order(self) -> list[str]:
        """Topological order when the graph is acyclic, else the order the nodes were added."""
        try:
            return self.topological_order()
        except NetworkError:
            return list(self.nodes)

    def topological_order(self) -> list[str]:
        indegree = {n: 0 for n in self.nodes}
        for p in self.pathways:
            indegree[p.target] += 1
        ready = [n for n, d in indegree.items() if d == 0]
        order = []
        while ready:
            here = ready.pop(0)
            order.append(here)
            for nxt in self.successors(here):
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    ready.append(nxt)
        if len(order) != len(self.nodes):
            raise NetworkError("the network has a cycle")
        return order

    def validate(self) -> "Network":
        """Check the whole network can run under its protocol; returns it for chaining."""
        if not self.nodes:
            raise NetworkError(f"network {self.name!r} has no models")
        rules = protocol_rules(self.protocol)
        if not rules.allows_cycles:
            self.topological_order()
        rules.validate(self)
        for node in self.nodes.values():
            self._check_weights(node.id, node.params.get("weights"))
        return self

    def _check_weights(self, node_id: str, weights) -> None:
        """A join's ``weights`` weigh its feeders: they must name feeders, and not weigh them all at zero."""
        if not isinstance(weights, dict):
            return
        feeders = self.predecessors(node_id)
        unknown = sorted(set(map(str, weights)) - set(feeders))
        if unknown:
            raise NetworkError(f"{node_id}: weights name {', '.join(map(repr, unknown))}, which "
                               f"{'does' if len(unknown) == 1 else 'do'} not feed it "
                               f"(its inputs: {', '.join(feeders) or 'none'})")
        values = [weights.get(f, 1.0) for f in feeders]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return  # the soft vote itself names a weight that is not a number
        if any(v < 0 for v in values):
            raise NetworkError(f"{node_id}: weights must be ≥ 0, not {min(values):g}")
        if values and sum(values) <= 0:
            raise NetworkError(f"{node_id}: weights are all zero, so no input would count")

    def __repr__(self) -> str:
        return f"<Network {self.name!r} protocol={self.protocol} nodes={len(self.nodes)} pathways={len(self.pathways)}>"
