"""The shipped text data sets (router questions, specialists, checkable tasks) and the answer checker."""
import json
import re
import statistics
from collections import Counter
from importlib import resources

import pytest

from workbench.data import textsets
from workbench.data.textsets import (
    SPECIALISTS,
    TASK_CATEGORIES,
    answer_kind,
    check_answer,
    normalise,
    router_questions,
    router_specialists,
    stated_number,
    text_tasks,
)

QUESTIONS = router_questions()
TASKS = text_tasks()
BY_ID = {item["id"]: item for item in TASKS}


def task(question: str) -> dict:
    """The shipped task with exactly this question."""
    [item] = [item for item in TASKS if item["question"] == question]
    return item


# --- the files ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [textsets.ROUTER_QUESTIONS_FILE, textsets.ROUTER_SPECIALISTS_FILE,
                                  textsets.TEXT_TASKS_FILE])
def test_files_are_package_data_in_utf8_with_one_object_a_line(name):
    text = resources.files("workbench.data").joinpath(name).read_text(encoding="utf-8")
    assert text.endswith("\n") and "\r" not in text
    if name.endswith(".jsonl"):
        for line in text.splitlines():
            assert isinstance(json.loads(line), dict)


def test_loaders_return_fresh_copies():
    router_questions()[0]["question"] = "changed"
    text_tasks()[0]["accept"].append("changed")
    assert router_questions()[0]["question"] != "changed"
    assert "changed" not in text_tasks()[0]["accept"]


# --- router questions -----------------------------------------------------------------------------------

def test_router_questions_count_and_balance():
    counts = Counter(q["specialist"] for q in QUESTIONS)
    assert set(counts) == set(SPECIALISTS)
    assert len(QUESTIONS) >= 240
    assert min(counts.values()) >= 60
    assert max(counts.values()) - min(counts.values()) <= 5


def test_router_questions_are_well_formed():
    for i, q in enumerate(QUESTIONS, 1):
        assert set(q) == {"id", "question", "specialist"}
        assert q["id"] == f"r{i:03d}"
        assert q["specialist"] in SPECIALISTS
        text = q["question"]
        assert text == text.strip() and "  " not in text and "\n" not in text
        assert text[0].isupper() or text[0].isdigit(), text
        assert text[-1] in "?.", text
        assert 2 <= len(text.split()) <= 30, text
        assert text.isascii() or all(ch.isprintable() for ch in text)


def test_router_ids_and_questions_are_unique():
    assert len({q["id"] for q in QUESTIONS}) == len(QUESTIONS)
    assert len({normalise(q["question"]) for q in QUESTIONS}) == len(QUESTIONS)


def test_router_questions_are_interleaved_so_prefixes_are_balanced():
    first = Counter(q["specialist"] for q in QUESTIONS[:40])
    assert all(first[s] == 10 for s in SPECIALISTS)


@pytest.mark.parametrize("specialist", SPECIALISTS)
def test_router_questions_are_not_one_template(specialist):
    texts = [q["question"] for q in QUESTIONS if q["specialist"] == specialist]
    openings = Counter(" ".join(normalise(t).split()[:4]) for t in texts)
    assert openings.most_common(1)[0][1] <= len(texts) // 8, openings.most_common(3)
    lengths = [len(t.split()) for t in texts]
    assert max(lengths) - min(lengths) >= 10
    assert statistics.pstdev(lengths) >= 2.0


def test_router_specialists_describe_each_category_in_one_sentence():
    specs = router_specialists()
    assert list(specs) == list(SPECIALISTS)
    for description in specs.values():
        assert description.endswith(".") and description.count(".") == 1
        assert 6 <= len(description.split()) <= 25


def test_hard_cases_follow_the_dominant_intent_rule():
    label = {q["question"]: q["specialist"] for q in QUESTIONS}
    assert label["A recipe for 4 people calls for 300 g of rice. How much rice do I need for 10 people?"] == "math"
    assert label["Write a function that returns the nth Fibonacci number."] == "programming"
    assert label["Why does 0.1 + 0.2 not equal 0.3 in most programming languages?"] == "programming"
    assert label["How tall is Mount Everest?"] == "geography"
    assert label["How many minutes per pound should I roast a turkey?"] == "cooking"


