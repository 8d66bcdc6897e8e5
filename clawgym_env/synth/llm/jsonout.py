"""One JSON object out of a model's answer: fenced, bare, or followed by prose.

Models wrap JSON in ```json fences, prefix it with "Here is the task:" or trail an explanation; the
authors' parser accepted those, and so must ours, while anything else is a reject with a reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)


class NoJSON(ValueError):
    """The answer holds no JSON object; ``str(exc)`` is the reason recorded with the reject."""


def extract_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in ``text`` (inside a fence if there is one, else the first ``{`` that
    decodes); raises :class:`NoJSON` with a short reason otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise NoJSON("empty answer")
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    last_error = "no '{' in the answer"
    for chunk in candidates:
        start = chunk.find("{")
        while start != -1:
            try:
                value, _ = decoder.raw_decode(chunk, start)
            except json.JSONDecodeError as exc:
                last_error = f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            else:
                if isinstance(value, dict):
                    return value
                last_error = f"JSON is a {type(value).__name__}, not an object"
            start = chunk.find("{", start + 1)
    raise NoJSON(last_error)


def read_flag(value: Any) -> bool | None:
    """A yes/no field as models write it (true, 1, "yes", "0", ...); None when it is none of those."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false", "yes", "no"):
        return value.strip().lower() in ("1", "true", "yes")
    return None


__all__ = ["NoJSON", "extract_json_object", "read_flag"]
