"""Micro-batching throughput: 64 concurrent requests to a digits classifier, batched vs one by one.

    python bench/batching.py [--requests 64] [--rounds 7] [--models digits-cnn,digits-mlp,minilm]

"batched" is the catalog's model as it comes (2 ms window, batches of up to 64); "one by one" is the same
model with ``max_batch: 1``: every request is its own forward pass on one of the engine's worker threads.
Two levels, all requests in flight at once:

- requests: the 64 calls the engine makes to the model (``await invoke`` for the batched model, the worker
  pool for the blocking one, exactly as the engine's steps do). Target for the CNN: ≥ 5×. The MLP's
  single forward pass is so cheap on MLX (≈ 0.05 ms) that one by one costs little more than the hop to a
  worker thread; it is shown without a target.
- runs: 64 whole runs of a one-node network (events, in-memory trace). Here the engine's own cost per run
  (≈ 0.1 ms) is paid either way and bounds the gain.

Rounds alternate and the median of the per-round ratios is reported. MiniLM (``text.embed``) is measured the
same way, without a target.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from workbench import Engine, Message, Network, Trace
from workbench.data.digits import heldout_examples

TARGET = 5.0


def one_node(model: str, **params) -> Network:
    net = Network(f"bench-{model}")
    net.add(model, "m", device="cpu", params=params)
    return net


def inputs(model: str, n: int) -> list[Message]:
    if model == "minilm":
        return [Message("text", f"question {i}: how do plants turn sunlight into sugar?") for i in range(n)]
    return [m for m, _ in heldout_examples()[:n]]


async def request(compiled, message: Message):
    """One call to the node's model, the way the engine's step makes it."""
    model = compiled.models["m"]
    if model.is_async:
        return await model.invoke(message)
    return await asyncio.get_running_loop().run_in_executor(compiled.engine.executor, model.invoke, message)


async def run(compiled, message: Message):
    result = await compiled.run(message, sinks=[Trace()])
    assert result.ok, result.error
    return result


def throughput(call, compiled, messages: list[Message]) -> float:
    """Requests per second with all of ``messages`` in flight at once."""
    async def go():
        start = time.perf_counter()
        await asyncio.gather(*(call(compiled, m) for m in messages))
        return len(messages) / (time.perf_counter() - start)
    return asyncio.run(go())


def bench(model: str, level: str, requests: int, rounds: int) -> None:
    engine, call = Engine(), {"requests": request, "runs": run}[level]
    batched, single = engine.compile(one_node(model)), engine.compile(one_node(model, max_batch=1))
    messages = inputs(model, requests)
    throughput(call, batched, messages), throughput(call, single, messages)  # warm up
    fast, slow = [], []
    for _ in range(rounds):
        fast.append(throughput(call, batched, messages))
        slow.append(throughput(call, single, messages))
    batcher = batched.models["m"].batcher
    ratio = statistics.median(f / s for f, s in zip(fast, slow))
    verdict = "ok" if ratio >= TARGET else "MISSED"
    verdict = verdict if model == "digits-cnn" and level == "requests" else "(no target)"
    print(f"{model:<12} {level:<9} {statistics.median(slow):>12.0f} {statistics.median(fast):>12.0f} "
          f"{ratio:>8.1f}×  {batcher.items / batcher.batches:>6.1f}  {verdict}")
    engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--models", default="digits-cnn,digits-mlp,minilm")
    args = parser.parse_args()
    print(f"{args.requests} concurrent requests, {args.rounds} rounds; target for digits-cnn: batched ≥ {TARGET}× "
          f"one by one")
    print(f"{'model':<12} {'level':<9} {'one by one/s':>12} {'batched/s':>12} {'ratio':>9}  {'batch':>6}")
    for model in args.models.split(","):
        for level in ("requests", "runs"):
            bench(model, level, args.requests, args.rounds)


if __name__ == "__main__":
    main()
