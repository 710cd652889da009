"""Small models for the engine tests."""
from __future__ import annotations

from workbench import ModelCard, PythonModel

LABEL_CARD = dict(backend="python", output_kind="label.probs")


def model(fn, name=None, *, join=False, output_kind="any", blocking=False, raw=True) -> PythonModel:
    """A PythonModel with its own card (any input; ``join`` makes it take all its inputs at once)."""
    card = ModelCard(name or getattr(fn, "__name__", "fn"), "python", output_kind=output_kind, join=join)
    return PythonModel(fn, card, blocking=blocking, raw=raw)


def voter(label, probs=None, name="member") -> PythonModel:
    """A vote member that always answers ``label`` (with ``probs``, by default one-hot)."""
    if probs is None:
        probs = [1.0 if c == label else 0.0 for c in range(10)]
    return PythonModel(lambda _: {"label": label, "probs": list(probs)}, ModelCard(name, **LABEL_CARD))
