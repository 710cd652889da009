"""The package's surface: a light import, a pinned public API, one exception tree."""
from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap

import pytest

import workbench
from workbench import errors

HEAVY = ("torch", "mlx", "panel", "bokeh", "holoviews", "sklearn", "transformers")


def _imported_after(code: str) -> list[str]:
    """The heavy top-level packages a clean interpreter holds after running ``code``."""
    probe = "\n".join(["import json, sys", textwrap.dedent(code),
                       f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))"])
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_workbench_stays_light():
    assert _imported_after("import workbench") == []


def test_probe_sees_heavy_imports():  # the probe itself works: it would notice a heavy import
    assert _imported_after("import workbench, sklearn") == ["sklearn"]


def test_cli_module_and_builtin_run_stay_light():
    code = textwrap.dedent("""
        import workbench.cli
        from workbench import Engine, Network
        net = Network("light", protocol="pipeline")
        net.add("identity", "a"); net.add("delay", "b", params={"seconds": 0}); net.connect("a", "b")
        assert Engine().run_sync(net, "hi").ok
    """)
    assert _imported_after(code) == []


EXPECTED_ALL = sorted([
    "Catalog", "CatalogEntry", "CompiledNetwork", "Engine", "Event", "Message", "Model", "ModelCard",
    "Network", "Node", "Pathway", "PythonModel", "RunRecord", "RunResult", "Store", "Trace",
    "default_catalog", "errors", "load_network", "save_network",
])


def test_public_api_is_pinned():
    assert sorted(workbench.__all__) == EXPECTED_ALL
    assert len(set(workbench.__all__)) == len(workbench.__all__)


@pytest.mark.parametrize("name", EXPECTED_ALL)
def test_public_names_resolve(name):
    assert getattr(workbench, name) is not None


def test_version_is_the_distribution_version():
    from importlib.metadata import version

    assert workbench.__version__ == version("modelnet-workbench")


def _error_classes() -> list[type]:
    return [c for _, c in inspect.getmembers(errors, inspect.isclass)
            if issubclass(c, Exception) and c.__module__ == errors.__name__]


def test_every_error_is_a_workbench_error_and_drawn_in_the_tree():
    tree = errors.__doc__
    for cls in _error_classes():
        assert issubclass(cls, errors.WorkbenchError), cls
        assert cls.__name__ in tree, f"{cls.__name__} is missing from the tree in errors' docstring"


@pytest.mark.parametrize("cls, parent", [
    (errors.SelfLoop, errors.PathwayError), (errors.DuplicatePathway, errors.PathwayError),
    (errors.IncompatibleKinds, errors.PathwayError), (errors.CycleNotAllowed, errors.PathwayError),
    (errors.PathwayError, errors.NetworkError), (errors.UnknownNode, errors.NetworkError),
    (errors.DuplicateNode, errors.NetworkError), (errors.StepTimeout, errors.ModelError),
    (errors.BackendUnavailable, errors.ModelError), (errors.RunNotFound, errors.StoreError),
])
def test_error_tree_shape(cls, parent):
    assert issubclass(cls, parent)


@pytest.mark.parametrize("exc, text", [
    (errors.UnknownNode("n1", ["a"]), "no node 'n1' in the network; known nodes: a"),
    (errors.UnknownModel("m1"), "no model named 'm1' in the catalog"),
    (errors.RunNotFound("r1"), "no stored run matches 'r1'"),
])
def test_keyerror_subclasses_print_plainly(exc, text):
    assert isinstance(exc, KeyError)
    assert str(exc) == text  # not KeyError's quoted repr
