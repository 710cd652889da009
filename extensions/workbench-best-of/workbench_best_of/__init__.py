"""The best-of protocol, as a plugin: every member answers; the most confident answer wins.

Contract: members are every node (no pathways needed); confidence is ``meta["confidence"]`` or the
probability of the chosen label; members that fail or give no finite confidence are left out. Decision:
``best of 3: cnn, confidence 0.99 (next: mlp 0.97)``. Output: the winning answer, ``meta["chosen"]``.
"""
from __future__ import annotations

import math

from workbench.core.messages import Message
from workbench.core.protocols import ProtocolRules


def confidence(message: Message) -> float:
    from workbench.engine.protocols.cascade import confidence as cascade_confidence

    return cascade_confidence(message)


async def execute(ctx) -> Message | None:
    scored = []
    for node in ctx.order:
        answer = await ctx.call(node, ctx.input)
        if answer is not None and not math.isnan(score := confidence(answer)):
            scored.append((score, node, answer))
    if not scored:
        ctx.decide("best of: no member gave a usable answer")
        return None
    scored.sort(key=lambda item: -item[0])
    (best, chosen, answer), rest = scored[0], scored[1:]
    runner_up = f" (next: {rest[0][1]} {rest[0][0]:.2f})" if rest else ""
    ctx.decide(f"best of {len(ctx.order)}: {chosen}, confidence {best:.2f}{runner_up}", chosen)
    return Message(answer.kind, answer.content, {**answer.meta, "chosen": chosen})


RULES = ProtocolRules("best-of", "best-of: every member answers, the most confident answer wins",
                      carries_data=False, executor="workbench_best_of:execute")
