"""JSON the way OpenClaw's JavaScript sees it.

The model-visible texts quote arguments with ``JSON.stringify(x, null, 2)`` and parse streamed
arguments with pi-ai's ``parseStreamingJson`` (``JSON.parse``, then the ``partial-json`` package,
then ``{}``). Python's ``json`` differs in small ways that show up byte for byte (``5.0`` vs ``5``,
``1e-07`` vs ``1e-7``, NaN accepted, integer-like keys ordered first in JS), so these helpers
reimplement the JS behaviour. Written from the JS semantics, not translated from its code.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

__all__ = [
    "MAX_NESTING",
    "nested_deeper_than",
    "safe_str",
    "well_formed",
    "js_json_parse",
    "js_key_order",
    "js_number_to_string",
    "js_stringify",
    "js_to_number",
    "parse_streaming_json",
    "utf16_len",
    "utf16_slice",
]


# ---------------------------------------------------------------- numbers


def js_number_to_string(x: float) -> str:
    """ECMAScript Number::toString for a finite or non-finite number."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        if abs(x) < 2**53:
            return str(x)
        x = float(x)  # JS numbers are doubles: big integers lose their low digits
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    tup = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, tup.digits)).lstrip("0") or "0"
    exp = int(tup.exponent)
    # digits × 10**exp, with the digit string stripped of trailing zeros
    stripped = digits.rstrip("0")
    exp += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = exp + k  # value = 0.d1d2... × 10**n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    esign = "+" if e >= 0 else "-"
    mant = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mant}e{esign}{abs(e)}"


def _normalize_number(x: float) -> float | int:
    """A JS number as the most natural Python value: integral finite floats become int."""
    if isinstance(x, float) and math.isfinite(x) and x.is_integer() and abs(x) < 2**63:
        return int(x)
    return x


_JS_WS = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_DEC_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_RADIX_RE = re.compile(r"0([xXoObB])([0-9a-fA-F]+)\Z")


def js_to_number(s: str) -> float | int | None:
    """JS ``Number(s)`` for a string; None where JS gives NaN. Whitespace-only is 0, as in JS."""
    t = s.strip(_JS_WS)
    if t == "":
        return 0
    if t in ("Infinity", "+Infinity"):
        return math.inf
    if t == "-Infinity":
        return -math.inf
    m = _RADIX_RE.match(t)
    if m:
        base = {"x": 16, "o": 8, "b": 2}[m.group(1).lower()]
        try:
            return int(m.group(2), base)
        except ValueError:
            return None
    if _DEC_RE.match(t):
        return _normalize_number(float(t))
    return None


# ---------------------------------------------------------------- stringify


def _is_array_index(key: str) -> bool:
    return key.isdigit() and (key == "0" or not key.startswith("0")) and int(key) < 2**32 - 1 and key.isascii()


def js_key_order(d: dict[str, Any]) -> list[str]:
    """JS own-property order: array-index keys ascending, then the rest in insertion order."""
    keys = [str(k) for k in d]
    idx = sorted((k for k in keys if _is_array_index(k)), key=int)
    return idx + [k for k in keys if not _is_array_index(k)]


def _quote(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif o < 0x20 or 0xD800 <= o <= 0xDFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def js_stringify(value: Any, indent: int | None = None) -> str:
    """``JSON.stringify(value, null, indent)`` for JSON-like Python values."""
    return _stringify(value, indent, 0)


def _stringify(v: Any, indent: int | None, level: int) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return "null"
        return js_number_to_string(v)
    if isinstance(v, str):
        return _quote(v)
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        items = [_stringify(x, indent, level + 1) for x in v]
        return _join(items, "[", "]", indent, level)
    if isinstance(v, dict):
        if not v:
            return "{}"
        sep = ": " if indent else ":"
        lookup = {str(k): val for k, val in v.items()}
        items = [_quote(k) + sep + _stringify(lookup[k], indent, level + 1) for k in js_key_order(v)]
        return _join(items, "{", "}", indent, level)
    return _quote(str(v))


def _join(items: list[str], open_: str, close: str, indent: int | None, level: int) -> str:
    if not indent:
        return open_ + ",".join(items) + close
    inner = " " * (indent * (level + 1))
    outer = " " * (indent * level)
    return open_ + "\n" + ",\n".join(inner + it for it in items) + "\n" + outer + close


# ---------------------------------------------------------------- parsing


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name[0]}")


