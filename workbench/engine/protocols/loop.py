"""Loop: the drawn graph with cycles allowed, run until it stops itself or hits its iteration limit.

Contract:
- option ``max_iterations`` (required, ≥ 1): no node runs more often than that;
- the run starts at the nodes no pathway feeds (else at the first node drawn) with the run's input;
  every output goes on along every pathway out of its node, one step each (``draft``, ``critic``,
  ``draft#2``, …); nodes in a loop take one input at a time (no joins);
- a node stops the loop by answering with ``meta["stop"] = True``: ``stopped by critic after 3 steps``;
  else ``stopped: draft reached the iteration limit (3)``;
- output: the last answer produced.
"""
from __future__ import annotations

from collections import Counter, deque

from workbench.core.messages import Message
from workbench.engine.context import RunContext


async def execute(ctx: RunContext) -> Message | None:
    limit = int(ctx.options["max_iterations"] or 0)
    if limit < 1:
        raise ValueError("a loop needs option max_iterations ≥ 1")
    starts = [n for n in ctx.network.nodes if not ctx.network.predecessors(n)] or [next(iter(ctx.network.nodes))]
    pending, runs, last, steps = deque((n, ctx.input) for n in starts), Counter(), None, 0
    while pending:
        node, message = pending.popleft()
        if runs[node] >= limit:
            ctx.decide(f"stopped: {node} reached the iteration limit ({limit})", node)
            return last
        runs[node] += 1
        answer = await ctx.call(node, message)
        steps += 1
        if answer is None:
            return None
        last = answer
        if answer.meta.get("stop"):
            ctx.decide(f"stopped by {node} after {steps} steps", node)
            return last
        pending.extend((target, answer) for target in ctx.network.successors(node))
    return last