# --- text tasks -----------------------------------------------------------------------------------------

def test_text_tasks_count_and_balance():
    counts = Counter(t["category"] for t in TASKS)
    assert set(counts) == set(TASK_CATEGORIES)
    assert len(TASKS) >= 160
    assert min(counts.values()) >= 40


def test_text_tasks_are_well_formed():
    for i, t in enumerate(TASKS, 1):
        assert list(t) == ["id", "category", "question", "answer", "accept"]
        assert t["id"] == f"t{i:03d}"
        assert t["category"] in TASK_CATEGORIES
        assert isinstance(t["answer"], str) and t["answer"]
        assert isinstance(t["accept"], list) and t["accept"]
        assert all(isinstance(a, str) for a in t["accept"]), t
        if answer_kind(t) != "number":
            assert all(a == normalise(a) for a in t["accept"]), t
        assert len(set(t["accept"])) == len(t["accept"])
        assert len(t["question"].split()) <= 25, t  # short enough for a 135M model


def test_text_task_ids_and_questions_are_unique():
    assert len(BY_ID) == len(TASKS)
    assert len({normalise(t["question"]) for t in TASKS}) == len(TASKS)


def test_text_tasks_answer_kinds_match_categories():
    for t in TASKS:
        kind = answer_kind(t)
        if t["category"] == "arithmetic":
            assert kind == "number" and re.fullmatch(r"\d+", t["answer"]), t
        elif t["category"] == "units":
            assert kind == "number", t
        elif t["category"] == "capitals":
            assert kind == "word", t
        else:
            assert kind in ("yesno", "word"), t
        if kind == "number":
            assert t["accept"] == [t["answer"]]
        else:
            assert normalise(t["answer"]) in t["accept"], t


def test_logic_has_both_yes_and_no_in_fair_proportion():
    answers = Counter(t["answer"] for t in TASKS if t["category"] == "logic" and answer_kind(t) == "yesno")
    assert answers["yes"] >= 12 and answers["no"] >= 12
    assert abs(answers["yes"] - answers["no"]) <= 4


def test_echoing_the_question_cannot_pass():
    """No word answer is in its own question, and no yes/no question says yes or no."""
    for t in TASKS:
        words = f" {normalise(t['question'])} "
        if answer_kind(t) == "word":
            assert not any(f" {a} " in words for a in t["accept"]), t
        if answer_kind(t) == "yesno":
            assert " yes " not in words and " no " not in words, t
        assert not check_answer(t, t["question"]), t


def test_arithmetic_answers_are_right():
    ops = {"+": int.__add__, "plus": int.__add__, "-": int.__sub__, "minus": int.__sub__,
           "*": int.__mul__, "×": int.__mul__, "times": int.__mul__}
    checked = 0
    for t in TASKS:
        m = re.fullmatch(r"(?:What is|How much is) (\d+) (\+|-|\*|×|plus|minus|times) (\d+)\?", t["question"])
        if t["category"] == "arithmetic" and m:
            assert ops[m[2]](int(m[1]), int(m[3])) == int(t["answer"]), t
            checked += 1
    assert checked >= 30
    assert task("Subtract 9 from 20.")["answer"] == "11"
    assert task("What is 48 divided by 6?")["answer"] == "8"
    assert task("What is the difference between 90 and 35?")["answer"] == "55"


def test_some_unit_answers():
    assert task("How many meters are in 3 kilometers?")["answer"] == "3000"
    assert task("How many kilometers is 500 meters?")["answer"] == "0.5"
    assert task("Convert 250 centimeters to meters.")["answer"] == "2.5"
    assert task("How many seconds are in 1 hour?")["answer"] == "3600"


@pytest.mark.parametrize("item", TASKS, ids=lambda t: t["id"])
def test_every_item_accepts_its_own_answer_and_rejects_a_wrong_one(item):
    assert check_answer(item, item["answer"])
    assert check_answer(item, f"The answer is {item['answer']}.")
    for accepted in item["accept"]:
        assert check_answer(item, accepted.upper())
    kind = answer_kind(item)
    if kind == "number":
        wrong = str(float(item["answer"]) + 1)
    elif kind == "yesno":
        wrong = "yes" if item["answer"] == "no" else "no"
    else:
        wrong = "I do not know."
    assert not check_answer(item, wrong)
    assert not check_answer(item, "")


