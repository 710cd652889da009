"""Network files: exact round trips in any script, clear errors that say where, and no code execution."""
from __future__ import annotations

import json
import math

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from workbench import Network, PythonModel, load_network, save_network
from workbench.core import files
from workbench.errors import NetworkError, NetworkFileError
from workbench.examples import example_paths

TRICKY = [
    "👩‍👩‍👧‍👦", "🏳️‍🌈 flag", "שלום עולם", "مرحبا بالعالم", "e\u0301\u0302", "a\u200db", "\u200d", "\u200b", "नमस्ते",
    "你好，世界", "\u202eevil\u202c", "Ω≈ç√∫", "ｆｕｌｌ", "yes", "no", "null", "~", "true", "- x", "#c", "'q'",
    '"dq"', "a: b", "{x}", "[x]", "*a", "&a", "!tag", "%x", "@x", "`x", "1e3", "0x1F", ".inf", "-.nan", "0o17",
    "12:30", "2024-01-01", " padded ", "tab\tin", "line\nbreak", "cr\rhere", "nel\x85here", "del\x7fhere",
    "ls\u2028ps\u2029", "\ufeffbom", "\ufffe", "nul\x00", "\\backslash", "trailing space ", "<<",
]
names = st.one_of(st.sampled_from(TRICKY), st.text(min_size=1, max_size=12)).filter(lambda s: s.strip())
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def networks(draw) -> Network:
    """Networks of builtin models with arbitrary names, ids, descriptions, params, positions and adapters."""
    net = Network(draw(names), protocol="graph", description=draw(st.one_of(st.just(""), st.text(max_size=30))),
                  dataset=draw(st.one_of(st.none(), names)))
    ids = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    for node_id in ids:
        model = draw(st.sampled_from(["identity", "delay", "gather"]))
        params = {"seconds": draw(st.floats(0, 1e6))} if model == "delay" and draw(st.booleans()) else None
        net.add(model, node_id, name=draw(st.one_of(st.just(""), names)), params=params,
                device=draw(st.sampled_from(["auto", "cpu"])),
                position=draw(st.one_of(st.none(), st.tuples(finite, finite))))
    for source, target in zip(ids, ids[1:]):  # a chain: every node has at most one input
        template = draw(st.one_of(st.none(), st.text(max_size=10).map(lambda t: t + "{text}")))
        net.connect(source, target, {"template": template} if template else None)
    return net


def same_network(a: Network, b: Network) -> None:
    assert (a.name, a.protocol, a.description, a.dataset) == (b.name, b.protocol, b.description, b.dataset)
    assert list(a.nodes) == list(b.nodes)
    for node_id, node in a.nodes.items():
        other = b.nodes[node_id]
        assert (node.id, node.name, node.model, node.device, node.params) == \
               (other.id, other.name, other.model, other.device, other.params)
        assert (node.position is None) == (other.position is None)
        if node.position is not None:
            assert tuple(map(float, node.position)) == tuple(map(float, other.position))
    assert [(p.source, p.target, p.adapter) for p in a.pathways] == [(p.source, p.target, p.adapter) for p in b.pathways]


# ---- round trips -------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(net=networks(), fmt=st.sampled_from(["yaml", "json"]))
def test_round_trip_is_exact(net, fmt):
    text = files.dumps(net, fmt)
    again = files.loads(text)
    same_network(net, again)
    assert files.dumps(again, fmt) == text


@settings(max_examples=40, deadline=None)
@given(net=networks())
def test_yaml_and_json_hold_the_same_network(net):
    from_json = files.loads(files.dumps(net, "json"))
    assert files.dumps(from_json, "yaml") == files.dumps(net, "yaml")


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_save_and_load_a_file(tmp_path, suffix):
    net = Network("réseau 网络 👩‍👩‍👧", protocol="vote", description="שלום · مرحبا", dataset="digits")
    for node_id in ("e\u0301", "a\u200db", "🏳️‍🌈"):
        net.add("digits-logreg", node_id, name=f"name of {node_id}", position=(1.5, -2))
    net.add("vote", "ووت")
    for node_id in ("e\u0301", "a\u200db", "🏳️‍🌈"):
        net.connect(node_id, "ووت")
    path = save_network(net, tmp_path / f"net{suffix}")
    text = path.read_text(encoding="utf-8")
    if suffix == ".json":
        assert json.loads(text)["schema"] == files.SCHEMA
    else:
        assert text.startswith(f"schema: {files.SCHEMA}\n")
        assert "🏳️‍🌈" in text  # written as itself, not as escapes
    again = load_network(path)
    same_network(net, again)
    assert files.dumps(again) == files.dumps(net)


def test_shipped_examples_load_and_round_trip():
    assert "digits-ensemble" in example_paths()
    for path in example_paths().values():
        net = load_network(path)
        net.validate()
        assert files.dumps(files.loads(files.dumps(net))) == files.dumps(net)


def test_a_model_built_in_code_cannot_be_saved():
    net = Network("t")
    net.add(PythonModel(str.upper), "up")
    with pytest.raises(NetworkError, match="'up'.*built in code"):
        files.dumps(net)


