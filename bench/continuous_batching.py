"""Concurrent SmolLM2 generations on torch: continuous batching vs one generation at a time.

    python bench/continuous_batching.py [--prompts 16] [--tokens 32] [--rounds 2]

The same ``--prompts`` questions (greedy, each answer capped at ``--tokens``) are answered twice through the
engine: one run after another (the reference: a batch of one row at a time), and all runs at once, so the
torch backend's :class:`~workbench.backends.decode_batch.DecodeBatcher` advances them together. Prints
tokens/s of each, the ratio, the mean rows per forward pass, and whether every answer came out the same.
Rounds alternate the order; each mode keeps its best round (other work on a shared machine only slows a run).
"""
from __future__ import annotations

import argparse
import asyncio
import time

from workbench import Engine, Network

QUESTIONS = ["What is the capital of France?", "What is 15 plus 27?", "Name a colour of the sky.",
             "Is a whale a fish?", "How many legs does a spider have?", "What is 9 times 6?",
             "Which planet is the largest?", "What do bees make?", "How many days are in a week?",
             "What is the opposite of hot?", "Who wrote Romeo and Juliet?", "What gas do plants breathe in?",
             "What is frozen water called?", "How many minutes are in an hour?", "What colour is grass?",
             "What is the capital of Japan?"]


def network(tokens: int) -> Network:
    net = Network("bench-batching")
    net.add("smollm2-torch", "chat", device="cpu", params={"max_new_tokens": tokens})
    return net


async def timed(compiled, prompts: list[str], together: bool) -> tuple[float, list[str]]:
    start = time.perf_counter()
    if together:
        results = await asyncio.gather(*(compiled.run(p) for p in prompts))
    else:
        results = [await compiled.run(p) for p in prompts]
    seconds = time.perf_counter() - start
    tokens = sum(r.output.meta["tokens"] for r in results)
    return tokens / seconds, [r.output.content for r in results]


async def main(prompts: int, tokens: int, rounds: int) -> None:
    asked = [QUESTIONS[i % len(QUESTIONS)] for i in range(prompts)]
    with Engine() as engine:
        compiled = engine.compile(network(tokens))
        batcher = compiled.models["chat"].weights.extra["batcher"]
        await timed(compiled, asked[:2], together=True)  # warm-up
        best = {False: 0.0, True: 0.0}
        answers, rows = {}, 0.0
        for round_ in range(rounds):
            for together in ((False, True) if round_ % 2 == 0 else (True, False)):
                steps, stepped = batcher.steps, batcher.rows_stepped
                speed, answers[together] = await timed(compiled, asked, together)
                best[together] = max(best[together], speed)
                if together:
                    rows = (batcher.rows_stepped - stepped) / max(batcher.steps - steps, 1)
    same = answers[True] == answers[False]
    print(f"{prompts} greedy generations of ≤ {tokens} tokens, SmolLM2-135M on torch/cpu, best of {rounds} rounds")
    print(f"  one at a time   {best[False]:7.1f} tokens/s   (reference)")
    print(f"  all at once     {best[True]:7.1f} tokens/s   mean {rows:.1f} rows per forward pass")
    print(f"  ratio           {best[True] / best[False]:7.2f}×   same answers: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.prompts, args.tokens, args.rounds))
