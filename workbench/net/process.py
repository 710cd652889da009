"""A host in a child process: ``workbench host --port 0`` started, awaited until healthy, and always stopped.

    with HostProcess("lab", extra=["--models-from", "mymodels:ENTRIES"]) as host:
        print(host.url)          # http://127.0.0.1:<a free port>
        host.kill()              # SIGKILL, to see what the network does when a host dies

Used by the tests, the benchmarks and tutorials; the output of the host goes to ``log``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from workbench.errors import ConfigError


class HostProcess:
    def __init__(self, name: str = "host", *, extra: list[str] = (), token: str | None = None,
                 env: dict | None = None, log: Path | None = None, cwd: Path | None = None, timeout: float = 90.0):
        self.name, self.token, self.timeout = name, token, timeout
        self.args = [sys.executable, "-m", "workbench.cli", "host", "--port", "0", "--name", name, *extra]
        self.args += ["--token", token] if token else []
        self.env, self.cwd = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, cwd
        self.log = log or Path(tempfile.mkdtemp(prefix="workbench-host-")) / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> "HostProcess":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd)
        try:
            self.url = self._announced().split(" on ")[1].split()[0]
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _announced(self) -> str:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            text = self.log.read_text() if self.log.exists() else ""
            if line := next((line for line in text.splitlines() if " serving " in line), None):
                return line
            if self.proc.poll() is not None:
                raise ConfigError(f"host {self.name!r} exited ({self.proc.returncode}):\n{text}")
            time.sleep(0.05)
        raise ConfigError(f"host {self.name!r} did not start within {self.timeout:g} s:\n{self.log.read_text()}")

    def _wait_healthy(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        request = urllib.request.Request(f"{self.url}/health", headers=headers)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(request, timeout=2) as answer:
                    if json.load(answer).get("status") == "ok":
                        return
            except OSError:
                time.sleep(0.05)
        raise ConfigError(f"host {self.name!r} at {self.url} never answered /health")

    def kill(self) -> None:
        """SIGKILL: the host dies at once, mid-answer, with no goodbye."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
