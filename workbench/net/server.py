"""The host: serves this machine's models over HTTP (FastAPI on uvicorn).

    GET  /health                   {"status": "ok", "name", "models", "inflight", "served"}
    GET  /models                   {"host", "models": [card, …]}
    GET  /models/{name}            one card
    POST /models/{name}/invoke     {"input": message} → {"output": message, "seconds", "host"}
    POST /models/{name}/stream     the same as server-sent events: token {"text"} …, then end {"output"}
                                   (or error {"error": {"type", "message"}})
    /v1/…                          the OpenAI-compatible facade (see :mod:`workbench.net.openai_api`)

Security: :class:`Guard` checks the token (``Authorization: Bearer …``, constant-time) and the body size on
every request, before any route runs. Requests are JSON only; a request names a catalog model and gives it
a message, nothing more: no parameters, no code, no file paths. Errors are ``{"error": {"type", "message"}}``:
400 malformed request, 401 bad token, 404 unknown model, 413 body too large, 422 the model failed.
"""
from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import socket
import time
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from workbench.core.catalog import Catalog, default_catalog
from workbench.core.messages import Message
from workbench.errors import ConfigError, WorkbenchError
from workbench.net import wire
from workbench.net.local import LocalModels

DEFAULT_PORT = 8765
MAX_BODY = 8 * 1024 * 1024


class ApiError(Exception):
    """An error answer: ``status`` and the typed error body."""

    def __init__(self, status: int, kind: str, message: str):
        self.status, self.kind, self.message = status, kind, message


def json_response(data: Any, status: int = 200) -> Response:
    return Response(wire.dumps(data), status, media_type="application/json")


def sse(event: str | None, data: Any) -> bytes:
    head = f"event: {event}\n" if event else ""
    return head.encode() + b"data: " + (data if isinstance(data, bytes) else wire.dumps(data)) + b"\n\n"


async def read_json(request: Request) -> dict:
    """The request's JSON object; ApiError 400 for anything else."""
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "BadRequest", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "BadRequest", "the body must be a JSON object")
    return data


def create_app(catalog: Catalog | None = None, *, name: str = "workbench", token: str | None = None,
               max_body: int = MAX_BODY) -> FastAPI:
    """The host's ASGI app, serving the models of ``catalog`` (default: this machine's catalog)."""
    from workbench.net.openai_api import router as openai_router

    models = LocalModels(catalog or default_catalog())

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        models.close()

    app = FastAPI(title=f"workbench host {name}", docs_url=None, redoc_url=None,  # docs pages load JS from a CDN
                  lifespan=lifespan)
    app.state.models, app.state.name = models, name
    app.add_exception_handler(ApiError, api_error)
    app.add_api_route("/health", health)
    app.add_api_route("/models", list_models)
    app.add_api_route("/models/{model}", model_card)
    app.add_api_route("/models/{model}/invoke", invoke, methods=["POST"])
    app.add_api_route("/models/{model}/stream", stream, methods=["POST"])
    app.include_router(openai_router)
    app.add_middleware(Guard, token=token, max_body=max_body)
    return app


async def api_error(request: Request, exc: ApiError) -> Response:
    return json_response(wire.error_body(exc.kind, exc.message), exc.status)


def models_of(request: Request) -> LocalModels:
    return request.app.state.models


def known(request: Request, model: str) -> LocalModels:
    models = models_of(request)
    if not models.has(model):
        raise ApiError(404, "UnknownModel", f"no model named {model!r} on host {request.app.state.name!r}")
    return models


async def health(request: Request) -> Response:
    models = models_of(request)
    return json_response({"status": "ok", "name": request.app.state.name, "models": len(models.catalog.names()),
                          "inflight": models.inflight, "served": models.served})


async def list_models(request: Request) -> Response:
    host = request.app.state.name
    cards = [wire.card_to_dict(card, host=host) for card in models_of(request).cards()]
    return json_response({"host": host, "models": cards})


async def model_card(model: str, request: Request) -> Response:
    known(request, model)
    card = next(c for c in models_of(request).cards() if c.name == model)
    return json_response(wire.card_to_dict(card, host=request.app.state.name))


