"""Debate: members answer, read each other's answers, and revise, round after round.

Contract:
- members: the nodes that answer (sources); option ``judge`` names a node that is not a debater;
- option ``rounds`` (3) caps the rounds; the debate stops early when every member gives the same answer
  (by :func:`~workbench.engine.protocols.answers.answer_key`): ``round 2: answers converged on '12'``;
- in round r > 1 each member sees the question and the others' answers of round r - 1 (their latest);
  the members of a round answer at once;
- the verdict: the judge's answer when there is a judge, else the majority of the last round;
- options ``temperature`` (0: greedy) and ``seed`` (0): with temperature > 0 every answer is sampled, the
  run's i-th call with seed ``seed + i`` (see :mod:`workbench.engine.context`).
"""
from __future__ import annotations

import asyncio

from workbench.core.messages import Message
from workbench.engine.context import RunContext
from workbench.engine.protocols.answers import answer_key, majority, text_of

REVISE = ("{question}\n\nOther answers:\n{others}\n\nConsidering them, give your own final answer to the "
          "question in one short sentence.")
JUDGE = "{question}\n\nProposed answers:\n{others}\n\nWhich answer is right? Reply with the correct answer only."


def _listing(answers: dict[str, Message], skip: str | None = None) -> str:
    return "\n".join(f"- {text_of(m).strip()}" for node, m in answers.items() if node != skip)


async def execute(ctx: RunContext) -> Message | None:
    judge = ctx.options.get("judge")
    debaters = [n for n in ctx.order if n != judge]
    question = text_of(ctx.input)
    latest: dict[str, Message] = {}
    for round_ in range(1, int(ctx.options["rounds"]) + 1):
        heard = dict(latest)  # everyone revises on the same round's answers, all at once
        prompts = [question if round_ == 1 else REVISE.format(question=question, others=_listing(heard, node))
                   for node in debaters]
        answers = await asyncio.gather(*(ctx.call(node, Message("text", prompt, dict(ctx.input.meta)))
                                         for node, prompt in zip(debaters, prompts)))
        latest.update({node: answer for node, answer in zip(debaters, answers) if answer is not None})
        keys = {answer_key(text_of(m), question) for m in latest.values()}
        if len(latest) == len(debaters) and len(keys) == 1:
            ctx.decide(f"round {round_}: answers converged on {keys.pop()!r}")
            break
        ctx.decide(f"round {round_}: {len(keys)} different answers" if latest else f"round {round_}: no answers")
    if not latest:
        return None
    if judge:
        verdict = await ctx.call(judge, Message("text", JUDGE.format(question=question, others=_listing(latest))))
        if verdict is not None:
            ctx.decide(f"judge {judge} chose {answer_key(text_of(verdict), question)!r}", judge)
            return verdict
    key, votes, chosen = majority(list(latest.items()), question)
    ctx.decide(f"verdict: {key!r}, {votes} of {len(latest)} debaters")
    return chosen
