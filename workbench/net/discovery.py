"""Discovery: what the remotes offer (their model cards) and how they are doing (health, latency, load).

A peer advertises its cards at ``/models`` and its health at ``/health`` (with ``inflight``, its load); an
OpenAI-compatible server lists ``/models``, and its cards are made from the config (``chat`` and ``embed``
lists, or every listed model as a chat model). Cards seen last are cached in
``$WORKBENCH_HOME/remote-cards.json``, so a network naming a remote model still loads while its host is
down (its steps then fail with a clear error, or fail over).

:class:`HealthMonitor` keeps each remote's health current: it probes a remote when its status is older than
``interval`` (``refresh``), or forever in the background (``watch``), and every call a remote model makes
reports back (``observe``), so a host that died is known as soon as one call fails.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.cards import ModelCard
from workbench.errors import ConfigError, RemoteError, StepTimeout
from workbench.net import wire
from workbench.net.client import Deadline, HTTPClient, Policy
from workbench.net.remotes import Remote, Remotes

GENERATE, EMBED = "text.generate", "text.embed"
PROBE = Policy(attempts=1, idle=5.0, connect=2.0)  # a probe reports; it does not insist


@dataclass
class HostStatus:
    name: str
    healthy: bool | None = None        # None: never checked
    latency_ms: float | None = None    # smoothed round trip of probes and calls
    load: int = 0                      # calls in flight there, as its /health says
    error: str | None = None
    checked: float = 0.0               # time.monotonic() of the last probe or call
    cards: list[ModelCard] = field(default_factory=list)

    def describe(self) -> str:
        if self.healthy is None:
            return "not checked"
        if not self.healthy:
            return f"unreachable ({self.error})"
        return f"healthy, {self.latency_ms:.1f} ms, load {self.load}" if self.latency_ms is not None else "healthy"


class HealthMonitor:
    """The status of every remote, and one HTTP client per remote (shared with the remote models)."""

    def __init__(self, remotes: Remotes, interval: float = 10.0, probe_timeout: float = 3.0):
        self.remotes, self.interval, self.probe_timeout = remotes, interval, probe_timeout
        self.clients = {r.name: HTTPClient(r.url, r.name, token=r.secret()) for r in remotes}
        self.probes = {r.name: HTTPClient(r.url, r.name, token=r.secret(), policy=PROBE) for r in remotes}
        self.status = {r.name: HostStatus(r.name) for r in remotes}

    def health(self, host: str) -> HostStatus:
        return self.status.get(host) or HostStatus(host, healthy=True, latency_ms=0.0)  # "local" and unknowns

    def observe(self, host: str, ok: bool, latency_ms: float | None = None, error: str | None = None) -> None:
        """Record the outcome of a call or probe."""
        status = self.status.get(host)
        if status is None:
            return
        status.healthy, status.error, status.checked = ok, None if ok else error, time.monotonic()
        if ok and latency_ms is not None:
            status.latency_ms = latency_ms if status.latency_ms is None else 0.7 * status.latency_ms + 0.3 * latency_ms

    async def refresh(self, force: bool = False, cards: bool = False) -> None:
        """Probe every remote whose status is older than ``interval`` (all of them with ``force``)."""
        now = time.monotonic()
        stale = [r for r in self.remotes if force or now - self.status[r.name].checked > self.interval]
        await asyncio.gather(*(self.probe(r, cards) for r in stale))

    async def probe(self, remote: Remote, cards: bool = False) -> HostStatus:
        client, deadline, start = self.probes[remote.name], Deadline(self.probe_timeout), time.perf_counter()
        status = self.status[remote.name]
        try:
            data = await client.json("GET", "health" if remote.kind == "peer" else "models", deadline=deadline)
            status.load = int(data.get("inflight", 0)) if isinstance(data, dict) else 0
            self.observe(remote.name, True, (time.perf_counter() - start) * 1000)
            if cards:
                status.cards = await self._cards(remote, client, deadline, data)
        except (RemoteError, StepTimeout, ValueError, TypeError) as exc:
            self.observe(remote.name, False, error=_short(exc))
        return status

    async def _cards(self, remote: Remote, client: HTTPClient, deadline: Deadline, listing) -> list[ModelCard]:
        if remote.kind == "peer":
            data = await client.json("GET", "models", deadline=deadline)
            return [peer_card(remote, c) for c in data["models"]]
        names = remote.chat + remote.embed or [m["id"] for m in listing.get("data", []) if isinstance(m, dict)]
        return openai_cards(remote, names)

    async def watch(self, stop: asyncio.Event) -> None:
        """Keep every status current until ``stop`` is set (for long-lived processes)."""
        while not stop.is_set():
            await self.refresh()
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                pass


def peer_card(remote: Remote, data: dict) -> ModelCard:
    """A peer's card as seen from here: named ``model@peer``, on host ``peer``, device ``torch/cpu@peer``."""
    card = wire.card_from_dict(data)
    return wire.card_from_dict(data, name=f"{card.name}@{remote.name}", backend="peer", host=remote.name,
                               device=f"{card.backend}/{card.device}@{remote.name}")


def openai_cards(remote: Remote, names: list[str]) -> list[ModelCard]:
    embed = set(remote.embed) if remote.chat or remote.embed else {n for n in names if "embed" in n.lower()}
    return [ModelCard(f"{n}@{remote.name}", "openai", "text", "vector" if n in embed else "text",
                      (EMBED if n in embed else GENERATE,), f"{n} at {remote.url}", device=f"remote@{remote.name}",
                      host=remote.name)
            for n in names]


def remote_name(card: ModelCard) -> str:
    return card.name.rpartition("@")[0]


def _short(exc: Exception) -> str:
    """Why a probe failed, in a word or two: ``ConnectError``, ``HTTP 401``, ``StepTimeout``."""
    if status := getattr(exc, "status", None):
        return f"HTTP {status}"
    return getattr(exc, "reason", "") or type(exc).__name__


# ---- the card cache ------------------------------------------------------------------------------
def cache_path(remotes: Remotes) -> Path:
    from workbench.config import home

    return (remotes.path.parent if remotes.path else home()) / "remote-cards.json"


def load_cached(remotes: Remotes) -> dict[str, list[ModelCard]]:
    path = cache_path(remotes)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        return {host: [wire.card_from_dict(c) for c in cards] for host, cards in data.items()}
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: the cache of remote cards is unreadable ({exc}); delete it") from exc


def save_cached(remotes: Remotes, cards: dict[str, list[ModelCard]]) -> None:
    path = cache_path(remotes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({h: [wire.card_to_dict(c) for c in cs] for h, cs in cards.items()}, indent=1))


async def discover(monitor: HealthMonitor) -> dict[str, list[ModelCard]]:
    """Probe every remote and fetch its cards; unreachable ones keep their cached cards."""
    await monitor.refresh(force=True, cards=True)
    cached = load_cached(monitor.remotes)
    cards = {r.name: monitor.status[r.name].cards or cached.get(r.name, []) for r in monitor.remotes}
    for host, host_cards in cards.items():
        monitor.status[host].cards = host_cards
    if cards:
        save_cached(monitor.remotes, cards)
    return cards