# ---- malformed files: where and what ------------------------------------------------------------
GOOD = """\
schema: workbench.network/1
name: demo
protocol: pipeline
nodes:
- id: a
  model: identity
- id: b
  model: delay
  params: {seconds: 0}
- id: c
  model: identity
pathways:
- {from: a, to: b}
- {from: b, to: c}
"""


def test_the_good_file_loads():
    net = files.loads(GOOD)
    assert list(net.nodes) == ["a", "b", "c"] and net.nodes["b"].params == {"seconds": 0}


def bad(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


MALFORMED = [
    # (text, where, what)
    (bad("model: identity\npathways", "model: telepathy\npathways"), "nodes[2].model (line 11)",
     "no model named 'telepathy'"),
    (bad("- id: b\n  model: delay\n", "- id: b\n"), "nodes[1] (line 7)", "missing field 'model' in a node"),
    (bad("- id: a\n", "- id: a\n  colour: red\n"), "nodes[0].colour (line 6)", "unknown field 'colour'"),
    (bad("protocol: pipeline\n", "protocol: pipeline\nauthor: me\n"), "author (line 4)", "unknown field 'author'"),
    (bad("- id: a\n", "- id: 5\n"), "nodes[0].id (line 5)", "expected the node id as non-empty text, found a number"),
    (bad("- id: a\n", "- id: '  '\n"), "nodes[0].id (line 5)", "found blank text"),
    (bad("{seconds: 0}", "[0]"), "nodes[1].params (line 9)", "expected params as a mapping, found a list"),
    (bad("{seconds: 0}", "{secs: 0}"), "nodes[1].params.secs (line 9)", "takes no parameter 'secs'; accepted: seconds"),
    (bad("- id: a\n", "- id: a\n  position: [1]\n"), "nodes[0].position (line 6)", "[x, y] finite numbers"),
    (bad("- id: a\n", "- id: a\n  position: [.nan, 0]\n"), "nodes[0].position (line 6)", "finite numbers"),
    (bad("- id: a\n", "- id: a\n  name: [1, 2]\n"), "nodes[0].name (line 6)", "expected a display name as text"),
    (bad("protocol: pipeline", "protocol: [pipeline]"), "protocol (line 3)", "found a list"),
    (bad("protocol: pipeline", "protocol: telepathy"), "protocol (line 3)", "unknown protocol 'telepathy'"),
    (bad("protocol: pipeline", "protocol: pipeline\ndescription: {a: 1}"), "description (line 4)", "as text"),
    (bad("protocol: pipeline", "protocol: pipeline\ndataset: 7"), "dataset (line 4)", "a data set name as text"),
    (bad("schema: workbench.network/1", "schema: workbench.network/9"), "schema (line 1)", "unsupported schema"),
    (bad("name: demo\n", ""), "line 1", "missing field 'name' in a network"),
    (bad("name: demo", "name: 12"), "name (line 2)", "the network name as non-empty text, found a number"),
    (bad("- {from: a, to: b}\n- {from: b, to: c}\n", "- {from: a, to: b}\n- {from: a, to: c}\n"), "pathways[1] (line 14)",
     "in a pipeline 'a' already feeds 'b'"),
    (bad("- {from: b, to: c}", "- {from: c, to: c}"), "pathways[1] (line 14)", "'c' → 'c' refused: a model cannot feed itself"),
    (bad("- {from: b, to: c}", "- {from: b, to: zz}"), "pathways[1] (line 14)", "no node 'zz'"),
    (bad("- {from: b, to: c}", "- {from: a, to: b}"), "pathways[1] (line 14)", "already connected"),
    (bad("- {from: b, to: c}", "- {from: b, to: c, adapter: {x: 1}}"), "pathways[1] (line 14)", "unknown adapter"),
    (bad("- {from: b, to: c}", "- {from: b}"), "pathways[1] (line 14)", "missing field 'to' in a pathway"),
    (bad("- {from: b, to: c}", "- [b, c]"), "pathways[1] (line 14)", "expected a pathway as a mapping of fields, found a list"),
    (bad("- id: c\n  model: identity\n", "- id: b\n  model: identity\n"), "nodes[2].id (line 10)", "already in the network"),
    (GOOD.split("nodes:")[0] + "nodes: abc\n", "nodes (line 4)", "expected a list of nodes, found text"),
    ("[1, 2]\n", "line 1", "expected a network as a mapping of fields, found a list"),
    ("", "", "expected a network as a mapping of fields, found nothing"),
    (bad("- {from: b, to: c}", "- {from: b, to: c"), "line 15, column 1", "not valid YAML or JSON"),
    (bad("name: demo", "name: demo: again"), "line 2, column 11", "not valid YAML or JSON"),
    (bad("  model: identity\n- id: b", "\tmodel: identity\n- id: b"), "line 6, column 1", "not valid YAML or JSON"),
]


@pytest.mark.parametrize("text, where, what", MALFORMED, ids=[w or "empty" for _, w, _ in MALFORMED])
def test_malformed_files_say_where_and_what(text, where, what):
    with pytest.raises(NetworkFileError) as info:
        files.loads(text, source="demo.yaml")
    exc = info.value
    assert exc.where == where
    assert what in exc.problem
    assert exc.source == "demo.yaml"
    assert str(exc).startswith("demo.yaml") and "\n" not in str(exc)


def test_json_files_report_where_too():
    data = yaml.safe_load(GOOD)
    data["nodes"][2]["model"] = "telepathy"
    text = json.dumps(data, indent=2)
    with pytest.raises(NetworkFileError) as info:
        files.loads(text)
    assert info.value.where.startswith("nodes[2].model (line ")
    line = int(info.value.where.split("line ")[1].rstrip(")"))
    assert '"telepathy"' in text.splitlines()[line - 1]


def test_json_nan_is_not_a_number():
    data = yaml.safe_load(GOOD)
    text = json.dumps(data).replace('"id": "a"', '"id": "a", "position": [NaN, 0]')
    with pytest.raises(NetworkFileError, match="finite numbers") as info:
        files.loads(text)
    assert info.value.where.startswith("nodes[0].position")


def test_a_character_yaml_refuses_is_reported_on_one_line():
    with pytest.raises(NetworkFileError) as info:
        files.loads(GOOD.replace("name: demo", "name: de\x01mo"))
    assert info.value.where == "line 2, column 9"
    assert "\n" not in str(info.value)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(NetworkFileError, match="no such file") as info:
        files.load(tmp_path / "absent.yaml")
    assert info.value.source.endswith("absent.yaml")
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("name: caf\xe9".encode("latin-1"))
    with pytest.raises(NetworkFileError, match="cannot read"):
        files.load(latin)


# ---- loading never runs code ---------------------------------------------------------------------
PAYLOADS = [
    '!!python/object/apply:os.system ["touch {marker}"]',
    '!!python/object/apply:subprocess.call [["touch", "{marker}"]]',
    '!!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
    '!!python/name:os.system',
    '!!python/module:os',
]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("place", ["top", "name", "node"])
def test_python_tags_are_refused_and_never_run(tmp_path, payload, place):
    marker = tmp_path / "pwned"
    tag = payload.format(marker=marker)
    text = {"top": tag + "\n",
            "name": GOOD.replace("name: demo", f"name: {tag}"),
            "node": GOOD.replace("model: identity", f"model: {tag}", 1)}[place]
    with pytest.raises(NetworkFileError) as info:
        files.loads(text)
    assert "python/" in str(info.value) and "line" in info.value.where
    assert not marker.exists()


def test_the_payload_is_live(tmp_path):
    """The payloads above do run under an unsafe loader: the test above would notice a regression."""
    marker = tmp_path / "pwned"
    yaml.unsafe_load(PAYLOADS[0].format(marker=marker))
    assert marker.exists()


def test_aliases_are_refused():
    text = GOOD.replace("name: demo", "name: &n demo\ndescription: *n")
    with pytest.raises(NetworkFileError, match="aliases") as info:
        files.loads(text)
    assert info.value.where == "line 3, column 14"


def test_billion_laughs_is_refused_quickly():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    with pytest.raises(NetworkFileError, match="aliases"):
        files.loads("\n".join(lines))


@pytest.mark.parametrize("text, line", [
    (GOOD.replace("name: demo", "name: demo\nname: other"), 3),
    (GOOD.replace("  model: identity\n- id: b", "  model: identity\n  id: again\n- id: b", 1), 7),
    ('{"schema": "workbench.network/1", "name": "a",\n "name": "b", "nodes": []}', 2),
])
def test_duplicate_keys_are_refused(text, line):
    with pytest.raises(NetworkFileError, match="duplicate key") as info:
        files.loads(text)
    assert info.value.where.startswith(f"line {line},")


def test_unhashable_keys_are_refused_not_crashing():
    with pytest.raises(NetworkFileError, match="a key must be text"):
        files.loads("? [a, b]\n: 1\n")


# ---- specific characters that YAML 1.1 and PyYAML handle badly -----------------------------------
@pytest.mark.parametrize("text", ["nel\x85here", "del\x7fhere", "\ufffe", "x\u2028y", "\ufeffbom"])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_awkward_characters_round_trip(text, fmt):
    net = Network(text)
    net.add("identity", text, name=text)
    again = files.loads(files.dumps(net, fmt))
    assert again.name == text and list(again.nodes) == [text] and again.nodes[text].name == text


def test_large_floats_in_json_stay_numbers():
    net = Network("far")
    net.add("identity", "a", position=(1e20, -1e-300))
    again = files.loads(files.dumps(net, "json"))
    assert again.nodes["a"].position == (1e20, -1e-300)
    assert all(math.isfinite(v) for v in again.nodes["a"].position)


def test_saving_where_one_cannot_write(tmp_path):
    net = Network("t")
    net.add("identity", "a")
    with pytest.raises(NetworkFileError, match="cannot write the file") as info:
        save_network(net, tmp_path / "missing-folder" / "net.yaml")
    assert info.value.source.endswith("net.yaml")
