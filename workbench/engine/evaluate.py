"""Run a network over a labelled data set; score its output and every node that answers with a label."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable

from workbench.core.cards import ANY_KIND
from workbench.core.messages import Message
from workbench.core.network import Network
from workbench.data import Dataset
from workbench.errors import NetworkError
from workbench.engine.runner import CompiledNetwork, RunResult, new_run_id


@dataclass
class NodeScore:
    node: str
    model: str
    kind: str              # "member" for a single model, else the protocol's name; "network" for the output
    device: str
    correct: int = 0
    total: int = 0         # examples this node answered (a cascade asks its costly members only sometimes)
    calls: int = 0
    seconds: float = 0.0   # summed step time

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else float("nan")

    def to_dict(self) -> dict:
        return {"name": self.node, "model": self.model, "kind": self.kind, "device": self.device,
                "accuracy": self.accuracy, "correct": self.correct, "total": self.total,
                "calls": self.calls, "seconds": round(self.seconds, 6)}


@dataclass
class Evaluation:
    batch: str
    network: str
    runs: int
    failed_runs: int
    scores: list[NodeScore]   # one per answering node, then the network's output
    seconds: float
    first_error: str | None = None  # the error of the first failed run, to say why runs failed


def check_fits(network: Network, examples: list[tuple[Message, object]], dataset: str) -> None:
    """Refuse, before anything runs, a data set whose inputs the network's first models do not take."""
    if not examples:
        return
    given = examples[0][0].kind
    entry = network.nodes if network.protocol in ("cascade", "router") else network.sources()
    refused = [n for n in entry if network.card(n).input_kind not in (given, ANY_KIND)]
    if refused:
        takes = sorted({network.card(n).input_kind for n in refused})
        raise NetworkError(f"data set {dataset!r} gives {given!r} inputs, but network {network.name!r} takes "
                           f"{' or '.join(map(repr, takes))} at {', '.join(refused)}: pick a data set of its kind")


async def evaluate(compiled: CompiledNetwork, dataset: Dataset, examples: list[tuple[Message, object]], *,
                   concurrency: int = 4, on_result: Callable[[RunResult], None] | None = None) -> Evaluation:
    """Run every example (``concurrency`` at a time); score the output and each ``label.probs`` node."""
    network, batch, started = compiled.network, new_run_id(), time.perf_counter()
    scores = {n: NodeScore(n, network.nodes[n].model or network.card(n).name, _kind(compiled, n), compiled.devices[n])
              for n in compiled.order if network.card(n).output_kind == "label.probs"}
    output = NodeScore("output", network.name, network.protocol, "-")
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, message: Message, expected) -> RunResult:
        async with gate:
            result = await compiled.run(message, meta={"batch": batch, "index": index, "expected": expected})
        for node, score in scores.items():
            _score(score, result.steps.get(node), dataset, expected)
        output.total, output.calls = output.total + 1, output.calls + 1
        output.correct += dataset.score(result.output if result.ok else None, expected)
        output.seconds += result.ended - result.started
        if on_result:
            on_result(result)
        return result

    results = await asyncio.gather(*(one(i, m, y) for i, (m, y) in enumerate(examples)))
    failed = [r for r in results if not r.ok]
    return Evaluation(batch, network.name, len(results), len(failed), [*scores.values(), output],
                      time.perf_counter() - started, failed[0].error if failed else None)


def _kind(compiled: CompiledNetwork, node: str) -> str:
    return compiled.network.protocol if compiled.models[node].card.join else "member"


def _score(score: NodeScore, step, dataset: Dataset, expected) -> None:
    if step is None or step.status == "skipped":
        return
    score.total += 1
    score.calls += 1
    score.seconds += step.seconds or 0.0
    score.correct += dataset.score(step.output if step.status == "ok" else None, expected)
