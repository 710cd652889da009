"""A calculator: a tool model that answers arithmetic and unit-conversion requests written in English, exactly.

A model in the network's sense — text in, text out, a card offering ``math.arithmetic`` and ``math.units`` —
that knows nothing else. It reads:

- arithmetic: an expression in digits and ``+ - * / × ÷ x`` or the words plus, minus, times, multiplied by,
  divided by (``What is 9 times 6?``, ``(2 + 3) * 4``), and the verbs add/subtract/multiply/divide, "the
  sum/product/difference/quotient of A and B", "take A away from B";
- unit conversions, with units from ``pint``: "how many U are in N V", "how many U is N V", "convert N V to
  U", "N V in U"; N may be "a", "an", "half a" or "a quarter of an".

Its answer states the result (``7 + 5 = 12``, ``3 kilometers = 3000 meters``) with ``meta["confidence"]`` 1.
A request it cannot read gets an empty answer with confidence 0 and the reason, so that a cascade passes it
on to a language model. Arithmetic is parsed with Python's ``ast`` and only numbers, the four operations,
signs and parentheses are evaluated: nothing in the text is ever executed.
"""
from __future__ import annotations

import ast
import math
import operator
import re
from functools import lru_cache

from workbench.backends.base import Model
from workbench.core.cards import ModelCard
from workbench.core.messages import Message

NUMBER = r"-?\d+(?:,\d{3})*(?:\.\d+)?"
AMOUNT = rf"(?P<amount>{NUMBER}|half an?|a quarter of an?|an?|one)"
AMOUNTS = {"a": 1.0, "an": 1.0, "one": 1.0, "half a": 0.5, "half an": 0.5, "a quarter of a": 0.25,
           "a quarter of an": 0.25}
UNIT = r"(?:square |cubic |fluid )?[a-z]+"
CONVERSIONS = [  # (pattern, which group holds the target unit)
    rf"how many (?P<to>{UNIT}) (?:are there|are|is|fit) in {AMOUNT} (?P<frm>{UNIT})",
    rf"how many (?P<to>{UNIT}) (?:is|are|make up|make|equals?) {AMOUNT} (?P<frm>{UNIT})",
    rf"convert {AMOUNT} (?P<frm>{UNIT}) (?:to|into) (?P<to>{UNIT})",
    rf"{AMOUNT} (?P<frm>{UNIT}) (?:in|to|into|is how many) (?P<to>{UNIT})",
]
VERBS = [  # English arithmetic phrasings → (a, b, operator); a and b are the two numbers in order
    (rf"\badd ({NUMBER}) (?:and|to) ({NUMBER})", lambda a, b: f"{a} + {b}"),
    (rf"\bsum of ({NUMBER}) and ({NUMBER})", lambda a, b: f"{a} + {b}"),
    (rf"\bsubtract ({NUMBER}) from ({NUMBER})", lambda a, b: f"{b} - {a}"),
    (rf"\btake ({NUMBER}) (?:away )?from ({NUMBER})", lambda a, b: f"{b} - {a}"),
    (rf"\bdifference between ({NUMBER}) and ({NUMBER})", lambda a, b: f"{a} - {b}"),
    (rf"\bmultiply ({NUMBER}) (?:by|and) ({NUMBER})", lambda a, b: f"{a} * {b}"),
    (rf"\bproduct of ({NUMBER}) and ({NUMBER})", lambda a, b: f"{a} * {b}"),
    (rf"\bdivide ({NUMBER}) by ({NUMBER})", lambda a, b: f"{a} / {b}"),
    (rf"\bquotient of ({NUMBER}) and ({NUMBER})", lambda a, b: f"{a} / {b}"),
]
WORDS = [(r"\bmultiplied by\b", "*"), (r"\bdivided by\b", "/"), (r"\btimes\b", "*"), (r"\bplus\b", "+"),
         (r"\bminus\b", "-"), (r"[×x](?=\s*[\d(])", "*"), ("÷", "/")]
EXPRESSION = re.compile(r"(?:(?<![\w)])-\s*)?[\d.(][\d.\s()+\-*/]*[\d)]")
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
             ast.USub: operator.neg, ast.UAdd: operator.pos}


class Calculator(Model):
    """See the module docstring."""

    blocking = False  # microseconds of work: runs inline

    def __init__(self, card: ModelCard):
        self.card = card

    def load(self) -> None:
        _units()  # pint's unit registry takes ≈ 0.3 s to build: at load, not in the first step

    def invoke(self, message: Message) -> Message:
        text = message.content if isinstance(message.content, str) else ""
        request = " ".join(text.lower().replace("?", " ").replace("!", " ").split()).rstrip(".")
        for solve in (_convert, _arithmetic):
            try:
                answer = solve(request)
            except (ArithmeticError, ValueError) as exc:
                return Message("text", "", {"confidence": 0.0, "reason": f"cannot compute: {exc}"})
            if answer:
                return Message("text", answer, {"confidence": 1.0})
        return Message("text", "", {"confidence": 0.0, "reason": "no arithmetic or unit conversion found"})


def _arithmetic(request: str) -> str | None:
    for pattern, build in VERBS:
        if match := re.search(pattern, request):
            return _stated(build(*(g.replace(",", "") for g in match.groups())))
    for pattern, symbol in WORDS:
        request = re.sub(pattern, f" {symbol} ", request)
    request = re.sub(r"(?<=\d),(?=\d{3})", "", request)
    found = [m.group(0).strip() for m in EXPRESSION.finditer(request)]
    expressions = [e for e in found if re.search(r"\d\s*[+\-*/]\s*[\d(]", e)]
    return _stated(max(expressions, key=len)) if expressions else None


def _stated(expression: str) -> str:
    expression = " ".join(expression.split())
    return f"{expression} = {_number(_evaluate(ast.parse(expression, mode='eval').body))}"


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](_evaluate(node.operand))
    raise ValueError(f"not arithmetic: {ast.unparse(node)!r}")


def _convert(request: str) -> str | None:
    for pattern in CONVERSIONS:
        if not (match := re.search(pattern, request)):
            continue
        amount = AMOUNTS.get(match["amount"]) or float(match["amount"].replace(",", ""))
        try:
            value = _units().Quantity(amount, match["frm"]).to(match["to"]).magnitude
        except Exception:  # pint's parser raises many kinds: not units after all ("how many legs are in 2 spiders")
            continue
        return f"{_number(amount)} {match['frm']} = {_number(value)} {match['to']}"
    return None


@lru_cache(maxsize=1)
def _units():
    import pint

    return pint.UnitRegistry()


def _number(value: float) -> str:
    """12, 0.5, 2.5, 3.3333333333 — at most 10 significant digits, no trailing zeros."""
    if not math.isfinite(value):
        raise ValueError(f"the result is {value}")
    return f"{value:.10g}" if abs(value) < 1e15 else f"{value:.6e}"


def make_calculator(device: str = "auto", node: str | None = None) -> Calculator:
    from workbench.models import card_of

    return Calculator(card_of("calculator"))


__all__ = ["Calculator", "make_calculator"]
