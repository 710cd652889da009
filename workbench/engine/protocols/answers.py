"""Comparing free-text answers: the key two answers share when they say the same thing."""
from __future__ import annotations

import re
from collections import Counter

from workbench.core.messages import Message

_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")
_STOPWORDS = {"the", "a", "an", "is", "it", "answer", "final", "of"}


def answer_key(text: str) -> str:
    """A normalised answer: the number after "=" or "is" if any, else the first number; else the first
    meaningful word(s) of the first line, lowercased and without punctuation."""
    text = " ".join(str(text).split())
    tail = re.search(r"(?:=|\bis\b)\s*(-?\d+(?:[.,]\d+)*)", text)
    number = tail.group(1) if tail else (m.group(0) if (m := _NUMBER.search(text)) else None)
    if number is not None:
        number = number.replace(",", "")
        return number[:-2] if number.endswith(".0") else number
    words = [w for w in re.findall(r"[^\W_]+", text.lower()) if w not in _STOPWORDS]
    return " ".join(words[:3])


def text_of(message: Message | None) -> str:
    if message is None:
        return ""
    return message.content if isinstance(message.content, str) else str(message.content)


def majority(answers: list[tuple[str, Message]]) -> tuple[str, int, Message]:
    """(key, votes, first message with that key) of the most common answer; earlier answers win ties."""
    keyed = [(answer_key(text_of(m)), m) for _, m in answers]
    counts = Counter(key for key, _ in keyed)
    best = max(counts, key=lambda key: (counts[key], -next(i for i, (k, _) in enumerate(keyed) if k == key)))
    return best, counts[best], next(m for k, m in keyed if k == best)
