"""Do the models do better together than alone? Evaluate each member alone and each protocol over the same
members, on the same data set, and tabulate accuracy, calls, cost and time. Every run is stored.

The variants of a network of classifiers (members answer ``label.probs``): each member alone, the drawn
network, a majority vote, a soft vote and a cascade (cheapest first). Networks of other kinds are compared
as members alone and as drawn.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Callable

from workbench.core.network import Network
from workbench.data import Dataset
from workbench.engine.runner import Engine, RunResult, new_run_id


@dataclass
class Row:
    name: str
    kind: str            # "member" for a single model, else the protocol's name
    accuracy: float
    correct: int
    total: int
    calls: float         # model calls per example, on average
    cost: float          # summed card cost per example, on average
    seconds: float       # wall time for the whole data set
    batch: str           # the runs' meta["batch"], to find them in the store

    def to_dict(self) -> dict:
        return asdict(self)


def members(network: Network) -> list[str]:
    """The nodes that answer on their own: not joins, and not fed by another node."""
    return [n for n in network.topological_order() if not network.predecessors(n) and not network.card(n).join]


def single(network: Network, node: str) -> Network:
    alone = Network(f"{network.name}:{node}", catalog=network.catalog)
    source = network.node(node)
    alone.add(source.instance or source.model, node, name=source.name, device=source.device, params=source.params)
    return alone


def variants(network: Network, threshold: float = 0.6) -> list[tuple[str, str, Network]]:
    """(row name, kind, network) for each member alone, the drawn network, and the label protocols. A router
    is measured as drawn: its members alone do not route."""
    if network.protocol == "router":
        return [(network.name, "router", network)]
    names = members(network)
    rows = [(n, "member", single(network, n)) for n in names]
    rows.append((network.name, network.protocol, network))
    if all(network.card(n).output_kind == "label.probs" for n in names) and len(names) > 1:
        for voter in ("vote", "soft-vote"):
            net = _rebuild(network, names, f"{network.name}:{voter}", "vote")
            net.add(voter, "combine")
            for n in names:
                net.connect(n, "combine")
            rows.append((f"{voter} of {len(names)}", "vote" if voter == "vote" else voter, net))
        by_cost = sorted(names, key=lambda n: network.card(n).cost)
        net = _rebuild(network, by_cost, f"{network.name}:cascade", "cascade", {"threshold": threshold})
        for cheap, dear in zip(by_cost, by_cost[1:]):
            net.connect(cheap, dear)
        rows.append((f"cascade @ {threshold:g}", "cascade", net))
    drawn = _shape(network)  # leave out a generated variant that is the drawn network again
    return [row for row in rows if row[2] is network or _shape(row[2]) != drawn]


def _shape(network: Network) -> tuple:
    models = {n: node.model for n, node in network.nodes.items()}
    return (network.protocol, tuple(sorted(network.options.items())), tuple(sorted(models.values())),
            tuple(sorted((models[p.source], models[p.target]) for p in network.pathways)))


def _rebuild(network: Network, names: list[str], name: str, protocol: str, options: dict | None = None) -> Network:
    net = Network(name, protocol=protocol, options=options, catalog=network.catalog)
    for n in names:
        node = network.node(n)
        net.add(node.instance or node.model, n, name=node.name, device=node.device, params=node.params)
    return net


async def evaluate_variant(engine: Engine, network: Network, examples: list, dataset: Dataset, *,
                           concurrency: int = 4, on_result: Callable[[RunResult], None] | None = None) -> dict:
    compiled, batch = engine.compile(network), new_run_id()
    gate, started = asyncio.Semaphore(concurrency), time.perf_counter()
    correct, calls, cost = 0, 0, 0.0

    async def one(index, message, expected):
        nonlocal correct, calls, cost
        async with gate:
            result = await compiled.run(message, meta={"batch": batch, "index": index, "expected": expected})
        ran = [e for e in result.steps.values() if e.status != "skipped"]
        calls += len(ran)
        cost += sum(compiled.models[e.node].card.cost for e in ran)
        correct += dataset.score(result.output if result.ok else None, expected)
        if on_result:
            on_result(result)

    await asyncio.gather(*(one(i, m, y) for i, (m, y) in enumerate(examples)))
    n = max(len(examples), 1)
    return {"accuracy": correct / n, "correct": correct, "total": len(examples), "calls": calls / n,
            "cost": round(cost / n, 4), "seconds": time.perf_counter() - started, "batch": batch}


async def compare(engine: Engine, network: Network, dataset: Dataset, examples: list, *, threshold: float = 0.6,
                  concurrency: int = 4, on_result: Callable[[RunResult], None] | None = None) -> list[Row]:
    rows = []
    for name, kind, net in variants(network, threshold):
        figures = await evaluate_variant(engine, net, examples, dataset, concurrency=concurrency, on_result=on_result)
        rows.append(Row(name, kind, **figures))
    return rows
