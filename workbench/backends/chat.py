"""Chat models: text in, text out, streamed piece by piece, the same on every backend.

A :class:`ChatModel` turns its input into chat turns, applies the chat template that ships in the model
file, and decodes greedily. Backends (``llm_torch``, ``llm_mlx``) implement two things only:

- ``_load_weights(path, report) -> Weights``: the tokenizer and the network, ready to run;
- ``_tokens(prompt_ids, limit, sampling) -> Iterator[int]``: the next tokens, one at a time; greedy when
  ``sampling`` is None, else drawn at ``sampling.temperature`` from a generator seeded with ``sampling.seed``
  (a message asks for it with ``meta["temperature"]`` > 0 and ``meta["seed"]``, as self-consistency does).

Weights are shared by every node that uses the same file on the same backend and device (two specialists
with different system prompts hold one copy). Generations on shared weights either take turns token by token
under the weights' lock (MLX) or advance together in one batched step (torch, see
:mod:`workbench.backends.decode_batch`): two runs at once each get their own answer, and a cancelled one
stops within one token.

Input: a ``text`` message whose content is a string (the user's turn) or a list of ``{"role", "content"}``
turns. Output: ``Message("text", answer, meta)`` with ``tokens``, ``prompt_tokens`` and ``stop``
(``eos`` or ``length``) in ``meta``.
"""
from __future__ import annotations

import contextlib
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from workbench.backends.base import Model
from workbench.backends.gguf import check_file, smollm2_path
from workbench.backends.progress import ProgressCallback, Reporter
from workbench.core.cards import ModelCard
from workbench.core.messages import Message
from workbench.errors import ModelError

STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")


@dataclass
class Weights:
    """A loaded model file: tokenizer, network and whatever the backend needs; shared between nodes."""

    tokenizer: Any
    network: Any
    stop_ids: frozenset[int]
    extra: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens_made: int = 0  # every token generated on these weights, for tests and stats


_shared: dict[tuple, Weights] = {}
_shared_lock = threading.Lock()


@dataclass(frozen=True)
class Sampling:
    temperature: float
    seed: int


def sampling_of(message: Message) -> Sampling | None:
    """Sampling settings a message asks for, or None for greedy decoding."""
    try:
        temperature = float(message.meta.get("temperature") or 0.0)
        seed = int(message.meta.get("seed") or 0)
    except (TypeError, ValueError):
        return None
    return Sampling(temperature, seed) if temperature > 0 and math.isfinite(temperature) else None


