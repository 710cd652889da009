"""Capability routing: who can do X across hosts, and a model that asks the best of them, failing over.

:meth:`Router.who_can` ranks every model offering a capability: healthy hosts first, then the remote's
``priority`` (lower first), then a score of latency and load (``latency × (1 + calls in flight)``), then the
card's cost, then the name. A local model is healthy with no latency.

:class:`CapabilityModel` (catalog name ``cap:<capability>``) tries the ranked models in turn under one
deadline. It moves on only when the failure left nothing behind (``RemoteError.failover_ok``: the host was
unreachable, answered 404, 429 or 5xx, or a stream broke before its first piece); a model error, a timeout or
a stream that broke midway fails the step. Its output's ``meta["decision"]`` says what happened, e.g.
``failover: host 'a' unreachable (ConnectError), used echo@b`` — the trace shows it as a decision.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, AsyncIterator

from workbench.backends.base import Model
from workbench.core.cards import ANY_KIND, ModelCard
from workbench.core.messages import Message
from workbench.errors import CapabilityUnavailable, HostUnreachable, RemoteError, RemoteHTTPError, StepTimeout
from workbench.net.client import Deadline
from workbench.net.discovery import HealthMonitor, HostStatus
from workbench.net.remote import RemoteModel

if TYPE_CHECKING:
    from workbench.net.connected import ConnectedCatalog

PREFIX = "cap:"


@dataclass(frozen=True)
class Candidate:
    name: str            # catalog name, e.g. "digits-cnn@lab2"
    host: str            # "local" or a remote's name
    priority: int
    status: HostStatus
    cost: float = 1.0    # the card's relative cost of one call

    def rank(self) -> tuple:
        health = {True: 0, None: 1, False: 2}[self.status.healthy]
        score = (self.status.latency_ms or 0.0) * (1 + self.status.load)
        return health, self.priority, score, self.cost, self.name

    def describe(self) -> str:
        return f"{self.name} ({self.status.describe()})" if self.host != "local" else f"{self.name} (local)"


class Router:
    def __init__(self, catalog: "ConnectedCatalog", monitor: HealthMonitor):
        self.catalog, self.monitor = catalog, monitor
        self._models: dict[str, Model] = {}

    def offering(self, capability: str) -> list[ModelCard]:
        """The cards of every usable model offering ``capability`` (routed entries and join models left out)."""
        return [e.card for e in self.catalog if capability in e.card.capabilities and not e.name.startswith(PREFIX)
                and not e.card.join and not e.missing()]

    def who_can(self, capability: str) -> list[Candidate]:
        """Every model offering ``capability``, best first."""
        candidates = [Candidate(card.name, card.host, self._priority(card.host), self.monitor.health(card.host),
                                card.cost) for card in self.offering(capability)]
        return sorted(candidates, key=Candidate.rank)

    def _priority(self, host: str) -> int:
        return next((r.priority for r in self.monitor.remotes if r.name == host), 0)

    async def model(self, name: str) -> Model:
        """The candidate ``name``, built and loaded once (on a worker thread: loading torch weights takes a while)."""
        if name not in self._models:
            self._models[name] = await asyncio.get_running_loop().run_in_executor(None, self._load, name)
        return self._models[name]

    def _load(self, name: str) -> Model:
        model = self.catalog.create(name)
        model.load()
        return model


def capability_card(capability: str, cards: list[ModelCard]) -> ModelCard:
    def common(kinds: set[str]) -> str:
        return kinds.pop() if len(kinds) == 1 else ANY_KIND
    return ModelCard(PREFIX + capability, "route", common({c.input_kind for c in cards}),
                     common({c.output_kind for c in cards}), (capability,), device="routed", host="network", cost=0.0,
                     description=f"the best healthy model offering {capability} "
                                 f"({len(cards)} now), failing over between hosts")


class CapabilityModel(Model):
    blocking = False

    def __init__(self, card: ModelCard, router: Router, timeout: float = 60.0):
        self.card, self.router, self.timeout = card, router, timeout
        self.capability = card.capabilities[0]
        self.stream = self._stream if card.output_kind == "text" else None

    async def _ranked(self) -> list[Candidate]:
        await self.router.monitor.refresh()  # probes only the statuses older than the monitor's interval
        ranked = self.router.who_can(self.capability)
        if not ranked:
            raise CapabilityUnavailable(f"no model offers {self.capability}")
        return ranked

    async def invoke(self, message: Message) -> Message:
        deadline, failures = Deadline(self.timeout), []
        for candidate in await self._ranked():
            if _failed_before(candidate, failures):
                continue
            try:
                output = await _call(await self.router.model(candidate.name), message, deadline)
            except RemoteError as exc:
                _note(exc, candidate, deadline, failures)
                continue
            return _decided(output, candidate, failures)
        raise self._exhausted(failures)

    async def _stream(self, message: Message) -> AsyncIterator[str | Message]:
        deadline, failures = Deadline(self.timeout), []
        for candidate in await self._ranked():
            if _failed_before(candidate, failures):
                continue
            model, pieces = await self.router.model(candidate.name), []
            try:
                if not (isinstance(model, RemoteModel) and model.stream is not None):
                    output = await _call(model, message, deadline)
                else:  # pieces pass through; the final Message comes last
                    async with contextlib.aclosing(model.stream(message, deadline)) as stream:
                        async for piece in stream:
                            if isinstance(piece, Message):
                                output = piece
                                break
                            pieces.append(piece)
                            yield piece
            except RemoteError as exc:
                if pieces:  # already streamed: another model would start over, so the step fails
                    raise
                _note(exc, candidate, deadline, failures)
                continue
            yield _decided(output, candidate, failures)
            return
        raise self._exhausted(failures)

    def _exhausted(self, failures: list[tuple[str, RemoteError]]) -> CapabilityUnavailable:
        tried = "; ".join(reason for reason, _ in failures)
        error = CapabilityUnavailable(f"every model offering {self.capability} failed: {tried}")
        error.__cause__ = failures[-1][1] if failures else None
        return error


async def _call(model: Model, message: Message, deadline: Deadline) -> Message:
    """Invoke a candidate within what is left of the deadline."""
    if isinstance(model, RemoteModel):  # it shares the deadline
        return await model.invoke(message, deadline)
    try:
        async with asyncio.timeout(deadline.left()):
            if model.is_async:
                return await model.invoke(message)
            if model.blocking:
                return await asyncio.get_running_loop().run_in_executor(None, model.invoke, message)
            return model.invoke(message)
    except TimeoutError:
        raise StepTimeout(f"{model.card.name}: no answer within the {deadline.seconds:g} s deadline") from None


def _failed_before(candidate: Candidate, failures: list) -> bool:
    """Whether this step already found the candidate's host unreachable (its other models are skipped)."""
    return any(isinstance(exc, HostUnreachable) and exc.host == candidate.host for _, exc in failures)


def _note(exc: RemoteError, candidate: Candidate, deadline: Deadline, failures: list) -> None:
    """Record a failure that allows trying the next candidate; re-raise one that does not."""
    if not exc.failover_ok or deadline.left() <= 0:
        raise exc
    if isinstance(exc, HostUnreachable):
        reason = f"host {exc.host!r} unreachable ({exc.reason})"
    elif isinstance(exc, RemoteHTTPError):
        reason = f"host {exc.host!r} answered {exc.status}"
    else:
        reason = f"host {exc.host!r} broke off"
    failures.append((reason, exc))


def _decided(output: Message, candidate: Candidate, failures: list) -> Message:
    if failures:
        decision = f"failover: {'; '.join(r for r, _ in failures)}, used {candidate.name}"
    else:
        decision = f"routed to {candidate.describe()}"
    meta = {**output.meta, "decision": decision, "routed_to": candidate.name}
    return Message(output.kind, output.content, meta)
