"""The run store: every event of every run in one SQLite file.

Events are written as they come and committed at each step's end (and at a run's start, decisions and
end), in WAL mode: a process killed with ``kill -9`` loses no finished step. Opening the store marks the
runs whose process is gone as ``interrupted``. Payloads are JSON; NaN and infinities are kept as tagged
values (see :func:`workbench.core.messages.to_jsonable`).
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from workbench.core.messages import Message, message_from_jsonable, to_jsonable
from workbench.engine.events import DECISION, RUN_END, RUN_START, STEP_END, Event
from workbench.errors import RunNotFound, StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, network TEXT, protocol TEXT, status TEXT, started REAL, ended REAL,
    input TEXT, output TEXT, error TEXT, meta TEXT, pid INTEGER, host TEXT);
CREATE TABLE IF NOT EXISTS events (
    run TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, step TEXT, node TEXT, status TEXT,
    time REAL, body TEXT, PRIMARY KEY (run, seq));
CREATE INDEX IF NOT EXISTS runs_started ON runs (started);
"""
COMMIT_ON = {RUN_START, STEP_END, DECISION, RUN_END}
BODY_FIELDS = ("input", "output", "device", "error", "decision", "start", "end", "data")


@dataclass(frozen=True)
class RunRecord:
    id: str
    network: str
    protocol: str
    status: str          # running | ok | failed | cancelled | interrupted
    started: float
    ended: float | None
    input: Any
    output: Any
    error: str | None
    meta: dict
    steps: int = 0

    def to_dict(self) -> dict:
        return {k: to_jsonable(v) for k, v in self.__dict__.items()}


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process, not power loss
            self.db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the run store {self.path}: {exc}") from exc
        self._pending: list[tuple] = []  # event rows not yet committed
        self.interrupted = self.mark_interrupted()

    # ---- writing ------------------------------------------------------------------------------
    def write(self, event: Event) -> None:
        """A sink: record ``event``; events are held until the step, decision or run they end is complete,
        then written in one transaction."""
        row = (event.run, event.seq, event.type, event.step, event.node, event.status, event.time, _body(event))
        with self._lock:
            self._pending.append(row)
            if event.type in COMMIT_ON:
                self._flush(event)

    __call__ = write

    def _flush(self, event: Event) -> None:
        try:
            self.db.execute("BEGIN")
            if event.type == RUN_START:
                self._insert_run(event)
            self.db.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?)", self._pending)
            if event.type == RUN_END:
                self.db.execute("UPDATE runs SET status=?, ended=?, output=?, error=? WHERE id=?",
                                (event.status, event.end, _dumps(event.output), event.error, event.run))
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise StoreError(f"cannot write run {event.run} to {self.path}: {exc}") from exc
        finally:
            self._pending.clear()

    def _insert_run(self, event: Event) -> None:
        data = event.data or {}
        self.db.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (event.run, data.get("network"), data.get("protocol"), "running", event.time, None,
                         _dumps(event.input), None, None, _dumps(data.get("meta") or {}), os.getpid(),
                         socket.gethostname()))

    def mark_interrupted(self) -> list[str]:
        """Mark runs left ``running`` by a process that is gone as ``interrupted``; return their ids."""
        with self._lock:
            rows = self.db.execute("SELECT id, pid, host FROM runs WHERE status='running'").fetchall()
            gone = [run for run, pid, host in rows if host == socket.gethostname() and not _alive(pid)]
            now = time.time()
            for run in gone:
                seq = self.db.execute("SELECT COALESCE(MAX(seq)+1, 0) FROM events WHERE run=?", (run,)).fetchone()[0]
                error = "interrupted: the process running it ended before it finished"
                self.write(Event(RUN_END, run, seq, now, status="interrupted", error=error, end=now))
            return gone

    # ---- reading ------------------------------------------------------------------------------
    def runs(self, limit: int | None = 20, network: str | None = None, status: str | None = None,
             batch: str | None = None) -> list[RunRecord]:
        """The latest runs, newest first (``limit=None``: all); ``batch`` is an evaluation's ``meta["batch"]``."""
        where, args = [], []
        if network:
            where.append("network = ?"), args.append(network)
        if status:
            where.append("status = ?"), args.append(status)
        if batch:
            where.append("json_extract(meta, '$.batch') = ?"), args.append(batch)
        sql = ("SELECT r.*, (SELECT COUNT(*) FROM events e WHERE e.run = r.id AND e.type = 'step.end') FROM runs r"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY started DESC, rowid DESC LIMIT ?")
        with self._lock:
            return [_record(row) for row in self.db.execute(sql, (*args, -1 if limit is None else limit))]

    def run(self, run_id: str) -> RunRecord:
        run_id = self.resolve(run_id)
        with self._lock:
            row = self.db.execute("SELECT r.*, (SELECT COUNT(*) FROM events e WHERE e.run = r.id AND "
                                  "e.type = 'step.end') FROM runs r WHERE id = ?", (run_id,)).fetchone()
        return _record(row)

    def resolve(self, prefix: str) -> str:
        """The full id of the run ``prefix`` names: the run of that id, else the one run whose id starts with it."""
        if not prefix:
            raise RunNotFound(prefix)
        with self._lock:
            if self.db.execute("SELECT 1 FROM runs WHERE id = ?", (prefix,)).fetchone():
                return prefix
            ids = [r[0] for r in self.db.execute("SELECT id FROM runs WHERE substr(id, 1, ?) = ? LIMIT 2",
                                                 (len(prefix), prefix))]
        if len(ids) != 1:
            raise RunNotFound(prefix) if not ids else StoreError(f"run id {prefix!r} is ambiguous")
        return ids[0]

    def events(self, run_id: str) -> list[Event]:
        """The run's events, in the order they happened."""
        return list(self.replay(run_id))

    def replay(self, run_id: str) -> Iterator[Event]:
        run_id = self.resolve(run_id)
        with self._lock:
            rows = self.db.execute("SELECT run, seq, type, step, node, status, time, body FROM events "
                                   "WHERE run = ? ORDER BY seq", (run_id,)).fetchall()
        for run, seq, kind, step, node, status, when, body in rows:
            fields = {k: message_from_jsonable(v) for k, v in json.loads(body).items()}
            yield Event(kind, run, seq, when, step, node, status, **fields)

    def close(self) -> None:
        with self._lock:
            self.db.close()


def _dumps(value: Any) -> str | None:
    """JSON text; the C encoder handles the common case, the tagging walk only the non-finite floats."""
    if value is None:
        return None
    try:
        text = _ENCODER.encode(value)
        if '"$' not in text:  # no key that could be mistaken for a tag: the fast path is exact
            return text
    except (ValueError, TypeError):  # NaN or infinity somewhere, or a key JSON cannot hold (a tuple)
        pass
    return json.dumps(to_jsonable(value), ensure_ascii=False, allow_nan=False)


def _encode_other(value: Any) -> Any:
    if isinstance(value, Message):
        return {"kind": value.kind, "content": value.content, "meta": value.meta}
    return to_jsonable(value)


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_encode_other)


def _body(event: Event) -> str:
    return _dumps({name: getattr(event, name) for name in BODY_FIELDS if getattr(event, name) is not None})


def _loads(text: str | None) -> Any:
    return None if text is None else message_from_jsonable(json.loads(text))


def _record(row) -> RunRecord:
    run_id, network, protocol, status, started, ended, inp, out, error, meta, _pid, _host, steps = row
    return RunRecord(run_id, network, protocol, status, started, ended, _loads(inp), _loads(out), error,
                     _loads(meta) or {}, steps)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
