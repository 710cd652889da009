"""Comparing free-text answers: the key two answers share when they say the same thing.

A key is the stated number if there is one (the number after "=" or "is", else the first number); else the
first word of the answer that says something new: not a filler word and, when the question is given, not a
word of the question. So to "What is the capital of France?", "The capital of France is Paris." and "Paris,
of course." share the key ``paris``, and to "Is a whale a fish?", "No, a whale is a mammal." and "No." share
``no``: votes count answers, not phrasings.
"""
from __future__ import annotations

import re
from collections import Counter

from workbench.core.messages import Message

_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")
_FILLER = {"the", "a", "an", "is", "are", "was", "it", "its", "answer", "final", "of", "in", "to", "and", "so",
           "that", "this", "which", "i", "we", "you", "think", "well", "sure", "correct", "right", "be"}


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", str(text).lower())


def answer_key(text: str, question: str = "") -> str:
    """The normalised answer of ``text`` (see the module docstring); "" when it says nothing new."""
    text = " ".join(str(text).split())
    tail = re.search(r"(?:=|\bis\b)\s*(-?\d+(?:[.,]\d+)*)", text)
    number = tail.group(1) if tail else (m.group(0) if (m := _NUMBER.search(text)) else None)
    if number is not None:
        number = number.replace(",", "")
        return number[:-2] if number.endswith(".0") else number
    asked = set(_words(question))
    return next((w for w in _words(text) if w not in _FILLER and w not in asked), "")


def text_of(message: Message | None) -> str:
    if message is None:
        return ""
    return message.content if isinstance(message.content, str) else str(message.content)


def majority(answers: list[tuple[str, Message]], question: str = "") -> tuple[str, int, Message]:
    """(key, votes, first message with that key) of the most common answer; earlier answers win ties."""
    keyed = [(answer_key(text_of(m), question), m) for _, m in answers]
    counts = Counter(key for key, _ in keyed)
    best = max(counts, key=lambda key: (counts[key], -next(i for i, (k, _) in enumerate(keyed) if k == key)))
    return best, counts[best], next(m for k, m in keyed if k == best)
