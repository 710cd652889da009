"""Plain-text rendering of traces, runs and tables for the CLI (no colours when not on a terminal)."""
from __future__ import annotations

import time
from typing import Any, Callable

import click

from workbench.core.messages import Message
from workbench.engine.events import DECISION, RUN_END, RUN_START, STEP_END, STEP_START, Event

STATUS_MARK = {"ok": ("✓", "green"), "failed": ("✗", "red"), "timeout": ("✗", "red"), "skipped": ("–", "yellow"),
               "cancelled": ("■", "yellow"), "interrupted": ("■", "yellow"), "running": ("…", "cyan")}


def summary(value: Any, width: int = 48) -> str:
    if isinstance(value, Message):
        return value.summary(width)
    if isinstance(value, dict):  # several outputs, by node
        return "; ".join(f"{k}: {summary(v, 20)}" for k, v in value.items())
    return "" if value is None else str(value)[:width]


def ms(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


class TracePrinter:
    """A sink that prints each event as one line, as it happens."""

    def __init__(self, echo: Callable[[str], None] = click.echo, width: int = 14):
        self.echo, self.width = echo, width

    def __call__(self, event: Event) -> None:
        line = self.format(event)
        if line is not None:
            self.echo(line)

    def format(self, e: Event) -> str | None:
        node = (e.node or "").ljust(self.width)
        if e.type == RUN_START:
            data = e.data or {}
            return click.style(f"▶ run {e.run}", bold=True) + f"  {data.get('network')} · {data.get('protocol')}" \
                   f" · input: {summary(e.input)}"
        if e.type == STEP_START:
            return f"  ▷ {node} {e.device or '':<12} ← {summary(e.input, 40)}"
        if e.type == DECISION:
            return click.style(f"  ◆ {node} {e.decision}", fg="magenta")
        if e.type == STEP_END:
            mark, colour = STATUS_MARK.get(e.status, ("?", None))
            detail = summary(e.output) if e.status == "ok" else (e.error or e.status)
            return click.style(f"  {mark} {node} {e.device or '':<12} ", fg=colour) + f"{detail}  {ms(e.seconds)}"
        if e.type == RUN_END:
            mark, colour = STATUS_MARK.get(e.status, ("?", None))
            text = f"{mark} {e.status} in {ms(e.seconds)}"
            text += f" → {summary(e.output)}" if e.output else ""
            text += f"\n  {e.error}" if e.error else ""
            return click.style(text, fg=colour, bold=True)
        return None


def table(rows: list[list[str]], header: list[str], right: set[int] = frozenset()) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    def line(row):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
    return "\n".join([click.style(line(header).rstrip(), bold=True), *(line(r).rstrip() for r in rows)])


def when(timestamp: float | None) -> str:
    return "" if timestamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))
