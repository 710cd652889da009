"""The calculator tool: exact answers to arithmetic and unit conversions asked in English; confidence 0 else."""
from fractions import Fraction

import pytest

from workbench import Engine, ModelCard, Network, PythonModel, Trace
from workbench.backends.calculator import Calculator, Unreadable, _number
from workbench.core.messages import Message
from workbench.data.textsets import check_answer, text_tasks
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
    # exact: integers in full, decimals as written, conversions in fractions
    ("What is 123456 * 654321?", "123456 * 654321 = 80779853376"),
    ("12345678901 + 1", "12345678901 + 1 = 12345678902"),
    ("99999999999999999999 + 1", "99999999999999999999 + 1 = 100000000000000000000"),
    ("What is 0.1 + 0.2?", "0.1 + 0.2 = 0.3"),
    ("-7/4", "-7/4 = -1.75"),
    ("100000000000000000000/3", "100000000000000000000/3 = 33333333333333333333.3"),
    ("How many seconds are in 12345678901 hours?", "12345678901 hours = 44444444043600 seconds"),
    # NFKC and digits of any script; a glued minus when a calculation is asked for
    ("１２ + ７", "12 + 7 = 19"),
    ("What is ٣ + ٤?", "3 + 4 = 7"),
    ("What is 100-37?", "100-37 = 63"),
    ("7 \u2212 5", "7 - 5 = 2"),
    ("(" * 60 + "1 + 1" + ")" * 60, "(" * 60 + "1 + 1" + ")" * 60 + " = 2"),
    ("Convert 180 degrees to radians", "180 degrees = 3.141592654 radians"),  # no 50-place pi
    ("What is 1 / 8?", "1 / 8 = 0.125"),
    ("What is the difference between 3 and 10?", "10 - 3 = 7"),  # a difference between is never negative
    ("What does 7 + 5 equal?", "7 + 5 = 12"),
    ("How many grams are in 1 Mg?", "1 Mg = 1000000 grams"),  # a megagram, not a milligram
    ("How many grams are in 1 mg?", "1 mg = 0.001 grams"),
    ("How many months are in 2 years?", "2 years = 24 months"),
    ("How many Kilometers is 5000 meters?", "5000 meters = 5 Kilometers"),
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
    # number-like tokens it cannot read, never a part of one
    ("What is 1e5 + 1?", "cannot read '1e5' as a number"),
    ("1e400*1", "cannot read '1e400' as a number"),
    ("1e309 m in cm", "cannot read '1e309' as a number"),
    ("0x10 + 1", "cannot read '0x10' as a number"),
    ("what is 2,5 + 1", "cannot read '2,5' as a number"),
    ("What is 1.2.3 + 4?", "cannot read '1.2.3' as a number"),
    ("2024-12-04", "cannot read '04' as a number"),
    ("3x4", "cannot read '3x4' as a number"),
    ("555-1234", "'555-1234' may be a phone number"),
    ("call 555-1234", "the request says more than '555-1234' (call)"),
    ("It takes 3-5 days", "the request says more than '3-5' (it takes days)"),
    ("1 + 1\u200b + 1", "cannot read the character U+200B"),
    ("What is 5\u00b2 + 1?", "cannot read the character U+00B2"),
    ("x - 1 + 2", "cannot read '1 + 2' apart from the operators"),
    ("2 + 3 ^ 2", "cannot read '2 + 3' apart from the operators"),
    # every number of the request is read, or none: else the answer is to another question
    ("What is 20% of 50 + 1?", "the request holds numbers besides '50 + 1' (20)"),
    ("What is 2 to the power of 3 plus 1?", "the request holds numbers besides '3 + 1' (2)"),
    ("add 3 and 4, then 5", "the request holds numbers besides 'add 3 and 4' (5)"),
    ("How many grams are in 2 kilograms and 3 pounds?", "the request holds numbers besides"),
    # ... and every word: one that is no part of a question's frame changes the question
    ("What happened on 1969-7-20?", "the request says more than '1969-7-20' (happened on)"),
    ("What is the area code of 555-1234?", "the request says more than '555-1234' (area code)"),
    ("What is sqrt(16 + 9)?", "the request says more than '(16 + 9)' (sqrt)"),
    ("What is the absolute value of 3 - 5?", "the request says more than '3 - 5' (absolute)"),
    ("What is twice 3 + 4?", "the request says more than '3 + 4' (twice)"),
    ("What is negative 3 + 4?", "the request says more than '3 + 4' (negative)"),
    ("What is half of 10 + 4?", "the request says more than '10 + 4' (half)"),
    ("What is 10 + 5 squared?", "the request says more than '10 + 5' (squared)"),
    ("What is 50 + 20 percent?", "the request says more than '50 + 20' (percent)"),
    ("What is 7 / 2 rounded down?", "the request says more than '7 / 2' (rounded down)"),
    ("What is 10 + 5 in binary?", "the request says more than '10 + 5' (in binary)"),
    ("What is 10 + 5 minutes in seconds?", "the request says more than '10 + 5' (minutes in seconds)"),
    ("Is 10 - 3 even?", "the request says more than '10 - 3' (even)"),
    ("What is 2 + 2 and what is the capital of France?", "the request says more than '2 + 2' (and capital france)"),
    ("How many meters are in a km and how many feet are in a mile?", "the request says more than"),
    ("How many meters are in 3 km/h?", "the request says more than 'how many meters are in 3 km' (/h)"),
    ("How many minutes are in an hour and a half?", "the request says more than"),
    ("How many hours are in a day on Mars?", "the request says more than"),
    ("How many centimeters are in a meter cubed?", "the request says more than"),
    # units: symbols keep their case, and what has no single definition is declined
    ("How many joules are in 1 Cal?", "cannot tell which unit 'Cal' is"),
    ("How many acres are in a square mile?", "'acres' has more than one definition"),
    ("How many days are in a month?", "a month has no fixed length in days"),
    ("How many weeks are in a year?", "a year has no fixed length in weeks"),
    ("Convert -500 kelvin to celsius", "-500 kelvin is below absolute zero"),
    ("How many kelvin are in -300 celsius?", "-300 celsius is below absolute zero"),
    ("How many percent are in 3 decibels?", "cannot convert decibels to percent exactly"),
    ("How many decibels are in 2 nepers?", "cannot convert"),
    # statements are no conversion requests, and English words no units
    ("There are 3 days in a week", "no arithmetic or unit conversion found"),
    ("There are 100 centimeters in a meter", "no arithmetic or unit conversion found"),
    # failures are refusals, and the input is bounded
    ("2 ** 3 + 1", "cannot compute: not arithmetic"),
    ("10 ** 10000", "no arithmetic"),
    (" + ".join(["1"] * 1000), "too long"),
    ("9" * 5000, "too long"),
])
def test_anything_else_gets_no_answer_and_confidence_zero_with_a_reason(question, reason):
    out = ask(question)
    assert out.content == "" and out.meta["confidence"] == 0.0 and out.meta["reason"].startswith(reason)