def stop_ids(tokenizer) -> frozenset[int]:
    """The end-of-turn tokens: the tokenizer's eos plus ChatML's markers where the vocabulary has them."""
    vocab = tokenizer.get_vocab()
    found = {vocab[t] for t in STOP_TOKENS if t in vocab}
    return frozenset(found | ({tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()))


def chat_turns(message: Message, system: str | None) -> list[dict]:
    """The chat turns for ``message``, with ``system`` first unless the turns bring their own."""
    content = message.content
    if isinstance(content, str):
        turns = [{"role": "user", "content": content}]
    elif isinstance(content, list) and content and all(isinstance(t, dict) and "role" in t and "content" in t
                                                        for t in content):
        turns = [dict(t) for t in content]
    else:
        raise ValueError(f"expected text or a list of {{role, content}} turns, got {type(content).__name__}")
    if system and turns[0]["role"] != "system":
        turns.insert(0, {"role": "system", "content": system})
    return turns


class TextStream:
    """Token ids in, new text out: decodes the whole answer each time and hands on what was added.

    A piece that ends inside a multi-byte character (decoded as U+FFFD) waits for the next token.
    """

    def __init__(self, tokenizer):
        self.tokenizer, self.ids, self.text = tokenizer, [], ""

    def add(self, token: int) -> str:
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            return ""
        piece, self.text = text[len(self.text):], text
        return piece

    def flush(self) -> str:
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        piece, self.text = text[len(self.text):], text
        return piece


class ChatModel(Model):
    """A chat model on one backend; see the module docstring. ``gguf`` picks another llama GGUF file."""

    blocking = True
    takes_turns = True  # generations on shared weights take turns token by token (a backend that batches: False)

    def __init__(self, card: ModelCard, *, gguf: str | None = None, system: str | None = None,
                 max_new_tokens: int = 128, node: str | None = None):
        if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens < 1:
            raise ModelError(f"{card.name}: max_new_tokens must be a whole number ≥ 1, not {max_new_tokens!r}", node)
        if system is not None and not isinstance(system, str):
            raise ModelError(f"{card.name}: system must be text, not {type(system).__name__}", node)
        self.card, self.gguf, self.system, self.max_new_tokens, self.node = card, gguf, system, max_new_tokens, node
        self.weights: Weights | None = None

    # ---- loading -------------------------------------------------------------------------------
    def load(self, progress: ProgressCallback | None = None) -> None:
        """Load (or reuse) the weights; ``progress`` receives :class:`~workbench.backends.progress.Progress`."""
        path = check_file(self.gguf, self.node) if self.gguf else smollm2_path(self.node)
        key = (type(self).__name__, self.card.device, str(path.resolve()))
        with _shared_lock:
            if key not in _shared:
                _shared[key] = self._load_weights(path, Reporter(self.card.name, progress))
            self.weights = _shared[key]

    def _load_weights(self, path: Path, report: Reporter) -> Weights:
        raise NotImplementedError

    # ---- generating ----------------------------------------------------------------------------
    def prompt_ids(self, message: Message) -> list[int]:
        """The token ids of the chat-templated prompt, ending where the assistant's turn begins."""
        try:
            turns = chat_turns(message, self.system)
        except ValueError as exc:
            raise ModelError(f"{self.card.name}: bad input: {exc}", self.node) from exc
        encoded = self.weights.tokenizer.apply_chat_template(turns, add_generation_prompt=True, return_dict=True)
        return list(encoded["input_ids"])

    def stream(self, message: Message, max_new_tokens: int | None = None) -> Iterator[str]:
        """Yield the answer piece by piece (greedy); return the whole answer as a Message."""
        if self.weights is None:
            raise ModelError(f"{self.card.name}: not loaded; call load() first", self.node)
        prompt, text, made, stop = self.prompt_ids(message), TextStream(self.weights.tokenizer), 0, "length"
        tokens = self._tokens(prompt, max_new_tokens or self.max_new_tokens, sampling_of(message))
        for token in self._taking_turns(tokens):
            made += 1
            if token in self.weights.stop_ids:
                stop = "eos"
                break
            if piece := text.add(token):
                yield piece
        if rest := text.flush():
            yield rest
        meta = {"model": self.card.name, "tokens": made, "prompt_tokens": len(prompt), "stop": stop}
        return Message("text", text.text.strip(), meta)

    def invoke(self, message: Message) -> Message:
        pieces = self.stream(message)
        while True:
            try:
                next(pieces)
            except StopIteration as done:
                return done.value

    def generate(self, prompt: str, max_new_tokens: int | None = None) -> str:
        """The answer to one user turn, as text (the backend called directly, without an engine)."""
        stream = self.stream(Message("text", prompt), max_new_tokens)
        return "".join(stream)

    def _taking_turns(self, tokens: Iterator[int]) -> Iterator[int]:
        """Pull one token at a time (under the weights' lock where generations take turns); errors from the
        library become ModelErrors."""
        weights = self.weights
        turn = weights.lock if self.takes_turns else contextlib.nullcontext()
        try:
            while True:
                with turn:
                    token = next(tokens, None)
                    if token is None:
                        return
                    if self.takes_turns:
                        weights.tokens_made += 1
                yield token
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"{self.card.name}: generation failed: {type(exc).__name__}: {exc}", self.node) from exc
        finally:
            tokens.close()

    def _tokens(self, prompt: list[int], limit: int, sampling: Sampling | None = None) -> Iterator[int]:
        raise NotImplementedError


def forget_shared_weights() -> None:
    """Drop every shared weights object (the next load reads the files or the cache again)."""
    with _shared_lock:
        _shared.clear()


__all__ = ["ChatModel", "Weights", "TextStream", "chat_turns", "stop_ids", "forget_shared_weights"]
