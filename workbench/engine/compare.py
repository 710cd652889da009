"""Do the models do better together than alone? Evaluate each member alone and each protocol over the same
members, on the same data set, and tabulate accuracy, calls, cost and time. Every run is stored.

The variants of a network of classifiers (members answer ``label.probs``): each member alone, the drawn
network, a majority vote, a soft vote and a cascade (cheapest first). The variants of a network of chat
models (members answer ``text``): each member alone (greedy, single shot), the drawn network,
self-consistency over the first member, a debate of the members and a mixture-of-agents (the members
propose, a copy of the first member aggregates); only members that offer ``text.generate`` take part in
these, so a tool in the network (the calculator) is measured alone and as drawn. Networks of other kinds are compared as members alone and
as drawn.

Sampling protocols (those with a ``seed`` option) can be measured over several seeds: each seed is one row,
and :func:`summarise` gives the mean, the spread and the margin over the best member.
"""
from __future__ import annotations

import asyncio
import time
import statistics
from dataclasses import asdict, dataclass
from typing import Callable

from workbench.core.network import Network
from workbench.data import Dataset
from workbench.engine.evaluate import check_fits
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
    seed: int | None = None  # the seed of a sampling protocol; None for a greedy (deterministic) variant
    failed: int = 0          # runs that failed (scored as wrong)
    error: str | None = None  # the first failed run's error

    def to_dict(self) -> dict:
        return asdict(self)


def members(network: Network) -> list[str]:
    """The nodes that answer on their own: not joins, and not fed by another node (in a cascade, whose
    pathways only order the members, every node)."""
    return [n for n in network.topological_order() if not network.card(n).join
            and (network.protocol == "cascade" or not network.predecessors(n))]


def single(network: Network, node: str) -> Network:
    alone = Network(f"{network.name}:{node}", catalog=network.catalog)
    source = network.node(node)
    alone.add(source.instance or source.model, node, name=source.name, device=source.device, params=source.params)
    return alone


def variants(network: Network, threshold: float = 0.6, temperature: float = 0.7) -> list[tuple[str, str, Network]]:
    """(row name, kind, network) for each member alone, the drawn network, and the label or text protocols
    (text ones sample at ``temperature``). A router is measured as drawn: its members alone do not route."""
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
    chat = [n for n in names if "text.generate" in network.card(n).capabilities]  # tools are not sampled
    if chat and all(network.card(n).output_kind == "text" for n in names):
        rows.extend(text_variants(network, chat, temperature))
    drawn = _shape(network)  # leave out a generated variant that is the drawn network again
    return [row for row in rows if row[2] is network or _shape(row[2]) != drawn]


def text_variants(network: Network, names: list[str], temperature: float) -> list[tuple[str, str, Network]]:
    first, sampling = names[0], {"temperature": temperature, "seed": 0}
    net = _rebuild(network, [first], f"{network.name}:self-consistency", "self-consistency", {"k": 5, **sampling})
    rows = [(f"self-consistency ×5 of {first}", "self-consistency", net)]
    if len(names) > 1:
        net = _rebuild(network, names, f"{network.name}:debate", "debate", {"rounds": 2, **sampling})
        rows.append((f"debate of {len(names)}, 2 rounds", "debate", net))
        if network.protocol != "moa":
            net = _rebuild(network, names, f"{network.name}:moa", "moa", sampling)
            source = network.node(first)
            net.add(source.instance or source.model, "aggregator", name=f"aggregator ({source.name})",
                    device=source.device, params=source.params)
            for n in names:
                net.connect(n, "aggregator")
            rows.append((f"mixture of {len(names)} + aggregator", "moa", net))
    return rows


def with_seed(network: Network, seed: int) -> Network:
    """The same network whose protocol samples with ``seed``."""
    net = Network(network.name, network.protocol, description=network.description, dataset=network.dataset,
                  options={**network.options, "seed": seed}, catalog=network.catalog)
    for node in network.nodes.values():
        net.add(node.instance or node.model, node.id, name=node.name, device=node.device, params=node.params,
                position=node.position)
    for pathway in network.pathways:
        net.add_pathway(pathway)
    return net


