"""SmolLM2 tokens/s through the workbench vs the same backend called directly, for torch and MLX.

    python bench/generation.py [--tokens 128] [--rounds 3] [--backends torch,mlx]

Greedy decoding of one prompt whose answer runs past ``--tokens``, so every run makes exactly that many.
"direct" iterates the model's own ``stream`` in a plain loop; "workbench" runs a one-node network through
the engine, every piece becoming a ``step.token`` event, traced in memory and, separately, into a SQLite
store. After a warm-up run of each kind, modes are interleaved, in reverse order every other round, and each
round's ratio is taken against that round's direct run (the machine is shared, so its speed drifts); the
median ratio is reported. Target: ≥ 0.98× each.
For scale it also times plain ``transformers`` ``generate`` on the same torch weights, and prints MLX's
tokens/s against torch's.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from workbench import Engine, Message, Network, Store, Trace

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
    base = speeds["direct"]
    print(f"\n{backend}: {'mode':<22} {'tokens/s (median)':>18} {'vs direct':>10}")
    print(f"{'':<7}{'direct (model.stream)':<22} {statistics.median(base):>18.1f}")
    for mode, label in (("memory", "workbench, in memory"), ("sqlite", "workbench, SQLite"),
                        ("transformers", "plain generate()")):
        if mode in speeds:
            ratio = statistics.median(s / b for s, b in zip(speeds[mode], base))
            verdict = "" if mode == "transformers" else ("  ok" if ratio >= TARGET else "  MISSED")
            print(f"{'':<7}{label:<22} {statistics.median(speeds[mode]):>18.1f} {ratio:>9.3f}×{verdict}")
    return statistics.median(base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
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
    if {"torch", "mlx"} <= direct_speed.keys():
        print(f"\nMLX vs torch (direct): {direct_speed['mlx']:.1f} / {direct_speed['torch']:.1f} tokens/s = "
              f"{direct_speed['mlx'] / direct_speed['torch']:.2f}×")
    store.close()


if __name__ == "__main__":
    main()
