"""Router: send the request to the one member best placed to answer it, by capability or by meaning.

Contract:
- option ``by``: ``"capability"`` (default) or ``"meaning"``;
- by capability: the capability is the input's ``meta["capability"]``, else option ``capability``; the
  cheapest member whose card offers it answers: ``routed to math: offers text.generate, cost 1``;
- by meaning: option ``embedder`` names a ``text.embed`` node; the request and each member's description
  (option ``descriptions`` by node id: a text, or a list of texts such as example requests, scored by the
  best match; else the node's name and card description) are embedded, and the member with the highest
  cosine similarity answers: ``routed to math: similarity 0.83 (next: cooking 0.41)``;
  the members' embeddings are computed once per compiled network;
- output: the chosen member's answer, with ``meta["routed_to"]``.
"""
from __future__ import annotations

import math

from workbench.core.messages import Message
from workbench.engine.context import RunContext


async def execute(ctx: RunContext) -> Message | None:
    embedder = ctx.options.get("embedder")
    members = [n for n in ctx.order if n != embedder]
    if ctx.options["by"] == "meaning":
        chosen = await _by_meaning(ctx, members, embedder)
    else:
        chosen = _by_capability(ctx, members)
    if chosen is None:
        return None
    answer = await ctx.call(chosen, ctx.input)
    return None if answer is None else Message(answer.kind, answer.content, {**answer.meta, "routed_to": chosen})


def _by_capability(ctx: RunContext, members: list[str]) -> str | None:
    wanted = ctx.input.meta.get("capability") or ctx.options.get("capability")
    able = sorted((n for n in members if wanted in ctx.card(n).capabilities), key=lambda n: ctx.card(n).cost)
    if not able:
        ctx.decide(f"no member offers {wanted!r}; members offer: "
                   + ", ".join(sorted({c for n in members for c in ctx.card(n).capabilities})))
        return None
    ctx.decide(f"routed to {able[0]}: offers {wanted}, cost {ctx.card(able[0]).cost:g}", able[0])
    return able[0]


async def _by_meaning(ctx: RunContext, members: list[str], embedder: str | None) -> str | None:
    if embedder is None:
        raise ValueError("routing by meaning needs option 'embedder' (a text.embed node)")
    targets = ctx.compiled.cache.get(("router", embedder))
    if targets is None:
        described = ctx.options.get("descriptions") or {}
        targets = {}
        for node in members:
            texts = described.get(node) or f"{ctx.network.node(node).name}: {ctx.card(node).description}"
            targets[node] = []
            for text in [texts] if isinstance(texts, str) else texts:
                vector = await ctx.call(embedder, Message("text", text))
                if vector is None:
                    return None
                targets[node].append(vector.content)
        ctx.compiled.cache[("router", embedder)] = targets
    request = await ctx.call(embedder, Message("text", ctx.input.content))
    if request is None:
        return None
    ranked = sorted(((max(cosine(request.content, v) for v in vectors), n) for n, vectors in targets.items()),
                    reverse=True)
    (best, chosen), runner_up = ranked[0], ranked[1] if len(ranked) > 1 else None
    note = f" (next: {runner_up[1]} {runner_up[0]:.2f})" if runner_up else ""
    ctx.decide(f"routed to {chosen}: similarity {best:.2f}{note}", chosen)
    return chosen


def cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
