"""scikit-learn's bundled handwritten digits (1,797 8×8 images, no download), split once for everyone.

The split is fixed: 25 % held out, stratified by label, ``random_state=0``: 1,347 training and 450
held-out images. Pixel values are 0–16, as scikit-learn ships them; models scale them themselves.
"""
from __future__ import annotations

import functools

import numpy as np

TEST_SIZE = 0.25
SEED = 0
KIND = "image.digits"


@functools.cache
def split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)``; images are float32 arrays of shape (n, 8, 8)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=TEST_SIZE, random_state=SEED, stratify=digits.target)
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)


def heldout_examples() -> list:
    """The held-out split as ``(Message, label)`` pairs."""
    from workbench.core.messages import Message

    _, _, x_test, y_test = split()
    return [(Message(KIND, image, {"index": i}), int(label)) for i, (image, label) in enumerate(zip(x_test, y_test))]


def heldout_image(index: int) -> tuple[np.ndarray, int]:
    _, _, x_test, y_test = split()
    if not 0 <= index < len(x_test):
        from workbench.errors import WorkbenchError

        raise WorkbenchError(f"held-out digit index {index} is out of range 0–{len(x_test) - 1}")
    return x_test[index], int(y_test[index])


def score_label(output, expected: int) -> bool:
    """A ``label.probs`` answer is right when its label is the expected digit."""
    content = getattr(output, "content", None)
    return isinstance(content, dict) and content.get("label") == expected
