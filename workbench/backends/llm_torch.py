"""SmolLM2 (or another llama GGUF) as a chat model on torch, through transformers' GGUF loading.

transformers dequantizes the GGUF file into float32 torch weights (≈ 15 s for SmolLM2 on 2 CPU cores). The
result is cached as safetensors next to the tokenizer (see :mod:`workbench.backends.gguf`), so later loads
take well under a second. Generations run through the network's :class:`~workbench.backends.decode_batch.
DecodeBatcher`: every generation in flight on the same weights advances in one forward pass per token.
"""
from __future__ import annotations

import inspect
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch

from workbench.backends.chat import ChatModel, Weights, stop_ids
from workbench.backends.decode_batch import DecodeBatcher
from workbench.backends.gguf import cache_folder, load_failed, load_tokenizer, write_atomically
from workbench.backends.progress import Reporter
from workbench.backends.torch import pick_device
from workbench.core.cards import ModelCard
from workbench.errors import ModelError

CACHE_KIND = "torch-float32"
DEQUANTIZING = "dequantizing GGUF weights"


class TorchChat(ChatModel):
    """A chat model run by transformers on torch; ``device`` as in :func:`workbench.backends.torch.pick_device`."""

    takes_turns = False  # concurrent generations are batched, not taken in turns

    def __init__(self, card: ModelCard, *, device: str = "auto", node: str | None = None, **options):
        super().__init__(card.with_device(pick_device(device, node)), node=node, **options)

    def _load_weights(self, path: Path, report: Reporter) -> Weights:
        try:
            tokenizer = load_tokenizer(path, report)
            network = converted_model(path, report).to(self.device).eval()
        except ModelError:
            raise
        except Exception as exc:
            raise load_failed(path, exc, self.node) from exc
        report("ready")
        cache_arg = "cache" if "cache" in inspect.signature(network.forward).parameters else "past_key_values"
        weights = Weights(tokenizer, network, stop_ids(tokenizer))

        def counted():
            weights.tokens_made += 1  # only the batcher's one thread counts

        weights.extra["batcher"] = DecodeBatcher(network, self.device, stop_ids=weights.stop_ids,
                                                 cache_arg=cache_arg, on_token=counted)
        return weights

    def _tokens(self, prompt: list[int], limit: int, sampling=None) -> Iterator[int]:
        return self.weights.extra["batcher"].tokens(prompt, limit, sampling)


def converted_model(path: Path, report: Reporter):
    """The float32 transformers model of a GGUF file: from the cache, else dequantized and cached."""
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the workbench shows its own progress
    folder = cache_folder(path, CACHE_KIND)
    if (folder / "model.safetensors").exists():
        report("loading cached weights")
        try:
            return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        except Exception as exc:  # a damaged cache entry: convert again
            report(f"cached weights unreadable ({type(exc).__name__}); converting again")
    report(DEQUANTIZING)
    with _counting_tensors(report):
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    report("caching converted weights")
    write_atomically(folder, lambda tmp: _save(model, tmp))
    return model


def _save(model, folder: Path) -> None:
    """Write ``model`` as a plain (unquantized) transformers folder: config.json and model.safetensors."""
    from safetensors.torch import save_model

    model.config.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    config.pop("quantization_config", None)  # the weights are dequantized now
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    model.generation_config.save_pretrained(folder)
    save_model(model, str(folder / "model.safetensors"))  # drops the tied output weight; loading re-ties it


@contextmanager
def _counting_tensors(report: Reporter):
    """Report each tensor transformers dequantizes, by standing in for the ``tqdm`` its GGUF loader uses."""
    import transformers.modeling_gguf_pytorch_utils as gguf_loader

    original = getattr(gguf_loader, "tqdm", None)
    if original is None:  # another transformers layout: report the stage only
        yield
        return

    def counted(iterable, *args, **kwargs):
        items = list(iterable)
        for done, item in enumerate(items):
            report(DEQUANTIZING, done, len(items))
            yield item
        report(DEQUANTIZING, len(items), len(items))

    gguf_loader.tqdm = counted
    try:
        yield
    finally:
        gguf_loader.tqdm = original


def make_smollm2(device: str = "auto", node: str | None = None, gguf: str | None = None, system: str | None = None,
                 max_new_tokens: int = 128) -> TorchChat:
    from workbench.models import card_of

    return TorchChat(card_of("smollm2-torch"), device=device, node=node, gguf=gguf, system=system, max_new_tokens=max_new_tokens)


__all__ = ["TorchChat", "converted_model", "make_smollm2"]
