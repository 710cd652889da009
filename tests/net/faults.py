"""A small real HTTP server that misbehaves on purpose, for faults real servers rarely produce on demand.

It speaks HTTP/1.1 by hand (asyncio streams) so it can break the protocol exactly where asked. It answers
OpenAI-style ``POST …/chat/completions`` and ``…/embeddings``; the ``model`` field picks the behaviour:

    ok            a normal answer (SSE when ``stream`` is true)
    stall         headers, then nothing (the body never comes)
    html502       502 with an HTML page, every time
    html502-once  502 with an HTML page the first time, then ok
    limit429      429 with ``Retry-After: <retry_after>`` the first time, then ok
    drop-once     closes the connection without answering the first time, then ok
    bad400        400 with a JSON error (not worth retrying)
    notjson       200 with an HTML body
    broken        a stream that stops mid-chunk and closes the connection
    error-event   a 200 stream with two pieces, then ``data: {"error": …}``
    empty-choices a stream with keep-alive chunks whose ``choices`` is empty and a usage-only chunk

A ``#suffix`` on the model keeps its "first time" apart from other tests' (``html502-once#2``).
``GET /log`` returns every request seen as ``[[model, seconds since start], …]``. Run as
``python faults.py`` (prints ``port N`` once listening); stop it with SIGTERM.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time

START = time.monotonic()
LOG: list[list] = []
SEEN: dict[str, int] = {}
WORDS = ["Hello", " wor", "ld", "!"]


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while (request := await read_request(reader)) is not None:
            if not await answer(writer, *request):
                break
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", 0)))
    return method, path, json.loads(body) if body else {}


def send(writer, status: str, headers: dict, body: bytes = b"") -> None:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    writer.write("\r\n".join(lines).encode("latin-1") + body)


def send_json(writer, data, status: str = "200 OK", **headers) -> None:
    body = json.dumps(data).encode()
    send(writer, status, {"Content-Type": "application/json", "Content-Length": len(body), **headers}, body)


def chunk(data: str) -> bytes:
    raw = data.encode()
    return f"{len(raw):x}\r\n".encode() + raw + b"\r\n"


def event(data) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"


def piece(text: str | None, finish: str | None = None, choices: bool = True) -> dict:
    delta = {"content": text} if text is not None else {}
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
            if choices else []}


HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>upstream gone</p></body></html>"


async def answer(writer, method: str, path: str, body: dict) -> bool:
    """Answer one request; False closes the connection."""
    if path == "/log":
        send_json(writer, LOG)
        return True
    key = body.get("model", "ok")   # "html502-once#3": behaviour html502-once, counted apart from other keys
    model = key.partition("#")[0]
    first = SEEN.get(key, 0) == 0
    SEEN[key] = SEEN.get(key, 0) + 1
    LOG.append([key, time.monotonic() - START])
    if model == "stall":
        send(writer, "200 OK", {"Content-Type": "application/json", "Content-Length": 100})
        await writer.drain()
        await asyncio.sleep(3600)
    if model == "html502" or (model == "html502-once" and first):
        send(writer, "502 Bad Gateway", {"Content-Type": "text/html", "Content-Length": len(HTML)}, HTML)
    elif model == "limit429" and first:
        send_json(writer, {"error": {"message": "slow down"}}, "429 Too Many Requests",
                  **{"Retry-After": str(body.get("retry_after", 1))})
    elif model == "drop-once" and first:
        return False
    elif model == "bad400":
        send_json(writer, {"error": {"message": "messages: field required", "type": "invalid_request_error"}},
                  "400 Bad Request")
    elif model == "notjson":
        send(writer, "200 OK", {"Content-Type": "text/html", "Content-Length": len(HTML)}, HTML)
    elif path.endswith("/embeddings"):
        send_json(writer, {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.6, 0.8]}]})
    elif body.get("stream"):
        return await stream(writer, model)
    else:
        send_json(writer, {"object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "".join(WORDS)}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}})
    await writer.drain()
    return True


async def stream(writer, model: str) -> bool:
    send(writer, "200 OK", {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"})
    events = [event(piece(w)) for w in WORDS[:2]]
    if model == "broken":
        writer.write(b"".join(chunk(e) for e in events) + b"40\r\ndata: {\"obj")  # then the connection drops
        await writer.drain()
        return False
    if model == "error-event":
        events.append(event({"error": {"message": "the upstream model crashed", "type": "server_error"}}))
    elif model == "empty-choices":
        events = [event(piece(None, choices=False)), events[0], event(piece(None, choices=False)), events[1],
                  *(event(piece(w)) for w in WORDS[2:]), event(piece(None, "stop")),
                  event({"object": "chat.completion.chunk", "choices": [],
                         "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}), event("[DONE]")]
    else:
        events += [event(piece(w)) for w in WORDS[2:]] + [event(piece(None, "stop")), event("[DONE]")]
    for e in events:
        writer.write(chunk(e))
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
