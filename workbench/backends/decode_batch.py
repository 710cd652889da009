"""Continuous batching for torch chat models: every generation in flight on one network advances together.

One forward pass over a batch of 16 rows costs little more than over one on a CPU (SmolLM2-135M on 2 cores:
≈ 65 ms for 1 row, ≈ 120 ms for 16, ≈ 170 ms for 32), so concurrent generations — the members of a fan-out, the samples of
self-consistency, the runs of an evaluation — share each step instead of taking turns.

A :class:`DecodeBatcher` owns the network and a worker thread. ``tokens(prompt, limit, sampling)`` yields one
generation's tokens as the worker makes them. Between steps the worker admits waiting requests (their prompts
are prefilled together, left-padded, and their KV cache joins the batch's), and drops rows that ended: at a
stop token, at their limit, or because the caller stopped reading (a cancelled step stops within one step).

Rows are left-padded to a common length; the attention mask hides the padding and each row has its own
positions, so a row's logits match decoding it alone up to float rounding. Sampling rows draw from their own
seeded generator, greedy rows take the argmax: a row's answer does not depend on its batch-mates.

A prompt with token ids outside the vocabulary is refused on its own, before it can join a batch. If a step
fails anyway, every row of the batch gets the error; the worker carries on with the next requests.
"""
from __future__ import annotations

import atexit
import queue
import threading
import weakref
from dataclasses import dataclass, field
from typing import Iterator

import torch

MAX_ROWS = 32          # rows in one batch; more wait for a free row
WINDOW = 0.003         # seconds an idle worker waits for company after a first request
IDLE_SECONDS = 30.0    # an idle worker thread exits after this long; a new one starts with the next request
_END = object()


@dataclass(eq=False)
class _Request:
    prompt: list[int]
    limit: int
    sampling: object | None            # chat.Sampling: temperature and seed, or None for greedy
    out: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)  # token ids, then _END or an error
    stopped: bool = False              # the caller stopped reading
    made: int = 0
    position: int = 0                  # the position id of the row's next token
    draw: torch.Generator | None = None


