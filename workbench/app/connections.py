"""The hosts every session of one app shares: the remotes config and the connected catalog built from it.

Connecting a host is shared configuration, like the run history: it is saved to the remotes config the
``workbench peers`` and ``workbench remote`` commands use (``$WORKBENCH_HOME/remotes.yaml``), and every
session of the app — and every later ``workbench run`` — sees it. Sessions stay isolated otherwise: each
keeps its own network, which only switches to the new catalog.

A host is probed before it is saved, so a wrong URL or token never reaches the config; the reasons are said
in a few words (:func:`explain`). Models of a host removed while a canvas still holds them stay known by
name (``orphans``, hidden from the palette), so that canvas still draws; running them says the host is gone.
No Panel here.
"""
from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.catalog import Catalog, default_catalog
from workbench.core.cards import ModelCard
from workbench.errors import ConfigError, RemoteError, RemoteHTTPError, StepTimeout
from workbench.net.remotes import Remote, Remotes, default_path

PROBE_SECONDS = 5.0                       # the whole probe of a new host: every request, every byte
MAX_LISTING = 8 * 1024 * 1024             # the largest /health or /models answer read, bytes
REMOTE_BACKENDS = ("peer", "openai", "route")


@dataclass
class HostRow:
    """One connected host as the host list shows it."""

    name: str
    kind: str
    url: str
    health: str                 # in words: "healthy, 1.2 ms, load 0", "unreachable (ConnectError)"
    healthy: bool | None        # None: not checked yet
    models: int


@dataclass
class Probed:
    """What a probe found: the host's model cards, and notes worth showing (e.g. names the server does not list)."""

    cards: list[ModelCard]
    notes: list[str] = field(default_factory=list)


class Hosts:
    """The connected catalog of one app; ``version`` grows with every change, listeners hear of each."""

    def __init__(self, path: Path | None = None, local: Catalog | None = None, engine=None,
                 probe_timeout: float = PROBE_SECONDS):
        self.path, self.engine, self.probe_timeout = path or default_path(), engine, probe_timeout
        self.local = local or default_catalog()
        self.catalog: Catalog = self.local
        self.remotes = Remotes(path=self.path)
        self.version = 0
        self.problem: str | None = None   # why the remotes config could not be used, in words
        self.orphans: set[str] = set()    # names of models whose host was removed (see the module's notes)
        self._listeners: list[weakref.WeakMethod] = []
        self._lock = asyncio.Lock()       # one change at a time, whichever session asks

    # ---- changes ------------------------------------------------------------------------------
    def start(self) -> "Hosts":
        """Read the config and ask every host (from synchronous code, before the app's loop runs)."""
        asyncio.run(self.reload())
        return self

    async def reload(self) -> None:
        """Read the config again and rebuild the catalog; a broken config is kept in ``problem``."""
        try:
            await self._use(Remotes.load(self.path))
        except ConfigError as exc:
            self.problem = str(exc)

    async def connect(self, remote: Remote) -> Probed:
        """Probe ``remote``, then save it to the config and use it; RemoteError or ConfigError if not."""
        if remote.name in {r.name for r in Remotes.load(self.path)}:
            raise ConfigError(f"a host named {remote.name!r} is connected already: remove it first, "
                              f"or give this one another name")
        probed = await probe(remote, self.probe_timeout)
        async with self._lock:
            remotes = Remotes.load(self.path)
            remotes.add(remote)
            remotes.save()
            await self._use(remotes)
        return probed

    async def remove(self, name: str) -> Remote:
        async with self._lock:
            remotes = Remotes.load(self.path)
            gone = remotes.remove(name)
            remotes.save()
            await self._use(remotes)
        return gone

    async def check(self, force: bool = False) -> None:
        """Probe the hosts whose health is older than the monitor's interval; with ``force``, every host, after
        reading the config again if it changed (e.g. ``workbench peers add`` in a terminal)."""
        if force and self._changed_on_disk():
            async with self._lock:
                return await self.reload()
        monitor = getattr(self.catalog, "monitor", None)
        if monitor is not None:
            await monitor.refresh(force=force)

    def _changed_on_disk(self) -> bool:
        try:
            return [r.to_dict() for r in Remotes.load(self.path)] != [r.to_dict() for r in self.remotes]
        except ConfigError:
            return True

    async def _use(self, remotes: Remotes) -> None:
        from workbench.net.connected import connect

        old = self.catalog
        keep = [e for e in old if e.card.backend in REMOTE_BACKENDS]  # a ConnectedCatalog refuses them clearly
        new = await connect(remotes, self.local) if len(remotes) or keep else self.local
        fresh = set(new.names())
        for entry in keep:
            if entry.name not in fresh:
                new.register(entry)
        self.orphans = (self.orphans | {e.name for e in keep}) - fresh
        self.catalog, self.remotes, self.problem = new, remotes, None
        self.version += 1
        if self.engine is not None:  # loaded remote models hold the old clients (URL, token)
            self.engine.forget(e.name for e in old if e.card.backend in REMOTE_BACKENDS)
        self._notify()

    # ---- listeners ----------------------------------------------------------------------------
    def subscribe(self, method) -> None:
        """Call the bound ``method`` after every change, for as long as its object lives."""
        self._listeners.append(weakref.WeakMethod(method))

    def _notify(self) -> None:
        alive = [ref for ref in self._listeners if ref() is not None]
        self._listeners = alive
        for ref in alive:
            ref()()

    # ---- views --------------------------------------------------------------------------------
    def rows(self) -> list[HostRow]:
        monitor = getattr(self.catalog, "monitor", None)
        rows = []
        for remote in self.remotes:
            status = monitor.health(remote.name) if monitor else None
            count = sum(e.card.host == remote.name and e.name not in self.orphans for e in self.catalog)
            rows.append(HostRow(remote.name, remote.kind, remote.url, status.describe() if status else "not checked",
                                status.healthy if status else None, count))
        return rows

    def listed(self, entry) -> bool:
        """Whether the palette offers ``entry``: not a model of a removed host, nor a capability entry while
        no host is connected (the local models are listed already)."""
        return entry.name not in self.orphans and (entry.card.backend != "route" or len(self.remotes) > 0)


