"""Remote backends: a model served by another workbench host (a peer) or by any OpenAI-compatible server.

Each is a :class:`~workbench.backends.base.Model` whose ``invoke`` is a coroutine; text models also
``stream``. Every call runs under one :class:`~workbench.net.client.Deadline` (the remote's ``timeout``,
or the one a capability step passes on), and reports its outcome to ``observe`` (the health monitor), so a
failed call marks its host down at once. A stream that breaks keeps its partial text: the
:class:`~workbench.errors.StreamBroken` error carries it, marked ``incomplete``.
"""
from __future__ import annotations

import json
import time
from typing import AsyncIterator, Callable
from urllib.parse import quote

from workbench.backends.base import Model
from workbench.core.cards import ModelCard
from workbench.core.messages import Message
from workbench.errors import HostUnreachable, RemoteHTTPError, StreamBroken
from workbench.net import wire
from workbench.net.client import Deadline, HTTPClient

Observer = Callable[[str, bool, float | None, str | None], None]  # (host, ok, latency ms, error)


class RemoteModel(Model):
    """Common ground: the card, the client, the deadline and the health reports."""

    blocking = False

    def __init__(self, card: ModelCard, client: HTTPClient, remote_name: str, *, timeout: float = 60.0,
                 observe: Observer | None = None, streams: bool = False):
        self.card, self.client, self.remote_name, self.timeout = card, client, remote_name, timeout
        self.observe = observe or (lambda host, ok, latency, error: None)
        self.stream = self._stream if streams else None

    async def invoke(self, message: Message, deadline: Deadline | None = None) -> Message:
        return await self._watched(self._invoke(message, deadline or Deadline(self.timeout)))

    async def _watched(self, call):
        start = time.perf_counter()
        try:
            result = await call
        except HostUnreachable as exc:
            self.observe(self.client.host, False, None, f"{exc.reason or 'unreachable'}")
            raise
        self.observe(self.client.host, True, (time.perf_counter() - start) * 1000, None)
        return result

    async def _stream(self, message: Message, deadline: Deadline | None = None) -> AsyncIterator[str | Message]:
        pieces: list[str] = []
        try:
            async for piece in self._pieces(message, deadline or Deadline(self.timeout), pieces):
                yield piece
        except StreamBroken as exc:
            exc.partial = Message(self.card.output_kind, "".join(pieces), {"incomplete": True})
            raise
        except HostUnreachable as exc:
            self.observe(self.client.host, False, None, exc.reason or "unreachable")
            raise

    async def _invoke(self, message: Message, deadline: Deadline) -> Message:
        raise NotImplementedError

    def _pieces(self, message: Message, deadline: Deadline, pieces: list[str]) -> AsyncIterator[str | Message]:
        raise NotImplementedError

    def _bad_answer(self, what: str, data) -> RemoteHTTPError:
        return RemoteHTTPError(f"answered 200 but {what}", self.client.host, 200, wire.snippet(str(data)))


class PeerModel(RemoteModel):
    """A model of another workbench host, called by its name there."""

    def _path(self, action: str) -> str:
        return f"/models/{quote(self.remote_name, safe='')}/{action}"

    async def _invoke(self, message: Message, deadline: Deadline) -> Message:
        data = await self.client.json("POST", self._path("invoke"), {"input": wire.encode_message(message)},
                                      deadline=deadline)
        try:
            return wire.decode_message(data["output"])
        except (KeyError, TypeError, ValueError):
            raise self._bad_answer("with no output message", data) from None

    async def _pieces(self, message, deadline, pieces):
        events = self.client.events(self._path("stream"), {"input": wire.encode_message(message)}, deadline=deadline)
        async for event in events:
            data = _event_json(event.data, self.client.host)
            if event.event == "token":
                pieces.append(str(data.get("text", "")))
                yield pieces[-1]
            elif event.event == "end":
                yield wire.decode_message(data.get("output"))
                return
            elif event.event == "error":
                error = data.get("error") or {}
                raise StreamBroken(f"the model failed mid-stream: {error.get('type')}: {error.get('message')}",
                                   self.client.host)
        raise StreamBroken("the stream ended without its end event", self.client.host)


class OpenAIChat(RemoteModel):
    """A chat model of an OpenAI-compatible server (``/chat/completions``)."""

    def _body(self, message: Message, stream: bool) -> dict:
        chat = message.meta.get("messages")
        if not isinstance(chat, list) or not chat:
            chat = [{"role": "user", "content": str(message.content)}]
        body = {"model": self.remote_name, "messages": chat, "stream": stream}
        body.update({k: message.meta[k] for k in ("max_tokens", "temperature", "top_p", "stop") if k in message.meta})
        return {**body, "stream_options": {"include_usage": True}} if stream else body

    async def _invoke(self, message: Message, deadline: Deadline) -> Message:
        data = await self.client.json("POST", "chat/completions", self._body(message, False), deadline=deadline)
        try:
            choice = data["choices"][0]
            return Message("text", choice["message"]["content"] or "",
                           {"usage": data.get("usage"), "finish_reason": choice.get("finish_reason")})
        except (KeyError, IndexError, TypeError):
            raise self._bad_answer("with no choices[0].message.content", data) from None

    async def _pieces(self, message, deadline, pieces):
        usage = finish = None
        async for event in self.client.events("chat/completions", self._body(message, True), deadline=deadline):
            if event.data.strip() == "[DONE]":
                break
            chunk = _event_json(event.data, self.client.host)
            if event.event == "error" or "error" in chunk:
                error = chunk.get("error")
                text = error.get("message") if isinstance(error, dict) else error
                raise StreamBroken(f"error event in the stream: {text}", self.client.host)
            usage = chunk.get("usage") or usage          # a usage-only chunk has empty choices
            for choice in chunk.get("choices") or []:     # so may keep-alive chunks: nothing to do
                if piece := (choice.get("delta") or {}).get("content"):
                    pieces.append(piece)
                    yield piece
                finish = choice.get("finish_reason") or finish
        else:
            if finish is None:
                raise StreamBroken("the stream ended without [DONE] or a finish reason", self.client.host)
        yield Message("text", "".join(pieces), {"usage": usage, "finish_reason": finish})


class OpenAIEmbed(RemoteModel):
    """An embedding model of an OpenAI-compatible server (``/embeddings``): text in, a vector out."""

    async def _invoke(self, message: Message, deadline: Deadline) -> Message:
        body = {"model": self.remote_name, "input": str(message.content), "encoding_format": "float"}
        data = await self.client.json("POST", "embeddings", body, deadline=deadline)
        try:
            vector = [float(v) for v in data["data"][0]["embedding"]]
        except (KeyError, IndexError, TypeError, ValueError):
            raise self._bad_answer("with no data[0].embedding", data) from None
        return Message(self.card.output_kind, vector, {"usage": data.get("usage")})


def _event_json(data: str, host: str) -> dict:
    try:
        parsed = json.loads(data)
    except ValueError:
        raise StreamBroken(f"a stream event is not JSON: {wire.snippet(data, 80)}", host) from None
    if not isinstance(parsed, dict):
        raise StreamBroken(f"a stream event is not a JSON object: {wire.snippet(data, 80)}", host)
    return parsed
