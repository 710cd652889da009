"""The MLX backend: an ``mlx.nn.Module`` as a model, on the GPU when MLX has one, else the CPU.

MLX streams belong to the thread that made them (since MLX 0.31.2), lazy arrays keep the stream they were
made on, and the engine calls blocking models from worker threads. So nothing here keeps a stream: every
call enters ``mx.stream(device)`` (the calling thread's default stream of that device), and every array is
evaluated before the call ends: the module's initial parameters when it is wrapped, its loaded weights in
``load``, the result in ``forward``.
"""
from __future__ import annotations

import mlx.core as mx
import numpy as np
from mlx import nn

from workbench.backends.arrays import ArrayModel, WeightsFile
from workbench.core.cards import ModelCard
from workbench.errors import DeviceUnavailable, ModelError


def available_devices() -> list[str]:
    """``["cpu"]``, plus ``"gpu"`` where MLX has one (Metal, or CUDA builds)."""
    return ["cpu"] + (["gpu"] if mx.is_available(mx.gpu) else [])


def pick_device(requested: str = "auto", node: str | None = None) -> str:
    """``"auto"`` picks the gpu when there is one, else the cpu; ``"gpu"`` must be on this machine."""
    found = available_devices()
    if requested == "auto":
        return found[-1]
    if requested not in ("cpu", "gpu"):
        raise ModelError(f"unknown MLX device {requested!r}; use auto, cpu or gpu", node)
    if requested not in found:
        raise DeviceUnavailable(f"MLX device {requested!r} is not on this machine (no Metal or CUDA GPU); "
                                f"available: {', '.join(found)}", node)
    return requested


class MLXModel(ArrayModel):
    """An ``mlx.nn.Module`` run in eval mode; numpy arrays in and out, safe to call from any thread.

    ``device`` defaults to the card's; the card records the device it resolves to.
    """

    def __init__(self, module: nn.Module, card: ModelCard, *, device: str | None = None,
                 weights: WeightsFile | None = None, node: str | None = None):
        device = pick_device(device or card.device, node)
        super().__init__(card.with_device(device), weights=weights, node=node)
        self.module = module
        mx.eval(module.parameters())  # settle lazy initial values on this thread's stream, before any other
        self._device = mx.gpu if device == "gpu" else mx.cpu

    def _load(self, state: dict[str, np.ndarray]) -> None:
        with mx.stream(self._device):
            if state:
                self.module.load_weights([(k, mx.array(v)) for k, v in state.items()], strict=True)
            mx.eval(self.module.parameters())  # nothing lazy may outlive this call
        self.module.eval()

    def _forward(self, x: np.ndarray) -> np.ndarray:
        with mx.stream(self._device):
            y = self.module(mx.array(x))
            mx.eval(y)
        return np.array(y)


__all__ = ["MLXModel", "pick_device", "available_devices"]
