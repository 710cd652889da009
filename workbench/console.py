"""Plain-text rendering of traces, runs and tables for the CLI (no colours when not on a terminal)."""
from __future__ import annotations

import functools
import json
import sys
import time
from typing import Any, Callable

import click

from workbench.core.messages import Message, to_jsonable
from workbench.engine.events import DECISION, RUN_END, RUN_START, STEP_END, STEP_START, STEP_TOKEN, Event

STATUS_MARK = {"ok": ("✓", "green"), "failed": ("✗", "red"), "timeout": ("✗", "red"), "skipped": ("–", "yellow"),
               "cancelled": ("■", "yellow"), "interrupted": ("■", "yellow"), "running": ("…", "cyan")}


def fail_cleanly(command):
    """Print the workbench's own errors as one line and exit 1, instead of a traceback."""
    from workbench.errors import WorkbenchError

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except WorkbenchError as exc:
            raise click.ClickException(str(exc)) from exc
    return wrapper


def json_text(data) -> str:
    """JSON for people and programs: any script as is, NaN and infinities tagged (never bare NaN)."""
    return json.dumps(to_jsonable(data), ensure_ascii=False, indent=2, allow_nan=False)


def dump(data) -> None:
    click.echo(json_text(data))


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


def _write(text: str) -> None:
    click.echo(text, nl=False)


class TracePrinter:
    """A sink that prints each event as one line, as it happens; streamed text flows onto its node's line.

    ``step.token`` pieces are written as they come, after a ``node │`` prefix, through ``write`` (no newline
    of its own); the line is closed when another node streams or any other event is printed.
    """

    def __init__(self, echo: Callable[[str], None] = click.echo, width: int = 14,
                 write: Callable[[str], None] | None = None):
        self.echo, self.width = echo, width
        self.write = write or (_write if echo is click.echo else echo)
        self._streaming: str | None = None  # the node whose text line is open

    def __call__(self, event: Event) -> None:
        if event.type == STEP_TOKEN:
            return self._token(event)
        line = self.format(event)
        if line is not None:
            self._close_text()
            self.echo(line)

    def _token(self, e: Event) -> None:
        prefix = click.style(f"    {(e.node or '').ljust(self.width)} │ ", dim=True)
        if self._streaming != e.node:
            self._close_text()
            self.write(prefix)
            self._streaming = e.node
        self.write(str(e.output).replace("\n", "\n" + prefix))

    def _close_text(self) -> None:
        if self._streaming is not None:
            self.write("\n")
            self._streaming = None

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


class LoadPrinter:
    """Prints model-load progress (``Engine(on_load=LoadPrinter())``) on stderr: a bar per counted stage.

    On a terminal each stage is one line redrawn in place; elsewhere a line per stage, and one when it ends.
    """

    def __init__(self, file=None, width: int = 24):
        self.file, self.width = file or sys.stderr, width
        self.tty = hasattr(self.file, "isatty") and self.file.isatty()
        self._stage: tuple | None = None
        self._ended: tuple | None = None  # the last stage whose finished bar was printed (not on a terminal)

    def __call__(self, node: str, progress) -> None:
        stage, line = (node, progress.stage), f"  ⋯ loading {node}: {progress.stage}{self._bar(progress)}"
        finished = progress.total is not None and progress.done >= progress.total
        if self.tty:
            end = "\n" if finished else ""
            click.echo(("\n" if self._stage not in (None, stage) else "") + f"\r{line}\x1b[K{end}",
                       file=self.file, nl=False)
            self._stage = None if finished else stage
        elif stage != self._stage or (finished and self._ended != stage):
            click.echo(line, file=self.file)
            self._stage, self._ended = stage, stage if finished else None

    def close(self) -> None:
        """End a line left open on a terminal."""
        if self.tty and self._stage is not None:
            click.echo("", file=self.file)
        self._stage = None

    def _bar(self, p) -> str:
        if not p.total:
            return ""
        filled = round(self.width * min(1.0, p.done / p.total))
        return f"  [{'#' * filled}{'.' * (self.width - filled)}] {p.done}/{p.total}"


def table(rows: list[list[str]], header: list[str], right: set[int] = frozenset()) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    def line(row):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
    return "\n".join([click.style(line(header).rstrip(), bold=True), *(line(r).rstrip() for r in rows)])


def when(timestamp: float | None) -> str:
    return "" if timestamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))
