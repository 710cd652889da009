"""The MLX backend: an ``mlx.nn.Module`` as a model, on the GPU when MLX has one, else the CPU.

MLX streams belong to the thread that made them (since MLX 0.31.2), and a process whose MLX work ran on a
thread that has since ended can abort at exit ("terminate called without an active exception", seen here
in about one exit in six). So all MLX work runs on one long-lived daemon thread, :func:`on_mlx_thread`,
that never ends before the process does; the engine's worker threads only wait for it. Every array is
evaluated before a call ends, so nothing lazy crosses threads.
"""
from __future__ import annotations

import mlx.core as mx
import numpy as np
from mlx import nn

import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable

from workbench.backends.arrays import ArrayModel, WeightsFile
from workbench.core.cards import ModelCard
from workbench.errors import DeviceUnavailable, ModelError


_jobs: "queue.SimpleQueue[tuple[Callable, tuple, Future]]" = queue.SimpleQueue()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()


def _serve() -> None:
    while True:
        fn, args, done = _jobs.get()
        if done.set_running_or_notify_cancel():
            try:
                done.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller, who re-raises it
                done.set_exception(exc)


def on_mlx_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` on the process's MLX thread and return its result (raising its error)."""
    global _thread
    if threading.current_thread() is _thread:
        return fn(*args)
    with _thread_lock:
        if _thread is None:
            _thread = threading.Thread(target=_serve, name="workbench-mlx", daemon=True)
            _thread.start()
    done: Future = Future()
    _jobs.put((fn, args, done))
    return done.result()


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
        self._device = mx.gpu if device == "gpu" else mx.cpu
        mx.eval(module.parameters())  # settle lazy initial values on the stream they were made on

    def _load(self, state: dict[str, np.ndarray]) -> None:
        on_mlx_thread(self._load_here, state)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return on_mlx_thread(self._forward_here, x)

    def _load_here(self, state: dict[str, np.ndarray]) -> None:
        with mx.stream(self._device):
            if state:
                self.module.load_weights([(k, mx.array(v)) for k, v in state.items()], strict=True)
            mx.eval(self.module.parameters())  # nothing lazy may outlive this call
        self.module.eval()

    def _forward_here(self, x: np.ndarray) -> np.ndarray:
        with mx.stream(self._device):
            y = self.module(mx.array(x))
            mx.eval(y)
        return np.array(y)


__all__ = ["MLXModel", "on_mlx_thread", "pick_device", "available_devices"]