# --- the checker on realistic outputs -------------------------------------------------------------------

SUM = {"question": "What is 7 + 5?", "answer": "12", "accept": ["12"]}
BIG = {"question": "How many meters are in 12 kilometers?", "answer": "12000", "accept": ["12000"]}
HALF = {"question": "How many kilometers is 500 meters?", "answer": "0.5", "accept": ["0.5"]}
NEG = {"question": "What is 3 - 5?", "answer": "-2", "accept": ["-2"]}


@pytest.mark.parametrize("item, output, expected", [
    # plain and verbose
    (SUM, "12", True),
    (SUM, "12.", True),
    (SUM, "The answer is 12.", True),
    (SUM, "The answer is: 12", True),
    (SUM, "Answer: 12", True),
    (SUM, "Sure! 7 + 5 equals 12.", True),
    (SUM, "7 plus 5 is equal to 12", True),
    (SUM, "12.0", True),
    (SUM, "**12**", True),
    (SUM, "13", False),
    (SUM, "The answer is 13.", False),
    (SUM, "twelve", False),
    (SUM, "I'm not sure.", False),
    # decoy numbers: the first number after "=", "is", ... wins, else the first number
    (SUM, "7 + 5 = 12", True),
    (SUM, "3 + 9 = 12", True),
    (SUM, "The sum of 7 and 5 is 12.", True),
    (SUM, "7 + 5 = 13", False),
    (SUM, "7 + 5 = 13, or maybe 12", False),
    (SUM, "12 or 13", True),
    (SUM, "13 or 12", False),
    (SUM, "It is 12, not 13.", True),
    (SUM, "Answer: 12. Next question: 5 + 5 = 10", True),
    (SUM, "12. Next question: 5 + 5 = 10", False),  # an anchored number anywhere beats the first one
    (SUM, "7+5=12", True),
    (SUM, "5 + 7 is 12", True),
    # echoes of the question are ignored; "what is" is a question, not a statement
    (SUM, "What is 7 + 5? 12", True),
    (SUM, "what is 7 + 5?\n\n12", True),
    (SUM, "Q: What is 7 + 5?\nA: 12", True),
    (SUM, "What is 7 + 5? The answer is 13.", False),
    # thousands, decimals, signs
    (BIG, "12000", True),
    (BIG, "12,000", True),
    (BIG, "There are 12,000 meters in 12 kilometers.", True),
    (BIG, "12 kilometers is 12,000 meters.", True),
    (BIG, "12 km = 12000.0 m", True),
    (BIG, "12\u00a0000 meters", True),
    (BIG, "12\u202f000 m", True),
    (BIG, "1200", False),
    (BIG, "12", False),
    (HALF, "0.5", True),
    (HALF, "500 meters is 0.5 kilometers.", True),
    (HALF, "0.50 km", True),
    (HALF, "5", False),
    (HALF, ".5", False),
    (NEG, "-2", True),
    (NEG, "3 - 5 = -2", True),
    (NEG, "3 - 5 = \u22122", True),  # unicode minus sign
    (NEG, "2", False),
    # unicode and odd whitespace
    (SUM, "\uff11\uff12", True),  # full-width digits
    (SUM, "\n\n   12\t", True),
    (SUM, "The\u00a0answer\u00a0is\u00a012", True),
    (SUM, "The answer is\u200b 12", True),  # zero-width space: no anchor, but 12 is the first number
    (SUM, "7 + 5 =\u200b 13", False),
])
def test_numeric_outputs(item, output, expected):
    assert check_answer(item, output) is expected


def test_stated_number_pins_the_rule():
    assert stated_number("3 + 9 = 12") == 12
    assert stated_number("I think 13. Actually 3 + 9 = 12") == 12
    assert stated_number("There are 60 minutes in 1 hour") == 60
    assert stated_number("In 1 hour there are 60 minutes") == 1
    assert stated_number("The total is -7.5") == -7.5
    assert stated_number("x2 and v3 are names") is None
    assert stated_number("nothing here") is None


