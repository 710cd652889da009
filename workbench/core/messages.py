"""Messages: what flows along pathways, and how it is written down.

A :class:`Message` is a kind (``"image.digits"``, ``"label.probs"``, ``"text"``), a content and free
metadata. ``to_jsonable`` turns contents (numpy arrays included) into plain JSON data and keeps NaN and
infinities as tagged values, so a store never fails to write them and a page never fails to parse them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

JOIN_KIND = "join"  # a message bundling every input of a join node, in pathway order


@dataclass(slots=True)
class Message:
    kind: str
    content: Any
    meta: dict = field(default_factory=dict)

    def summary(self, width: int = 60) -> str:
        """A one-line human summary, used by the CLI and the trace views."""
        return _clip(_summarize(self), width)


def _summarize(message: Message) -> str:
    content = message.content
    if message.kind == JOIN_KIND:
        count = f"{len(content)} input" + ("" if len(content) == 1 else "s")
        return f"{count}: " + "; ".join(m.summary(20) for m in content)
    if message.kind == "label.probs" and isinstance(content, dict):
        label, probs = content.get("label"), content.get("probs")
        try:
            return f"{label} (p={float(probs[label]):.2f})"
        except (TypeError, IndexError, KeyError, ValueError):
            return str(label)
    if message.kind == "image.digits" and "index" in message.meta:
        label = message.meta.get("label")
        return f"digit #{message.meta['index']}" + (f" (label {label})" if label is not None else "")
    shape = getattr(content, "shape", None)
    if shape is not None:
        return f"{message.kind} {'×'.join(map(str, shape))}"
    return repr(content) if not isinstance(content, str) else content


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for ``value``; non-finite floats become ``{"$float": "nan" | "inf" | "-inf"}``, and a
    dict that is itself shaped like a tag (one key, ``$float`` or ``$dict``) is escaped as ``{"$dict": …}``."""
    if value is None or type(value) in _PLAIN:
        return value
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": _FLOAT_TAGS[str(value)]}
    if isinstance(value, Message):
        return {"kind": value.kind, "content": to_jsonable(value.content), "meta": to_jsonable(value.meta)}
    if isinstance(value, dict):
        plain = {str(k): to_jsonable(v) for k, v in value.items()}
        return {"$dict": plain} if _looks_tagged(plain) else plain
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars, torch and mlx arrays
    if tolist is not None:
        return to_jsonable(tolist())
    return repr(value)


_PLAIN = {str, int, bool}
_FLOAT_TAGS = {"nan": "nan", "inf": "inf", "-inf": "-inf"}
_FLOAT_VALUES = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _looks_tagged(data: dict) -> bool:
    return len(data) == 1 and ("$float" in data or "$dict" in data)


def from_jsonable(value: Any) -> Any:
    """Undo the tagging of :func:`to_jsonable` (arrays come back as lists)."""
    if isinstance(value, dict):
        if len(value) == 1 and "$float" in value:
            return _FLOAT_VALUES.get(value["$float"], math.nan)
        if len(value) == 1 and "$dict" in value and isinstance(value["$dict"], dict):
            return {k: from_jsonable(v) for k, v in value["$dict"].items()}
        return {k: from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    return value


def message_from_jsonable(data: Any) -> Message | Any:
    """Rebuild a :class:`Message` written by :func:`to_jsonable`, or a ``{node: Message}`` mapping (the output
    of a run that ends in several nodes); other data passes through."""
    if _message_shaped(data):
        content = from_jsonable(data["content"])
        if data["kind"] == JOIN_KIND:
            content = [message_from_jsonable(m) for m in data["content"]]
        return Message(data["kind"], content, from_jsonable(data["meta"]))
    if isinstance(data, dict) and data and all(_message_shaped(v) for v in data.values()):
        return {k: message_from_jsonable(v) for k, v in data.items()}
    return from_jsonable(data)


def _message_shaped(data: Any) -> bool:
    return isinstance(data, dict) and set(data) == {"kind", "content", "meta"}
