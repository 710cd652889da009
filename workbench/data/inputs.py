"""Turn a command-line ``--input`` into a message of the kind the network's first model takes."""
from __future__ import annotations

from workbench.core.messages import Message
from workbench.errors import WorkbenchError


def parse_input(text: str, kind: str) -> Message:
    if kind == "image.digits":
        try:
            index = int(text)
        except ValueError:
            raise WorkbenchError(f"this network takes a digit image: give a held-out index 0–449, not {text!r}") from None
        from workbench.data.digits import heldout_image

        image, label = heldout_image(index)
        return Message(kind, image, {"index": index, "label": label})
    if not text.strip():
        raise WorkbenchError("the input is empty: give some text for the network to work on")
    return Message("text" if kind == "any" else kind, text)
