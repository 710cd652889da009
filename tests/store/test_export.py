"""OpenTelemetry-shaped export of a stored run."""
import json

from workbench import Engine, Message, ModelCard, Network, PythonModel, Store
from workbench.store.export import to_otel


def _spans(document):
    return document["resourceSpans"][0]["scopeSpans"][0]["spans"]


def test_export_has_a_root_span_and_one_child_per_step_with_decisions_and_errors(tmp_path):
    def broken(content):
        raise ValueError("no digits here ✗")
    net = Network("export", protocol="graph")
    net.add("identity", "a"), net.add("identity", "b"), net.add("vote", "v")
    net.add(PythonModel(broken, ModelCard("broken", "python")), "x")
    store = Store(tmp_path / "runs.sqlite")
    label = Message("label.probs", {"label": 3, "probs": [0.0] * 3 + [1.0] + [0.0] * 6})
    net.connect("a", "v"), net.connect("b", "v")
    result = Engine(sinks=[store.write]).run_sync(net, label)
    document = to_otel(store.events(result.run_id))
    spans = _spans(document)
    root, steps = spans[0], {s["name"]: s for s in spans[1:]}
    assert set(steps) == {"step a", "step b", "step v", "step x"}
    assert all(s["parentSpanId"] == root["spanId"] and s["traceId"] == root["traceId"] for s in steps.values())
    assert steps["step x"]["status"] == {"code": 2, "message": "ValueError: no digits here ✗"}
    assert root["status"]["code"] == 2  # the run failed because x failed
    decision = steps["step v"]["events"][0]
    assert decision["name"] == "decision" and "majority 3" in decision["attributes"][0]["value"]["stringValue"]
    assert int(steps["step a"]["endTimeUnixNano"]) >= int(steps["step a"]["startTimeUnixNano"]) > 0
    assert to_otel(store.events(result.run_id)) == document  # deterministic ids
    json.dumps(document, allow_nan=False)  # plain JSON
