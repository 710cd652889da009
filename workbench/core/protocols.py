"""Protocol rules: the shapes of network each protocol can run.

Only the rules live here (pure data and checks); the engine runs them. ``check_pathway`` refuses an edit
as it happens, ``validate`` checks a whole network before a run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from workbench.errors import NetworkError, PathwayError

if TYPE_CHECKING:
    from workbench.core.network import Network


@dataclass(frozen=True)
class ProtocolRules:
    name: str
    description: str
    allows_cycles: bool = False
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


def _single_sink(protocol: str) -> Callable[["Network"], None]:
    def validate(network: "Network") -> None:
        sinks = network.sinks()
        if len(sinks) != 1:
            raise NetworkError(f"a {protocol} network ends in one join node; this one ends in {len(sinks)}: "
                               f"{', '.join(sinks) or 'none'}")
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
        ProtocolRules("vote", "majority vote: every member answers, a voter picks the most common answer",
                      validate=_single_sink("vote")),
    ]
}


def protocol_rules(name: str) -> ProtocolRules:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise NetworkError(f"unknown protocol {name!r}; known: {', '.join(PROTOCOLS)}") from None
