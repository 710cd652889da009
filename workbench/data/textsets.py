"""Two small hand-written text data sets for networks of small language models (nothing is downloaded).

They measure whether small models do better together than alone: SmolLM2-135M-Instruct as a tiny chat
model, and all-MiniLM-L6-v2 sentence embeddings for routing a question to the right specialist.

``router_questions.jsonl`` -- questions for a router
    One JSON object a line: ``{"id": "r001", "question": "...", "specialist": "math"}``. The specialist is
    one of ``math``, ``geography``, ``cooking``, ``programming`` (:data:`SPECIALISTS`), at least 60 each.
    Categories are interleaved round-robin, so any prefix of the file is (nearly) balanced.

    Labelling rule: a question belongs to the specialist whose knowledge is needed to answer it. Where a
    question borrows nouns from another field, the dominant intent wins:

    * computing with numbers given in the question is ``math`` (scaling a recipe for 4 people to 10,
      reading a map scale);
    * asking for code, or for how code behaves, is ``programming`` (a Fibonacci function, why
      ``0.1 + 0.2 != 0.3``, great-circle distance "in Python");
    * facts about places are ``geography`` even when the answer is a number (Everest's height, a distance
      between cities, Russia's time zones);
    * kitchen know-how is ``cooking`` even when the answer is a number (roasting minutes per pound).

``router_specialists.json`` -- ``{"math": "<one sentence>", ...}``, a description of each specialist for a
    router to embed and compare questions against.

``text_tasks.jsonl`` -- short questions with checkable answers
    One JSON object a line: ``{"id": "t001", "category": "arithmetic", "question": "What is 7 + 5?",
    "answer": "12", "accept": ["12"]}``. Categories (:data:`TASK_CATEGORIES`), at least 40 each,
    interleaved round-robin:

    * ``arithmetic`` -- small sums, products and differences; the answer is an integer;
    * ``units`` -- conversions with the units in the question (km/m, kg/g, hours/minutes, ...); the answer
      is the number alone, e.g. ``"3000"`` or ``"0.5"``;
    * ``capitals`` -- capitals of well-known countries; ``answer`` is the display form ("Brasília"),
      ``accept`` the normalised spellings that count ("brasilia");
    * ``logic`` -- one-step reasoning answered ``yes``/``no`` or by one word (a weekday, a month, ...).

    ``accept`` holds normalised strings (see :func:`normalise`). No word answer appears in its own
    question, and no yes/no question contains the words "yes" or "no", so an output that merely repeats
    the question cannot pass.

Checking rule (:func:`check_answer`)
    The output is NFKC-normalised (full-width digits, non-breaking spaces), a verbatim echo of the
    question is removed (case and spacing ignored), then by the kind of answer (:func:`answer_kind`):

    * numeric (the answer parses as a number): numbers are read from the text -- ``12``, ``-3``,
      ``12.0``, ``0.5``, ``12,000`` (comma thousands), ``12 000`` (thin or no-break space thousands) --
      and *one* of them is taken as the model's answer: the first number that directly follows ``=``,
      ``is``, ``equals``, ``equal to`` or ``answer:`` (a colon may follow; "what is" and "how much is"
      ask rather than state, so they do not count) if there is one, otherwise the first number in the
      text. So "3 + 9 = 12", "The sum of 3 and 9 is 12." and "12" all give 12; "7 + 5 = 13" gives 13;
      "12 or 13" gives 12; "Answer: 12. Next: 5 + 5 = 10" gives 12 (the first anchored number; the tiny
      model often rambles on into new questions) -- but "12. Next: 5 + 5 = 10" gives 10, since an
      anchored number anywhere beats an unanchored first one. It is correct when it equals an ``accept`` value
      numerically (``12.0`` equals ``12``). Spelled-out numbers ("twelve") are not read;
    * yes/no: the text is lower-cased and stripped of punctuation; the first word that is exactly
      ``yes`` or ``no`` decides ("No, wait, yes" is no; "Yes." is yes; "Nope" and "not" are neither);
    * word: the text is normalised like the accept strings (accents stripped, lower-cased, punctuation
      turned into spaces) and is correct when some accept string occurs in it as whole words
      ("The capital is Washington, D.C." contains "washington"; "Parisian" does not contain "paris").
"""
from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from importlib import resources

SPECIALISTS = ("math", "geography", "cooking", "programming")
TASK_CATEGORIES = ("arithmetic", "units", "capitals", "logic")

ROUTER_QUESTIONS_FILE = "router_questions.jsonl"
ROUTER_SPECIALISTS_FILE = "router_specialists.json"
TEXT_TASKS_FILE = "text_tasks.jsonl"


