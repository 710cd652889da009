"""Small real text models the network tests serve from real hosts (``workbench host --models-from textmodels``).

- ``reverse-chat`` (text.generate, text.reverse): answers with the words of the last user message in reverse order,
  streaming word by word; ``slow-chat`` is the same with a pause before each word; ``threaded-chat``
  the same from a blocking generator (on a worker thread of the host).
- ``broken-chat`` (text.generate): streams two words, then fails, as a model that crashes mid-answer.
- ``hash-embed`` (text.embed): a bag-of-words embedder, each word hashed (CRC-32) into one of 32
  dimensions, L2-normalised: equal texts embed equally, texts sharing words point the same way.
"""
from __future__ import annotations

import asyncio
import time
import zlib

import numpy as np

from workbench.backends.base import Model
from workbench.core.cards import ModelCard
from workbench.core.catalog import CatalogEntry
from workbench.core.messages import Message

DIMENSIONS = 32


def reverse_words(text: str) -> str:
    return " ".join(reversed(text.split()))


class ReverseChat(Model):
    blocking = False

    def __init__(self, card: ModelCard, delay: float = 0.0, fail_after: int | None = None):
        self.card, self.delay, self.fail_after = card, delay, fail_after

    async def invoke(self, message: Message) -> Message:
        text = "".join([piece async for piece in self.stream(message)])
        return Message("text", text)

    async def stream(self, message: Message):
        for i, word in enumerate(reverse_words(str(message.content)).split()):
            if self.fail_after is not None and i == self.fail_after:
                raise RuntimeError(f"the model broke after {i} words")
            await asyncio.sleep(self.delay)
            yield word if i == 0 else " " + word


class ThreadedReverseChat(ReverseChat):
    """The same answers from a blocking generator, as a torch model would stream (run on a worker thread)."""

    blocking = True

    def invoke(self, message: Message) -> Message:
        return Message("text", "".join(self.stream(message)))

    def stream(self, message: Message):
        for i, word in enumerate(reverse_words(str(message.content)).split()):
            time.sleep(self.delay)
            yield word if i == 0 else " " + word


class HashEmbed(Model):
    blocking = False

    def __init__(self, card: ModelCard):
        self.card = card

    def invoke(self, message: Message) -> Message:
        return Message("vector", embed(str(message.content)))


def embed(text: str) -> list[float]:
    vector = np.zeros(DIMENSIONS, dtype=np.float32)
    for word in text.lower().split():
        vector[zlib.crc32(word.encode()) % DIMENSIONS] += 1.0
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm else vector).tolist()


def make_chat(device: str = "auto", node: str | None = None, name: str = "reverse-chat", delay: float = 0.0, fail_after: int | None = None,
              threaded: bool = False):
    card = next(e.card for e in ENTRIES if e.name == name)
    return (ThreadedReverseChat if threaded else ReverseChat)(card, delay, fail_after)


def make_embed(device: str = "auto", node: str | None = None) -> HashEmbed:
    return HashEmbed(next(e.card for e in ENTRIES if e.name == "hash-embed"))


def _chat(name: str, description: str, capabilities=("text.generate", "text.reverse"), **params) -> CatalogEntry:
    card = ModelCard(name, "python", "text", "text", capabilities, description)
    return CatalogEntry(card, "textmodels:make_chat", params={"name": name, **params})


ENTRIES = [
    _chat("reverse-chat", "answers with the words of the last message reversed, word by word"),
    _chat("slow-chat", "reverse-chat with a pause before each word", delay=0.25),
    _chat("broken-chat", "streams two words, then fails", ("text.generate",), fail_after=2),
    _chat("threaded-chat", "reverse-chat from a blocking generator", ("text.generate",), threaded=True),
    CatalogEntry(ModelCard("hash-embed", "python", "text", "vector", ("text.embed",),
                           "bag of words hashed into 32 dimensions"), "textmodels:make_embed"),
]
