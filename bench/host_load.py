"""1,000 concurrent invokes against one host: how many are lost or fail, and the throughput.

    python bench/host_load.py [--requests 1000] [--connections 8,1000] [--model digits-logreg]

A host (``workbench host --port 0``, a child process) serves the catalog; this process sends every request
at once (``asyncio.gather``) through one :class:`~workbench.net.remote.PeerModel`, once per pool size in
``--connections``: 8 kept-alive connections (the client's default; the other callers wait for one, all
under the step deadline), then one connection per request (1,000 open at once). Each answer
is checked against the same model run in process on the same input:

- lost: no answer at all (connection refused or dropped, deadline passed);
- failed: an error answer, or an answer that differs from the in-process one.

Targets: 0 lost, 0 failed. Prints the throughput and the latency each caller saw (p50/p99), next to the
in-process throughput of the same model.
"""
from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np

from workbench.core.catalog import default_catalog
from workbench.core.messages import Message
from workbench.data.digits import heldout_image
from workbench.errors import HostUnreachable, StepTimeout
from workbench.net.client import HTTPClient
from workbench.net.connected import connect
from workbench.net.process import HostProcess
from workbench.net.remote import PeerModel
from workbench.net.remotes import Remote, Remotes


def inputs(count: int) -> list[Message]:
    return [Message("image.digits", heldout_image(i % 450)[0], {"index": i}) for i in range(count)]


def same(a: Message, b: Message) -> bool:
    return a.content["label"] == b.content["label"] and np.allclose(a.content["probs"], b.content["probs"])


async def one(model, message: Message) -> tuple[str, Message | None, float]:
    start = time.perf_counter()
    try:
        output = await model.invoke(message)
    except (HostUnreachable, StepTimeout) as exc:
        return f"lost: {exc}", None, 0.0
    except Exception as exc:  # noqa: BLE001 - counted and reported
        return f"failed: {type(exc).__name__}: {exc}", None, 0.0
    return "ok", output, time.perf_counter() - start


async def load(url: str, name: str, requests: int, connections: int) -> None:
    catalog = await connect(Remotes([Remote("load", "peer", url)]), interval=3600)
    client = HTTPClient(url, "load", max_connections=connections)
    remote = PeerModel(catalog.get(f"{name}@load").card, client, name, timeout=120)
    local = default_catalog().create(name)
    local.load()
    messages = inputs(requests)
    expected = [local.invoke(m) for m in messages]
    start = time.perf_counter()
    results = await asyncio.gather(*(one(remote, m) for m in messages))
    seconds = time.perf_counter() - start
    lost = [r for r, _, _ in results if r.startswith("lost")]
    failed = [r for r, _, _ in results if r.startswith("failed")]
    failed += ["failed: a different answer" for (r, out, _), want in zip(results, expected)
               if r == "ok" and not same(out, want)]
    latencies = sorted(t for r, _, t in results if r == "ok")
    in_process = _in_process_rate(local, messages)
    print(f"{requests} concurrent invokes of {name} over {connections} connections in {seconds:.2f} s")
    print(f"  lost {len(lost)}, failed {len(failed)} (target 0 and 0)  {'ok' if not lost and not failed else 'MISSED'}")
    print(f"  throughput {requests / seconds:,.0f} invokes/s (in process: {in_process:,.0f}/s)")
    if latencies:
        print(f"  latency seen by each caller: p50 {latencies[len(latencies) // 2] * 1e3:.1f} ms, "
              f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1e3:.1f} ms")
    for problem in (lost + failed)[:5]:
        print("  e.g.", problem)


def _in_process_rate(model, messages: list[Message]) -> float:
    start = time.perf_counter()
    for message in messages:
        model.invoke(message)
    return len(messages) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--connections", default="8,1000", help="Pool sizes to try, comma-separated.")
    parser.add_argument("--model", default="digits-logreg")
    args = parser.parse_args()
    with HostProcess("load") as host:
        for connections in map(int, args.connections.split(",")):
            asyncio.run(load(host.url, args.model, args.requests, connections))


if __name__ == "__main__":
    main()
