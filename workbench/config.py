"""Where the workbench keeps its data: ``$WORKBENCH_HOME``, else a per-user data folder."""
from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    configured = os.environ.get("WORKBENCH_HOME")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("modelnet-workbench", appauthor=False))


def store_path() -> Path:
    return home() / "runs.sqlite"
