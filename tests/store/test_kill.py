"""``kill -9`` in the middle of a run loses no finished step; the next Store open marks the run interrupted."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

from workbench import Message, Store
from workbench.engine.events import RUN_END, STEP_END, STEP_START

SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from workbench import Engine, Network, Store

    store = Store(sys.argv[1])
    net = Network("doomed", protocol="pipeline")
    net.add("identity", "fast")
    net.add("delay", "slow", params={"seconds": 600})
    net.connect("fast", "slow")
    asyncio.run(Engine(sinks=[store.write]).run(net, "payload ✓ שלום", run_id="doomed-run"))
""")


def committed_steps(path) -> list:
    """The finished steps another connection can see, read without opening a Store (which would write)."""
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT step FROM events WHERE type = 'step.end'").fetchall()
    except sqlite3.OperationalError:  # the schema is not there yet
        return []


def test_kill_9_loses_no_finished_step_and_marks_the_run_interrupted(tmp_path):
    path = tmp_path / "runs.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(path)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while committed_steps(path) != [("fast",)]:
            assert proc.poll() is None, f"the run ended early: {proc.stderr.read().decode()}"
            assert time.monotonic() < deadline, "the fast step never reached the store"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)  # reaped: a zombie would still look alive
    assert proc.returncode == -signal.SIGKILL

    store = Store(path)
    try:
        assert store.interrupted == ["doomed-run"]
        record = store.run("doomed-run")
        assert record.status == "interrupted" and "interrupted" in record.error
        assert record.network == "doomed" and record.input == Message("any", "payload ✓ שלום")
        events = store.events("doomed")
        ends = [e for e in events if e.type == STEP_END]
        assert [(e.step, e.status) for e in ends] == [("fast", "ok")]
        assert ends[0].output == Message("any", "payload ✓ שלום")
        assert ends[0].device == "python/cpu" and ends[0].end >= ends[0].start
        assert any(e.type == STEP_START and e.step == "fast" for e in events)
        assert events[-1].type == RUN_END and events[-1].status == "interrupted"
        assert [e.seq for e in events] == list(range(len(events)))
    finally:
        store.close()

    again = Store(path)  # marked once: the next open finds nothing more to mark
    try:
        assert again.interrupted == [] and again.run("doomed-run").status == "interrupted"
        assert [e.type for e in again.events("doomed-run")].count(RUN_END) == 1
    finally:
        again.close()