async def input_message(request: Request) -> Message:
    body = await read_json(request)
    try:
        return wire.decode_message(body.get("input"))
    except ValueError as exc:
        raise ApiError(400, "BadRequest", f"'input': {exc}") from None


async def invoke(model: str, request: Request) -> Response:
    models = known(request, model)
    message = await input_message(request)
    start = time.perf_counter()
    try:
        output = await models.invoke(model, message)
    except Exception as exc:
        raise model_failed(model, exc) from exc
    return json_response({"output": wire.encode_message(output), "seconds": time.perf_counter() - start,
                          "host": request.app.state.name})


def model_failed(model: str, exc: Exception) -> ApiError:
    text = str(exc) if isinstance(exc, WorkbenchError) else f"model {model!r} failed: {exc}"
    return ApiError(422, type(exc).__name__, text)


async def stream(model: str, request: Request) -> StreamingResponse:
    models = known(request, model)
    message = await input_message(request)
    try:
        await models.get(model)  # load errors answer with a status, before the stream starts
    except Exception as exc:
        raise model_failed(model, exc) from exc

    async def events():
        try:
            async for piece in models.stream(model, message):
                if isinstance(piece, Message):
                    yield sse("end", {"output": wire.encode_message(piece)})
                else:
                    yield sse("token", {"text": piece})
        except Exception as exc:  # the status is sent already: the error travels as an event
            yield sse("error", wire.error_body(type(exc).__name__, str(model_failed(model, exc).message)))

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


class Guard:
    """ASGI middleware run on every request: token check (constant time) and body size limit."""

    def __init__(self, app, token: str | None, max_body: int):
        self.app, self.max_body = app, max_body
        self.token = token.encode() if token else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.token is not None and not self.authorized(scope):
            return await reject(send, 401, "Unauthorized", "a valid token is required: Authorization: Bearer <token>")
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await reject(send, 413, "BodyTooLarge", f"request bodies are limited to {self.max_body} bytes")
        await self.limited(scope, receive, send)

    def authorized(self, scope) -> bool:
        given = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, presented = given.partition(b" ")
        return hmac.compare_digest(presented.strip(), self.token) and scheme.lower() == b"bearer"

    async def limited(self, scope, receive, send):
        """Run the app, counting the body as it arrives (chunked bodies have no length to check first)."""
        seen, started = 0, False

        async def receive_limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise _TooLarge
            return message

        async def send_tracked(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_limited, send_tracked)
        except _TooLarge:
            if not started:
                await reject(send, 413, "BodyTooLarge", f"request bodies are limited to {self.max_body} bytes")


class _TooLarge(Exception):
    pass


async def reject(send, status: int, kind: str, message: str) -> None:
    body = wire.dumps(wire.error_body(kind, message))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def check_bind(bind: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token."""
    if token is not None and not token.strip():
        raise ConfigError("--token is empty")
    if not is_loopback(bind) and not token:
        raise ConfigError(f"binding {bind!r} exposes this host beyond this machine: give a --token "
                          "(or bind 127.0.0.1)")


def is_loopback(bind: str) -> bool:
    if bind == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return False


def listen(bind: str, port: int) -> socket.socket:
    """A listening-ready socket on ``bind:port`` (port 0: a free port, read back with getsockname)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(bind, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {bind}:{port}: {exc}") from exc
    return sock


def serve(catalog: Catalog | None = None, *, port: int = DEFAULT_PORT, bind: str = "127.0.0.1",
          token: str | None = None, name: str | None = None, max_body: int = MAX_BODY,
          announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted. ``announce`` gets one line with the address (the real port when ``port`` is 0)."""
    import uvicorn

    check_bind(bind, token)
    sock = listen(bind, port)
    port = sock.getsockname()[1]
    name = name or f"{socket.gethostname()}:{port}"
    app = create_app(catalog, name=name, token=token, max_body=max_body)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=3))
    host = f"[{bind}]" if ":" in bind else bind
    announce(f"workbench host {name!r} serving {len(app.state.models.cards())} models on http://{host}:{port}"
             f" (token {'required' if token else 'not required: loopback only'})")
    server.run(sockets=[sock])