def samples(network: Network) -> bool:
    """Whether the network's protocol draws samples (and so its accuracy varies with the seed)."""
    options = network.options
    return "seed" in options and (network.protocol == "self-consistency" or float(options.get("temperature") or 0) > 0)


def _shape(network: Network) -> tuple:
    models = {n: (node.model or f"{node.instance.card.name}@{id(node.instance)}") + repr(sorted(node.params.items()))
              for n, node in network.nodes.items()}  # a soft vote with weights is not the plain one
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
    correct, calls, cost, failed = 0, 0, 0.0, []

    async def one(index, message, expected):
        nonlocal correct, calls, cost
        async with gate:
            result = await compiled.run(message, meta={"batch": batch, "index": index, "expected": expected})
        if not result.ok:
            failed.append(result.error)
        ran = [e for e in result.steps.values() if e.status != "skipped"]
        calls += len(ran)
        cost += sum(compiled.models[e.node].card.cost for e in ran)
        correct += dataset.score(result.output if result.ok else None, expected)
        if on_result:
            on_result(result)

    await asyncio.gather(*(one(i, m, y) for i, (m, y) in enumerate(examples)))
    n = max(len(examples), 1)
    return {"accuracy": correct / n, "correct": correct, "total": len(examples), "calls": calls / n,
            "cost": round(cost / n, 4), "seconds": time.perf_counter() - started, "batch": batch,
            "failed": len(failed), "error": failed[0] if failed else None}


async def compare(engine: Engine, network: Network, dataset: Dataset, examples: list, *, threshold: float = 0.6,
                  temperature: float = 0.7, seeds: list[int] | None = None, concurrency: int = 4,
                  on_result: Callable[[RunResult], None] | None = None) -> list[Row]:
    """One row per variant, and per seed for the variants that sample (``seeds``: default, their own seed)."""
    check_fits(network, examples, dataset.name)
    rows = []
    for name, kind, net in variants(network, threshold, temperature):
        runs = [(seed, with_seed(net, seed)) for seed in seeds] if seeds and samples(net) else \
            [(net.options["seed"] if samples(net) else None, net)]
        for seed, seeded in runs:
            figures = await evaluate_variant(engine, seeded, examples, dataset, concurrency=concurrency,
                                             on_result=on_result)
            rows.append(Row(name, kind, **figures, seed=seed))
    return rows


def runs_per_variant(network: Network, threshold: float, temperature: float, seeds: list[int] | None) -> int:
    """How many passes over the data :func:`compare` makes (for a progress bar)."""
    return sum(len(seeds) if seeds and samples(net) else 1 for _, _, net in variants(network, threshold, temperature))


@dataclass
class Summary:
    name: str
    kind: str
    accuracy: float          # mean over seeds
    spread: float            # standard deviation over seeds (0 for one run)
    low: float
    high: float
    seeds: int               # rows summarised
    calls: float
    seconds: float
    margin: float | None     # accuracy minus the best member's (None without members)

    def to_dict(self) -> dict:
        return asdict(self)


def summarise(rows: list[Row]) -> list[Summary]:
    """One line per variant: mean accuracy over its seeds, the spread, and the margin over the best member."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.name, row.kind), []).append(row)
    best = max((r.accuracy for r in rows if r.kind == "member"), default=None)
    summary = []
    for (name, kind), group in groups.items():
        accuracies = [r.accuracy for r in group]
        mean = statistics.fmean(accuracies)
        summary.append(Summary(name, kind, mean, statistics.stdev(accuracies) if len(group) > 1 else 0.0,
                               min(accuracies), max(accuracies), len(group),
                               statistics.fmean(r.calls for r in group), sum(r.seconds for r in group),
                               None if best is None else mean - best))
    return summary
