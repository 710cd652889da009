"""``workbench up`` refuses bad arguments with one clear line (real subprocesses, no browser)."""
from __future__ import annotations

import socket
import subprocess
import sys


def up(*args: str, home) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench.cli", "up", "--no-browser", *args], capture_output=True,
                          text=True, timeout=120, env={"WORKBENCH_HOME": str(home), "PATH": "/usr/bin:/bin"})


def test_a_missing_network_file_is_named(tmp_path):
    result = up(str(tmp_path / "nope.yaml"), home=tmp_path)
    assert result.returncode == 1 and "nope.yaml: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_reported_with_a_way_out(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = up("--port", str(busy.getsockname()[1]), home=tmp_path)
    assert result.returncode == 1 and "cannot serve on 127.0.0.1" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr
