"""The robust HTTP client used for peers and OpenAI-compatible servers alike (httpx, async).

- One :class:`Deadline` per step covers every attempt, pause and byte: no per-attempt timeouts to add up.
- Retries only where they can help: a connection refused, reset or lost before the answer, a 5xx, a 429
  (waiting as ``Retry-After`` says, capped by :attr:`Policy.max_retry_after` and by the deadline). Any
  other status fails at once.
- Once the headers are in, the body (or stream) must keep coming: no new data for :attr:`Policy.idle`
  seconds fails with :class:`~workbench.errors.StreamBroken`.
- An error answer, HTML included, becomes a short :class:`~workbench.errors.RemoteHTTPError` with the status
  and a trimmed snippet of the body; nothing of httpx leaks out.

One ``httpx.AsyncClient`` (a connection pool) is kept per event loop, so a client made once serves runs
started with ``asyncio.run`` again and again.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import time
import weakref
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, AsyncIterator

import httpx
from httpx_sse import EventSource, ServerSentEvent, SSEError

from workbench.errors import HostUnreachable, RemoteError, RemoteHTTPError, StepTimeout, StreamBroken
from workbench.net import wire

RETRYABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


@dataclass(frozen=True)
class Policy:
    attempts: int = 4               # at most, all within the deadline
    backoff: float = 0.1            # the first pause after a failed attempt, seconds; doubles, with jitter
    max_retry_after: float = 10.0   # the longest Retry-After honoured, seconds
    idle: float = 30.0              # after the headers, the longest wait for more of the body or stream
    connect: float = 5.0            # the longest wait for one connection
    max_body: int = 64 * 1024 * 1024  # the largest answer accepted, bytes


class Deadline:
    """A point in time every attempt of one step must finish by (``None``: no deadline)."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.end = math.inf if seconds is None else time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())


class _Retry(Exception):
    def __init__(self, error: RemoteError, pause: float | None = None):
        self.error, self.pause = error, pause


