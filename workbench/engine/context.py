"""What a protocol sees of a run: its members, its options, and a way to call models as traced steps.

A protocol executor is ``async def execute(ctx: RunContext) -> Message | None``. It calls nodes with
``await ctx.call(node, message)`` (each call is one step in the trace, ``node``, ``node#2``, …) and says
what it decided with ``ctx.decide("escalated: confidence 0.41 < 0.60", node)``. It returns the run's
output, or None when it could not produce one (the failed steps say why).

A protocol whose options hold ``temperature`` > 0 samples: each call that does not set its own
``meta["temperature"]`` is asked with that temperature and ``seed + i`` for the run's i-th call, so a run is
reproducible from its options.
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from workbench.core.cards import ModelCard
from workbench.core.messages import Message
from workbench.engine.events import DECISION

if TYPE_CHECKING:
    from workbench.engine.runner import CompiledNetwork, _Run


class RunContext:
    def __init__(self, compiled: "CompiledNetwork", run: "_Run", input: Message):
        self.compiled, self.run, self.input = compiled, run, input
        self.network = compiled.network
        self.options = compiled.network.options
        self.order = compiled.order          # the members, in pathway (topological) order
        self._calls: Counter[str] = Counter()
        self._made = 0                       # calls made so far in this run
        self._decisions = 0
        self.cost = 0.0                      # summed card cost of the calls made so far

    def card(self, node: str) -> ModelCard:
        return self.compiled.models[node].card

    async def call(self, node: str, message: Message) -> Message | None:
        self._calls[node] += 1
        step = node if self._calls[node] == 1 else f"{node}#{self._calls[node]}"
        self.cost += self.card(node).cost
        temperature = float(self.options.get("temperature") or 0.0)
        if temperature > 0 and "temperature" not in message.meta:
            seed = int(self.options.get("seed") or 0) + self._made
            message = Message(message.kind, message.content, {**message.meta, "temperature": temperature, "seed": seed})
        self._made += 1
        return await self.compiled.call(self.run, node, message, step)

    def decide(self, text: str, node: str | None = None) -> None:
        self._decisions += 1
        step = f"{self.network.protocol}#{self._decisions}"
        self.run.emit(DECISION, step=step, node=node, decision=text)
