"""Colours and stylesheets of the app, in one place. Fonts are the system's: nothing is fetched."""
from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).parent / "assets"

BACKEND_COLOURS = {
    "torch": "#ee4c2c", "mlx": "#7c3aed", "python": "#3776ab", "arrays": "#3776ab", "transformers": "#d97706",
    "llamacpp": "#a16207", "openai": "#10a37f", "peer": "#0f766e", "remote": "#0f766e",
}
DEFAULT_COLOUR = "#64748b"
STATUS_COLOURS = {"ok": "#16a34a", "failed": "#dc2626", "timeout": "#dc2626", "cancelled": "#a16207",
                  "skipped": "#94a3b8", "running": "#d97706", "loading": "#2563eb", "idle": "#94a3b8",
                  "interrupted": "#a16207"}
STATUSES = tuple(STATUS_COLOURS)


def stylesheet(name: str) -> str:
    """The text of ``assets/NAME.css``."""
    return (ASSETS / f"{name}.css").read_text(encoding="utf-8")


def node_css() -> str:
    """The canvas stylesheet plus one rule per backend colour and status badge."""
    rules = [stylesheet("graph")]
    for backend, colour in BACKEND_COLOURS.items():
        rules.append(f".wb-b-{backend} {{ --wb-backend: {colour}; }}")
    for status, colour in STATUS_COLOURS.items():
        rules.append(f".wb-node.wb-s-{status}::after {{ content: '{status}'; background: {colour}; }}")
    return "\n".join(rules)


def html_pane(text: str = "", **params):
    """An HTML pane that knows the app's classes (``wb-alert``, ``wb-kv``, ``wb-muted``, …)."""
    import panel as pn

    return pn.pane.HTML(text, stylesheets=[stylesheet("app")], **params)


def health_dot(healthy: bool | None) -> str:
    """A coloured dot for a host's health: green healthy, red unreachable, grey not checked yet."""
    state = {True: "up", False: "down"}.get(healthy, "unknown")
    return f"<span class='wb-dot wb-dot-{state}' title='{state}'></span>"
