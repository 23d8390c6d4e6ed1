"""The metric-math subset our alarms use, evaluated as the CloudWatch user guide describes it.

Source: CloudWatch user guide, "Using metric math" (https://docs.aws.amazon.com/AmazonCloudWatch/
latest/monitoring/using-metric-math.html; awsdocs/amazon-cloudwatch-user-guide
``doc_source/using-metric-math.md``):

* arithmetic ``+ - * / ^`` and unary ``-``: "Missing values in a time series are treated as 0. If
  the value of a data point causes a function to attempt to divide by zero, the data point is
  dropped." A timestamp present in either operand is in the result;
* comparison ``== != <= >= < >`` and logical ``AND && OR ||``: 1 or 0 per data point; "when only
  one of the time series has a value for a particular time stamp, the function treats the missing
  value in the other time series as 0";
* ``IF(condition, trueValue, falseValue)``: per condition data point; a true condition takes the
  true branch's value (0 where a true-branch series has none), a false one the false branch's
  value (dropped where a false-branch series has none, or when it is omitted); no condition data
  point, no output;
* ``FILL(m, value | REPEAT | LINEAR)``: "Fills the missing values of a time series" over the
  queried range (here the alarm's evaluation range).

Simplifications, said where they matter:

* An operand with **no data point at all** in the range is an empty series, and arithmetic with an
  empty series is empty; ``FILL`` of an empty series is empty. AWS documents what happens to gaps,
  not to a metric that published nothing in the whole range, so the replay assumes the worse case
  (the alarm then sees missing data and its ``treatMissingData`` decides).
* Functions that reduce a series to a scalar (``AVG``, ``MAX``, ``SUM``...) are refused: the guide
  recommends against them in alarms because the alarm retrieves more data than its evaluation
  periods.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Series = dict[int, float]
"""Period start (s) -> value; a missing period has no key."""
Value = float | Series

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|"
    r"(?P<op>==|!=|<=|>=|&&|\|\||[-+*/^<>(),]))"
)


class ExpressionError(ValueError):
    """An expression the replay cannot evaluate (names the expression and the problem)."""


@dataclass(frozen=True)
class Node:
    kind: str  # num | id | call | unary | binary
    value: str = ""
    args: tuple[Node, ...] = ()


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"expression {text!r}: cannot read at {text[pos:]!r}")
        out.append(match.group().strip())
        pos = match.end()
    return out


_PRECEDENCE = [
    ("OR", "||"),
    ("AND", "&&"),
    ("==", "!=", "<=", ">=", "<", ">"),
    ("+", "-"),
    ("*", "/"),
    ("^",),
]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ExpressionError(
                f"expression {self.text!r}: expected {expected or 'more'}, got {token!r}"
            )
        self.pos += 1
        return token

    def parse(self) -> Node:
        node = self.binary(0)
        if self.peek() is not None:
            raise ExpressionError(f"expression {self.text!r}: unexpected {self.peek()!r}")
        return node

    def binary(self, level: int) -> Node:
        if level == len(_PRECEDENCE):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek() in _PRECEDENCE[level]:
            op = self.take()
            node = Node(
                "binary", {"AND": "&&", "OR": "||"}.get(op, op), (node, self.binary(level + 1))
            )
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Node("unary", "-", (self.unary(),))
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return Node("num", token)
        if self.peek() == "(":
            self.take("(")
            args = []
            if self.peek() != ")":
                args.append(self.binary(0))
                while self.peek() == ",":
                    self.take(",")
                    args.append(self.binary(0))
            self.take(")")
            return Node("call", token, tuple(args))
        if re.fullmatch(r"[A-Za-z_]\w*", token):
            return Node("id", token)
        raise ExpressionError(f"expression {self.text!r}: unexpected {token!r}")


def parse(text: str) -> Node:
    """The expression's syntax tree; raises :class:`ExpressionError` naming the expression."""
    return _Parser(text).parse()


def identifiers(node: Node) -> set[str]:
    """Query ids the expression reads."""
    if node.kind == "id":
        return {node.value}
    return set().union(*(identifiers(a) for a in node.args)) if node.args else set()


