"""Line-aware YAML validation: load YAML keeping every node's position, check it against a
JSON-Schema, and report the first problem as `file:line:col: message`.

Used for the codebook (qualtrace.coding.codebook) and the workflow config (qualtrace.common.config). Messages
are written for the people who edit those files: an unknown key comes with a did-you-mean hint
and the allowed keys, a wrong type says what was found, a bad enum value lists the choices.

Positions map a JSON path (a tuple of keys and list indices) to (line, column), both 1-based;
a mapping key itself is recorded under path + (key, "<key>"), so an unknown key can be pointed at
directly rather than at its value.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import jsonschema
import yaml

__all__ = ["KEY", "Reporter", "load_with_positions", "load_file", "schema_errors",
           "report_schema_error", "validate"]

KEY = "<key>"


# Aliases may repeat at most this many nodes in all: far more than any config or codebook
# needs, and a ~500-byte "billion laughs" document (aliases of aliases) is refused in
# milliseconds instead of expanding to gigabytes.
MAX_ALIAS_NODES = 100_000


class _Alias:
    """Where an alias occurs (the composer otherwise returns the anchored node itself, which
    forgets the alias's own line) and the node it names."""

    __slots__ = ("target", "start_mark", "anchor")

    def __init__(self, target, start_mark, anchor):
        self.target, self.start_mark, self.anchor = target, start_mark, anchor


class _Composer(yaml.SafeLoader):
    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            return _Alias(super().compose_node(parent, index), event.start_mark, event.anchor)
        return super().compose_node(parent, index)


def _children(node):
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


def _bound_aliases(root, name: str, error: type[Exception]) -> None:
    """Refuse a recursive alias, or aliases that would repeat more than MAX_ALIAS_NODES nodes,
    naming the alias; linear in the number of distinct nodes (nothing is expanded)."""
    sizes: dict[int, int] = {}  # id(node) -> nodes in its expansion

    def where(alias):
        return f"{name}:{alias.start_mark.line + 1}:{alias.start_mark.column + 1}"

    def size(node) -> int:
        # Iterative post-order walk: deep nesting must not hit Python's recursion limit.
        stack, on_path = [(node, False)], set()
        while stack:
            item, done = stack.pop()
            target = item.target if isinstance(item, _Alias) else item
            key = id(target)
            if done:
                on_path.discard(key)
                sizes[key] = 1 + sum(sizes[id(_target(c))] for c in _children(target))
                continue
            if key in sizes:
                continue
            if key in on_path:
                raise error(f"{where(item)}: the alias *{item.anchor} refers to a node that "
                            "contains it (a recursive alias); YAML here must be a tree")
            on_path.add(key)
            stack.append((item, True))
            stack.extend((c, False) for c in reversed(_children(target)))
        return sizes[id(_target(node))]

    repeated = 0
    stack = [root]
    while stack:  # every alias in document order, outside any alias (those are counted in it)
        item = stack.pop()
        if isinstance(item, _Alias):
            repeated += size(item)
            if repeated > MAX_ALIAS_NODES:
                raise error(f"{where(item)}: the alias *{item.anchor} takes the aliases in this "
                            f"file past {MAX_ALIAS_NODES:,} repeated values (an alias bomb?); "
                            "write the values out or use fewer aliases")
        else:
            stack.extend(reversed(_children(item)))


def _target(node):
    return node.target if isinstance(node, _Alias) else node


def load_with_positions(text: str, name: str, error: type[Exception] = ValueError,
                        what: str = "the file") -> tuple[object, dict]:
    """Parse YAML text into (data, positions); raise `error` naming name:line:col on invalid
    YAML, a duplicate key, a recursive alias or aliases that expand too far
    (MAX_ALIAS_NODES), or an empty document (`what` names the file in that message)."""
    try:
        loader = _Composer(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None)
        if getattr(err, "context", None) == "while scanning a simple key":
            mark = err.context_mark  # `key value` without a colon: the line with the key
            problem += " (is a colon missing after the key?)"
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        if isinstance(err, yaml.reader.ReaderError):  # a control character, at an offset
            line = text.count("\n", 0, err.position) + 1
            column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
            where = f"{name}:{line}:{column}"
            problem = f"the character U+{err.character:04X} is not allowed in YAML"
        problem = problem or str(err).replace("\n", " ")
        raise error(f"{where}: not valid YAML: {problem}") from None
    except RecursionError:
        raise error(f"{name}: nested too deeply to read (thousands of levels)") from None
    if node is None:
        raise error(f"{name}:1: {what} is empty")
    _bound_aliases(node, name, error)
    positions: dict[tuple, tuple[int, int]] = {}
    constructor = yaml.SafeLoader("")

    def build(n, path):
        positions[path] = (n.start_mark.line + 1, n.start_mark.column + 1)  # an alias: its use
        n = _target(n)
        if isinstance(n, yaml.MappingNode):
            out = {}
            for key_node, value_node in n.value:
                key_node = _target(key_node)
                if not isinstance(key_node, yaml.ScalarNode):
                    raise error(f"{name}:{key_node.start_mark.line + 1}:"
                                f"{key_node.start_mark.column + 1}: a key must be a plain "
                                "value, not a list or mapping")
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise error(f"{name}:{key_node.start_mark.line + 1}:"
                                f"{key_node.start_mark.column + 1}: merge keys (<<) are not "
                                "supported here; write the keys out")
                key = scalar(key_node)
                if key in out:
                    raise error(f"{name}:{key_node.start_mark.line + 1}:"
                                f"{key_node.start_mark.column + 1}: duplicate key {key!r}")
                positions[path + (key, KEY)] = (key_node.start_mark.line + 1,
                                                key_node.start_mark.column + 1)
                out[key] = build(value_node, path + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, path + (i,)) for i, item in enumerate(n.value)]
        return scalar(n)

    def scalar(n):
        try:
            return constructor.construct_object(n)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as err:  # `!!int x`
            problem = getattr(err, "problem", None) or str(err)
            raise error(f"{name}:{n.start_mark.line + 1}:{n.start_mark.column + 1}: cannot "
                        f"read this value: {problem}") from None

    try:
        return build(node, ()), positions
    except RecursionError:
        raise error(f"{name}: nested too deeply to read (thousands of levels)") from None


