"""A calculator: a tool model that answers arithmetic and unit-conversion requests written in English, exactly.

A model in the network's sense — text in, text out, a card offering ``math.arithmetic`` and ``math.units`` —
that knows nothing else. It reads:

- arithmetic: an expression in digits and ``+ - * / × ÷ x`` or the words plus, minus, times, multiplied by,
  divided by (``What is 9 times 6?``, ``(2 + 3) * 4``), and the verbs add/subtract/multiply/divide, "the
  sum/product/difference/quotient of A and B", "take A away from B";
- unit conversions, with units from ``pint``: "how many U are in N V", "how many U is N V", "convert N V to
  U", and "N V in U" as the whole request (not inside a statement: "There are 3 days in a week" is no
  request); N may be "a", "an", "half a" or "a quarter of an". English words such as a, an, the, in, are
  are never units (pint would read them as annum, inch, are).

Its answer states the result (``7 + 5 = 12``, ``3 kilometers = 3000 meters``) with ``meta["confidence"]`` 1.
Results are exact: numbers are read as ``fractions.Fraction`` and units converted by pint in fractions, an
integer is printed in full, a decimal of up to 15 places exactly (``10 / 4 = 2.5``), any other fraction
rounded to 10 significant digits (``1 / 3 = 0.3333333333``; 180 degrees = 3.141592654 radians).

Anything it cannot read with certainty gets an empty answer with confidence 0 and the reason, so that a
cascade passes it on to a language model:

- the text is NFKC-normalised (full-width ``１２`` is 12) and digits of any script read as decimal digits
  (``٣`` is 3); numerals that are not digits (``²``, ``½``, ``Ⅻ``) and invisible format or control
  characters (a zero-width space could hide where a number ends) are refused, not stripped;
- every number-like token — a run of letters, digits, dots and commas that holds a digit — must be a plain
  number (``12``, ``-3``, ``0.5``, ``1,250``), or the request is refused: ``1e5``, ``0x10``, ``2,5``,
  ``1.2.3``, ``3rd``, ``04`` (a date or time);
- what it reads must be the whole request: no other number (in "20% of 50 + 1", ``50 + 1`` is not the
  question) and no word beyond a question's frame (what, is, the value of, calculate, please, ...), so
  ``sqrt(16 + 9)``, "twice 3 + 4", "is 10 - 3 even", "3 km/h" and "2 + 2 and the capital of France" are declined;
- unit symbols keep their case (``Mg`` is a megagram, ``mg`` a milligram; an unknown ``Cal`` is not guessed);
  units without one definition are declined (a month or a year in days or weeks, pint's survey acre), as are
  temperatures below absolute zero and logarithmic units (decibels), which cannot be converted exactly;
- an expression must stand alone: one glued to another operator (``x - 1 + 2``, ``2 + 3 ^ 2``) is refused;
  a minus written between digits without spaces (``555-1234``, ``3-5 days``) is a subtraction only when the
  request asks for a calculation ("what", "how much", "calculate", "compute", "evaluate", "solve", ``=``);
- requests over 500 characters and results over 1000 digits are refused, and any parsing or arithmetic
  failure (a division by zero, ``**``) is a refusal, never an exception.

Arithmetic is parsed with Python's ``ast`` and only numbers, the four operations, signs and parentheses are
evaluated: nothing in the text is ever executed.
"""
from __future__ import annotations

import ast
import operator
import re
import unicodedata
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import lru_cache

from workbench.backends.base import Model
from workbench.core.cards import ModelCard
from workbench.core.messages import Message

MAX_LENGTH, MAX_DIGITS = 500, 1000
EXACT_PLACES = 15  # a terminating decimal up to this many places is printed exactly (pi to 50 places is not)
NUMBER = r"(?<![\w.,])-?\d+(?:,\d{3})*(?:\.\d+)?(?![\w.,]*\d)"  # a whole token, never part of one
AMOUNT = rf"(?P<amount>{NUMBER}|half an?|a quarter of an?|an?|one)"
AMOUNTS = {"a": 1, "an": 1, "one": 1, "half a": Fraction(1, 2), "half an": Fraction(1, 2),
           "a quarter of a": Fraction(1, 4), "a quarter of an": Fraction(1, 4)}
