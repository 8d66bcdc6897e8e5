"""JSON-schema validation with AJV's coercion, error order and messages (as pi-ai runs it).

OpenClaw validates every tool call with AJV 8 (``allErrors: true, strict: false, coerceTypes: true``)
and shows the model ``Validation failed for tool "<name>":\\n  - <path>: <message>…\\n\\nReceived
arguments:\\n<JSON.stringify(args, null, 2)>`` (pi-ai ``utils/validation.js``). ``jsonschema`` from
PyPI neither coerces ("5" → 5) nor words or orders errors like AJV, so this is a small validator for
the keyword subset the OpenClaw schemas use (type, enum, const, required, properties,
patternProperties, additionalProperties, items, min/max, min/maxLength, min/maxItems, pattern),
keeping AJV's evaluation order: type check and coercion first, then untyped keywords (const, enum),
then the number, string, array and object keyword groups. Unknown keywords are ignored
(``strict: false``). Its texts were checked against AJV itself (tests hold the expected strings).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any

from clawgym_env.tools.jsjson import js_key_order, js_number_to_string, js_stringify, js_to_number

__all__ = ["AjvError", "format_validation_error", "validate"]

_COERCIBLE = ("string", "number", "integer", "boolean", "null")

# keyword groups in AJV's rule order (draft-07 vocabularies)
_NUMBER_KW = ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf")
_STRING_KW = ("maxLength", "minLength", "pattern", "format")
_ARRAY_KW = ("maxItems", "minItems", "uniqueItems", "additionalItems", "items", "contains")
_OBJECT_KW = (
    "maxProperties", "minProperties", "required", "propertyNames", "additionalProperties",
    "dependencies", "properties", "patternProperties",
)
_GROUPS = (("number", _NUMBER_KW), ("string", _STRING_KW), ("array", _ARRAY_KW), ("object", _OBJECT_KW))
_ALL_KW = frozenset(("type", "nullable", "const", "enum", "not", "anyOf", "oneOf", "allOf", "if", "then", "else")
                    + _NUMBER_KW + _STRING_KW + _ARRAY_KW + _OBJECT_KW)


@dataclass
class AjvError:
    instance_path: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_type(x: Any, t: str) -> bool:
    if t == "number":
        return _is_number(x)
    if t == "integer":
        return _is_number(x) and (isinstance(x, int) or (not math.isnan(x) and (math.isinf(x) or x.is_integer())))
    if t == "string":
        return isinstance(x, str)
    if t == "boolean":
        return isinstance(x, bool)
    if t == "null":
        return x is None
    if t == "array":
        return isinstance(x, list)
    if t == "object":
        return isinstance(x, dict)
    return True


def _js_equal(a: Any, b: Any) -> bool:
    """fast-deep-equal semantics (what AJV's enum/const use)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_js_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_js_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _coerce(x: Any, targets: list[str]) -> tuple[bool, Any]:
    """AJV coerceData: the first target type whose rule applies wins."""
    for t in targets:
        if t == "string":
            if _is_number(x) or isinstance(x, bool):
                return True, js_number_to_string(x)
            if x is None:
                return True, ""
        elif t in ("number", "integer"):
            if isinstance(x, bool):
                return True, int(x)
            if x is None:
                return True, 0
            if isinstance(x, str) and x:
                num = js_to_number(x)
                if num is not None and not (isinstance(num, float) and math.isnan(num)):
                    if t == "number" or (math.isfinite(num) and float(num).is_integer()):
                        return True, num
        elif t == "boolean":
            if x == "false" or (_is_number(x) and x == 0) or x is None:
                return True, False
            if x == "true" or (_is_number(x) and x == 1):
                return True, True
        elif t == "null":
            if x == "" or (_is_number(x) and x == 0) or x is False:
                return True, None
    return False, x


def _escape_pointer(seg: str) -> str:
    return seg.replace("~", "~0").replace("/", "~1")


def _js_regex(pattern: str) -> re.Pattern[str]:
    # JS `$` (no m flag) matches only at the very end; Python's also matches before a final newline.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _has_rules(schema: Any) -> bool:
    if isinstance(schema, bool):
        return not schema
    return isinstance(schema, dict) and any(k in _ALL_KW for k in schema)


class _Validator:
    def __init__(self) -> None:
        self.errors: list[AjvError] = []

    def err(self, path: str, message: str, **params: Any) -> None:
        self.errors.append(AjvError(path, message, params))

    def type_error(self, path: str, types: list[str] | str) -> None:
        shown = ",".join(types) if isinstance(types, list) else types
        self.err(path, f"must be {shown}", type=shown)

    def node(self, schema: Any, data: Any, path: str) -> Any:
        """Validate one value; returns it, coerced where AJV would coerce it."""
        if schema is True or schema == {}:
            return data
        if schema is False:
            self.err(path, "boolean schema is false")
            return data
        if not isinstance(schema, dict):
            return data
        raw_type = schema.get("type")
        types: list[str] = [raw_type] if isinstance(raw_type, str) else list(raw_type or [])
        type_errors = True
        if types:
            coerce_to = [t for t in types if t in _COERCIBLE]
            single_with_rules = len(types) == 1 and any(
                k in schema for g, kws in _GROUPS if g == types[0] for k in kws
            )
            if not (not coerce_to and single_with_rules):
                type_errors = False
                if not any(_is_type(data, t) for t in types):
                    ok, coerced = _coerce(data, coerce_to) if coerce_to else (False, data)
                    if ok:
                        data = coerced
                    else:
                        self.type_error(path, raw_type if isinstance(raw_type, str) else types)

        # untyped keywords
        if "const" in schema and not _js_equal(data, schema["const"]):
            self.err(path, "must be equal to constant", allowedValue=schema["const"])
        if "enum" in schema and isinstance(schema["enum"], list):
            if not any(_js_equal(data, e) for e in schema["enum"]):
                self.err(path, "must be equal to one of the allowed values", allowedValues=schema["enum"])

        for group, kws in _GROUPS:
            if not any(k in schema for k in kws):
                continue
            if _is_type(data, group):
                data = getattr(self, f"_{group}")(schema, data, path)
            elif type_errors and len(types) == 1 and types[0] == group:
                self.type_error(path, group)
        return data

    def _number(self, schema: dict[str, Any], x: Any, path: str) -> Any:
        for kw, op, ok in (
            ("maximum", "<=", lambda a, b: a <= b),
            ("minimum", ">=", lambda a, b: a >= b),
            ("exclusiveMaximum", "<", lambda a, b: a < b),
            ("exclusiveMinimum", ">", lambda a, b: a > b),
        ):
            lim = schema.get(kw)
            if _is_number(lim) and not ok(x, lim):
                self.err(path, f"must be {op} {js_number_to_string(lim)}", comparison=op, limit=lim)
        m = schema.get("multipleOf")
        if _is_number(m) and m != 0:
            q = x / m
            if isinstance(q, float) and not q.is_integer():
                self.err(path, f"must be multiple of {js_number_to_string(m)}", multipleOf=m)
        return x

    def _string(self, schema: dict[str, Any], s: str, path: str) -> Any:
        for kw, word in (("maxLength", "more"), ("minLength", "fewer")):
            lim = schema.get(kw)
            if _is_number(lim) and (len(s) > lim if kw == "maxLength" else len(s) < lim):
                self.err(path, f"must NOT have {word} than {js_number_to_string(lim)} characters", limit=lim)
        pat = schema.get("pattern")
        if isinstance(pat, str):
            try:
                if not _js_regex(pat).search(s):
                    self.err(path, f'must match pattern "{pat}"', pattern=pat)
            except re.error:
                pass
        return s

    def _array(self, schema: dict[str, Any], arr: list[Any], path: str) -> Any:
        for kw, word in (("maxItems", "more"), ("minItems", "fewer")):
            lim = schema.get(kw)
            if _is_number(lim) and (len(arr) > lim if kw == "maxItems" else len(arr) < lim):
                self.err(path, f"must NOT have {word} than {js_number_to_string(lim)} items", limit=lim)
        items = schema.get("items")
        if isinstance(items, (dict, bool)) and _has_rules(items):
            for i, item in enumerate(arr):
                arr[i] = self.node(items, item, f"{path}/{i}")
        return arr

    def _object(self, schema: dict[str, Any], obj: dict[str, Any], path: str) -> Any:
        for kw, word in (("maxProperties", "more"), ("minProperties", "fewer")):
            lim = schema.get(kw)
            if _is_number(lim) and (len(obj) > lim if kw == "maxProperties" else len(obj) < lim):
                self.err(path, f"must NOT have {word} than {js_number_to_string(lim)} properties", limit=lim)
        for prop in schema.get("required") or []:
            if isinstance(prop, str) and prop not in obj:
                self.err(path, f"must have required property '{prop}'", missingProperty=prop)
        props: dict[str, Any] = schema.get("properties") or {}
        patterns = [(p, _js_regex(p), sub) for p, sub in (schema.get("patternProperties") or {}).items()]
        extra = schema.get("additionalProperties")
        if extra is not None and extra is not True:
            for key in js_key_order(obj):
                if key in props or any(rx.search(key) for _, rx, _ in patterns):
                    continue
                if extra is False:
                    self.err(path, "must NOT have additional properties", additionalProperty=key)
                elif isinstance(extra, dict):
                    obj[key] = self.node(extra, obj[key], f"{path}/{_escape_pointer(key)}")
        for prop, sub in props.items():
            if prop in obj and _has_rules(sub):
                obj[prop] = self.node(sub, obj[prop], f"{path}/{_escape_pointer(prop)}")
        for _, rx, sub in patterns:
            for key in js_key_order(obj):
                if rx.search(key) and _has_rules(sub):
                    obj[key] = self.node(sub, obj[key], f"{path}/{_escape_pointer(key)}")
        return obj


def validate(schema: dict[str, Any], args: Any) -> tuple[Any, list[AjvError]]:
    """Validate a deep copy of ``args``; returns (coerced copy, errors in AJV order)."""
    v = _Validator()
    data = v.node(schema, copy.deepcopy(args), "")
    return data, v.errors


def format_validation_error(tool: str, errors: list[AjvError], received: Any) -> str:
    """pi-ai's text for a failed validation; ``received`` are the arguments before coercion."""
    lines = []
    for e in errors:
        where = e.instance_path[1:] if e.instance_path else (e.params.get("missingProperty") or "root")
        lines.append(f"  - {where}: {e.message}")
    body = "\n".join(lines) or "Unknown validation error"
    return f'Validation failed for tool "{tool}":\n{body}\n\nReceived arguments:\n{js_stringify(received, 2)}'