class HTTPClient:
    """Talks to one remote, ``host`` (its name, for errors), at ``base_url``."""

    def __init__(self, base_url: str, host: str, *, token: str | None = None, policy: Policy = Policy(),
                 max_connections: int = 8):
        self.base_url, self.host, self.policy = base_url.rstrip("/") + "/", host, policy
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.max_connections = max_connections
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _client(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        """This loop's connection pool, and the gate that keeps callers beyond its size waiting outside it."""
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            limits = httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections)
            client = httpx.AsyncClient(base_url=self.base_url, headers=self.headers, limits=limits, trust_env=False,
                                       timeout=httpx.Timeout(None, connect=self.policy.connect))  # deadline, idle rule
            self._clients[loop] = client, asyncio.Semaphore(self.max_connections)
        return self._clients[loop]

    @contextlib.asynccontextmanager
    async def _slot(self, deadline: Deadline):
        """One connection's worth of the pool, waited for within the deadline (httpx's own queue grows slow
        with thousands of waiters, so they wait here)."""
        gate = self._client()[1]
        try:
            async with asyncio.timeout(deadline.left()):
                await gate.acquire()
        except TimeoutError:
            raise self._timeout(deadline) from None
        try:
            yield
        finally:
            gate.release()

    async def aclose(self) -> None:
        client, _ = self._clients.pop(asyncio.get_running_loop(), (None, None))
        if client is not None:
            await client.aclose()

    # ---- one request, retried ------------------------------------------------------------------
    async def send(self, method: str, path: str, payload: Any = None, *, deadline: Deadline) -> httpx.Response:
        """A response with a status below 400, headers read and body not yet; retried as the policy allows."""
        content = None if payload is None else wire.dumps(payload)
        failures: list[RemoteError] = []
        while True:
            try:
                return await self._once(method, path, content, deadline)
            except _Retry as retry:
                failures.append(retry.error)
                pause = self._backoff(len(failures)) if retry.pause is None else retry.pause
                if len(failures) >= self.policy.attempts or pause >= deadline.left():
                    raise _gave_up(failures) from retry.__cause__
                await asyncio.sleep(pause)

    async def _once(self, method: str, path: str, content: bytes | None, deadline: Deadline) -> httpx.Response:
        client = self._client()[0]
        headers = {"Content-Type": "application/json"} if content is not None else None
        request = client.build_request(method, path, content=content, headers=headers)
        try:
            async with asyncio.timeout(deadline.left()):
                response = await client.send(request, stream=True)
        except TimeoutError:
            raise self._timeout(deadline) from None
        except RETRYABLE as exc:
            raise _Retry(HostUnreachable(f"no answer from {self.base_url} ({type(exc).__name__})", self.host,
                                         type(exc).__name__)) from exc
        except httpx.HTTPError as exc:
            raise HostUnreachable(f"cannot reach {self.base_url} ({type(exc).__name__}: {exc})", self.host,
                                  type(exc).__name__) from exc
        if response.status_code < 400:
            return response
        error = self._status_error(response, await self.read(response, deadline, limit=4096))
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retry(error, self._retry_after(response))
        raise error

    def _backoff(self, failures: int) -> float:
        return self.policy.backoff * 2 ** (failures - 1) * (0.5 + random.random())

    def _retry_after(self, response: httpx.Response) -> float | None:
        """Seconds to wait as ``Retry-After`` says (a number or an HTTP date), capped; None when absent."""
        value = response.headers.get("retry-after")
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                return None
        return min(max(seconds, 0.0), self.policy.max_retry_after)

    def _timeout(self, deadline: Deadline) -> StepTimeout:
        return StepTimeout(f"host {self.host!r}: no complete answer within the step's {deadline.seconds:g} s deadline")

    def _status_error(self, response: httpx.Response, body: bytes) -> RemoteHTTPError:
        """An error status as a short typed error: a JSON body's message, else the body's kind and start."""
        text = body.decode("utf-8", "replace")
        kind = response.headers.get("content-type", "").partition(";")[0] or "no content type"
        shown = _error_message(text) or (f"{kind}: {wire.snippet(text)}" if text.strip() else kind)
        return RemoteHTTPError(f"answered {response.status_code} {response.reason_phrase} ({shown})", self.host,
                               response.status_code, wire.snippet(text))

    # ---- bodies and streams --------------------------------------------------------------------
    async def read(self, response: httpx.Response, deadline: Deadline, limit: int | None = None) -> bytes:
        """The body (its first ``limit`` bytes), each piece within the idle timer; closes the response."""
        chunks, size = [], 0
        try:
            async for chunk in self._idle(response.aiter_bytes(), deadline):
                chunks.append(chunk)
                size += len(chunk)
                if limit is not None and size >= limit:
                    break
        finally:
            await response.aclose()
        return b"".join(chunks)

    async def _idle(self, pieces: AsyncIterator, deadline: Deadline) -> AsyncIterator:
        """``pieces``, failing when the next one takes longer than the idle timer or the deadline allows."""
        iterator = aiter(pieces)
        while True:
            try:
                async with asyncio.timeout(min(self.policy.idle, deadline.left())):
                    piece = await anext(iterator)
            except StopAsyncIteration:
                return
            except TimeoutError:
                if deadline.left() <= 0:
                    raise self._timeout(deadline) from None
                raise StreamBroken(f"stalled: nothing more for {self.policy.idle:g} s after the headers",
                                   self.host) from None
            except (httpx.HTTPError, SSEError) as exc:
                raise StreamBroken(f"the answer broke off ({type(exc).__name__}: {exc})", self.host) from exc
            yield piece

    async def json(self, method: str, path: str, payload: Any = None, *, deadline: Deadline) -> Any:
        async with self._slot(deadline):
            response = await self.send(method, path, payload, deadline=deadline)
            body = await self.read(response, deadline, limit=self.policy.max_body + 1)
        if len(body) > self.policy.max_body:
            raise RemoteHTTPError(f"answered with more than {self.policy.max_body} bytes; refused", self.host,
                                  response.status_code, wire.snippet(body[:200].decode("utf-8", "replace")))
        try:
            return json.loads(body)
        except ValueError:
            raise self._unexpected(response, body, "JSON") from None

    def _unexpected(self, response: httpx.Response, body: bytes, wanted: str) -> RemoteHTTPError:
        """A 2xx answer of the wrong kind (an HTML page, a proxy's notice) as a short typed error."""
        kind = response.headers.get("content-type", "").partition(";")[0] or "no content type"
        text = wire.snippet(body.decode("utf-8", "replace"))
        return RemoteHTTPError(f"answered {response.status_code} with {kind}, not {wanted}: {text}", self.host,
                               response.status_code, text)

    async def events(self, path: str, payload: Any, *, deadline: Deadline) -> AsyncIterator[ServerSentEvent]:
        """POST ``payload`` and yield the server-sent events of the answer, each within the idle timer."""
        async with self._slot(deadline):
            async for event in self._events(path, payload, deadline):
                yield event

    async def _events(self, path: str, payload: Any, deadline: Deadline) -> AsyncIterator[ServerSentEvent]:
        response = await self.send("POST", path, payload, deadline=deadline)
        try:
            if response.headers.get("content-type", "").partition(";")[0] != "text/event-stream":
                raise self._unexpected(response, await self.read(response, deadline, limit=4096), "an event stream")
            async for event in self._idle(EventSource(response).aiter_sse(), deadline):
                yield event
        finally:
            await response.aclose()


def _error_message(text: str) -> str | None:
    """The message of a JSON error body (``{"error": {"message"}}``, ``{"error": "…"}``, ``{"detail": …}``)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error", data.get("detail"))
    if isinstance(error, dict):
        error = error.get("message") or error.get("type")
    return wire.snippet(str(error), 300) if error else None


def _gave_up(failures: list[RemoteError]) -> RemoteError:
    """The last failure, saying how many attempts were made."""
    error = failures[-1]
    if len(failures) > 1:
        error.args = (f"{error.args[0]} (gave up after {len(failures)} attempts)",)
    return error