def js_json_parse(s: str) -> Any:
    """``JSON.parse``: strict JSON (no NaN/Infinity), integral numbers as int."""
    return json.loads(s, parse_constant=_reject_constant, parse_float=lambda t: _normalize_number(float(t)))


class _Partial(Exception):
    """The text ended before the value did."""


class _Malformed(Exception):
    """The text is not JSON, even allowing for a cut-off end."""


def _substring(s: str, a: int, b: int) -> str:
    """JS ``String.prototype.substring``: negative indices are 0 and the bounds are swapped if reversed."""
    a = min(max(a, 0), len(s))
    b = min(max(b, 0), len(s))
    if a > b:
        a, b = b, a
    return s[a:b]


class _PartialParser:
    """A permissive parser with the same recovery rules as the ``partial-json`` npm package (Allow.ALL)."""

    def __init__(self, text: str):
        self.s = text
        self.n = len(text)
        self.i = 0

    def char(self, i: int | None = None) -> str:
        i = self.i if i is None else i
        return self.s[i] if 0 <= i < self.n else ""

    def skip_blank(self) -> None:
        while self.i < self.n and self.s[self.i] in " \n\r\t":
            self.i += 1

    def parse_any(self) -> Any:
        self.skip_blank()
        if self.i >= self.n:
            raise _Partial("Unexpected end of input")
        c = self.s[self.i]
        if c == '"':
            return self.parse_str()
        if c == "{":
            return self.parse_obj()
        if c == "[":
            return self.parse_arr()
        rest = self.s[self.i :]
        for word, val in (("null", None), ("true", True), ("false", False), ("Infinity", math.inf)):
            if rest.startswith(word) or (len(rest) < len(word) and word.startswith(rest)):
                self.i += len(word)
                return val
        if rest.startswith("-Infinity") or (1 < len(rest) < 9 and "-Infinity".startswith(rest)):
            self.i += 9
            return -math.inf
        if rest.startswith("NaN") or (len(rest) < 3 and "NaN".startswith(rest)):
            self.i += 3
            return math.nan
        return self.parse_num()

    def parse_str(self) -> str:
        start = self.i
        escape = False
        self.i += 1
        while self.i < self.n and (self.s[self.i] != '"' or (escape and self.s[self.i - 1] == "\\")):
            escape = (not escape) if self.s[self.i] == "\\" else False
            self.i += 1
        if self.char() == '"':
            self.i += 1
            try:
                return js_json_parse(_substring(self.s, start, self.i - int(escape)))
            except ValueError as e:
                raise _Malformed(str(e)) from None
        try:
            return js_json_parse(_substring(self.s, start, self.i - int(escape)) + '"')
        except ValueError:
            # an escape sequence cut in half: drop it (a failure here propagates, as in the package)
            return js_json_parse(_substring(self.s, start, self.s.rfind("\\")) + '"')

    def parse_obj(self) -> dict[str, Any]:
        self.i += 1
        self.skip_blank()
        obj: dict[str, Any] = {}
        try:
            while self.char() != "}":
                self.skip_blank()
                if self.i >= self.n:
                    return obj
                key = self.parse_str()
                self.skip_blank()
                self.i += 1  # the colon, whatever it is
                try:
                    obj[key] = self.parse_any()
                except Exception:  # noqa: BLE001 -- partial-json gives up on any error here
                    return obj
                self.skip_blank()
                if self.char() == ",":
                    self.i += 1
        except Exception:  # noqa: BLE001 -- partial-json gives up on any error here
            return obj
        self.i += 1
        return obj

    def parse_arr(self) -> list[Any]:
        self.i += 1
        arr: list[Any] = []
        try:
            while self.char() != "]":
                before = self.i
                arr.append(self.parse_any())
                self.skip_blank()
                if self.char() == ",":
                    self.i += 1
                elif self.i == before:  # no progress: the JS original would spin here
                    return arr
        except Exception:  # noqa: BLE001 -- partial-json gives up on any error here
            return arr
        self.i += 1
        return arr

    def parse_num(self) -> Any:
        s = self.s
        if self.i == 0:
            if s == "-":
                raise _Malformed("Not sure what '-' is")
            try:
                return js_json_parse(s)
            except ValueError as e:
                try:
                    return js_json_parse(_substring(s, 0, s.rfind("e")))
                except ValueError:
                    pass
                raise _Malformed(str(e)) from None
        start = self.i
        if self.char() == "-":
            self.i += 1
        while self.i < self.n and s[self.i] not in ",]}":
            self.i += 1
        try:
            return js_json_parse(s[start : self.i])
        except ValueError:
            if s[start : self.i] == "-":
                raise _Partial("Not sure what '-' is") from None
            try:
                return js_json_parse(_substring(s, start, s.rfind("e")))
            except ValueError as e:
                raise _Malformed(str(e)) from None