YES = {"question": "If all cats are animals and Tom is a cat, is Tom an animal?", "answer": "yes", "accept": ["yes"]}
NO = {"question": "Is 10 less than 4?", "answer": "no", "accept": ["no"]}


@pytest.mark.parametrize("item, output, expected", [
    (YES, "yes", True),
    (YES, "Yes.", True),
    (YES, "YES!", True),
    (YES, "Yes, Tom is an animal.", True),
    (YES, "Tom is a cat, so yes, he is an animal. No doubt.", True),
    (YES, "No.", False),
    (YES, "No, wait, yes.", False),  # the first yes/no word decides
    (YES, "Yes... no.", True),
    (YES, "Yesterday I saw Tom.", False),  # "yesterday" is not "yes"
    (YES, "Tom is an animal.", False),  # neither word: not an answer
    (YES, "If all cats are animals and Tom is a cat, is Tom an animal? Yes", True),
    (YES, "\u00a0\u00a0Yes\u3002", True),  # no-break spaces, ideographic full stop
    (YES, "\uff39\uff45\uff53", True),  # full-width "Yes"
    (YES, "**Yes**", True),
    (YES, "yes\n\nno", True),
    (NO, "no", True),
    (NO, "No, 10 is greater than 4.", True),
    (NO, "Nope.", False),  # only the words yes and no count
    (NO, "It is not.", False),
    (NO, "Not at all. No.", True),
    (NO, "Yes", False),
    (NO, "Is 10 less than 4? no", True),
    (NO, "There's no way; yes it is.", True),
])
def test_yes_no_outputs(item, output, expected):
    assert check_answer(item, output) is expected


PARIS = {"question": "What is the capital of France?", "answer": "Paris", "accept": ["paris"]}
DC = task("What is the capital of the United States?")
BRASILIA = task("What is the capital of Brazil?")
DELHI = task("What is the capital of India?")
MEXICO = task("What is the capital of Mexico?")
AUTUMN = task("Which season comes after summer?")


@pytest.mark.parametrize("item, output, expected", [
    (PARIS, "Paris", True),
    (PARIS, "paris.", True),
    (PARIS, "The capital of France is Paris.", True),
    (PARIS, "PARIS!!!", True),
    (PARIS, "It's Paris, of course", True),
    (PARIS, "Lyon", False),
    (PARIS, "The capital of France is a Parisian city.", False),  # whole words only
    (PARIS, "What is the capital of France?", False),
    (PARIS, "\tParis\u00a0", True),
    (PARIS, "\u00a0Pa\u0301ris", True),  # a combining accent is stripped
    (DC, "Washington, D.C.", True),
    (DC, "washington dc", True),
    (DC, "The capital is Washington.", True),
    (DC, "New York City", False),
    (BRASILIA, "Brasília", True),
    (BRASILIA, "Brasilia", True),
    (BRASILIA, "BRASÍLIA", True),
    (BRASILIA, "Rio de Janeiro", False),
    (BRASILIA, "Brazil", False),
    (DELHI, "New Delhi", True),
    (DELHI, "Delhi", True),
    (DELHI, "Mumbai", False),
    (MEXICO, "Mexico City", True),
    (MEXICO, "mexico-city", True),
    (MEXICO, "The capital of Mexico is Guadalajara.", False),
    (AUTUMN, "Autumn", True),
    (AUTUMN, "Fall comes next.", True),
    (AUTUMN, "Winter", False),
])
def test_word_outputs(item, output, expected):
    assert check_answer(item, output) is expected


@pytest.mark.parametrize("bad", [None, "", "   ", "\n\t", 12])
def test_non_answers_never_pass(bad):
    assert check_answer(SUM, bad) is False
    assert check_answer(YES, bad) is False
    assert check_answer(PARIS, bad) is False


def test_answer_kind():
    assert answer_kind(SUM) == "number"
    assert answer_kind(HALF) == "number"
    assert answer_kind(NEG) == "number"
    assert answer_kind(YES) == answer_kind(NO) == "yesno"
    assert answer_kind(PARIS) == answer_kind(DC) == "word"
