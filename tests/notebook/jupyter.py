"""A real JupyterLab server for tests: 127.0.0.1, a free port, a token, its own config, runtime and settings
folders, nothing that phones home; always stopped (the whole process group)."""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

# JupyterLab asks once whether to fetch news and checks for updates; neither may leave the machine.
NO_NEWS = {"fetchNews": "false", "checkForUpdates": False}
# JupyterLab 4 draws only the cells near the viewport; a test reads and drags in any of them.
ALL_CELLS_DRAWN = {"windowingMode": "none"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` serving ``root`` (a folder of notebooks) until :meth:`stop`."""

    def __init__(self, root: Path, tmp: Path, env: dict | None = None):
        self.root, self.tmp = root, tmp
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "jupyterlab.log"
        self.env = {**os.environ, **(env or {}), **self._dirs()}
        self.proc: subprocess.Popen | None = None

    def _dirs(self) -> dict:
        dirs = {name: self.tmp / name for name in ("config", "runtime", "settings", "workspaces", "ipython")}
        for folder in dirs.values():
            folder.mkdir(parents=True, exist_ok=True)
        settings = dirs["settings"] / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(json.dumps(NO_NEWS))
        notebook = dirs["settings"] / "@jupyterlab" / "notebook-extension"
        notebook.mkdir(parents=True, exist_ok=True)
        (notebook / "tracker.jupyterlab-settings").write_text(json.dumps(ALL_CELLS_DRAWN))
        return {"JUPYTER_CONFIG_DIR": str(dirs["config"]), "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
                "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]), "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
                "IPYTHONDIR": str(dirs["ipython"]), "PYTHONUNBUFFERED": "1"}

    def command(self) -> list[str]:
        return [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True",
                "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly", *(["--allow-root"] if os.geteuid() == 0 else [])]

    def start(self, timeout: float = 120) -> "JupyterLab":
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(self.command(), env=self.env, cwd=self.root, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=5).read()
                return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{self.log.read_text()}")

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}"

    def stop(self) -> None:
        """SIGTERM to the server and its kernels (one process group); SIGKILL if they linger."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)
