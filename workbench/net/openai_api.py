"""The OpenAI-compatible facade of a host, so any OpenAI client can use its models.

It serves whatever local models offer the capabilities below, by catalog name:

    GET  /v1/models               every model with ``text.generate`` or ``text.embed``
    POST /v1/chat/completions     ``text.generate`` models; ``stream: true`` answers with SSE chunks, ending in
                                  ``data: [DONE]`` (a usage chunk first when ``stream_options.include_usage``)
    POST /v1/embeddings           ``text.embed`` models; ``encoding_format`` float or base64

A chat model receives ``Message("text", <the last user message>, meta={"messages": [...], "max_tokens": …,
"temperature": …})``: models that understand a conversation read ``meta["messages"]``. A model that fails
mid-stream ends the stream with ``data: {"error": {...}}`` and no ``[DONE]``.
"""
from __future__ import annotations

import asyncio
import base64
import time
import uuid

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from workbench.core.messages import Message, to_jsonable
from workbench.net.server import ApiError, json_response, known, model_failed, models_of, read_json, sse

GENERATE, EMBED = "text.generate", "text.embed"
router = APIRouter(prefix="/v1")


@router.get("/models")
async def list_models(request: Request) -> Response:
    host = request.app.state.name
    data = [{"id": card.name, "object": "model", "created": 0, "owned_by": host,
             "capabilities": list(card.capabilities)}
            for card in models_of(request).cards() if {GENERATE, EMBED} & set(card.capabilities)]
    return json_response({"object": "list", "data": data})


def model_with(request: Request, body: dict, capability: str) -> str:
    name = body.get("model")
    if not isinstance(name, str):
        raise ApiError(400, "invalid_request_error", "'model' must be a model name")
    models = known(request, name)
    card = next(c for c in models.cards() if c.name == name)
    if capability not in card.capabilities:
        raise ApiError(400, "invalid_request_error", f"model {name!r} does not offer {capability}")
    return name


def chat_message(body: dict) -> Message:
    """The model's input: the last user message as text, the whole conversation in meta."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "invalid_request_error", "'messages' must be a non-empty list of {role, content}")
    chat = [{"role": str(m.get("role", "user")), "content": _text(m.get("content"))} for m in messages]
    prompt = next((m["content"] for m in reversed(chat) if m["role"] == "user"), chat[-1]["content"])
    options = {k: body[k] for k in ("max_tokens", "max_completion_tokens", "temperature", "top_p", "stop")
               if body.get(k) is not None}
    return Message("text", prompt, {"messages": chat, **options})


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if content is None:
        return ""
    raise ApiError(400, "invalid_request_error", "message content must be text or a list of content parts")


def usage(prompt: Message, completion: int, meta: dict | None = None) -> dict:
    """Token counts as the model reports them in ``meta["usage"]``, else words and pieces."""
    if meta and isinstance(meta.get("usage"), dict):
        return meta["usage"]
    asked = sum(len(m["content"].split()) for m in prompt.meta["messages"])
    return {"prompt_tokens": asked, "completion_tokens": completion, "total_tokens": asked + completion}


@router.post("/chat/completions")
async def chat_completions(request: Request):
    body = await read_json(request)
    name = model_with(request, body, GENERATE)
    message = chat_message(body)
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(chat_chunks(request, name, message, include_usage), media_type="text/event-stream")
    try:
        output = await models_of(request).invoke(name, message)
    except Exception as exc:
        raise model_failed(name, exc) from exc
    text = output.content if isinstance(output.content, str) else str(to_jsonable(output.content))
    return json_response({**_head(name, "chat.completion"), "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": usage(message, len(text.split()), output.meta)})


def _head(name: str, kind: str) -> dict:
    return {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": kind, "created": int(time.time()), "model": name}


async def chat_chunks(request: Request, name: str, message: Message, include_usage: bool):
    head = _head(name, "chat.completion.chunk")

    def chunk(delta: dict, finish: str | None = None) -> bytes:
        return sse(None, {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    yield chunk({"role": "assistant", "content": ""})
    pieces, meta = 0, {}
    try:
        async for piece in models_of(request).stream(name, message):
            if isinstance(piece, Message):
                meta = piece.meta
                if not pieces and isinstance(piece.content, str) and piece.content:  # a model without stream
                    pieces += 1
                    yield chunk({"content": piece.content})
                continue
            pieces += 1
            yield chunk({"content": piece})
    except Exception as exc:
        failed = model_failed(name, exc)
        yield sse(None, {"error": {"message": failed.message, "type": failed.kind, "code": "model_error"}})
        return
    yield chunk({}, "stop")
    if include_usage:
        yield sse(None, {**head, "choices": [], "usage": usage(message, pieces, meta)})
    yield b"data: [DONE]\n\n"


@router.post("/embeddings")
async def embeddings(request: Request) -> Response:
    body = await read_json(request)
    name = model_with(request, body, EMBED)
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise ApiError(400, "invalid_request_error", "'input' must be text or a non-empty list of texts")
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise ApiError(400, "invalid_request_error", "'encoding_format' is float or base64")
    try:
        outputs = await asyncio.gather(*(models_of(request).invoke(name, Message("text", t)) for t in texts))
        vectors = [_vector(o) for o in outputs]
    except Exception as exc:
        raise model_failed(name, exc) from exc
    data = [{"object": "embedding", "index": i, "embedding": _encoded(v, encoding)} for i, v in enumerate(vectors)]
    words = sum(len(t.split()) for t in texts)
    return json_response({"object": "list", "data": data, "model": name,
                          "usage": {"prompt_tokens": words, "total_tokens": words}})


def _vector(output: Message) -> np.ndarray:
    vector = np.asarray(output.content, dtype=np.float32)
    if vector.ndim != 1 or not np.isfinite(vector).all():
        raise ValueError(f"an embedding must be one finite vector, not shape {vector.shape}")
    return vector


def _encoded(vector: np.ndarray, encoding: str):
    if encoding == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode()
    return vector.tolist()
