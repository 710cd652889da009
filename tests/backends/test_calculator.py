"""The calculator tool: exact answers to arithmetic and unit conversions asked in English; confidence 0 else."""
import pytest

from workbench import Engine, ModelCard, Network, PythonModel
from workbench.backends.calculator import Calculator
from workbench.core.messages import Message
from workbench.engine.compare import variants
from workbench.models import card_of

pytest.importorskip("pint")
calculator = Calculator(card_of("calculator"))


def ask(text):
    return calculator.invoke(Message("text", text))


# phrasings beyond those of the shipped text-tasks set
@pytest.mark.parametrize("question, answer", [
    ("What's 1,250 plus 750?", "1250 + 750 = 2000"),
    ("(2 + 3) * 4", "(2 + 3) * 4 = 20"),
    ("How much is 7 multiplied by 6, please?", "7 * 6 = 42"),
    ("What is 10 divided by 4?", "10 / 4 = 2.5"),
    ("Please divide 81 by 9", "81 / 9 = 9"),
    ("What is the quotient of 1 and 3?", "1 / 3 = 0.3333333333"),
    ("What do you get when you take 4 from 10?", "10 - 4 = 6"),
    ("Compute -3 + 5 × 2.", "-3 + 5 * 2 = 7"),
    ("How many feet are there in 1 mile?", "1 mile = 5280 feet"),
    ("Convert 100 fahrenheit into celsius", "100 fahrenheit = 37.77777778 celsius"),
    ("How many liters make up 2 cubic meters?", "2 cubic meters = 2000 liters"),
    ("2.5 hours in seconds?", "2.5 hours = 9000 seconds"),
    ("How many minutes is an hour?", "1 hour = 60 minutes"),
])
def test_answers_exactly_with_full_confidence(question, answer):
    out = ask(question)
    assert (out.content, out.meta["confidence"]) == (answer, 1.0)


@pytest.mark.parametrize("question, reason", [
    ("What is the capital of France?", "no arithmetic or unit conversion found"),
    ("Is 7 greater than 3?", "no arithmetic or unit conversion found"),
    ("How many legs are in 2 spiders?", "no arithmetic or unit conversion found"),
    ("How many meters are in 3 kilograms?", "no arithmetic or unit conversion found"),  # not convertible
    ("What is 5 / 0?", "cannot compute"),
    ("__import__('os').system('echo hi') + 1", "no arithmetic"),
    ("", "no arithmetic"),
])
def test_anything_else_gets_no_answer_and_confidence_zero_with_a_reason(question, reason):
    out = ask(question)
    assert out.content == "" and out.meta["confidence"] == 0.0 and out.meta["reason"].startswith(reason)


def test_a_non_text_input_is_no_request():
    assert calculator.invoke(Message("text", ["not", "text"])).meta["confidence"] == 0.0


def test_a_cascade_takes_the_tool_when_it_computes_and_escalates_when_it_cannot():
    net = Network("tools", "cascade", options={"threshold": 0.5})
    net.add("calculator", "calculator")
    net.add(PythonModel(lambda content: f"echo: {content}", ModelCard("echo", "python", "text", "text")), "fallback")
    net.connect("calculator", "fallback")
    engine = Engine()
    computed = engine.run_sync(net, Message("text", "What is 6 times 7?"))
    assert computed.output.content == "6 * 7 = 42" and computed.output.meta["answered_by"] == "calculator"
    assert computed.steps["calculator"].status == "ok" and "fallback" not in computed.steps
    escalated = engine.run_sync(net, Message("text", "Who wrote Hamlet?"))
    assert escalated.output.meta["answered_by"] == "fallback"
    assert escalated.output.content == "echo: Who wrote Hamlet?"


def test_a_cascade_compares_every_member_alone_and_never_samples_a_tool():
    from workbench.examples import load_network

    rows = [(name, kind) for name, kind, _ in variants(load_network("text-with-tools"))]
    assert rows == [("calculator", "member"), ("solver", "member"), ("text-with-tools", "cascade"),
                    ("self-consistency ×5 of solver", "self-consistency")]
