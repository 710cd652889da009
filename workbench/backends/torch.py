"""The torch backend: an ``nn.Module`` as a model, on the best device this machine has.

Nothing else in the workbench imports torch; this module is imported only when a torch model is built.
"""
from __future__ import annotations

import re

import numpy as np
import torch
from torch import nn

from workbench.backends.arrays import ArrayModel, WeightsFile
from workbench.core.cards import ModelCard
from workbench.errors import DeviceUnavailable, ModelError

_DEVICE = re.compile(r"cpu|mps|cuda(:\d+)?")


def available_devices() -> list[str]:
    """The torch devices of this machine, e.g. ``["cpu", "cuda:0", "cuda:1"]``."""
    found = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return found + (["mps"] if torch.backends.mps.is_available() else [])


def pick_device(requested: str = "auto", node: str | None = None) -> str:
    """``"auto"`` picks cuda, then mps, then cpu; an explicit device must be on this machine."""
    found = available_devices()
    if requested == "auto":
        return next(d for d in ("cuda:0", "mps", "cpu") if d in found)
    if not isinstance(requested, str) or not _DEVICE.fullmatch(requested):
        raise ModelError(f"unknown torch device {requested!r}; use auto, cpu, cuda, cuda:N or mps", node)
    device = "cuda:0" if requested == "cuda" else requested
    if device not in found:
        raise DeviceUnavailable(f"torch device {requested!r} is not on this machine; "
                                f"available: {', '.join(found)}", node)
    return device


class TorchModel(ArrayModel):
    """An ``nn.Module`` run in eval mode under ``torch.inference_mode()``; numpy arrays in and out.

    ``device`` defaults to the card's; the card records the device it resolves to.
    """

    def __init__(self, module: nn.Module, card: ModelCard, *, device: str | None = None,
                 weights: WeightsFile | None = None, node: str | None = None):
        device = pick_device(device or card.device, node)
        super().__init__(card.with_device(device), weights=weights, node=node)
        self.module = module

    def _load(self, state: dict[str, np.ndarray]) -> None:
        if state:
            self.module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        self.module.to(self.device).eval()

    def _forward(self, x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            y = self.module(torch.as_tensor(np.ascontiguousarray(x)).to(self.device))
            return y.float().cpu().numpy()


__all__ = ["TorchModel", "pick_device", "available_devices"]
