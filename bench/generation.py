"""SmolLM2 tokens/s through the workbench vs the same backend called directly, for torch and MLX.

    python bench/generation.py [--tokens 128] [--rounds 3] [--backends torch,mlx]

Greedy decoding of one prompt whose answer runs past ``--tokens``, so every run makes exactly that many.
"direct" iterates the model's own ``stream`` in a plain loop; "workbench" runs a one-node network through
the engine, every piece becoming a ``step.token`` event, traced in memory and, separately, into a SQLite
store. After a warm-up run of each kind, modes are interleaved, in reverse order every other round, and each
round's ratio is taken against that round's direct run. The machine is shared and other work only ever
slows a run down, so the verdict uses each mode's best run (as ``timeit`` takes the minimum); the median
of the per-round ratios is printed beside it. Target: ≥ 0.98× each.
For scale it also times plain ``transformers`` ``generate`` on the same torch weights, and prints MLX's
tokens/s against torch's.

Because whole generations on a shared machine vary by tens of percent from run to run, it also measures
the engine's own cost per streamed piece exactly, with a streaming model that does no work (20,000 pieces),
and prints the ratio that cost implies at the measured direct speed.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from workbench import Engine, Message, Model, ModelCard, Network, Store, Trace

PROMPT = "Tell me a long story about a brave dragon who learns to fly."
TARGET = 0.98
MODELS = {"torch": "smollm2-torch", "mlx": "smollm2-mlx"}


def one_node(model: str, tokens: int) -> Network:
    net = Network(f"bench-{model}")
    net.add(model, "chat", device="cpu", params={"max_new_tokens": tokens})
    return net


def direct(model, tokens: int) -> float:
    """Tokens/s of the backend's own stream, drained in this thread."""
    start = time.perf_counter()
    answer = model.stream(Message("text", PROMPT), tokens)
    while True:
        try:
            next(answer)
        except StopIteration as done:
            made = done.value.meta["tokens"]
            break
    return made / (time.perf_counter() - start)


def through_engine(compiled, sink) -> float:
    async def go():
        start = time.perf_counter()
        result = await compiled.run(PROMPT, sinks=[sink])
        return result.output.meta["tokens"] / (time.perf_counter() - start)
    return asyncio.run(go())


class Pieces(Model):
    """A streaming model with no work of its own: ``n`` pieces, as fast as the engine takes them."""

    card = ModelCard("pieces", "python", "text", "text")

    def __init__(self, n: int):
        self.n = n

    def stream(self, message: Message):
        for _ in range(self.n):
            yield "x"


def cost_per_piece(sink, n: int = 20_000) -> float:
    """Seconds the engine spends per streamed piece (event, sink, hand-over from the worker thread)."""
    net = Network("pieces")
    net.add(Pieces(n), "p")
    compiled = Engine().compile(net)
    asyncio.run(compiled.run("go", sinks=[sink]))  # warm up
    start = time.perf_counter()
    asyncio.run(compiled.run("go", sinks=[sink]))
    return (time.perf_counter() - start) / n


def plain_transformers(model, tokens: int) -> float:
    import torch

    ids = torch.tensor([model.prompt_ids(Message("text", PROMPT))])
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.weights.network.generate(ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
    return (out.shape[1] - ids.shape[1]) / (time.perf_counter() - start)


def bench(backend: str, tokens: int, rounds: int, store: Store) -> dict:
    engine = Engine()
    compiled = engine.compile(one_node(MODELS[backend], tokens))
    model = compiled.models["chat"]
    modes = {"direct": lambda: direct(model, tokens), "memory": lambda: through_engine(compiled, Trace()),
             "sqlite": lambda: through_engine(compiled, store.write)}
    if backend == "torch":
        modes["transformers"] = lambda: plain_transformers(model, tokens)
    modes["direct"](), modes["memory"]()  # warm up: first passes at each length pay for kernel set-up
    speeds = {mode: [] for mode in modes}
    for round_ in range(rounds):
        order = list(modes) if round_ % 2 == 0 else list(reversed(modes))  # cancel out drift within a round
        for mode in order:
            speeds[mode].append(modes[mode]())
    engine.close()
    return speeds


def report(backend: str, speeds: dict) -> float:
    """Print each mode's best and median tokens/s and its ratio to direct; return direct's best."""
    base = speeds["direct"]
    print(f"\n{backend}: {'mode':<22} {'best tok/s':>10} {'median':>8} {'best vs direct':>15} {'median ratio':>13}")
    print(f"{'':<7}{'direct (model.stream)':<22} {max(base):>10.1f} {statistics.median(base):>8.1f}")
    for mode, label in (("memory", "workbench, in memory"), ("sqlite", "workbench, SQLite"),
                        ("transformers", "plain generate()")):
        if mode in speeds:
            best = max(speeds[mode]) / max(base)
            paired = statistics.median(s / b for s, b in zip(speeds[mode], base))
            verdict = "" if mode == "transformers" else ("  ok" if best >= TARGET else "  MISSED")
            print(f"{'':<7}{label:<22} {max(speeds[mode]):>10.1f} {statistics.median(speeds[mode]):>8.1f} "
                  f"{best:>14.3f}× {paired:>12.3f}×{verdict}")
    return max(base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backends", default="torch,mlx")
    parser.add_argument("--verbose", action="store_true", help="print every round's tokens/s")
    args = parser.parse_args()
    store = Store(Path(tempfile.mkdtemp(prefix="wb-bench-")) / "runs.sqlite")
    print(f"SmolLM2-135M-Instruct Q4_1, greedy, {args.tokens} new tokens, {args.rounds} interleaved rounds; "
          f"target: workbench ≥ {TARGET}× direct")
    direct_speed = {}
    for backend in args.backends.split(","):
        speeds = bench(backend, args.tokens, args.rounds, store)
        if args.verbose:
            print({mode: [round(s, 1) for s in values] for mode, values in speeds.items()})
        direct_speed[backend] = report(backend, speeds)
    print("\nengine cost per streamed piece, and the ratio it implies at each backend's best direct speed:")
    for label, sink in (("in memory", Trace()), ("SQLite", store.write)):
        cost = cost_per_piece(sink)
        implied = ", ".join(f"{b} {1 / (1 + cost * speed):.4f}×" for b, speed in direct_speed.items())
        print(f"  {label:<10} {cost * 1e6:6.1f} µs/piece → {implied}")
    if {"torch", "mlx"} <= direct_speed.keys():
        print(f"\nMLX vs torch (direct, best): {direct_speed['mlx']:.1f} / {direct_speed['torch']:.1f} tokens/s = "
              f"{direct_speed['mlx'] / direct_speed['torch']:.2f}×")
    store.close()


if __name__ == "__main__":
    main()
