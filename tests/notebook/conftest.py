"""Fixtures for the notebook tests: processes found by a marker in their environment, Panel state reset."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "app"))  # browsing.py: Chromium's path and launch arguments, drag helpers


def processes_with(marker: str) -> list[int]:
    """Ids of the live processes whose environment mentions ``marker`` (e.g. their own WORKBENCH_HOME)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def _panel_state():
    """Panel keeps global state between views in one process: reset it after in-process tests."""
    yield
    if "panel" in sys.modules:
        from panel.io.state import state

        state.reset()
