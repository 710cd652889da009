"""Cascade: ask the cheapest model first; escalate while its confidence is below a threshold.

Contract:
- members: the nodes in escalation order, drawn as a chain ``cheap → mid → expensive`` (the pathways
  show the order; each member gets the run's input, not the previous member's answer);
- option ``threshold`` (default 0.6): an answer is accepted when its confidence reaches it. Confidence is
  ``meta["confidence"]`` when a model gives one, else the probability of the chosen label;
- a member that fails, or whose confidence is not a finite number, is escalated past;
- the last member's answer is kept whatever its confidence;
- decisions: ``escalated: confidence 0.41 < 0.60 (logreg), cost so far 0.64`` (with the model's
  ``meta["reason"]`` when it gives one: ``(calculator: cannot compute: division by zero)``) and
  ``accepted mlp: confidence 0.93 ≥ 0.60, cost 5.34``;
- output: the accepted message, with ``meta["answered_by"]`` and ``meta["cost"]`` (summed card cost).
"""
from __future__ import annotations

import math

from workbench.core.messages import Message
from workbench.engine.context import RunContext


def confidence(message: Message) -> float:
    if "confidence" in message.meta:
        return _finite(message.meta["confidence"])
    content = message.content if isinstance(message.content, dict) else {}
    try:
        return _finite(content["probs"][content["label"]])
    except (KeyError, IndexError, TypeError):
        return math.nan


def _finite(value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


async def execute(ctx: RunContext) -> Message | None:
    threshold = float(ctx.options["threshold"])
    for position, node in enumerate(ctx.order):
        answer = await ctx.call(node, ctx.input)
        last = position == len(ctx.order) - 1
        if answer is None:
            if not last:
                ctx.decide(f"escalated: {node} failed, cost so far {ctx.cost:g}", node)
            continue
        score = confidence(answer)
        if score >= threshold or last:
            stated = "no finite confidence" if math.isnan(score) else f"confidence {score:.2f}"
            verdict = f" ≥ {threshold:.2f}" if score >= threshold else \
                (", but last in the cascade" if math.isnan(score) else f" < {threshold:.2f}, but last in the cascade")
            ctx.decide(f"accepted {node}: {stated}{verdict}, cost {ctx.cost:g}", node)
            return Message(answer.kind, answer.content, {**answer.meta, "answered_by": node, "cost": ctx.cost})
        reason = "no finite confidence" if math.isnan(score) else f"confidence {score:.2f} < {threshold:.2f}"
        said = f": {answer.meta['reason']}" if answer.meta.get("reason") else ""  # a tool says why it declined
        ctx.decide(f"escalated: {reason} ({node}{said}), cost so far {ctx.cost:g}", node)
    return None
