"""The ``workbench`` command line, on networks of builtin models (and numpy's digits-logreg)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from workbench import Network, save_network
from workbench.cli import cli


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def invoke(home):
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, [str(a) for a in args], env={"WORKBENCH_HOME": str(home)}, catch_exceptions=False)
    return invoke


@pytest.fixture
def chain_file(tmp_path):
    net = Network("chain ✓", protocol="pipeline")
    net.add("identity", "first"), net.add("delay", "wait", params={"seconds": 0.001}), net.add("identity", "last")
    net.connect("first", "wait"), net.connect("wait", "last")
    return save_network(net, tmp_path / "chain.yaml")


@pytest.fixture
def vote_file(tmp_path):
    net = Network("logreg pair", protocol="vote")
    net.add("digits-logreg", "lr1"), net.add("digits-logreg", "lr2"), net.add("vote", "vote")
    net.connect("lr1", "vote"), net.connect("lr2", "vote")
    return save_network(net, tmp_path / "pair.json")


def one_line_error(result, *needles):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def test_examples(invoke):
    rows = json.loads(invoke("examples", "--json").output)
    ensemble = next(r for r in rows if r["name"] == "digits-ensemble")
    assert (ensemble["protocol"], ensemble["nodes"], ensemble["pathways"], ensemble["dataset"]) == ("vote", 4, 3, "digits")
    text = invoke("examples").output
    assert text.splitlines()[0].split()[:3] == ["name", "protocol", "nodes"]
    assert any(line.startswith("digits-ensemble") for line in text.splitlines())


def test_run_prints_the_live_trace_and_stores_the_run(invoke, chain_file, home):
    result = invoke("run", chain_file, "--input", "hello wörld")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("▶ run ") and "chain ✓ · pipeline · input: hello wörld" in lines[0]
    for node in ("first", "wait", "last"):
        assert any(line.strip().startswith(f"✓ {node}") for line in lines), node
    assert lines[-1].startswith("✓ ok in") and "hello wörld" in lines[-1]
    assert (home / "runs.sqlite").exists()

    (record,) = json.loads(invoke("runs", "list", "--json").output)
    assert record["network"] == "chain ✓" and record["status"] == "ok" and record["steps"] == 3
    assert record["output"]["content"] == "hello wörld"
    assert record["id"] in lines[0]


def test_run_json(invoke, chain_file):
    result = invoke("run", chain_file, "--input", "hi", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["status"] == "ok" and doc["error"] is None
    assert doc["output"] == {"kind": "text", "content": "hi", "meta": {}}
    assert [(s["step"], s["status"]) for s in doc["steps"]] == [("first", "ok"), ("wait", "ok"), ("last", "ok")]
    assert all(s["device"] == "python/cpu" and s["seconds"] >= 0 for s in doc["steps"])


def test_run_a_vote_of_digit_classifiers(invoke, vote_file):
    doc = json.loads(invoke("run", vote_file, "--input", "17", "--json").output)
    assert doc["status"] == "ok"
    label = doc["output"]["content"]["label"]
    assert label in range(10) and doc["output"]["content"]["votes"] == {"lr1": label, "lr2": label}
    assert doc["output"]["meta"]["decision"] == f"majority {label}: 2 of 2 votes"
    shown = invoke("runs", "show", doc["run"][:8])
    assert shown.exit_code == 0
    assert "logreg pair · vote · ok" in shown.output
    assert "input: digit #17 (label 9)" in shown.output
    assert f"majority {label}: 2 of 2 votes" in shown.output


def test_runs_show_and_replay_agree(invoke, chain_file):
    run_id = json.loads(invoke("run", chain_file, "--input", "x", "--json").output)["run"]
    shown = json.loads(invoke("runs", "show", run_id[:5], "--json").output)
    assert shown["run"]["id"] == run_id and shown["run"]["status"] == "ok"
    events = shown["events"]
    assert events[0]["type"] == "run.start" and events[-1]["type"] == "run.end"
    assert [e["seq"] for e in events] == list(range(len(events)))

    replayed = invoke("runs", "replay", run_id, "--json")
    assert replayed.exit_code == 0
    lines = [json.loads(line) for line in replayed.output.splitlines()]
    assert lines == events  # the same events, in the same order, field by field

    text = invoke("runs", "replay", run_id).output.splitlines()
    assert text[0].startswith(f"▶ run {run_id}") and text[-1].startswith("✓ ok")


def test_a_failing_run_exits_non_zero(invoke, tmp_path):
    net = Network("too slow")
    net.add("delay", "nap", params={"seconds": 30})
    path = save_network(net, tmp_path / "slow.yaml")
    result = invoke("run", path, "--input", "x", "--timeout", "0.05", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["status"] == "failed" and doc["steps"][0]["status"] == "timeout"
    assert [r["status"] for r in json.loads(invoke("runs", "list", "--json").output)] == ["failed"]
    assert json.loads(invoke("runs", "list", "--status", "ok", "--json").output) == []


def test_runs_list_when_empty(invoke):
    assert "no runs stored yet" in invoke("runs", "list").output
    assert json.loads(invoke("runs", "list", "--json").output) == []


# ---- errors: one clear line, non-zero exit ------------------------------------------------------------
def test_unknown_network_name(invoke):
    line = one_line_error(invoke("run", "no-such-network", "--input", "x"), "no-such-network", "digits-ensemble")
    assert "no shipped example" in line


def test_malformed_network_file(invoke, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("schema: workbench.network/1\nname: bad\nnodes:\n- id: a\n  model: telepathy\n", encoding="utf-8")
    one_line_error(invoke("run", path, "--input", "x"), str(path), "nodes[0].model (line 5)", "'telepathy'")
    path.write_text("schema: workbench.network/1\nname: [unclosed\n", encoding="utf-8")
    one_line_error(invoke("run", path, "--input", "x"), "line 3", "not valid YAML")


def test_unknown_run_id(invoke, chain_file):
    invoke("run", chain_file, "--input", "x")
    one_line_error(invoke("runs", "show", "zzz"), "no stored run matches 'zzz'")
    one_line_error(invoke("runs", "replay", "zzz"), "'zzz'")


def test_bad_digit_input(invoke, vote_file):
    one_line_error(invoke("run", vote_file, "--input", "seven"), "held-out index")
    one_line_error(invoke("run", vote_file, "--input", "4500"), "out of range")


def test_no_input_and_no_dataset_is_a_usage_error(invoke, chain_file):
    result = invoke("run", chain_file)
    assert result.exit_code == 2 and "give an --input" in result.output


def test_errors_from_the_real_command(tmp_path):
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "run", str(tmp_path / "missing.yaml"), "--input", "x"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [f"Error: {tmp_path / 'missing.yaml'}: no such file"]


def test_dataset_mode_scores_every_node_and_stores_every_run(invoke, tmp_path):
    net = Network("pair", protocol="vote", dataset="digits")
    net.add("digits-logreg", "lr1"), net.add("digits-logreg", "lr2"), net.add("vote", "vote")
    net.connect("lr1", "vote"), net.connect("lr2", "vote")
    path = save_network(net, tmp_path / "pair.yaml")
    result = invoke("run", path, "--limit", "12", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["runs"], doc["failed_runs"], doc["dataset"]) == (12, 0, "digits")
    rows = {r["name"]: r for r in doc["rows"]}
    assert {"lr1", "lr2", "vote"} <= set(rows)
    assert all(rows[n]["total"] == 12 and 0 <= rows[n]["correct"] <= 12 for n in ("lr1", "lr2", "vote"))
    stored = json.loads(invoke("runs", "list", "--limit", "50", "--json").stdout)
    assert len(stored) == 12 and {r["meta"]["batch"] for r in stored} == {doc["batch"]}
    assert sorted(r["meta"]["index"] for r in stored) == list(range(12))


def test_eval_compares_members_with_the_protocols_and_stores_every_run(invoke, tmp_path):
    saved = tmp_path / "figures.json"
    result = invoke("eval", "digits-ensemble", "--limit", "20", "--threshold", "0.9", "--json", "--save", saved)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert json.loads(saved.read_text(encoding="utf-8")) == doc
    assert (doc["network"], doc["dataset"], doc["examples"]) == ("digits-ensemble", "digits", 20)
    kinds = [(r["name"], r["kind"]) for r in doc["rows"]]
    assert kinds == [("cnn", "member"), ("mlp", "member"), ("logreg", "member"), ("digits-ensemble", "vote"),
                     ("soft-vote of 3", "soft-vote"), ("cascade @ 0.9", "cascade")]
    for row in doc["rows"]:
        assert {"name", "kind", "accuracy", "calls", "seconds"} <= set(row) and row["total"] == 20
        assert row["accuracy"] == row["correct"] / 20 and row["seed"] is None
    assert [s["margin"] for s in doc["summary"] if s["name"] == "cnn"] == [0.0]  # the CNN is the best member here
    stored = json.loads(invoke("runs", "list", "--limit", "500", "--json").stdout)
    assert len(stored) == 6 * 20 and {r["meta"]["batch"] for r in stored} == {r["batch"] for r in doc["rows"]}
    cascade = doc["rows"][-1]
    of_cascade = json.loads(invoke("runs", "list", "--batch", cascade["batch"], "--limit", "500", "--json").stdout)
    assert sorted(r["meta"]["index"] for r in of_cascade) == list(range(20))
    assert {r["network"] for r in of_cascade} == {"digits-ensemble:cascade"}

    table = invoke("eval", "digits-ensemble", "--limit", "20").output
    assert "cascade @ 0.6" in table and ("better together:" in table or "no protocol beat the best member" in table)


@pytest.mark.parametrize("seeds", ["0,x", "1,1", ",", "1,,2", "-1", str(2 ** 63), "99999999999999999999999",
                                   "1_000", "\u0663", "+4", "0,01", " 1"])
def test_eval_refuses_bad_seeds(invoke, seeds):
    result = invoke("eval", "digits-ensemble", "--seeds", seeds)
    assert result.exit_code == 2 and "Invalid value for '--seeds'" in result.output


def test_eval_checks_where_it_will_save_before_it_runs(invoke, tmp_path):
    result = invoke("eval", "digits-ensemble", "--save", tmp_path / "no-such-folder" / "x.json")
    assert result.exit_code == 2 and "does not exist" in result.output
    (tmp_path / "dangling").symlink_to(tmp_path / "gone" / "x.json")
    result = invoke("eval", "digits-ensemble", "--save", tmp_path / "dangling")
    assert result.exit_code == 2 and f"folder '{tmp_path.resolve() / 'gone'}' does not exist" in result.output
    for name, says in (("", "give a file name"), (tmp_path, "is a directory")):
        result = invoke("eval", "digits-ensemble", "--save", name)
        assert result.exit_code == 2 and says in result.output
    assert "no runs stored yet" in invoke("runs", "list").output  # nothing ran


def failing_file(tmp_path):
    """Digits into a soft vote through an identity: the vote finds no probabilities and every run fails."""
    net = Network("always fails", dataset="digits")
    net.add("identity", "pass"), net.add("soft-vote", "combine")
    net.connect("pass", "combine")
    return save_network(net, tmp_path / "fails.yaml")


@pytest.mark.parametrize("command", [["eval"], ["run"]])
def test_failed_runs_are_reported_with_their_error_and_exit_non_zero(invoke, tmp_path, command):
    result = invoke(*command, failing_file(tmp_path), "--limit", "3")
    assert result.exit_code == 1
    assert "always fails: 3 of 3 runs failed (scored as wrong); first: step 'combine' failed: ValueError: " \
           "no usable scores" in result.stderr
    statuses = sorted(r["status"] for r in json.loads(invoke("runs", "list", "--json").output))
    assert statuses == ["failed"] * 3 + ([] if command == ["run"] else ["ok"] * 3)  # eval: also the identity alone


def test_eval_refuses_a_data_set_its_models_cannot_read(invoke):
    result = invoke("eval", "digits-ensemble", "--dataset", "text-tasks", "--limit", "1")
    assert result.exit_code == 1
    assert "data set 'text-tasks' gives 'text' inputs, but network 'digits-ensemble' takes 'image.digits'" in \
        result.output
    assert "no runs stored yet" in invoke("runs", "list").output


def test_runs_list_says_when_filters_match_nothing(invoke, chain_file):
    invoke("run", chain_file, "--input", "x")
    assert invoke("runs", "list", "--batch", "nope").output.strip() == "no stored run matches these filters"
    assert invoke("runs", "list", "--status", "running").output.strip() == "no stored run matches these filters"
    assert invoke("runs", "list", "--batch", "").exit_code == 2  # not "every batch"


def test_json_listings_are_json_when_empty(invoke):
    assert json.loads(invoke("peers", "list", "--json").output) == []
    assert json.loads(invoke("runs", "list", "--json").output) == []