# ---- the probe ------------------------------------------------------------------------------------
class _Odd(RemoteHTTPError):
    """An answer that came but is not what a workbench host or an OpenAI-compatible server says; ``what``
    says what it was, ``doubt`` whether to ask if the URL points at the right kind of server."""

    def __init__(self, what: str, host: str, status: int = 200, snippet: str = "", doubt: bool = True):
        self.what, self.doubt = what, doubt
        super().__init__(what, host, status, snippet)


async def probe(remote: Remote, seconds: float = PROBE_SECONDS) -> Probed:
    """Ask ``remote`` for its health and models, once, within ``seconds``; RemoteError saying why not."""
    from workbench.net.client import Deadline, HTTPClient
    from workbench.net.discovery import PROBE

    client = HTTPClient(remote.url, remote.name, token=remote.secret(), policy=PROBE)
    try:
        if remote.kind == "peer":
            return await _peer(remote, client, Deadline(seconds))
        return await _openai(remote, client, Deadline(seconds))
    except (RemoteError, StepTimeout) as exc:
        raise RemoteError(explain(exc, remote, seconds), remote.name) from exc
    finally:
        await client.aclose()


async def _peer(remote: Remote, client, deadline) -> Probed:
    from workbench.net.discovery import peer_card

    health = await _get(client, "health", deadline)
    if not isinstance(health, dict) or health.get("status") != "ok":
        raise _Odd("answered /health with JSON that is not a workbench host's", remote.name, snippet=_snippet(str(health)))
    listing = await _get(client, "models", deadline)
    try:
        return Probed([peer_card(remote, card) for card in listing["models"]])
    except (KeyError, TypeError, ValueError):
        raise _Odd("answered /models with no list of model cards", remote.name,
                   snippet=_snippet(str(listing))) from None


async def _openai(remote: Remote, client, deadline) -> Probed:
    from workbench.net.discovery import openai_cards

    listing = await _get(client, "models", deadline)
    data = listing.get("data") if isinstance(listing, dict) else None
    if isinstance(listing, dict) and "host" in listing and isinstance(listing.get("models"), list):
        raise _Odd("is a workbench host: choose that kind, or give its OpenAI-compatible URL (…/v1)", remote.name,
                   doubt=False)
    if not isinstance(data, list):
        raise _Odd("answered /models with no list of models", remote.name, snippet=_snippet(str(listing)))
    listed = [m["id"] for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]
    names = remote.chat + remote.embed or listed
    if not names:
        raise _Odd("lists no models; name its chat or embedding models", remote.name, doubt=False)
    unlisted = [n for n in names if n not in listed]
    notes = [f"it does not list {', '.join(unlisted)} (it lists: {', '.join(listed)}); "
             f"calls will name them anyway"] if unlisted and listed else []
    return Probed(openai_cards(remote, names), notes)


async def _get(client, path: str, deadline):
    """GET ``path`` as JSON; an answer of another kind (an HTML page, a proxy's notice) says what it was."""
    import json

    response = await client.send("GET", path, deadline=deadline)
    body = await client.read(response, deadline, limit=MAX_LISTING)
    try:
        return json.loads(body)
    except ValueError:
        kind = response.headers.get("content-type", "").partition(";")[0] or "no content type"
        shown = "an HTML page" if "html" in kind else kind
        raise _Odd(f"answered HTTP {response.status_code} with {shown}, not JSON", client.host,
                   response.status_code, _snippet(body.decode("utf-8", "replace"))) from None


def _snippet(text: str) -> str:
    from workbench.net.wire import snippet

    return snippet(text, 60)


def explain(exc: Exception, remote: Remote, seconds: float) -> str:
    """Why a probe failed, in one short sentence a user can act on."""
    what = "a workbench host" if remote.kind == "peer" else "an OpenAI-compatible server"
    if isinstance(exc, StepTimeout):
        return f"no answer from {remote.url} within {seconds:g} s"
    if isinstance(exc, _Odd):
        seen = f" ({exc.snippet})" if exc.snippet else ""
        return f"{remote.url} {exc.what}{seen}" + (f"; is it {what}?" if exc.doubt else "")
    status = getattr(exc, "status", None)
    if status in (401, 403):
        secret = "token" if remote.kind == "peer" else "API key"
        return f"{'wrong' if remote.secret() else 'missing'} {secret}: {remote.url} answered HTTP {status}"
    if status is None:
        return f"cannot reach {remote.url} ({_socket_error(exc)}); is it running, and is the URL right?"
    if status == 404:
        hint = "" if remote.kind == "peer" else " (its base URL usually ends in /v1)"
        return f"{remote.url} answered HTTP 404: is it {what}{hint}?"
    return f"{remote.url} did not answer as {what} does: {str(exc).split(': ', 1)[-1]}"


def _socket_error(exc: BaseException) -> str:
    """What the socket said under an HTTP library's error: "connection refused", "unknown host name", …"""
    import socket

    reason, seen, error = getattr(exc, "reason", ""), set(), None
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        error = exc if isinstance(exc, OSError) else error
        exc = exc.__cause__ or exc.__context__
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "unknown host name"
    if isinstance(error, TimeoutError) or "Timeout" in reason:
        return "the connection timed out"
    return (error.strerror or str(error) if error else "") or reason or "no connection"