class DecodeBatcher:
    """See the module docstring. ``steps`` and ``rows_stepped`` count forward passes and the rows they
    carried (so ``rows_stepped / steps`` is the mean batch size), for tests and benchmarks."""

    def __init__(self, network, device, *, stop_ids: frozenset[int], cache_arg: str = "cache",
                 max_rows: int = MAX_ROWS, window: float = WINDOW, on_token=None):
        self.network, self.device, self.stop_ids, self.cache_arg = network, torch.device(device), stop_ids, cache_arg
        self.max_rows, self.window, self.on_token = max_rows, window, on_token
        self._waiting: list[_Request] = []
        self._wake = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closed = False
        self.steps = self.rows_stepped = 0
        _open.add(self)

    def tokens(self, prompt: list[int], limit: int, sampling=None) -> Iterator[int]:
        """The generation's token ids, stop token included, up to ``limit``. Closing the iterator stops it."""
        vocab = self.network.config.vocab_size
        if not prompt or any(not 0 <= t < vocab for t in prompt):  # a bad row would fail its batch-mates too
            raise ValueError(f"prompt token ids must be 0 ≤ id < {vocab} (and at least one)")
        request = _Request(list(prompt), limit, sampling)
        if sampling is not None:
            request.draw = torch.Generator().manual_seed(sampling.seed)
        with self._wake:
            if self._closed:
                raise RuntimeError("the decode batcher is closed (the process is exiting)")
            self._waiting.append(request)
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="decode-batch", daemon=True)
                self._worker.start()
            self._wake.notify()
        try:
            while (item := request.out.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            request.stopped = True

    def close(self) -> None:
        """Stop the worker once its batch is done (at exit: a torch thread still alive then aborts the process)."""
        with self._wake:
            self._closed, worker = True, self._worker
            self._wake.notify_all()
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=10)

    # ---- the worker ----------------------------------------------------------------------------------
    def _work(self) -> None:
        rows, state = [], None  # the rows in the batch, and their (cache, mask, next ids)
        while True:
            fresh = self._take(in_flight=len(rows))
            if fresh is None:
                return
            try:
                with torch.inference_mode():
                    if fresh:
                        rows, state = self._admit(rows, state, fresh)
                    if rows:
                        rows, state = self._step(rows, state)
            except Exception as exc:  # the batch fails as one; later requests start afresh
                for request in rows + fresh:
                    request.out.put(exc)
                rows, state = [], None

    def _take(self, in_flight: int) -> list[_Request] | None:
        """Waiting requests that fit beside ``in_flight`` rows; with none in flight, wait for the first and
        a moment for company (None: idle for too long, the worker exits)."""
        with self._wake:
            if not in_flight:
                if not self._wake.wait_for(lambda: self._waiting or self._closed, timeout=IDLE_SECONDS) \
                        or (self._closed and not self._waiting):
                    self._worker = None
                    return None
                self._wake.wait_for(lambda: len(self._waiting) >= self.max_rows, timeout=self.window)
            room = self.max_rows - in_flight
            taken, self._waiting = self._waiting[:room], self._waiting[room:]
        return [r for r in taken if not r.stopped]

    def _admit(self, rows: list[_Request], state, fresh: list[_Request]):
        """Prefill ``fresh`` together, emit each one's first token, and merge them into the batch."""
        width = max(len(r.prompt) for r in fresh)
        ids = torch.tensor([[0] * (width - len(r.prompt)) + r.prompt for r in fresh], device=self.device)
        mask = torch.tensor([[0] * (width - len(r.prompt)) + [1] * len(r.prompt) for r in fresh], device=self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)                       # (new rows, width)
        cache = _new_cache()
        logits = self.network(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True,
                              **{self.cache_arg: cache}).logits[:, -1]      # (new rows, vocab)
        for request in fresh:
            request.position = len(request.prompt)
        chosen = self._choose(fresh, logits)
        fresh, new_state = self._emit(fresh, (_zero_padding(cache, mask), mask, chosen))
        if state is None or not fresh:
            return (fresh, new_state) if state is None else (rows, state)
        return rows + fresh, _concat(state, new_state)

    def _step(self, rows: list[_Request], state):
        """One forward pass for every row: feed each row's last token, emit its next."""
        cache, mask, last = state
        mask = torch.cat([mask, torch.ones(len(rows), 1, dtype=mask.dtype, device=self.device)], dim=1)
        positions = torch.tensor([[r.position] for r in rows], device=self.device)
        logits = self.network(input_ids=last, attention_mask=mask, position_ids=positions, use_cache=True,
                              **{self.cache_arg: cache}).logits[:, -1]
        self.steps += 1
        self.rows_stepped += len(rows)
        for request in rows:
            request.position += 1
        return self._emit(rows, (cache, mask, self._choose(rows, logits)))

    def _choose(self, rows: list[_Request], logits: torch.Tensor) -> torch.Tensor:
        """The next token of each row (rows, 1): argmax, or a draw from the row's own generator."""
        chosen = logits.argmax(dim=-1)
        for i, request in enumerate(rows):
            if request.sampling is not None:
                probs = torch.softmax(logits[i].float().cpu() / request.sampling.temperature, dim=-1)
                chosen[i] = int(torch.multinomial(probs, 1, generator=request.draw))
        return chosen[:, None]

    def _emit(self, rows: list[_Request], state):
        """Hand each row its new token; keep the rows that go on, trimming padding no row needs any more."""
        cache, mask, last = state
        keep = []
        for i, (request, token) in enumerate(zip(rows, last[:, 0].tolist())):
            if request.stopped:
                continue
            request.made += 1
            request.out.put(token)
            if self.on_token:
                self.on_token()
            if token in self.stop_ids or request.made >= request.limit:
                request.out.put(_END)
            else:
                keep.append(i)
        if len(keep) == len(rows):
            return rows, state
        if not keep:
            return [], None
        index = torch.tensor(keep, device=self.device)
        cache.batch_select_indices(index)
        mask, last = mask[index], last[index]
        first = int(mask.any(dim=0).nonzero()[0])  # columns before it are padding in every remaining row
        if first:
            cache = _new_cache([(k[..., first:, :], v[..., first:, :]) for k, v in _layers(cache)])
            mask = mask[:, first:]
        return [rows[i] for i in keep], (cache, mask, last)


def _new_cache(layers: list[tuple[torch.Tensor, torch.Tensor]] | None = None):
    from transformers import DynamicCache

    return DynamicCache(layers) if layers else DynamicCache()


_open: "weakref.WeakSet[DecodeBatcher]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for batcher in list(_open):
        batcher.close()


def _layers(cache) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(layer.keys, layer.values) for layer in cache.layers]


def _zero_padding(cache, mask: torch.Tensor):
    """Zero the cached keys and values of padding (masked anyway; zeros keep any NaN out of later sums)."""
    keep = mask[:, None, :, None].to(cache.layers[0].keys.dtype)             # (rows, 1, length, 1)
    for layer in cache.layers:
        layer.keys, layer.values = layer.keys * keep, layer.values * keep
    return cache


def _concat(old, new):
    """One batch state from two: left-pad the shorter one's cache and mask to the longer one's length."""
    (old_cache, old_mask, old_last), (new_cache, new_mask, new_last) = old, new
    width = max(old_mask.shape[1], new_mask.shape[1])

    def pad(t: torch.Tensor, dim: int) -> torch.Tensor:
        missing = width - t.shape[dim]
        if not missing:
            return t
        shape = list(t.shape)
        shape[dim] = missing
        return torch.cat([t.new_zeros(shape), t], dim=dim)

    layers = [(torch.cat([pad(ko, -2), pad(kn, -2)]), torch.cat([pad(vo, -2), pad(vn, -2)]))
              for (ko, vo), (kn, vn) in zip(_layers(old_cache), _layers(new_cache))]
    return (_new_cache(layers), torch.cat([pad(old_mask, 1), pad(new_mask, 1)]), torch.cat([old_last, new_last]))


__all__ = ["DecodeBatcher", "MAX_ROWS"]
