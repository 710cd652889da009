"""Run a network over a labelled data set and score every node that answers with a label."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable

from workbench.core.messages import Message
from workbench.engine.runner import CompiledNetwork, RunResult, new_run_id


@dataclass
class NodeScore:
    node: str
    model: str
    kind: str              # "member" for a single model, else the protocol's name (e.g. "vote")
    device: str
    correct: int = 0
    total: int = 0
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
    scores: list[NodeScore]
    seconds: float


async def evaluate(compiled: CompiledNetwork, examples: list[tuple[Message, int]], *, concurrency: int = 4,
                   on_result: Callable[[RunResult], None] | None = None) -> Evaluation:
    """Run every example (``concurrency`` at a time) and score each node whose output is ``label.probs``."""
    network, batch, started = compiled.network, new_run_id(), time.perf_counter()
    scores = {n: NodeScore(n, network.nodes[n].model or network.card(n).name, _kind(compiled, n), compiled.devices[n])
              for n in compiled.order if network.card(n).output_kind == "label.probs"}
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, message: Message, label: int) -> RunResult:
        async with gate:
            result = await compiled.run(message, meta={"batch": batch, "index": index, "label": label})
        for node, score in scores.items():
            _score(score, result.steps.get(node), label)
        if on_result:
            on_result(result)
        return result

    results = await asyncio.gather(*(one(i, m, y) for i, (m, y) in enumerate(examples)))
    return Evaluation(batch, network.name, len(results), sum(not r.ok for r in results),
                      list(scores.values()), time.perf_counter() - started)


def _kind(compiled: CompiledNetwork, node: str) -> str:
    return compiled.network.protocol if compiled.models[node].card.join else "member"


def _score(score: NodeScore, step, label: int) -> None:
    score.total += 1
    if step is None or step.status == "skipped":
        return
    score.calls += 1
    score.seconds += step.seconds or 0.0
    content = step.output.content if step.output is not None else None
    if isinstance(content, dict) and content.get("label") == label:
        score.correct += 1