@functools.cache
def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in _read(name).splitlines() if line.strip()]


def router_questions() -> list[dict]:
    """The router questions, in file order: dicts with ``id``, ``question``, ``specialist``."""
    return _jsonl(ROUTER_QUESTIONS_FILE)


def router_specialists() -> dict[str, str]:
    """``{specialist: one-sentence description}`` for every specialist in :data:`SPECIALISTS`."""
    return json.loads(_read(ROUTER_SPECIALISTS_FILE))


def text_tasks() -> list[dict]:
    """The checkable tasks, in file order: dicts with ``id``, ``category``, ``question``, ``answer``, ``accept``."""
    return _jsonl(TEXT_TASKS_FILE)


# --- checking -------------------------------------------------------------------------------------------

_NUMBER_ANSWER = re.compile(r"-?\d+(?:\.\d+)?")
# thousands separated by a thin, narrow no-break or no-break space: "12 000" -> "12000" (before NFKC,
# which would turn these spaces into ordinary ones)
_SPACE_THOUSANDS = re.compile(r"(?<=\d)[\u00a0\u202f\u2009](?=\d{3}(?!\d))")
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?")
# "what is" / "how much is" ask rather than state, so they are not anchors
_ANCHOR = re.compile(r"(?:=|(?<!what )(?<!how much )\bis|\bequals|\bequal to|\banswer\s*:)\s*:?\s*$",
                     re.IGNORECASE)
_MINUSES = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"})


def normalise(text: str) -> str:
    """Accents stripped, lower-cased, every run of non-alphanumerics one space: "Bogotá, D.C." -> "bogota d c"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def answer_kind(item: dict) -> str:
    """``"yesno"``, ``"number"`` or ``"word"``: how :func:`check_answer` reads outputs for this item."""
    answer = str(item["answer"]).strip()
    if normalise(answer) in ("yes", "no"):
        return "yesno"
    if _NUMBER_ANSWER.fullmatch(answer):
        return "number"
    return "word"


def numbers_in(text: str) -> list[tuple[float, bool]]:
    """Every number in ``text`` as ``(value, anchored)``; anchored means it follows "=", "is", and so on."""
    found = []
    for match in _NUMBER.finditer(text):
        value = float(match.group().replace(",", ""))
        found.append((value, bool(_ANCHOR.search(text, 0, match.start()))))
    return found


def stated_number(text: str) -> float | None:
    """The number a model's output gives as its answer (see the module docstring), or ``None``."""
    found = numbers_in(_prepare(text))
    if not found:
        return None
    anchored = [value for value, is_anchored in found if is_anchored]
    return anchored[0] if anchored else found[0][0]


def _prepare(text: str) -> str:
    text = _SPACE_THOUSANDS.sub("", text)
    return unicodedata.normalize("NFKC", text).translate(_MINUSES)


def _strip_echo(text: str, question: str) -> str:
    question = " ".join(unicodedata.normalize("NFKC", question).split())
    text = " ".join(text.split())
    if not question:
        return text
    return re.sub(re.escape(question), " ", text, flags=re.IGNORECASE)


def check_answer(item: dict, text: str) -> bool:
    """Whether the model output ``text`` answers ``item`` (a :func:`text_tasks` dict) correctly."""
    if not isinstance(text, str) or not text.strip():
        return False
    text = _strip_echo(_prepare(text), str(item.get("question", "")))
    accept = [str(a) for a in item.get("accept") or [item["answer"]]]
    kind = answer_kind(item)
    if kind == "number":
        got = stated_number(text)
        if got is None:
            return False
        return any(math.isclose(got, float(a), rel_tol=1e-9, abs_tol=1e-9) for a in accept)
    words = normalise(text).split()
    if kind == "yesno":
        first = next((w for w in words if w in ("yes", "no")), None)
        return first is not None and first in {normalise(a) for a in accept}
    padded = f" {' '.join(words)} "
    return any(f" {normalise(a)} " in padded for a in accept if normalise(a))


# ---- as data sets of (Message, expected) pairs, for `workbench eval` --------------------------------------
def router_examples() -> list:
    from workbench.core.messages import Message

    return [(Message("text", q["question"], {"id": q["id"]}), q["specialist"]) for q in router_questions()]


def score_route(output, expected: str) -> bool:
    """Right when the router sent the question to the expected specialist (``meta["routed_to"]``)."""
    return getattr(output, "meta", {}).get("routed_to") == expected


def task_examples() -> list:
    from workbench.core.messages import Message

    return [(Message("text", t["question"], {"id": t["id"]}), t) for t in text_tasks()]


def score_task(output, item: dict) -> bool:
    content = getattr(output, "content", None)
    return isinstance(content, str) and check_answer(item, content)