def load_file(path: str | Path, error: type[Exception] = ValueError,
              what: str = "the file") -> tuple[object, dict, str]:
    """Read and parse a YAML file: (data, positions, name). Unreadable files raise `error`."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{name}: cannot read {what}: {err}") from None
    data, positions = load_with_positions(text, name, error, what)
    return data, positions, name


@dataclass
class Reporter:
    """Turns a JSON path into `file:line:col` and raises `error` with a message there.

    `context(data, path)` may name the object a message is about (e.g. "rule 'x/y'"), so the
    message reads on its own; it returns "" when there is nothing to name. `subject(path)`, if
    given, is the noun schema messages start with ("render.engine has a bad value ..."); without
    it they start with the last key ("within must be of type integer ...") or with nothing.
    """
    name: str
    data: object
    positions: dict
    error: type[Exception] = ValueError
    context: Callable[[object, tuple], str] | None = field(default=None)
    subject: Callable[[tuple], str] | None = field(default=None)

    def position(self, path) -> tuple[int, int]:
        """The position of the innermost node of `path` that has one."""
        path = tuple(path)
        while path and path not in self.positions:
            path = path[:-1]
        return self.positions.get(path, (1, 1))

    def where(self, path) -> str:
        line, col = self.position(path)
        return f"{self.name}:{line}:{col}"

    def fail(self, path, message: str):
        ctx = self.context(self.data, tuple(path)) if self.context else ""
        raise self.error(f"{self.where(path)}: {ctx + ' ' if ctx else ''}{message}")


def schema_errors(data, schema: dict, positions: dict | None = None) -> list:
    """Every JSON-Schema error, the first in file order first (what a reader fixing the file
    top-down meets first)."""
    validator = jsonschema.validators.validator_for(schema)(schema)
    rep = Reporter("", data, positions or {})

    def key(error):
        return (rep.position(error.absolute_path) if positions else (0, 0), str(error.path))

    return sorted(validator.iter_errors(data), key=key)


def _choices(values) -> str:
    return ", ".join(repr(v) for v in values)


def report_schema_error(rep: Reporter, error: jsonschema.ValidationError,
                        messages: dict[str, str] | None = None):
    """Raise `rep.error` for one schema error, at the line of the offending key or value.

    `messages` overrides the message for a validator (e.g. {"oneOf": "must have exactly one of
    'any', 'all' or 'near'"}), for constraints whose generic wording would not help.
    """
    path = list(error.absolute_path)
    messages = messages or {}

    def noun(path, value=True):
        if rep.subject is not None:
            return rep.subject(tuple(path)) + " "
        return ((".".join(map(str, path[-1:])) or "value") + " ") if value else ""

    if error.validator in messages:
        rep.fail(path, messages[error.validator])
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        patterns = error.schema.get("patternProperties", {})
        extra = [k for k in error.instance if k not in allowed
                 and not any(re.search(p, str(k)) for p in patterns)]
        if extra and allowed:
            key = extra[0]
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            rep.fail(path + [key, KEY], f"{noun(path, False)}has an unknown key {key!r}"
                     + (f" (did you mean {hint[0]!r}?)" if hint else "")
                     + f"; allowed: {', '.join(allowed)}")
        if extra:  # patternProperties only: the key itself has a bad shape
            rep.fail(path + [extra[0], KEY],
                     f"{noun(path, False)}has a badly formed name {extra[0]!r}")
    if error.validator == "type":
        rep.fail(path, f"{noun(path)}must be of type {error.validator_value}, not "
                       f"{type(error.instance).__name__} ({error.instance!r})")
    if error.validator == "enum":
        choices = error.validator_value
        hint = difflib.get_close_matches(str(error.instance), [str(c) for c in choices], n=1)
        rep.fail(path, f"{noun(path)}has a bad value {error.instance!r}"
                       + (f" (did you mean {hint[0]!r}?)" if hint else "")
                       + f"; allowed: {_choices(choices)}")
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in (error.instance or {})]
        if missing:
            rep.fail(path, f"{noun(path, False)}is missing the required key {missing[0]!r}")
    if rep.subject is not None:
        rep.fail(path, f"{rep.subject(tuple(path))}: {error.message}")
    rep.fail(path, error.message)


def validate(data, positions: dict, schema: dict, name: str,
             error: type[Exception] = ValueError, context=None,
             messages: dict[str, str] | None = None, subject=None) -> Reporter:
    """Check data against schema; raise `error` for the first problem in file order.
    Returns the Reporter, for further (semantic) checks that report the same way."""
    rep = Reporter(name, data, positions, error, context, subject)
    errors = schema_errors(data, schema, positions)
    if errors:
        report_schema_error(rep, errors[0], messages)
    return rep
