"""The tutorials for educators: each one executes from top to bottom in a fresh kernel with a fresh
WORKBENCH_HOME (its own ``assert``s check its results), ends with a picture, names no CDN in what it shows,
and leaves no host process behind. The committed notebooks carry no outputs."""
from __future__ import annotations

import re
import time

import pytest

from conftest import ROOT, processes_with

nbformat = pytest.importorskip("nbformat")

TUTORIALS = sorted((ROOT / "tutorials").glob("*.ipynb"))
PICTURE = "application/vnd.holoviews_exec.v0+json"  # a HoloViews/Panel view
OFF_MACHINE = re.compile(r"https?://(?:cdn\.|cdnjs\.|unpkg\.|fonts\.|esm\.sh)[^\s\"'\\)]+")
KERNEL_SECONDS = 600  # per cell; the tutorials are meant to take well under 3 minutes each


def test_there_are_four_tutorials_in_the_order_of_the_layers():
    assert [p.name[:3] for p in TUTORIALS] == ["01-", "02-", "03-", "04-"]


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), f"clear the outputs of {path.name}"


def off_machine_urls(output: dict, widget_bundle: bool) -> set[str]:
    """Addresses off this machine that a shown output would load (the widget's React Flow bundle lists module
    names as text: those are not loaded, as the JupyterLab browser test shows)."""
    text = str(output.get("data", "")) + str(output.get("text", ""))
    urls = set(OFF_MACHINE.findall(text))
    return {u for u in urls if not (widget_bundle and u.startswith("https://esm.sh/"))}


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_offline_checks_itself_and_ends_with_a_picture(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    home = tmp_path / "home"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))  # the kernel, and every host it starts, inherit it
    notebook = nbformat.read(path, as_version=4)
    started = time.monotonic()
    NotebookClient(notebook, timeout=KERNEL_SECONDS, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    print(f"{path.name}: {time.monotonic() - started:.1f} s")  # reported, not asserted (README has the figures)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert any(PICTURE in o.get("data", {}) for o in code[-1].outputs), "the last cell must show a picture"
    for index, cell in enumerate(code[1:], start=1):  # cell 0 loads Panel's scripts (and names their CDN fallbacks)
        for output in cell.outputs:
            assert off_machine_urls(output, "Workbench(" in cell.source) == set(), f"code cell {index} of {path.name}"
    assert processes_with(str(home)) == [], "a host started by the notebook is still running"
