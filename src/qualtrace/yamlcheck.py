"""Line-aware YAML validation: load YAML keeping every node's position, check it against a
JSON-Schema, and report the first problem as `file:line:col: message`.

Used for the codebook (qualtrace.codebook) and the workflow config (qualtrace.config). Messages
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


def load_with_positions(text: str, name: str, error: type[Exception] = ValueError,
                        what: str = "the file") -> tuple[object, dict]:
    """Parse YAML text into (data, positions); raise `error` naming name:line:col on invalid
    YAML, a duplicate key, or an empty document (`what` names the file in that message)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise error(f"{where}: not valid YAML: {getattr(err, 'problem', err)}") from None
    if node is None:
        raise error(f"{name}:1: {what} is empty")
    positions: dict[tuple, tuple[int, int]] = {}
    constructor = yaml.SafeLoader("")

    def build(n, path):
        positions[path] = (n.start_mark.line + 1, n.start_mark.column + 1)
        if isinstance(n, yaml.MappingNode):
            out = {}
            for key_node, value_node in n.value:
                key = constructor.construct_object(key_node)
                if key in out:
                    raise error(f"{name}:{key_node.start_mark.line + 1}:"
                                f"{key_node.start_mark.column + 1}: duplicate key {key!r}")
                positions[path + (key, KEY)] = (key_node.start_mark.line + 1,
                                                key_node.start_mark.column + 1)
                out[key] = build(value_node, path + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, path + (i,)) for i, item in enumerate(n.value)]
        return constructor.construct_object(n)

    return build(node, ()), positions


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
