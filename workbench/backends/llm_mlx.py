"""SmolLM2 (or another llama GGUF) as a chat model on MLX, with the weights kept quantized.

``mx.load(path, return_metadata=True)`` reads a GGUF file in a fraction of a second and hands Q4_1 (and
Q8_0) tensors over as MLX's affine quantization: ``weight`` (packed uint32), ``scales`` and ``biases``,
groups of 32. The network is ``mlx_lm.models.llama`` with its linear and embedding layers swapped for
quantized ones, bits derived per tensor from the shapes (SmolLM2: 8-bit token embedding, 4-bit elsewhere).
GGUF stores Q and K in the layout "traditional" RoPE expects, so the model is built with
``rope_traditional=True`` and nothing is permuted; the output layer is tied to the embedding.

Generation is mlx_lm's ``generate_step`` (greedy). Loading and every generation step run on the process's
MLX thread (:func:`workbench.backends.mlx.on_mlx_thread`): the engine pulls tokens from worker threads, MLX
streams belong to the thread that made them, and MLX work on threads that end can abort the process at exit.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import mlx.core as mx
from mlx import nn

from workbench.backends.chat import ChatModel, Weights, stop_ids
from workbench.backends.gguf import load_failed, load_tokenizer
from workbench.backends.mlx import on_mlx_thread, pick_device
from workbench.backends.progress import Reporter
from workbench.core.cards import ModelCard
from workbench.errors import ModelError

GROUP_SIZE = 32  # GGUF's Q4_0/Q4_1/Q8_0 blocks
LAYER_NAMES = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
               "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
               "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm"}
TOP_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def mlx_name(gguf_name: str) -> str:
    """``blk.3.attn_q.scales`` → ``model.layers.3.self_attn.q_proj.scales``."""
    if match := re.fullmatch(r"blk\.(\d+)\.(\w+)\.(\w+)", gguf_name):
        return f"model.layers.{match[1]}.{LAYER_NAMES[match[2]]}.{match[3]}"
    base, leaf = gguf_name.rsplit(".", 1)
    return f"{TOP_NAMES[base]}.{leaf}"


def model_args(meta: dict):
    """mlx_lm llama arguments from the file's ``llama.*`` metadata."""
    from mlx_lm.models import llama

    arch = str(meta.get("general.architecture", "?"))
    if arch != "llama":
        raise ValueError(f"the file's architecture is {arch!r}; this backend runs llama-family models only")
    value = lambda key: meta[f"llama.{key}"].item()  # noqa: E731
    return llama.ModelArgs(
        model_type="llama", hidden_size=value("embedding_length"), num_hidden_layers=value("block_count"),
        intermediate_size=value("feed_forward_length"), num_attention_heads=value("attention.head_count"),
        num_key_value_heads=value("attention.head_count_kv"), vocab_size=value("vocab_size"),
        rms_norm_eps=value("attention.layer_norm_rms_epsilon"), rope_theta=value("rope.freq_base"),
        max_position_embeddings=value("context_length"), rope_traditional=True, tie_word_embeddings=True)


def build_llama(arrays: dict[str, mx.array], meta: dict) -> nn.Module:
    """The quantized mlx_lm llama holding ``arrays`` (GGUF names), evaluated and ready to run."""
    from mlx_lm.models import llama

    weights = {mlx_name(name): array for name, array in arrays.items()}
    model = llama.Model(model_args(meta))

    def quantized(path: str, module: nn.Module):
        scales = weights.get(f"{path}.scales")
        if scales is None:
            return False  # a float tensor: keep the plain layer
        packed = weights[f"{path}.weight"]  # (out, in × bits / 32) uint32; scales: (out, in / 32)
        return {"group_size": GROUP_SIZE, "bits": packed.shape[-1] // scales.shape[-1]}

    nn.quantize(model, class_predicate=quantized)
    model.load_weights(list(model.sanitize(weights).items()), strict=True)
    mx.eval(model.parameters())
    return model.eval()


class MLXChat(ChatModel):
    """A chat model on MLX; ``device`` is auto, cpu or gpu (see :func:`workbench.backends.mlx.pick_device`)."""

    def __init__(self, card: ModelCard, *, device: str = "auto", node: str | None = None, **options):
        device = pick_device(device, node)
        super().__init__(card.with_device(device), node=node, **options)
        self._device = mx.gpu if device == "gpu" else mx.cpu

    def _load_weights(self, path: Path, report: Reporter) -> Weights:
        return on_mlx_thread(self._load_here, path, report)

    def _load_here(self, path: Path, report: Reporter) -> Weights:
        try:
            tokenizer = load_tokenizer(path, report)
            report("reading quantized weights")
            with mx.stream(self._device):
                network = build_llama(*mx.load(str(path), return_metadata=True))
        except ModelError:
            raise
        except Exception as exc:
            raise load_failed(path, exc, self.node) from exc
        report("ready")
        return Weights(tokenizer, network, stop_ids(tokenizer), {"stream": mx.new_thread_local_stream(self._device)})

    def _tokens(self, prompt: list[int], limit: int) -> Iterator[int]:
        steps = on_mlx_thread(self._steps, prompt, limit)
        while (token := on_mlx_thread(_next_token, steps)) is not None:
            yield token

    def _steps(self, prompt: list[int], limit: int):
        from mlx_lm.generate import generate_step

        return generate_step(mx.array(prompt), self.weights.network, max_tokens=limit,
                             stream=self.weights.extra["stream"])


def _next_token(steps) -> int | None:
    """The next token of an mlx_lm ``generate_step`` generator, or None at its end (on the MLX thread)."""
    try:
        token, _logprobs = next(steps)
    except StopIteration:
        return None
    return int(token)


def make_smollm2(device: str = "auto", node: str | None = None, gguf: str | None = None, system: str | None = None,
                 max_new_tokens: int = 128) -> MLXChat:
    from workbench.models import card_of

    return MLXChat(card_of("smollm2-mlx"), device=device, node=node, gguf=gguf, system=system, max_new_tokens=max_new_tokens)


__all__ = ["MLXChat", "build_llama", "mlx_name", "make_smollm2"]
