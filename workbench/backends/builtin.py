"""Built-in models that need no trained weights: a majority voter, a soft voter, a gatherer, a merge, an identity and a timed delay."""
from __future__ import annotations

import asyncio
import math
from collections import Counter

from workbench.backends.base import Model
from workbench.core.cards import ModelCard
from workbench.core.messages import JOIN_KIND, Message

NUM_CLASSES = 10


class MajorityVote(Model):
    """Joins ``label.probs`` messages and picks the most common label.

    Ties go to the label with the larger summed probability, then to the smaller label. Members whose
    label is missing or whose probabilities are not finite numbers are left out, and the decision says so.
    """

    blocking = False

    def __init__(self, card: ModelCard):
        self.card = card

    def invoke(self, message: Message) -> Message:
        members = message.content if message.kind == JOIN_KIND else [message]
        names = message.meta.get("from") or [f"input {i + 1}" for i in range(len(members))]
        votes, left_out, mass = {}, [], Counter()
        for name, member in zip(names, members):
            label, probs = _label_and_probs(member)
            if label is None:
                left_out.append(name)
                continue
            votes[name] = label
            mass[label] += probs[label] if probs and label < len(probs) else 0.0
        if not votes:
            raise ValueError(f"no usable vote: every input was left out ({', '.join(left_out)})")
        counts = Counter(votes.values())
        winner = min(counts, key=lambda label: (-counts[label], -mass[label], label))
        decision = f"majority {winner}: {counts[winner]} of {len(votes)} votes"
        if left_out:
            decision += f"; left out {', '.join(left_out)} (no finite scores)"
        decision += _missing_note(message)
        fractions = [counts.get(c, 0) / len(votes) for c in range(NUM_CLASSES)]
        return Message("label.probs", {"label": winner, "probs": fractions, "votes": votes},
                       {"decision": decision})


class SoftVote(Model):
    """Joins ``label.probs`` messages by averaging their probabilities, optionally weighted per input.

    ``weights`` maps feeder node ids to weights (default 1). An input whose probabilities are missing or
    not all finite numbers is left out, and the decision says so.
    """

    blocking = False

    def __init__(self, card: ModelCard, weights: dict | None = None):
        self.card, self.weights = card, _check_weights(weights or {})

    def invoke(self, message: Message) -> Message:
        members = message.content if message.kind == JOIN_KIND else [message]
        names = message.meta.get("from") or [f"input {i + 1}" for i in range(len(members))]
        total, weight_sum, used, left_out = [0.0] * NUM_CLASSES, 0.0, [], []
        for name, member in zip(names, members):
            _, probs = _label_and_probs(member)
            weight = self.weights.get(name, 1.0)
            if probs is None or len(probs) != NUM_CLASSES:
                left_out.append(name)
                continue
            total = [t + weight * p for t, p in zip(total, probs)]
            weight_sum, used = weight_sum + weight, used + [name]
        if not used or weight_sum <= 0:
            raise ValueError(f"no usable scores: every input was left out ({', '.join(left_out)})")
        probs = [t / weight_sum for t in total]
        winner = max(range(NUM_CLASSES), key=lambda c: (probs[c], -c))
        decision = f"soft vote {winner}: mean p={probs[winner]:.2f} over {len(used)} inputs"
        if self.weights:
            decision += " (weighted " + ", ".join(f"{n}×{self.weights.get(n, 1.0):g}" for n in used) + ")"
        if left_out:
            decision += f"; left out {', '.join(left_out)} (no finite scores)"
        decision += _missing_note(message)
        return Message("label.probs", {"label": winner, "probs": probs}, {"decision": decision})


def _missing_note(message: Message) -> str:
    missing = message.meta.get("missing")
    return f"; without {', '.join(missing)} (failed)" if missing else ""


def _check_weights(weights: dict) -> dict:
    if not isinstance(weights, dict):
        raise ValueError(f"weights must map node ids to numbers, not {weights!r}")
    for name, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise ValueError(f"weight of {name!r} must be a finite number ≥ 0, not {weight!r}")
    return {str(k): float(v) for k, v in weights.items()}


def _label_and_probs(message: Message) -> tuple[int | None, list[float] | None]:
    content = message.content if isinstance(message.content, dict) else {}
    label, probs = content.get("label"), content.get("probs")
    if probs is not None:
        probs = [float(p) for p in probs]
        if not all(math.isfinite(p) for p in probs):
            return None, None
    if isinstance(label, int) and not isinstance(label, bool):
        return label, probs
    return None, None


class Identity(Model):
    """Passes its input on unchanged: a no-op step for demos and benchmarks."""

    blocking = False

    def __init__(self, card: ModelCard):
        self.card = card

    def invoke(self, message: Message) -> Message:
        return message


class Gather(Model):
    """Joins its inputs into one list of their contents, in pathway order."""

    blocking = False

    def __init__(self, card: ModelCard):
        self.card = card

    def invoke(self, message: Message) -> Message:
        members = message.content if message.kind == JOIN_KIND else [message]
        return Message("list", [m.content for m in members], {"from": message.meta.get("from", [])})


class Merge(Model):
    """Joins alternative branches (after a router): passes on the first input that arrived, in pathway order."""

    blocking = False

    def __init__(self, card: ModelCard):
        self.card = card

    def invoke(self, message: Message) -> Message:
        if message.kind != JOIN_KIND:
            return message
        first, sources = message.content[0], message.meta.get("from", [])
        if len(message.content) > 1:
            return Message(first.kind, first.content, {**first.meta, "decision": f"merged: kept {sources[0]}, "
                                                                                 f"dropped {', '.join(sources[1:])}"})
        return first


class Delay(Model):
    """Waits ``seconds`` (without holding a thread), then passes its input on."""

    def __init__(self, card: ModelCard, seconds: float):
        if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"delay seconds must be a finite number ≥ 0, not {seconds!r}")
        self.card, self.seconds = card, float(seconds)

    async def invoke(self, message: Message) -> Message:
        await asyncio.sleep(self.seconds)
        return message


def make_vote(device: str = "auto", node: str | None = None) -> MajorityVote:
    from workbench.models import card_of

    return MajorityVote(card_of("vote"))


def make_identity(device: str = "auto", node: str | None = None) -> Identity:
    from workbench.models import card_of

    return Identity(card_of("identity"))


def make_soft_vote(device: str = "auto", node: str | None = None, weights: dict | None = None) -> SoftVote:
    from workbench.models import card_of

    return SoftVote(card_of("soft-vote"), weights)


def make_gather(device: str = "auto", node: str | None = None) -> Gather:
    from workbench.models import card_of

    return Gather(card_of("gather"))


def make_merge(device: str = "auto", node: str | None = None) -> Merge:
    from workbench.models import card_of

    return Merge(card_of("merge"))


def make_delay(device: str = "auto", node: str | None = None, seconds: float = 0.1) -> Delay:
    from workbench.models import card_of

    return Delay(card_of("delay"), seconds)
