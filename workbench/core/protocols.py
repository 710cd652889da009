"""Protocol rules: the shapes of network each protocol can run, and who runs it.

Only the rules live here (pure data and checks). ``check_pathway`` refuses an edit as it happens,
``validate`` checks a whole network before a run, ``options`` lists the protocol's settings and their
defaults. ``executor`` names (``"module:function"``, imported only when a run needs it) the coroutine
that runs the protocol; None means the engine's dataflow over the drawn graph. Protocols whose pathways
show an order rather than carry data (a cascade's escalation order) set ``carries_data=False``, so
pathways between models of different kinds are allowed.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from workbench.errors import NetworkError, PathwayError

if TYPE_CHECKING:
    from workbench.core.network import Network


@dataclass(frozen=True)
class ProtocolRules:
    name: str
    description: str
    allows_cycles: bool = False
    carries_data: bool = True
    options: dict = field(default_factory=dict)
    executor: str | None = None
    check_pathway: Callable[["Network", str, str], None] = lambda network, source, target: None
    validate: Callable[["Network"], None] = lambda network: None


def _pipeline_pathway(network: "Network", source: str, target: str) -> None:
    if network.successors(source):
        raise PathwayError(source, target, f"in a pipeline {source!r} already feeds {network.successors(source)[0]!r}")
    if network.predecessors(target):
        raise PathwayError(source, target, f"in a pipeline {target!r} is already fed by {network.predecessors(target)[0]!r}")


def _pipeline_validate(network: "Network") -> None:
    if len(network.sources()) > 1:
        raise NetworkError(f"a pipeline has one first model; this one has {len(network.sources())}: "
                           f"{', '.join(network.sources())}")


def _cascade_validate(network: "Network") -> None:
    _pipeline_validate(network)
    threshold = network.options.get("threshold", 0.6)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise NetworkError(f"a cascade's threshold is a confidence from 0 to 1, not {threshold!r}")


def _needs_limit(network: "Network") -> None:
    limit = network.options.get("max_iterations")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise NetworkError(f"a loop runs only with an explicit iteration limit: set option max_iterations ≥ 1, "
                           f"not {limit!r}")


def _single_sink(protocol: str) -> Callable[["Network"], None]:
    def validate(network: "Network") -> None:
        sinks = network.sinks()
        if len(sinks) != 1:
            raise NetworkError(f"a {protocol} network ends in one node; this one ends in {len(sinks)}: "
                               f"{', '.join(sinks) or 'none'}")
        if protocol in ("fanout", "vote") and not network.card(sinks[0]).join:
            raise NetworkError(f"a {protocol} network ends in a join node; {sinks[0]!r} takes one input")
        if protocol == "vote" and "combine.vote" not in network.card(sinks[0]).capabilities:
            raise NetworkError(f"a vote network ends in a voter; {sinks[0]!r} cannot vote")
    return validate


PROTOCOLS: dict[str, ProtocolRules] = {
    rules.name: rules
    for rules in [
        ProtocolRules("graph", "the drawn graph: every model runs once its inputs arrive (no cycles)"),
        ProtocolRules("pipeline", "a chain: each model feeds the next",
                      check_pathway=_pipeline_pathway, validate=_pipeline_validate),
        ProtocolRules("fanout", "fan-out/join: the input goes to every branch, one node joins them",
                      validate=_single_sink("fanout")),
        ProtocolRules("vote", "vote: every member answers, a voter (majority or soft) combines the answers",
                      validate=_single_sink("vote")),
        ProtocolRules("cascade", "cascade: the cheapest model first, escalating while confidence is low",
                      carries_data=False, options={"threshold": 0.6}, executor="workbench.engine.protocols.cascade:execute",
                      check_pathway=_pipeline_pathway, validate=_cascade_validate),
        ProtocolRules("self-consistency", "self-consistency: sample k answers from one model, keep the most common",
                      carries_data=False, options={"k": 5, "temperature": 0.7, "seed": 0},
                      executor="workbench.engine.protocols.consistency:execute"),
        ProtocolRules("debate", "debate: members answer, read each other's answers and revise; optional judge",
                      carries_data=False, options={"rounds": 3, "judge": None, "temperature": 0.0, "seed": 0},
                      executor="workbench.engine.protocols.debate:execute"),
        ProtocolRules("moa", "mixture-of-agents: layers of proposers, then one aggregator",
                      carries_data=False, options={"temperature": 0.0, "seed": 0}, executor="workbench.engine.protocols.moa:execute",
                      validate=_single_sink("moa")),
        ProtocolRules("router", "router: one member answers, chosen by capability or by meaning",
                      carries_data=False, options={"by": "capability", "capability": None, "embedder": None,
                                                   "descriptions": None},
                      executor="workbench.engine.protocols.router:execute"),
        ProtocolRules("loop", "loop: the drawn graph with cycles, until a node stops it or the iteration limit",
                      allows_cycles=True, carries_data=False, options={"max_iterations": None},
                      executor="workbench.engine.protocols.loop:execute", validate=_needs_limit),
    ]
}


def register_protocol(rules: ProtocolRules) -> ProtocolRules:
    PROTOCOLS[rules.name] = rules
    return rules


def protocol_executor(name: str):
    """The coroutine function that runs protocol ``name``, or None for the dataflow over the drawn graph."""
    path = protocol_rules(name).executor
    if path is None:
        return None
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def check_options(name: str, options: dict) -> dict:
    """``options`` merged over the protocol's defaults; unknown names are refused."""
    rules = protocol_rules(name)
    unknown = set(options) - set(rules.options)
    if unknown:
        accepted = ", ".join(rules.options) or "none"
        raise NetworkError(f"protocol {name!r} has no option {', '.join(sorted(unknown))}; options: {accepted}")
    return {**rules.options, **options}


def protocol_rules(name: str) -> ProtocolRules:
    if name not in PROTOCOLS:
        _load_plugins()
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise NetworkError(f"unknown protocol {name!r}; known: {', '.join(PROTOCOLS)}") from None


def _load_plugins() -> None:
    from workbench.plugins import plugin_protocols

    for rules in plugin_protocols():
        PROTOCOLS.setdefault(rules.name, rules)  # a plugin cannot replace a built-in protocol