NOT_UNITS = ("a an the this that it its is are am was were be in on at to of for by with from into and or not "
             "no there here what which how many much some any all each every me us we you they he she i my our")
UNIT = rf"(?:square |cubic |fluid )?(?!(?:{'|'.join(NOT_UNITS.split())})\b)[a-z]+"
CONVERSIONS = [  # (pattern, which group holds the target unit)
    rf"how many (?P<to>{UNIT}) (?:are there|are|is|fit) in {AMOUNT} (?P<frm>{UNIT})",
    rf"how many (?P<to>{UNIT}) (?:is|are|make up|make|equals?) {AMOUNT} (?P<frm>{UNIT})",
    rf"convert {AMOUNT} (?P<frm>{UNIT}) (?:to|into) (?P<to>{UNIT})",
    rf"^(?:(?:what is|what's|how much is|express) )?{AMOUNT} (?P<frm>{UNIT}) (?:in|to|into|is how many) "
    rf"(?P<to>{UNIT})(?:,? please)?$",  # the whole request: "3 days in a week" inside a statement is not
]
VERBS = [  # English arithmetic phrasings → (a, b, operator); a and b are the two numbers in order
    (rf"\badd ({NUMBER}) (?:and|to) ({NUMBER})", lambda a, b: f"{a} + {b}"),
    (rf"\bsum of ({NUMBER}) and ({NUMBER})", lambda a, b: f"{a} + {b}"),
    (rf"\bsubtract ({NUMBER}) from ({NUMBER})", lambda a, b: f"{b} - {a}"),
    (rf"\btake ({NUMBER}) (?:away )?from ({NUMBER})", lambda a, b: f"{b} - {a}"),
    (rf"\bdifference between ({NUMBER}) and ({NUMBER})",
     lambda a, b: f"{a} - {b}" if Fraction(a) >= Fraction(b) else f"{b} - {a}"),  # between 3 and 10 is 7
    (rf"\bmultiply ({NUMBER}) (?:by|and) ({NUMBER})", lambda a, b: f"{a} * {b}"),
    (rf"\bproduct of ({NUMBER}) and ({NUMBER})", lambda a, b: f"{a} * {b}"),
    (rf"\bdivide ({NUMBER}) by ({NUMBER})", lambda a, b: f"{a} / {b}"),
    (rf"\bquotient of ({NUMBER}) and ({NUMBER})", lambda a, b: f"{a} / {b}"),
]
WORDS = [(r"\bmultiplied by\b", "*"), (r"\bdivided by\b", "/"), (r"\btimes\b", "*"), (r"\bplus\b", "+"),
         (r"\bminus\b", "-"), (r"(?<=[\d)] )x(?= ?[\d(])|×", "*"), ("÷", "/"), ("\u2212", "-")]
TOKEN = re.compile(r"[\w.,]*\d[\w.,]*")  # a number-like token: must read as a whole number (PLAIN)
PLAIN = re.compile(r"(?:0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*)?(?:\.\d+)?")
# a sign directly before a number or "(" (not "x - 1"), then numbers, operators and parentheses
EXPRESSION = re.compile(r"(?:(?<![\w)])-(?=[\d(]))?[\d.(][\d.\s()+\-*/]*[\d)]")
CALENDAR = {"month", "year", "decade", "century", "millennium"}  # of no fixed length in days
AMBIGUOUS = {"acre", "acres"}  # pint's acre is the US survey acre, not the international one
FRAME = set("what is what's whats how much calculate compute evaluate solve work out please the value of result "
            "do does you get if when tell me can could equal equals = answer".split())  # words around a sum
ASKS = re.compile(r"\b(?:what|how much|calculate|compute|evaluate|solve)\b|=")  # 100-37 is then a subtraction
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
             ast.USub: operator.neg, ast.UAdd: operator.pos}


class Unreadable(ValueError):
    """The request holds something the calculator cannot read with certainty (the message is the reason)."""


