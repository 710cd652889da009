"""The example plugins in extensions/: installed with pip, found through entry points, usable by name."""
import subprocess
import sys
import textwrap

import pytest

from workbench import Engine, Network, Trace, default_catalog
from workbench.data import load_dataset
from workbench.errors import DeviceUnavailable

pytest.importorskip("workbench_sklearn", reason="pip install -e extensions/workbench-sklearn")
pytest.importorskip("workbench_best_of", reason="pip install -e extensions/workbench-best-of")


def test_backend_plugin_models_join_the_catalog_and_classify_digits():
    catalog = default_catalog()
    assert {"digits-svm", "digits-knn"} <= set(catalog.names())
    assert catalog.get("digits-svm").card.backend == "sklearn"
    net = Network("svm")
    net.add("digits-svm")
    engine = Engine()
    examples = load_dataset("digits")[:40]
    right = sum(engine.run_sync(net, m).output.content["label"] == y for m, y in examples)
    assert right >= 38  # a well-trained SVM on held-out digits


def test_backend_plugin_refuses_a_gpu():
    with pytest.raises(DeviceUnavailable, match="cpu only"):
        default_catalog().create("digits-knn", device="cuda", node="knn")


def test_protocol_plugin_runs_by_name_with_its_decision_in_the_trace():
    net = Network("best", "best-of")
    for model in ("digits-logreg", "digits-knn"):
        net.add(model)
    trace = Trace()
    message, label = load_dataset("digits")[5]
    result = Engine().run_sync(net, message, sinks=[trace])
    decision = next(e.decision for e in trace if e.type == "decision")
    assert decision.startswith(f"best of 2: {result.output.meta['chosen']}, confidence")
    assert result.output.content["label"] == label


def test_a_broken_plugin_is_left_out_with_a_warning(tmp_path):
    """A plugin whose entry point fails to import must not break the workbench."""
    dist = tmp_path / "broken_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[workbench.backends]\nbroken = no_such_module_xyz:ENTRIES\n")
    code = textwrap.dedent("""
        import sys, warnings
        sys.path.insert(0, sys.argv[1])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from workbench import default_catalog
            names = default_catalog().names()
        assert "digits-cnn" in names, names
        assert any("'broken'" in str(w.message) and "left out" in str(w.message) for w in caught), caught
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
