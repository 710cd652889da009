"""The shipped language-model networks, in process and through ``workbench run``; the CLI's live rendering."""
import io

import click
import pytest
from llm_helpers import run_cli

from workbench import Engine, Trace
from workbench.backends.progress import Progress
from workbench.console import LoadPrinter, TracePrinter
from workbench.engine.events import DECISION, STEP_END, STEP_START, STEP_TOKEN, Event
from workbench.examples import load_network

FRANCE = "What is the capital of France?"


def shortened(name: str, tokens: int):
    net = load_network(name)
    for node in net.nodes.values():
        if "max_new_tokens" in node.params:
            node.params["max_new_tokens"] = tokens
    return net


@pytest.mark.slow
@pytest.mark.parametrize("question, chosen, skipped", [("What is 15 plus 27?", "math", "general"),
                                                       (FRANCE, "general", "math")])
async def test_ask_specialists_routes_by_meaning_then_refines(torch_chat, minilm, question, chosen, skipped):
    trace = Trace()
    result = await Engine(sinks=[trace]).run(shortened("ask-specialists", 12), question)
    assert result.ok, result.error
    steps = result.steps
    assert steps[chosen].status == "ok" and steps[skipped].error == "not routed here"
    assert [e.decision.split(":")[0] for e in trace if e.type == DECISION] == [f"routed to {chosen}"]
    refine_input = next(e.input for e in trace if e.type == STEP_START and e.node == "refine")
    assert refine_input.content == f"Rewrite this answer in one clear sentence: {steps[chosen].output.content}"
    assert result.output.kind == "text" and result.output.content == steps["refine"].output.content != ""
    assert {e.node for e in trace if e.type == STEP_TOKEN} == {chosen, "refine"}


@pytest.mark.slow
async def test_torch_and_mlx_answer_side_by_side(torch_chat, mlx_chat):
    result = await Engine().run(shortened("smollm2-torch-vs-mlx", 10), FRANCE)
    assert result.ok and result.output.content == ["The capital of France is Paris."] * 2
    assert {result.steps["torch"].device, result.steps["mlx"].device} == {"torch/cpu", "mlx/cpu"}


@pytest.mark.slow
def test_workbench_run_streams_the_answer_and_reads_the_weight_cache(torch_chat, minilm, llm_home):
    done = run_cli("run", "ask-specialists", "--input", FRANCE)
    assert done.returncode == 0, done.stderr
    out, err = done.stdout, done.stderr
    assert "◆ router         routed to general: similarity" in out
    assert "    general        │ The capital of France is Paris." in out
    assert "– math                        not routed here" in out and "✓ ok in" in out
    assert "loading math: loading cached weights" in err and "dequantizing" not in err


def token(node: str, text: str, seq: int) -> Event:
    return Event(STEP_TOKEN, "r1", seq, 0.0, step=node, node=node, output=text)


def test_streamed_pieces_flow_onto_one_line_per_node():
    lines, written = [], []
    printer = TracePrinter(echo=lines.append, write=written.append, width=5)
    for event in [token("a", "Hello", 1), token("a", " world\nbye", 2), token("b", "Other", 3),
                  Event(STEP_END, "r1", 4, 0.0, step="a", node="a", status="ok", start=0.0, end=0.5)]:
        printer(event)
    text = click.unstyle("".join(written))
    assert "    a     │ Hello world\n" in text and "    a     │ bye\n" in text
    assert text.endswith("    b     │ Other\n")  # closed before the step.end line
    assert len(lines) == 1 and "a" in lines[0]


def test_load_progress_prints_a_line_per_stage_and_the_finished_bar():
    out = io.StringIO()
    printer = LoadPrinter(file=out, width=10)
    printer("chat", Progress("m", "reading the tokenizer"))
    for done in range(0, 273, 34):
        printer("chat", Progress("m", "dequantizing", done, 272))
    printer("chat", Progress("m", "dequantizing", 272, 272))
    printer.close()
    assert out.getvalue().splitlines() == ["  ⋯ loading chat: reading the tokenizer",
                                           "  ⋯ loading chat: dequantizing  [..........] 0/272",
                                           "  ⋯ loading chat: dequantizing  [##########] 272/272"]


@pytest.mark.slow
async def test_text_together_is_compared_with_each_assistant_alone_and_the_text_protocols(torch_chat):
    from workbench.data import get_dataset
    from workbench.engine.compare import compare, summarise

    tasks = get_dataset("text-tasks")
    with Engine() as engine:
        rows = await compare(engine, shortened("text-together", 12), tasks, tasks.load()[:2], seeds=[0, 1])
    kinds = [(r.kind, r.seed) for r in rows]
    assert kinds == [("member", None)] * 3 + [(kind, seed) for kind in ("moa", "self-consistency", "debate")
                                              for seed in (0, 1)]
    calls = {r.kind: r.calls for r in rows}
    assert (calls["member"], calls["moa"], calls["self-consistency"]) == (1, 4, 5) and 3 <= calls["debate"] <= 6
    assert all(r.total == 2 and 0 <= r.correct <= 2 for r in rows)
    assert {s.kind: s.seeds for s in summarise(rows)} == {"member": 1, "moa": 2, "self-consistency": 2, "debate": 2}