def test_a_result_over_1000_digits_is_refused():
    with pytest.raises(Unreadable, match="more than 1000 digits"):
        _number(Fraction(10**1001))


def test_answers_every_arithmetic_and_units_task_of_the_shipped_set_and_no_other():
    for task in text_tasks():
        out = ask(task["question"])
        if task["category"] in ("arithmetic", "units"):
            assert out.meta["confidence"] == 1.0 and check_answer(task, out.content), (task, out)
        else:
            assert out.meta["confidence"] == 0.0 and out.content == "", (task, out)


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
    trace = Trace()
    escalated = engine.run_sync(net, Message("text", "Who wrote Hamlet?"), sinks=[trace])
    assert escalated.output.meta["answered_by"] == "fallback"
    assert [e.decision for e in trace if e.type == "decision"][0] == \
        "escalated: confidence 0.00 < 0.50 (calculator: no arithmetic or unit conversion found), cost so far 0.01"
    assert escalated.output.content == "echo: Who wrote Hamlet?"


def test_a_cascade_compares_every_member_alone_and_never_samples_a_tool():
    from workbench.examples import load_network

    rows = [(name, kind) for name, kind, _ in variants(load_network("text-with-tools"))]
    assert rows == [("calculator", "member"), ("solver", "member"), ("text-with-tools", "cascade"),
                    ("self-consistency ×5 of solver", "self-consistency")]
