"""Latency one remote hop adds: a model called through a host on loopback vs the same model in process.

    python bench/remote_hop.py [--calls 2000] [--rounds 5] [--uvloop]

A host (``workbench host --port 0``, a child process) serves the catalog; this process calls the same
models directly (in process) and through a :class:`~workbench.net.remote.PeerModel` (HTTP on 127.0.0.1,
JSON, one kept-alive connection), interleaved in rounds. Payloads: a short text through ``identity``, and
a held-out digit through ``digits-logreg`` (64 pixels in, 10 probabilities out). Prints p50 and p99 of each
and of the difference (the hop's added latency). Target: added p50 ≤ 1 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from workbench.core.catalog import default_catalog
from workbench.core.messages import Message
from workbench.data.digits import heldout_image
from workbench.net.connected import connect
from workbench.net.process import HostProcess
from workbench.net.remotes import Remote, Remotes

TARGET_MS = 1.0


def local_model(name: str):
    model = default_catalog().create(name)
    model.load()
    return model


async def timed(call, message: Message, calls: int) -> list[float]:
    """Seconds per call, ``calls`` times."""
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        await call(message)
        times.append(time.perf_counter() - start)
    return times


def as_coroutine(model):
    async def call(message):
        return await model.invoke(message) if model.is_async else model.invoke(message)
    return call


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(url: str, calls: int, rounds: int) -> None:
    catalog = await connect(Remotes([Remote("bench", "peer", url)]), interval=3600)
    image, _ = heldout_image(0)
    cases = [("identity", Message("text", "hello there")), ("digits-logreg", Message("image.digits", image))]
    print(f"{'model':<15} {'in-process p50/p99 µs':>22} {'remote p50/p99 µs':>19} {'added p50/p99 ms':>17}  target")
    for name, message in cases:
        near, far = as_coroutine(local_model(name)), catalog.create(f"{name}@bench").invoke
        await timed(near, message, 200), await timed(far, message, 200)  # warm up: load, connect
        local, remote = [], []
        for _ in range(rounds):
            local += await timed(near, message, calls // rounds)
            remote += await timed(far, message, calls // rounds)
        added = [percentile(remote, q) - percentile(local, q) for q in (0.5, 0.99)]
        verdict = "ok" if added[0] * 1000 <= TARGET_MS else "MISSED"
        print(f"{name:<15} {percentile(local, .5) * 1e6:>10.1f} / {percentile(local, .99) * 1e6:>8.1f}"
              f" {percentile(remote, .5) * 1e6:>8.1f} / {percentile(remote, .99) * 1e6:>8.1f}"
              f" {added[0] * 1e3:>7.3f} / {added[1] * 1e3:>6.3f}   ≤ {TARGET_MS} ms p50 {verdict}")
    print(f"(median of all remote calls: {statistics.median(remote) * 1e3:.3f} ms; {calls} calls per model)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--uvloop", action="store_true", help="Run this process's event loop on uvloop.")
    args = parser.parse_args()
    with HostProcess("bench") as host:
        run = asyncio.run
        if args.uvloop:
            import uvloop

            run = uvloop.run
        run(measure(host.url, args.calls, args.rounds))


if __name__ == "__main__":
    main()