class Calculator(Model):
    """See the module docstring."""

    blocking = False  # microseconds of work: runs inline

    def __init__(self, card: ModelCard):
        self.card = card

    def load(self) -> None:
        _units()  # pint's unit registry takes ≈ 0.3 s to build: at load, not in the first step

    def invoke(self, message: Message) -> Message:
        text = message.content if isinstance(message.content, str) else ""
        try:
            request, cased = _request(text)
            answer = _convert(request, cased) or _arithmetic(request)
        except Unreadable as exc:
            return _refusal(str(exc))
        except ZeroDivisionError:
            return _refusal("cannot compute: division by zero")
        except (SyntaxError, ValueError, ArithmeticError, RecursionError, MemoryError) as exc:
            return _refusal(f"cannot compute: {exc}")
        except Exception as exc:  # noqa: BLE001 - a tool that cannot compute says so; it never raises
            return _refusal(f"cannot compute: {type(exc).__name__}: {exc}")
        if answer:
            return Message("text", answer, {"confidence": 1.0})
        return _refusal("no arithmetic or unit conversion found")


def _refusal(reason: str) -> Message:
    return Message("text", "", {"confidence": 0.0, "reason": reason})


def _request(text: str) -> tuple[str, str]:
    """The text normalised for reading, lower-cased and as cased (unit symbols: Mg is not mg), or
    :class:`Unreadable` (see the module docstring)."""
    if len(text) > MAX_LENGTH:
        raise Unreadable(f"too long for the calculator (over {MAX_LENGTH} characters)")
    for ch in text:
        if (ch.isnumeric() and not ch.isdecimal()) or (unicodedata.category(ch) in ("Cf", "Cc") and not ch.isspace()):
            raise Unreadable(f"cannot read the character U+{ord(ch):04X}")
    text = unicodedata.normalize("NFKC", text)
    text = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)  # ٣ → 3
    cased = " ".join(text.replace("?", " ").replace("!", " ").split()).rstrip(".")
    request = cased.lower()
    for token in TOKEN.findall(request):
        if not PLAIN.fullmatch(token.rstrip(".,")):
            raise Unreadable(f"cannot read {token.rstrip('.,')!r} as a number")
    return request, cased if len(cased) == len(request) else request


def _arithmetic(request: str) -> str | None:
    for pattern, build in VERBS:
        if match := re.search(pattern, request):
            _alone(request, match.start(), match.end(), match.group())
            return _stated(build(*(g.replace(",", "") for g in match.groups())))
    asks = ASKS.search(request)
    for pattern, symbol in WORDS:
        request = re.sub(pattern, f" {symbol} ", request)
    request = re.sub(r"(?<=\d),(?=\d{3})", "", request)
    found = [m for m in EXPRESSION.finditer(request) if re.search(r"\d\s*[+\-*/]\s*[\d(]", m.group())]
    if not found:
        return None
    match = max(found, key=lambda m: len(m.group().strip()))
    expression = match.group().strip()
    before, after = request[:match.start()].rstrip(), request[match.end():]
    if re.search(r"[-+*/^%=<>]$", before) or re.match(r"\s*[-+*/^%<>(]", after):
        raise Unreadable(f"cannot read {expression!r} apart from the operators around it")  # x - 1 + 2, 2 + 3 ^ 2
    _alone(request, match.start(), match.end(), expression)
    if re.search(r"\d-\d", expression) and not asks:
        raise Unreadable(f"{expression!r} may be a phone number, date or range rather than a subtraction")
    return _stated(expression)


def _alone(request: str, start: int, end: int, read: str) -> None:
    """Refuse a request that says more than what was read: other numbers ("20% of 50 + 1") or other words
    than a question's frame ("sqrt(16 + 9)", "is 10 - 3 even", "3 km/h", "2 + 2 and the capital of France")."""
    rest, read = request[:start] + " " + request[end:], " ".join(read.split())
    if others := re.findall(NUMBER, rest):
        raise Unreadable(f"the request holds numbers besides {read!r} ({', '.join(others)})")
    if extra := [w for w in rest.replace(",", " ").split() if w.strip(".") not in FRAME]:
        raise Unreadable(f"the request says more than {read!r} ({' '.join(extra)})")


