"""Real processes on 127.0.0.1 with free ports: workbench hosts and the fault server, always stopped."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO = HERE.parent.parent


@dataclass
class Process:
    proc: subprocess.Popen
    url: str
    log: Path

    def kill(self) -> None:
        """SIGKILL: the host dies at once, mid-answer, with no goodbye."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


def _env(home: Path) -> dict:
    return {**os.environ, "WORKBENCH_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO)]),
            "PYTHONUNBUFFERED": "1"}


def _wait_for(log: Path, proc: subprocess.Popen, pattern: str, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        for line in text.splitlines():
            if pattern in line:
                return line
        if proc.poll() is not None:
            raise RuntimeError(f"the process exited ({proc.returncode}):\n{text}")
        time.sleep(0.05)
    raise RuntimeError(f"no {pattern!r} from the process within {timeout} s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def host_process(tmp: Path, name: str, *args: str):
    """``workbench host --port 0`` serving the catalog plus the test text models; yields once healthy."""
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / f"host-{name}.log"
    cmd = [sys.executable, "-m", "workbench.cli", "host", "--port", "0", "--name", name,
           "--models-from", "textmodels:ENTRIES", *args]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=_env(tmp / f"home-{name}"), cwd=REPO)
    try:
        line = _wait_for(log, proc, "serving")
        url = line.split(" on ")[1].split()[0]
        _wait_healthy(url, args)
        yield Process(proc, url, log)
    finally:
        _stop(proc)


def _wait_healthy(url: str, args: tuple) -> None:
    token = args[args.index("--token") + 1] if "--token" in args else None
    request = urllib.request.Request(f"{url}/health", headers={"Authorization": f"Bearer {token}"} if token else {})
    for _ in range(200):
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:
                if json.load(answer)["status"] == "ok":
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} never became healthy")


@contextlib.contextmanager
def fault_process(tmp: Path):
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / "faults.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, str(HERE / "faults.py")], stdout=out, stderr=subprocess.STDOUT)
    try:
        port = _wait_for(log, proc, "port ").split()[1]
        yield Process(proc, f"http://127.0.0.1:{port}/v1", log)
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def host_a(tmp_path_factory):
    with host_process(tmp_path_factory.mktemp("hosts"), "a") as host:
        yield host


@pytest.fixture(scope="module")
def host_b(tmp_path_factory):
    with host_process(tmp_path_factory.mktemp("hosts"), "b") as host:
        yield host


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    with fault_process(tmp_path_factory.mktemp("faults")) as server:
        yield server


def fault_log(server: Process) -> list:
    with urllib.request.urlopen(server.url.removesuffix("/v1") + "/log", timeout=5) as answer:
        return json.load(answer)
