"""What travels between hosts: model cards, messages and errors as JSON.

Messages use :func:`~workbench.core.messages.to_jsonable` (arrays become lists, NaN and infinities
tagged values); nothing received is ever evaluated: JSON only, no pickle, model names looked up in a catalog.
"""
from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from workbench.core.cards import ModelCard
from workbench.core.messages import Message, message_from_jsonable, to_jsonable

CARD_FIELDS = {f.name for f in dataclasses.fields(ModelCard)}
STREAMING_KINDS = ("text",)  # outputs a host offers to stream piece by piece


def card_to_dict(card: ModelCard, **extra) -> dict:
    data = dataclasses.asdict(card)
    data["capabilities"] = list(card.capabilities)
    data["streams"] = card.output_kind in STREAMING_KINDS
    return {**data, **extra}


def card_from_dict(data: dict, **changes) -> ModelCard:
    """A card from a remote's dict: unknown keys are dropped, capabilities become a tuple."""
    fields = {k: v for k, v in data.items() if k in CARD_FIELDS}
    fields["capabilities"] = tuple(str(c) for c in fields.get("capabilities") or ())
    return ModelCard(**{**fields, **changes})


def encode_message(message: Message) -> dict:
    return to_jsonable(message)


def decode_message(data: Any) -> Message:
    """A Message from its JSON form; raises ValueError for anything else."""
    message = message_from_jsonable(data) if isinstance(data, dict) else None
    if not isinstance(message, Message) or not isinstance(message.kind, str) or not isinstance(message.meta, dict):
        raise ValueError("expected a message as {kind, content, meta}")
    return message


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def error_body(kind: str, message: str) -> dict:
    """The error shape every host answer uses; OpenAI clients read ``error.message`` and ``error.type``."""
    return {"error": {"type": kind, "message": message}}


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def snippet(text: str, width: int = 160) -> str:
    """The start of a body for an error message: tags and runs of whitespace removed, trimmed to ``width``."""
    flat = " ".join(_TAGS.sub(" ", text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
