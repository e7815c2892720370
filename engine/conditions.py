"""A small, safe condition language for mission files: ``when`` triggers, hints and objectives.

Text is tokenised and parsed by hand into a frozen, type-checked tree; nothing is ever passed to ``eval``
and no name outside the namespace below can be reached. Values come from a :class:`MetricSource`, so this
module knows nothing of the simulation (``engine.metrics_namespace`` has the resolver over one)::

    condition = parse_condition("sat('A-01-01').battery_soc < 0.3 and not sat('A-01-01').sunlit for 2m")
    watch = ConditionWatch(condition)
    fired = watch.update(source.time_s, condition.evaluate(source))   # True once it has held 2 minutes

Grammar (EBNF; keywords are lower case, strings take single or double quotes without escapes)::

    condition  = expression [ "for" duration ] ;
    metric     = expression ;                              (* an objective's value: no "for" *)
    expression = conjunct { "or" conjunct } ;
    conjunct   = negation { "and" negation } ;
    negation   = "not" negation | comparison ;
    comparison = sum [ ( "<" | "<=" | ">" | ">=" | "==" | "!=" ) sum ] ;
    sum        = product { ( "+" | "-" ) product } ;
    product    = unary { ( "*" | "/" ) unary } ;
    unary      = "-" unary | primary ;
    primary    = NUMBER [ UNIT ] | STRING | "true" | "false" | reference | "(" expression ")" ;
    reference  = ( "sat" | "job" | "station" ) "(" STRING ")" "." NAME
               | "link" "(" STRING "," STRING ")" "." NAME
               | ( "fleet" | "jobs" | "sim" ) "." NAME ;
    duration   = NUMBER UNIT | STRING ;                    (* 90s, 2m, 1h30m, 1d, '02:00:00' *)

Types are checked at parse time: ``and``/``or``/``not`` and the whole condition need true/false values;
``<``-style comparisons need numbers; strings and booleans compare only with ``==`` and ``!=``, and a
string compared with an attribute of a closed set (``job(..).state``) must be one of its values. A number
with a unit (``2h``) is seconds; a string such as ``'02:00:00'`` compared with a duration attribute (e.g.
``sim.time``) is read as a duration. At run time a value may be missing (a job not yet submitted, goodput
before any GPU time): every comparison with a missing value is false, and a missing true/false is false.

Namespace (``engine.metrics_namespace.NAMESPACE`` declares each attribute's type and meaning; n number,
d duration in seconds, b true/false, s string, closed string sets in brackets)::

    sat(id)      battery_soc battery_energy_kwh battery_capacity_kwh battery_net_w solar_power_w
                 load_power_w unserved_power_w array_output_fraction radiator_temp_c loop_temp_c
                 array_temp_c gpu_temp_max_c gpus gpus_ok gpus_degraded gpus_failed gpus_throttled
                 shed_level_index isl_up route_hops commands_pending alarms dose_rad (n);
                 telemetry_age_s (d); heater_on sunlit in_contact has_route drained in_maintenance (b);
                 shed_level [NOMINAL CAPPED PAUSED SAFE], alarm_level [NORMAL YELLOW RED] (s)
    job(id)      progress checkpoint_progress restarts retries gpus (n); checkpoint_age_s wait_s (d);
                 submitted (b); state [engine.jobs.JobState values], reason partition (s)
    station(id)  ground_links (n); up (b)
    link(a, b)   rate_gbps distance_km (n); up (b); state [engine.isl_links.LinkState names] (s)
    fleet        min_soc mean_soc gpu_temp_max_c gpus_ok gpus_degraded gpus_failed alarms alarms_red
                 alarms_yellow alarms_unacknowledged satellites_shedding satellites_safe
                 satellites_without_route satellites_drained satellites_in_maintenance stations_up
                 unserved_power_w (n); solar_particle_event (b)
    jobs         goodput utilization utilization_now inference_slo_attainment pending running completed
                 failed gpu_hours_useful gpu_hours_lost (n); queue_wait_p95_s (d)
    sim          time (d): mission elapsed time; steps_done (n): guided walkthrough steps done

Errors are :class:`ConditionError` (a ValueError) whose message starts with the 1-based character column.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, Union

from engine.durations import parse_duration
from engine.metrics_namespace import BOOL, DURATION, NAMESPACE, NUMBER, STRING, Attribute, Scope  # noqa: F401

class ConditionError(ValueError):
    """A condition that cannot be read or checked; the message starts with ``column N:``."""

    def __init__(self, column: int, message: str):
        super().__init__(f"column {column}: {message}")
        self.column = column
        self.reason = message


KEYWORDS = frozenset({"and", "or", "not", "for", "true", "false"})
MAX_LENGTH = 2000
MAX_NESTING = 40
"""Limits that keep a hostile or broken condition from exhausting the parser (characters, levels)."""
Value = Union[float, str, bool, None]


class MetricSource(Protocol):
    """Where references get their values (raise KeyError for unknown satellites or stations; return None
    for a value that does not exist now)."""

    @property
    def time_s(self) -> float: ...
    def satellite(self, satellite_id: str, attribute: str) -> object: ...
    def job(self, job_id: str, attribute: str) -> object: ...
    def station(self, station_id: str, attribute: str) -> object: ...
    def link(self, a: str, b: str, attribute: str) -> object: ...
    def fleet(self, attribute: str) -> object: ...
    def jobs(self, attribute: str) -> object: ...
    def sim(self, attribute: str) -> object: ...


# ----------------------------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Literal:
    value: float | str | bool
    type: str
    column: int

    def evaluate(self, source: MetricSource) -> Value:
        return self.value

    def describe(self) -> str:
        return f"the {self.type} {self.value!r}"


@dataclass(frozen=True)
class Reference:
    scope: str
    ids: tuple[str, ...]
    attribute: str
    type: str
    column: int

    def evaluate(self, source: MetricSource) -> Value:
        if self.scope == "sim":
            raw: object = source.time_s if self.attribute == "time" else source.sim(self.attribute)
        elif self.scope == "sat":
            raw = source.satellite(self.ids[0], self.attribute)
        elif self.scope == "link":
            raw = source.link(self.ids[0], self.ids[1], self.attribute)
        else:  # job, station, fleet, jobs: the method is named like the scope
            raw = getattr(source, self.scope)(*self.ids, self.attribute)
        if raw is None:
            return None
        return bool(raw) if self.type == BOOL else str(raw) if self.type == STRING else float(raw)

    @property
    def text(self) -> str:
        """As written (normalised quotes), e.g. ``sat('A-01-01').battery_soc``."""
        args = f"({', '.join(repr(i) for i in self.ids)})" if self.ids else ""
        return f"{self.scope}{args}.{self.attribute}"

    def describe(self) -> str:
        return f"{self.text} ({self.type})"


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Node
    type: str
    column: int

    def evaluate(self, source: MetricSource) -> Value:
        value = self.operand.evaluate(source)
        if self.op == "not":
            return not value
        return None if value is None else -value  # type: ignore[operator]

    def describe(self) -> str:
        return f"a {self.type} expression"


_COMPARE = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}


@dataclass(frozen=True)
class Binary:
    op: str  # a comparison or + - * /
    left: Node
    right: Node
    type: str
    column: int

    def evaluate(self, source: MetricSource) -> Value:
        left, right = self.left.evaluate(source), self.right.evaluate(source)
        if left is None or right is None:
            return False if self.type == BOOL else None
        if self.op == "==":
            return left == right
        if self.op == "!=":
            return left != right
        if self.op in _COMPARE:
            return _COMPARE[self.op](float(left), float(right))
        if self.op == "/":
            return None if right == 0 else left / right  # type: ignore[operator]
        if self.op == "*":
            return left * right  # type: ignore[operator]
        return left + right if self.op == "+" else left - right  # type: ignore[operator]

    def describe(self) -> str:
        return f"a {self.type} expression"


@dataclass(frozen=True)
class Logical:
    op: str  # "and" or "or"
    operands: tuple[Node, ...]
    column: int
    type: str = BOOL

    def evaluate(self, source: MetricSource) -> Value:
        if self.op == "and":
            return all(operand.evaluate(source) for operand in self.operands)
        return any(operand.evaluate(source) for operand in self.operands)

    def describe(self) -> str:
        return "a true/false expression"


Node = Union[Literal, Reference, Unary, Binary, Logical]


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Unary):
        yield from _walk(node.operand)
    elif isinstance(node, Binary):
        yield from _walk(node.left)
        yield from _walk(node.right)
    elif isinstance(node, Logical):
        for operand in node.operands:
            yield from _walk(operand)


@dataclass(frozen=True)
class References:
    """Ids an expression names, in order of first appearance (``satellites`` includes link ends)."""

    satellites: tuple[str, ...]
    jobs: tuple[str, ...]
    stations: tuple[str, ...]
    links: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Expression:
    """A parsed expression (a metric, or a condition with an optional hold time)."""

    text: str
    root: Node
    hold_s: float | None = None
    """``for`` duration, s: the condition must hold this long (None: no ``for``)."""

    @property
    def type(self) -> str:
        return self.root.type

    def evaluate(self, source: MetricSource) -> Value:
        """The value now (for a condition: whether it holds now, ignoring ``for``)."""
        value = self.root.evaluate(source)
        return bool(value) if self.type == BOOL else value

    def references(self) -> References:
        refs = [node for node in _walk(self.root) if isinstance(node, Reference)]

        def ids(*scopes: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(i for ref in refs if ref.scope in scopes for i in ref.ids))

        links = tuple(dict.fromkeys((ref.ids[0], ref.ids[1]) for ref in refs if ref.scope == "link"))
        return References(ids("sat", "link"), ids("job"), ids("station"), links)

    def check_ids(self, satellites: Iterable[str] | None = None, jobs: Iterable[str] | None = None,
                  stations: Iterable[str] | None = None) -> None:
        """Raise ConditionError (with the column) for an id not among those given (None: not checked)."""
        sets = [None if ids is None else set(ids) for ids in (satellites, jobs, stations)]
        known = {"sat": sets[0], "link": sets[0], "job": sets[1], "station": sets[2]}
        for node in _walk(self.root):
            allowed = known.get(node.scope) if isinstance(node, Reference) else None
            if allowed is not None:
                for identifier in node.ids:  # type: ignore[union-attr]
                    if identifier not in allowed:
                        kind = "satellite" if node.scope == "link" else NAMESPACE[node.scope].label
                        raise ConditionError(node.column, f"no {kind} {identifier!r}{_suggest(identifier, allowed)}")


Condition = Expression
"""A condition is a true/false :class:`Expression`, possibly with ``hold_s``."""


# ------------------------------------------------------------------------------------------- tokeniser


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, op, end
    text: str
    column: int
    value: float | str | None = None
    has_unit: bool = False


_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?P<unit>[A-Za-z][A-Za-z0-9.]*)?"
    r"|(?P<string>'[^']*'|\"[^\"]*\")"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|[<>+\-*/(),.])"
)
_HINTS = {"=": "use == to compare", "&": "write 'and'", "|": "write 'or'", "!": "write 'not' or !=",
          "'": "unclosed string", '"': "unclosed string"}


def tokenize(text: str) -> list[Token]:
    """Tokens of `text`, ending with an ``end`` token; raises ConditionError on anything unexpected."""
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        column = position + 1
        if match is None:
            char = text[position]
            hint = f" ({_HINTS[char]})" if char in _HINTS else ""
            raise ConditionError(column, f"unexpected character {char!r}{hint}")
        if match.group("number") is not None:
            number, unit = match.group("number"), match.group("unit")
            if unit:
                try:
                    tokens.append(Token("number", match.group(0), column, parse_duration(match.group(0)), True))
                except ValueError:
                    raise ConditionError(column, f"cannot read {match.group(0)!r}: durations take ms, s, m, h, d "
                                                 "or w, e.g. 90s, 2m, 1h30m") from None
            else:
                tokens.append(Token("number", number, column, float(number)))
        elif match.group("string") is not None:
            tokens.append(Token("string", match.group(0), column, match.group(0)[1:-1]))
        elif match.group("space") is None:
            tokens.append(Token(str(match.lastgroup), match.group(0), column))
        position = match.end()
    tokens.append(Token("end", "end of text", len(text) + 1))
    return tokens


# ---------------------------------------------------------------------------------------------- parser


def _suggest(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_numeric(node: Node) -> bool:
    return node.type in (NUMBER, DURATION)


class _Parser:
    def __init__(self, text: str):
        if not isinstance(text, str):
            raise ConditionError(1, f"a condition is text, got {type(text).__name__}")
        if len(text) > MAX_LENGTH:
            raise ConditionError(MAX_LENGTH, f"longer than {MAX_LENGTH} characters")
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    def nest(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ConditionError(column, f"nested more than {MAX_NESTING} deep")

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, *texts: str) -> bool:
        return self.token.kind in ("op", "name") and self.token.text in texts

    def expect(self, text: str, what: str) -> Token:
        if not self.at(text):
            raise ConditionError(self.token.column, f"expected {what}, found {self.token.text!r}")
        return self.take()

    def boolean(self, node: Node, op: str) -> Node:
        if node.type != BOOL:
            raise ConditionError(node.column, f"'{op}' needs true/false values, but {node.describe()} is not; "
                                              "compare it, e.g. '< 0.3' or \"== 'RUNNING'\"")
        return node

    def expression(self) -> Node:
        return self.logical("or", self.conjunct)

    def conjunct(self) -> Node:
        return self.logical("and", self.negation)

    def logical(self, op: str, operand) -> Node:
        first = operand()
        operands = [first]
        while self.at(op):
            self.take()
            operands.append(self.boolean(operand(), op))
        return first if len(operands) == 1 else Logical(op, tuple(self.boolean(n, op) for n in operands), first.column)

    def negation(self) -> Node:
        if self.at("not"):
            column = self.take().column
            self.nest(column)
            operand = self.boolean(self.negation(), "not")
            self.depth -= 1
            return Unary("not", operand, BOOL, column)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum()
        if not self.at("<", "<=", ">", ">=", "==", "!="):
            return left
        op = self.take()
        right = self.sum()
        if self.at("<", "<=", ">", ">=", "==", "!="):
            raise ConditionError(self.token.column, "chained comparisons are not supported; join them with 'and'")
        left, right = self.coerce(left, right), self.coerce(right, left)
        if _is_numeric(left) and _is_numeric(right):
            pass
        elif left.type == right.type and left.type in (STRING, BOOL):
            if op.text not in ("==", "!="):
                raise ConditionError(op.column, f"'{op.text}' needs numbers; {left.type} values compare only "
                                                "with == and !=")
            for ref, lit in ((left, right), (right, left)):
                if isinstance(ref, Reference) and isinstance(lit, Literal):
                    values = NAMESPACE[ref.scope].attributes[ref.attribute].values
                    if values and lit.value not in values:
                        raise ConditionError(lit.column, f"{ref.text} is never {lit.value!r} "
                                                         f"(known: {', '.join(values)})")
        else:
            raise ConditionError(op.column, f"cannot compare {left.describe()} with {right.describe()}")
        return Binary(op.text, left, right, BOOL, left.column)

    @staticmethod
    def coerce(node: Node, other: Node) -> Node:
        """A string literal compared with a duration becomes its number of seconds."""
        if isinstance(node, Literal) and node.type == STRING and other.type == DURATION:
            try:
                return Literal(parse_duration(str(node.value)), DURATION, node.column)
            except ValueError as error:
                raise ConditionError(node.column, str(error)) from None
        return node

    def arithmetic(self, operand, ops: tuple[str, ...]) -> Node:
        left = operand()
        while self.at(*ops):
            op = self.take()
            right = operand()
            for side in (left, right):
                if not _is_numeric(side):
                    raise ConditionError(side.column, f"'{op.text}' needs numbers, but {side.describe()} is not one")
            kind = DURATION if op.text in "+-" and DURATION in (left.type, right.type) else NUMBER
            left = Binary(op.text, left, right, kind, left.column)
        return left

    def sum(self) -> Node:
        return self.arithmetic(self.product, ("+", "-"))

    def product(self) -> Node:
        return self.arithmetic(self.unary, ("*", "/"))

    def unary(self) -> Node:
        if self.at("-"):
            column = self.take().column
            self.nest(column)
            operand = self.unary()
            self.depth -= 1
            if not _is_numeric(operand):
                raise ConditionError(operand.column, f"'-' needs a number, but {operand.describe()} is not one")
            return Unary("-", operand, operand.type, column)
        return self.primary()

    def primary(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.take()
            kind = DURATION if token.has_unit else NUMBER
            return Literal(float(token.value), kind, token.column)  # type: ignore[arg-type]
        if token.kind == "string":
            self.take()
            return Literal(str(token.value), STRING, token.column)
        if self.at("("):
            self.nest(self.take().column)
            inner = self.expression()
            self.expect(")", "')'")
            self.depth -= 1
            return inner
        if token.kind == "name":
            if token.text in ("true", "false"):
                self.take()
                return Literal(token.text == "true", BOOL, token.column)
            return self.reference()
        raise ConditionError(token.column, f"expected a value, found {token.text!r}")

    def reference(self) -> Reference:
        token = self.take()
        name = token.text
        if name in KEYWORDS:
            raise ConditionError(token.column, f"expected a value, found {name!r}")
        if name.lower() in KEYWORDS:
            raise ConditionError(token.column, f"write {name.lower()!r} in lower case")
        if name not in NAMESPACE:
            raise ConditionError(token.column, f"unknown name {name!r} (known: {', '.join(NAMESPACE)})")
        scope = NAMESPACE[name]
        ids: list[str] = []
        if scope.arity:
            example = ", ".join(['"A-01-01"', '"A-01-02"'][: scope.arity]) if name in ("sat", "link") else '"ID"'
            noun = "satellite" if name == "link" else scope.label
            plural = "s" if scope.arity > 1 else ""
            usage = f"{name}() takes {scope.arity} quoted {noun} id{plural}, e.g. {name}({example})"
            self.expect("(", f"'(' ({usage})")
            for position in range(scope.arity):
                if position:
                    self.expect(",", f"',' ({usage})")
                if self.token.kind != "string":
                    raise ConditionError(self.token.column, usage)
                ids.append(str(self.take().value))
            self.expect(")", f"')' ({usage})")
        elif self.at("("):
            first = next(iter(scope.attributes))
            raise ConditionError(self.token.column, f"{name} takes no arguments; write e.g. {name}.{first}")
        self.expect(".", f"'.' and a {scope.label} attribute after {name}")
        attribute = self.take()
        if attribute.kind != "name" or attribute.text not in scope.attributes:
            raise ConditionError(attribute.column, f"unknown {scope.label} attribute {attribute.text!r}"
                                 f"{_suggest(attribute.text, scope.attributes)} (known: {', '.join(scope.attributes)})")
        kind = scope.attributes[attribute.text].type
        reference = Reference(name, tuple(ids), attribute.text, kind, token.column)
        if self.at(".", "("):
            raise ConditionError(self.token.column, f"{reference.text} is a value: it has no attributes "
                                                    "and cannot be called")
        return reference

    def finish(self, root: Node, hold_s: float | None = None) -> Expression:
        if self.token.kind != "end":
            raise ConditionError(self.token.column, f"unexpected {self.token.text!r} after a complete expression")
        return Expression(self.text, root, hold_s)


def parse_condition(text: str) -> Condition:
    """Parse a true/false condition with an optional trailing ``for <duration>``."""
    parser = _Parser(text)
    root = parser.expression()
    if root.type != BOOL:
        raise ConditionError(root.column, f"a condition must be true or false, but {root.describe()} is not; "
                                          "compare it, e.g. '< 0.3'")
    hold_s = None
    if parser.at("for"):
        parser.take()
        token = parser.take()
        if token.kind == "number" and token.has_unit:
            hold_s = float(token.value)  # type: ignore[arg-type]
        elif token.kind == "string":
            try:
                hold_s = parse_duration(str(token.value))
            except ValueError as error:
                raise ConditionError(token.column, str(error)) from None
        else:
            raise ConditionError(token.column, f"'for' needs a duration with a unit, e.g. 'for 2m', "
                                               f"found {token.text!r}")
    return parser.finish(root, hold_s)


def parse_metric(text: str) -> Expression:
    """Parse a value expression for an objective, e.g. ``job('J-7').progress`` (no ``for``)."""
    parser = _Parser(text)
    return parser.finish(parser.expression())


# ----------------------------------------------------------------------------------------------- watch


class ConditionWatch:
    """Tracks a condition over time: fed ``(time_s, holds)`` each step, it reports the step at which the
    condition has held continuously for its ``for`` time (once per stretch; a false sample resets it).
    The stretch starts at the first sample that holds."""

    def __init__(self, condition: Condition | None = None, hold_s: float | None = None):
        self.condition = condition
        if hold_s is None and condition is not None:
            hold_s = condition.hold_s
        self.hold_s = float(hold_s or 0.0)
        self.since_s: float | None = None
        """Time of the first sample of the current true stretch (None while false)."""
        self.satisfied = False
        """Whether it has held for ``hold_s`` as of the last sample."""
        self._last_s = float("-inf")

    def update(self, time_s: float, holds: bool) -> bool:
        """Feed one sample; True exactly at the sample where the hold time is first reached."""
        if time_s < self._last_s:
            raise ValueError(f"time went backwards: {time_s} s after {self._last_s} s")
        self._last_s = time_s
        if not holds:
            self.since_s, self.satisfied = None, False
            return False
        if self.since_s is None:
            self.since_s = time_s
        was = self.satisfied
        self.satisfied = time_s - self.since_s >= self.hold_s
        return self.satisfied and not was

    def observe(self, source: MetricSource) -> bool:
        """Evaluate the watched condition on `source` at ``source.time_s`` and feed the result."""
        if self.condition is None:
            raise ValueError("this watch has no condition; use update(time_s, holds)")
        return self.update(source.time_s, bool(self.condition.evaluate(source)))

    def held_s(self, time_s: float) -> float:
        """How long the current true stretch has lasted at `time_s` (0 while false)."""
        return 0.0 if self.since_s is None else time_s - self.since_s
