"""The three sample digit classifiers: a torch CNN, an MLX MLP and a logistic regression run in numpy.

Each takes an ``image.digits`` message (an 8×8 or 64-value image with pixel values 0–16, as scikit-learn
ships them), scales it to 0–1 itself and answers ``label.probs``: ``{"label": int, "probs": [10 floats]}``.
``predict_batch`` does the same for many images at once: (n, 8, 8) → (n, 10) probabilities. Built from the
catalog, the CNN and the MLP are micro-batched (``batch_window_ms``, ``max_batch``): concurrent requests
run as one forward. The logistic regression is not: one tiny product inline costs less than any batching.

Weights are small versioned ``.npz`` files in ``weights/``, made by ``python -m sample_models.train_digits``.
torch and MLX are imported only when their model is built, so the logistic regression needs neither.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from workbench.backends.arrays import ArrayModel, WeightsFile
from workbench.backends.batching import batched
from workbench.core.messages import Message
from workbench.data.digits import KIND
from workbench.errors import DeviceUnavailable, ModelError
from workbench.models import card_of

WEIGHTS_DIR = Path(__file__).parent / "weights"
VERSION = 1  # bump when a model's layers change, so old files are never read into new layers


def weights_file(name: str) -> WeightsFile:
    """E.g. ``weights/digits-cnn.v1.npz``."""
    return WeightsFile(WEIGHTS_DIR / f"{name}.v{VERSION}.npz",
                       "run `python -m sample_models.train_digits` to make it")


def pixels(images) -> np.ndarray:
    """Images of 0–16 pixel values, (n, 8, 8), (n, 64), (8, 8) or (64,) → (n, 64) float32 in 0–1."""
    x = np.asarray(images, dtype=np.float32)
    if x.size == 0 or x.size % 64:
        raise ValueError(f"expected 8×8 images (64 values each), got shape {x.shape}")
    return x.reshape(-1, 64) / 16


def softmax(logits: np.ndarray) -> np.ndarray:
    """(n, 10) logits → (n, 10) probabilities, in float64 so each row sums to 1."""
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


class DigitsClassifier:
    """Message and batch handling shared by the three classifiers; mixed in before an array backend."""

    def encode(self, message: Message) -> np.ndarray:
        try:
            if message.kind != KIND:
                raise ValueError(f"expected a message of kind {KIND!r}, got {message.kind!r}")
            if np.size(message.content) != 64:
                raise ValueError(f"expected one 8×8 image, got shape {np.shape(message.content)}")
            return pixels(message.content)  # (1, 64)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"bad input to {self.card.name}: {exc}", self.node) from exc

    def decode(self, logits: np.ndarray, message: Message) -> Message:
        probs = softmax(logits)[0]  # (10,)
        return Message("label.probs", {"label": int(probs.argmax()), "probs": [float(p) for p in probs]})

    def decode_batch(self, logits: np.ndarray, messages: list[Message]) -> list[Message]:
        """(n, 10) logits of n requests → n ``label.probs`` messages, as ``decode`` makes them one by one."""
        probs = softmax(logits)  # (n, 10)
        return [Message("label.probs", {"label": label, "probs": row})
                for label, row in zip(probs.argmax(axis=1).tolist(), probs.tolist())]

    def predict_batch(self, images) -> np.ndarray:
        """(n, 8, 8) images of 0–16 pixel values → (n, 10) probabilities."""
        return softmax(self.forward(pixels(images)))


@functools.cache
def _classifier(backend: type) -> type:
    """The digits classifier over a backend class, e.g. TorchModel → DigitsTorchModel."""
    return type(f"Digits{backend.__name__}", (DigitsClassifier, backend), {})


def cnn_module():
    """A small torch CNN: (n, 64) pixels → (n, 10) logits."""
    from torch import nn

    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),                                     # (n, 1, 8, 8)
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # (n, 16, 4, 4)
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # (n, 32, 2, 2)
        nn.Flatten(), nn.Linear(128, 10))                               # (n, 10)


def mlp_module():
    """A two-layer MLX perceptron: (n, 64) pixels → (n, 10) logits."""
    from mlx import nn

    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


class LogReg(DigitsClassifier, ArrayModel):
    """Multinomial logistic regression trained by scikit-learn, applied in numpy."""

    blocking = False  # one (1, 64) × (64, 10) product: cheaper inline than in a thread

    def _load(self, state: dict[str, np.ndarray]) -> None:
        self.coef, self.intercept = state["coef"], state["intercept"]  # (10, 64), (10,)
        if self.coef.shape != (10, 64) or self.intercept.shape != (10,):
            raise ValueError(f"expected coef (10, 64) and intercept (10,), got {self.coef.shape}, "
                             f"{self.intercept.shape}")

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self.coef.T + self.intercept  # (n, 64) → (n, 10) logits


def load_cnn(device: str = "auto", node: str | None = None, batch_window_ms: float | None = None,
             max_batch: int | None = None) -> ArrayModel:
    """The CNN; with ``batch_window_ms`` and ``max_batch`` > 1 (the catalog's defaults), micro-batched."""
    from workbench.backends.torch import TorchModel

    model = _classifier(TorchModel)(cnn_module(), card_of("digits-cnn"), device=device,
                                    weights=weights_file("digits-cnn"), node=node)
    return batched(model, batch_window_ms, max_batch)


def load_mlp(device: str = "auto", node: str | None = None, batch_window_ms: float | None = None,
             max_batch: int | None = None) -> ArrayModel:
    """The MLP; with ``batch_window_ms`` and ``max_batch`` > 1 (the catalog's defaults), micro-batched."""
    from workbench.backends.mlx import MLXModel

    model = _classifier(MLXModel)(mlp_module(), card_of("digits-mlp"), device=device,
                                  weights=weights_file("digits-mlp"), node=node)
    return batched(model, batch_window_ms, max_batch)


def load_logreg(device: str = "auto", node: str | None = None) -> LogReg:
    if device not in ("auto", "cpu"):
        raise DeviceUnavailable(f"digits-logreg runs in numpy on the cpu only, not on {device!r}", node)
    card = card_of("digits-logreg").with_device("cpu")
    return LogReg(card, weights=weights_file("digits-logreg"), node=node)


FACTORIES = {"digits-cnn": load_cnn, "digits-mlp": load_mlp, "digits-logreg": load_logreg}
