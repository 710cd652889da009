"""Messages as JSON: non-finite floats are tagged, so strict JSON holds them, and they come back."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import Message
from workbench.core.messages import JOIN_KIND, from_jsonable, message_from_jsonable, to_jsonable

RESERVED = {"$float"}  # the key the tagging scheme gives a meaning to
keys = st.text(max_size=8).filter(lambda k: k not in RESERVED)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63), st.floats(), st.text(max_size=10))
contents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(keys, inner, max_size=4)), max_leaves=12)


def same(a, b) -> bool:
    if isinstance(a, Message) and isinstance(b, Message):
        return a.kind == b.kind and same(a.content, b.content) and same(a.meta, b.meta)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


def through_json(value):
    return json.loads(json.dumps(to_jsonable(value), allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(content=contents, meta=st.dictionaries(keys, contents, max_size=3), kind=st.text(min_size=1, max_size=10))
def test_messages_survive_strict_json(content, meta, kind):
    message = Message(kind, content, meta)
    assert same(message_from_jsonable(through_json(message)), message)


@settings(max_examples=50, deadline=None)
@given(members=st.lists(contents, min_size=1, max_size=4))
def test_join_messages_and_several_outputs_survive(members):
    join = Message(JOIN_KIND, [Message("m", c) for c in members], {"from": [f"n{i}" for i in range(len(members))]})
    assert same(message_from_jsonable(through_json(join)), join)
    outputs = {f"n{i}": Message("m", c) for i, c in enumerate(members)}  # a run that ends in several nodes
    assert same(message_from_jsonable(through_json(outputs)), outputs)


def test_non_finite_floats_are_tagged():
    assert to_jsonable([math.nan, math.inf, -math.inf, 1.5]) == [{"$float": "nan"}, {"$float": "inf"},
                                                                  {"$float": "-inf"}, 1.5]
    back = from_jsonable(to_jsonable([math.nan, math.inf, -math.inf]))
    assert math.isnan(back[0]) and back[1:] == [math.inf, -math.inf]


def test_arrays_become_lists():
    array = np.array([[1, np.nan], [np.inf, 2]], dtype=np.float32)
    out = from_jsonable(through_json(array))
    assert out[0][0] == 1.0 and math.isnan(out[0][1]) and out[1] == [math.inf, 2.0]
    assert through_json(np.int64(7)) == 7


def test_contents_shaped_like_a_message_stay_dicts():
    content = {"kind": "k", "content": 1, "meta": {}}
    assert same(message_from_jsonable(through_json(Message("x", content))), Message("x", content))


@pytest.mark.parametrize("content", [{"$float": "nan"}, {"$dict": {"$float": 1}}, {"a": {"$float": "inf"}}])
def test_contents_shaped_like_a_tag_survive(content):
    assert same(message_from_jsonable(through_json(Message("x", content))), Message("x", content))


def test_store_keeps_contents_shaped_like_a_tag(tmp_path):
    from workbench import Engine, Network, PythonModel, Store

    store = Store(tmp_path / "runs.sqlite")
    net = Network("tags")
    net.add(PythonModel(lambda content: {"$float": "nan", "nested": [{"$dict": 1}]}), "m")
    result = Engine(sinks=[store.write]).run_sync(net, "x")
    assert store.run(result.run_id).output.content == {"$float": "nan", "nested": [{"$dict": 1}]}
    assert store.run(result.run_id).output.content == result.output.content


@pytest.mark.parametrize("message, text", [
    (Message("text", "a  long\n text " * 10), "a long text a long text"),
    (Message("label.probs", {"label": 3, "probs": [0.1] * 3 + [0.7]}), "3 (p=0.70)"),
    (Message("image.digits", np.zeros((8, 8)), {"index": 5, "label": 2}), "digit #5 (label 2)"),
    (Message("tensor", np.zeros((2, 3))), "tensor 2×3"),
    (Message(JOIN_KIND, [Message("text", "a"), Message("text", "b")]), "2 inputs: a; b"),
])
def test_summaries(message, text):
    summary = message.summary(30)
    assert summary.startswith(text[:29]) and len(summary) <= 30 and "\n" not in summary