def _stated(expression: str) -> str:
    expression = " ".join(expression.split())
    return f"{expression} = {_number(_evaluate(ast.parse(expression, mode='eval').body, expression))}"


def _evaluate(node: ast.AST, source: str) -> Fraction:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return Fraction(ast.get_source_segment(source, node))  # the literal as written: "0.1" is exactly 1/10
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](_evaluate(node.left, source), _evaluate(node.right, source))
    if isinstance(node, ast.UnaryOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](_evaluate(node.operand, source))
    raise ValueError(f"not arithmetic: {ast.unparse(node)!r}")


def _convert(request: str, cased: str) -> str | None:
    from pint.errors import PintError

    for pattern in CONVERSIONS:
        if not (match := re.search(pattern, request)):
            continue
        _alone(request, match.start(), match.end(), match.group())
        amount = Fraction(AMOUNTS.get(match["amount"]) or match["amount"].replace(",", ""))
        written = {g: cased[match.start(g):match.end(g)] for g in ("frm", "to")}
        frm, to = _unit(written["frm"]), _unit(written["to"])
        try:
            quantity = _units().Quantity(amount, frm)
            value = quantity.to(to).magnitude
        except PintError:  # not units after all ("how many legs are in 2 spiders"), or not convertible
            continue
        except (TypeError, ValueError):  # logarithmic units (decibels, nepers) take logarithms: not exact
            raise Unreadable(f"cannot convert {written['frm']} to {written['to']} exactly") from None
        calendar = {u for u in (frm, to) if _units().get_root_units(u)[1] == _units().get_root_units("second")[1]
                    and str(_units().parse_units(u)).removesuffix("s") in CALENDAR}  # str() of time units only:
        # pint cannot print a unit with a fractional power (cubic meters) when it counts in fractions
        if calendar and len(calendar) < 2:  # months in 2 years is exact; days in a month is not
            raise Unreadable(f"a {calendar.pop()} has no fixed length in {'days' if 'day' in to else to}")
        if quantity.dimensionality == _units().kelvin.dimensionality and quantity.to("kelvin").magnitude < 0:
            raise Unreadable(f"{_number(amount)} {match['frm']} is below absolute zero")
        return f"{_number(amount)} {written['frm']} = {_number(Fraction(value))} {written['to']}"
    return None


def _unit(name: str) -> str:
    """A unit name for pint: a symbol keeps its case (Mg is a megagram), a word is read in lower case; a
    symbol pint does not know as written is refused rather than guessed (Cal is no cal)."""
    if name.lower() in AMBIGUOUS:
        raise Unreadable(f"{name!r} has more than one definition")
    if name == name.lower() or name in _units():
        return name
    if len(name) <= 3:
        raise Unreadable(f"cannot tell which unit {name!r} is")
    return name.lower()


@lru_cache(maxsize=1)
def _units():
    import pint

    return pint.UnitRegistry(non_int_type=Fraction)  # exact conversions: 100 °F is 340/9 °C


def _number(value: Fraction) -> str:
    """12, 0.5, 2.5, 0.3333333333: an integer in full, a terminating decimal exactly, else 10 significant digits."""
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_DIGITS * 3.322:  # log2(10) bits
        raise Unreadable(f"the result has more than {MAX_DIGITS} digits")
    if value.denominator == 1:
        return str(value.numerator)
    if 10**EXACT_PLACES % value.denominator == 0:  # a decimal of at most EXACT_PLACES places
        places = EXACT_PLACES
        digits = str(abs(value.numerator) * 10**places // value.denominator).rjust(places + 1, "0")
        return f"{'-' if value < 0 else ''}{digits[:-places]}.{digits[-places:]}".rstrip("0")
    with localcontext() as context:  # the integer part in full, 10 significant digits at least
        context.prec = max(10, len(str(abs(value.numerator) // value.denominator)) + 1)
        text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return text.rstrip("0").rstrip(".")


def make_calculator(device: str = "auto", node: str | None = None) -> Calculator:
    from workbench.models import card_of

    return Calculator(card_of("calculator"))


__all__ = ["Calculator", "make_calculator"]
