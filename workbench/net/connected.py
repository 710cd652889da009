"""The connected catalog: this machine's models, every remote's models, and one routed model per capability.

    digits-cnn                   a local model
    digits-cnn@lab2              the same model on the peer ``lab2``
    gpt-4o-mini@openai           a model of a configured OpenAI-compatible server
    cap:image.classify.digits    the best healthy model offering the capability, failing over between hosts

A network file may name any of them. Build one with :func:`connect` (async) or :func:`connected_catalog`::

    catalog = connected_catalog()                 # reads $WORKBENCH_HOME/remotes.yaml, asks every remote
    net = load_network("pipeline.yaml", catalog)
"""
from __future__ import annotations

import asyncio

from workbench.core.catalog import Catalog, CatalogEntry, default_catalog
from workbench.core.cards import ModelCard
from workbench.errors import ModelError
from workbench.net.discovery import EMBED, HealthMonitor, discover, load_cached, remote_name
from workbench.net.remote import OpenAIChat, OpenAIEmbed, PeerModel, RemoteModel
from workbench.net.remotes import Remotes
from workbench.net.routing import PREFIX, CapabilityModel, Router, capability_card


class ConnectedCatalog(Catalog):
    def __init__(self, local: Catalog, monitor: HealthMonitor, cards: dict[str, list[ModelCard]]):
        super().__init__(list(local))
        self.monitor = monitor
        for host, host_cards in cards.items():
            timeout = monitor.remotes.get(host).timeout
            for card in host_cards:
                self.register(CatalogEntry(card, "workbench.net.remote:RemoteModel", params={"timeout": timeout}))
        self.router = Router(self, monitor)
        for capability in sorted({c for e in list(self) for c in e.card.capabilities}):
            if offering := self.router.offering(capability):
                self.register(CatalogEntry(capability_card(capability, offering),
                                           "workbench.net.routing:CapabilityModel", params={"timeout": 60.0}))

    def create(self, name: str, device: str = "auto", params: dict | None = None, node: str | None = None):
        entry = self.get(name)
        if entry.card.backend not in ("peer", "openai", "route"):
            return super().create(name, device, params, node)
        params = {**entry.params, **(params or {})}
        if set(params) != {"timeout"} or not isinstance(params["timeout"], (int, float)) or params["timeout"] <= 0:
            raise ModelError(f"model {name!r} takes one parameter, timeout (seconds > 0)", node)
        if entry.card.backend == "route":
            return CapabilityModel(entry.card, self.router, params["timeout"])
        return self._remote(entry.card, params["timeout"])

    def _remote(self, card: ModelCard, timeout: float) -> RemoteModel:
        remote = self.monitor.remotes.get(card.host)
        kind = PeerModel if remote.kind == "peer" else OpenAIEmbed if EMBED in card.capabilities else OpenAIChat
        return kind(card, self.monitor.clients[remote.name], remote_name(card), timeout=timeout,
                    observe=self.monitor.observe, streams=card.output_kind == "text" and kind is not OpenAIEmbed)

    def hosts(self) -> dict[str, str]:
        """Each remote's name and its health, in words."""
        return {name: status.describe() for name, status in self.monitor.status.items()}


async def connect(remotes: Remotes | None = None, local: Catalog | None = None, *, refresh: bool = True,
                  interval: float = 10.0) -> ConnectedCatalog:
    """The connected catalog of ``remotes`` (default: the config file); ``refresh=False`` uses cached cards."""
    remotes = remotes if remotes is not None else Remotes.load()
    monitor = HealthMonitor(remotes, interval=interval)
    cards = await discover(monitor) if refresh else load_cached(remotes)
    return ConnectedCatalog(local or default_catalog(), monitor, {r.name: cards.get(r.name, []) for r in remotes})


def connected_catalog(remotes: Remotes | None = None, local: Catalog | None = None, **options) -> Catalog:
    """:func:`connect` from synchronous code; with no remotes configured, the local catalog itself."""
    remotes = remotes if remotes is not None else Remotes.load()
    if not len(remotes):
        return local or default_catalog()
    return asyncio.run(connect(remotes, local, **options))


__all__ = ["ConnectedCatalog", "connect", "connected_catalog", "PREFIX"]
