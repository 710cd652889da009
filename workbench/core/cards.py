"""Model cards: what the network knows about a model."""
from __future__ import annotations

from dataclasses import dataclass, replace

ANY_KIND = "any"


@dataclass(frozen=True)
class ModelCard:
    """What the network knows about a model.

    ``input_kind``/``output_kind`` are message kinds; ``any`` accepts or produces every kind.
    ``join`` models take every incoming pathway at once, as one ``join`` message; other models take one.
    A join that ``tolerates_missing`` inputs still runs when some feeders failed (they are listed in the
    join message's ``meta["missing"]``); others are skipped.
    """

    name: str                                   # catalog name, e.g. "digits-cnn"
    backend: str                                # "torch", "mlx", "python", ...
    input_kind: str = ANY_KIND
    output_kind: str = ANY_KIND
    capabilities: tuple[str, ...] = ()          # e.g. ("image.classify.digits",)
    description: str = ""
    join: bool = False
    tolerates_missing: bool = False
    device: str = "cpu"                         # where it runs once loaded; "auto" before that
    host: str = "local"
    cost: float = 1.0                           # relative cost of one call, for cascades and routing
    latency_ms: float | None = None             # measured or advertised

    def with_device(self, device: str) -> "ModelCard":
        return replace(self, device=device)


def kinds_compatible(produced: str, accepted: str) -> bool:
    """Whether a message of kind ``produced`` may flow into a model that accepts ``accepted``."""
    return ANY_KIND in (produced, accepted) or produced == accepted


__all__ = ["ModelCard", "ANY_KIND", "kinds_compatible"]