def parse_streaming_json(text: str | None) -> tuple[Any, bool]:
    """pi-ai ``parseStreamingJson``: returns (value, was_valid_json).

    Empty or blank text gives ``{}`` (counted as valid: servers send "" for argument-less calls);
    valid JSON gives its value (which may be a non-object, even null); otherwise the partial parser
    salvages what it can; anything it cannot salvage, or a salvaged null, is ``{}``.
    """
    if text is None or text.strip() == "":
        return {}, True
    try:
        return js_json_parse(text), True
    except (ValueError, RecursionError):
        pass
    try:
        value = _PartialParser(text.strip(_JS_WS)).parse_any()
    except Exception:  # noqa: BLE001 -- partial-json gives up on any error here
        return {}, False
    return ({} if value is None else value), False


# ---------------------------------------------------------------- UTF-16 lengths


def utf16_len(s: str) -> int:
    """``s.length`` in JS (UTF-16 code units)."""
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


def utf16_slice(s: str, end: int) -> str:
    """``s.slice(0, end)`` in JS, without leaving half a surrogate pair behind."""
    if end >= utf16_len(s):
        return s
    units = 0
    for i, ch in enumerate(s):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > end:
            return s[:i]
    return s


# ---------------------------------------------------------------- malformed input guards

MAX_NESTING = 64
"""Deepest argument nesting a tool call may have. Real tool arguments nest a few levels; deeper
ones (an agent's ~500-level bomb) would overflow the recursive validators, serializers and the
verifier's payload, so they are treated as unreadable arguments."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def nested_deeper_than(value: Any, limit: int = MAX_NESTING) -> bool:
    """True if dicts/lists/tuples in ``value`` nest more than ``limit`` levels (iterative; a
    self-containing value counts as too deep)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def safe_str(value: Any) -> str:
    """``str(value)`` that cannot overflow the stack on a deeply nested value."""
    if isinstance(value, str):
        return value
    if nested_deeper_than(value):
        return f"<{type(value).__name__} nested deeper than {MAX_NESTING} levels>"
    try:
        return str(value)
    except Exception as exc:  # noqa: BLE001 -- an agent-made object's __str__ may raise
        return f"<unprintable {type(value).__name__}: {type(exc).__name__}>"


def well_formed(s: str) -> str:
    """The string Node hands to the OS or the wire: lone surrogates (possible from JSON escapes)
    become U+FFFD. Anything an observation, transcript or file gets goes through this."""
    if not _LONE_SURROGATE.search(s):
        return s
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
