"""Helpers for the language-model tests: progress stages, a Python without some packages, the CLI."""
import os
import subprocess
import sys
from pathlib import Path

from workbench.backends.progress import Progress

ROOT = Path(__file__).resolve().parents[2]


def stages(records: list[Progress]) -> list[str]:
    """The distinct stages, in order."""
    seen = []
    for record in records:
        if record.stage not in seen:
            seen.append(record.stage)
    return seen


def python_without(tmp_path: Path, *packages: str) -> tuple[list[str], dict]:
    """A real Python whose import path is this venv's site-packages minus ``packages`` (links, no copies)."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    lean = tmp_path / "site-packages"
    lean.mkdir()
    for entry in site.iterdir():
        if not any(entry.name.lower().replace("-", "_").startswith(p) for p in packages) and entry.suffix != ".pth":
            (lean / entry.name).symlink_to(entry)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{lean}"}
    return [sys.executable, "-S"], env


def run_cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env or dict(os.environ), timeout=timeout)
