"""Real processes on 127.0.0.1 with free ports: workbench hosts and the fault server, always stopped."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbench.net.process import HostProcess

HERE = Path(__file__).parent
REPO = HERE.parent.parent


@dataclass
class Process:
    proc: subprocess.Popen
    url: str
    log: Path


def _env(home: Path) -> dict:
    return {"WORKBENCH_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO)])}


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


def host_process(tmp: Path, name: str, *args: str, token: str | None = None) -> HostProcess:
    """``workbench host --port 0`` serving the catalog plus the test text models (a context manager)."""
    return HostProcess(name, extra=["--models-from", "textmodels:ENTRIES", *args], token=token,
                       env=_env(tmp / f"home-{name}"), log=tmp / f"host-{name}.log", cwd=REPO)


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