def _binary(op: str, a: float, b: float) -> float | None:
    if op == "/":
        return None if b == 0 else a / b
    ops: dict[str, Callable[[float, float], float]] = {
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "^": lambda x, y: x**y,
        "==": lambda x, y: float(x == y),
        "!=": lambda x, y: float(x != y),
        "<=": lambda x, y: float(x <= y),
        ">=": lambda x, y: float(x >= y),
        "<": lambda x, y: float(x < y),
        ">": lambda x, y: float(x > y),
        "&&": lambda x, y: float(bool(x) and bool(y)),
        "||": lambda x, y: float(bool(x) or bool(y)),
    }
    return ops[op](a, b)


def _apply(op: str, left: Value, right: Value) -> Value:
    if not isinstance(left, dict) and not isinstance(right, dict):
        value = _binary(op, left, right)
        return math.nan if value is None else value
    if isinstance(left, dict) and isinstance(right, dict):
        if not left or not right:
            return {}
        keys = sorted(left.keys() | right.keys())
        pairs = {k: (left.get(k, 0.0), right.get(k, 0.0)) for k in keys}
    elif isinstance(left, dict) and not isinstance(right, dict):
        pairs = {k: (v, right) for k, v in left.items()}
    elif isinstance(right, dict) and not isinstance(left, dict):
        pairs = {k: (left, v) for k, v in right.items()}
    else:
        raise AssertionError("unreachable")
    out: Series = {}
    for key, (a, b) in pairs.items():
        value = _binary(op, a, b)
        if value is not None:
            out[key] = value
    return out


def _fill(
    series: Value, filler: Node, window: Sequence[int], env: Callable[[Node], Value]
) -> Series:
    if not isinstance(series, dict):
        raise ExpressionError("FILL needs a time series as its first argument")
    if not series:
        return {}
    if filler.kind == "id" and filler.value in ("REPEAT", "LINEAR"):
        out: Series = {}
        known = sorted(series)
        for key in window:
            if key in series:
                out[key] = series[key]
                continue
            before = [k for k in known if k < key]
            after = [k for k in known if k > key]
            if filler.value == "REPEAT" and before:
                out[key] = series[before[-1]]
            elif filler.value == "LINEAR" and before and after:
                a, b = before[-1], after[0]
                out[key] = series[a] + (series[b] - series[a]) * (key - a) / (b - a)
        return out
    value = env(filler)
    if isinstance(value, dict):
        return {
            k: series.get(k, value.get(k, math.nan)) for k in window if k in series or k in value
        }
    return {k: series.get(k, float(value)) for k in window}


def _if(args: Sequence[Node], env: Callable[[Node], Value]) -> Value:
    if len(args) not in (2, 3):
        raise ExpressionError("IF takes a condition, a true value and an optional false value")
    condition = env(args[0])
    then = env(args[1])
    otherwise = env(args[2]) if len(args) == 3 else None
    if not isinstance(condition, dict):
        chosen = then if condition else otherwise
        return {} if chosen is None else chosen
    out: Series = {}
    for key, flag in condition.items():
        if flag:
            out[key] = then.get(key, 0.0) if isinstance(then, dict) else then
        elif isinstance(otherwise, dict):
            if key in otherwise:
                out[key] = otherwise[key]
        elif otherwise is not None:
            out[key] = otherwise
    return out


_ELEMENTWISE: Mapping[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": lambda v: float(math.ceil(v)),
    "FLOOR": lambda v: float(math.floor(v)),
}


def evaluate(node: Node, resolve: Callable[[str], Series], window: Sequence[int]) -> Value:
    """Evaluate ``node``; ``resolve`` gives the series of a query id over ``window`` (period starts)."""

    def env(n: Node) -> Value:
        return evaluate(n, resolve, window)

    if node.kind == "num":
        return float(node.value)
    if node.kind == "id":
        return resolve(node.value)
    if node.kind == "unary":
        return _apply("*", -1.0, env(node.args[0]))
    if node.kind == "binary":
        return _apply(node.value, env(node.args[0]), env(node.args[1]))
    name = node.value
    if name == "IF":
        return _if(node.args, env)
    if name == "FILL":
        if len(node.args) != 2:
            raise ExpressionError("FILL takes a time series and a filler")
        return _fill(env(node.args[0]), node.args[1], window, env)
    if name in _ELEMENTWISE and len(node.args) == 1:
        value = env(node.args[0])
        fn = _ELEMENTWISE[name]
        return {k: fn(v) for k, v in value.items()} if isinstance(value, dict) else fn(value)
    raise ExpressionError(
        f"function {name} is not replayed (supported: IF, FILL, {', '.join(_ELEMENTWISE)}; "
        "series-to-scalar functions are not recommended in alarms)"
    )
