"""What one step hands to the next: a table of records or a text document, plus where it lives.

Serializers here are deterministic and dependency-free, so the bytes an oracle writes are exactly
the bytes the generator reasoned about.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Union

Value = Union[str, int, float, bool, None]
Row = dict[str, Value]


@dataclass
class Table:
    """Records with a fixed column order, stored at ``path`` in ``fmt``."""

    columns: list[str]
    rows: list[Row]
    path: str
    fmt: Literal["csv", "json", "jsonl", "tsv", "md"] = "csv"
    kind: Literal["table"] = "table"
    label: str = "records"
    """What the records are, in words ('open invoices', 'support tickets')."""
    key: str | None = None
    """A column that identifies a record (for joins and lookups)."""
    numeric: list[str] = field(default_factory=list)
    """Columns holding numbers (candidates for filters and aggregates)."""
    category: str | None = None
    """A column holding a small set of labels (candidate for grouping)."""


@dataclass
class Text:
    """A document at ``path`` with the facts a later step may rely on."""

    path: str
    content: str
    kind: Literal["text"] = "text"
    label: str = "document"
    facts: dict[str, Any] = field(default_factory=dict)


Artifact = Union[Table, Text]


def fmt_number(v: float) -> str:
    """Numbers as a person writes them: integers without '.0', else 2 decimals."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int) or float(v).is_integer():
        return str(int(v))
    return f"{v:.2f}"


def cell(v: Value) -> str:
    if v is None:
        return ""
    if isinstance(v, (int, float)):
        return fmt_number(v)
    return str(v)


def to_csv(columns: list[str], rows: list[Row], delimiter: str = ",") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([cell(r.get(c)) for c in columns])
    return buf.getvalue()


def to_json(rows: list[Row], columns: list[str]) -> str:
    return json.dumps([{c: r.get(c) for c in columns} for r in rows], indent=2, ensure_ascii=False) + "\n"


def to_jsonl(rows: list[Row], columns: list[str]) -> str:
    return "".join(json.dumps({c: r.get(c) for c in columns}, ensure_ascii=False) + "\n" for r in rows)


def to_md_table(columns: list[str], rows: list[Row]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def to_yaml_list(rows: list[Row], columns: list[str]) -> str:
    """A YAML list of flat mappings (strings quoted when YAML would misread them)."""
    out = []
    for r in rows:
        first = True
        for c in columns:
            v = r.get(c)
            text = _yaml_scalar(v)
            out.append(f"{'- ' if first else '  '}{c}: {text}")
            first = False
    return "\n".join(out) + "\n"


def _yaml_scalar(v: Value) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return fmt_number(v)
    s = str(v)
    if not s or s[0] in "-?:,[]{}#&*!|>'\"%@`" or ": " in s or " #" in s or s.lower() in ("yes", "no", "true", "false", "null", "on", "off") \
            or _looks_numeric(s):
        return json.dumps(s, ensure_ascii=False)
    return s


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def serialize(table: Table) -> str:
    """The table in its own format."""
    if table.fmt == "csv":
        return to_csv(table.columns, table.rows)
    if table.fmt == "tsv":
        return to_csv(table.columns, table.rows, delimiter="\t")
    if table.fmt == "json":
        return to_json(table.rows, table.columns)
    if table.fmt == "jsonl":
        return to_jsonl(table.rows, table.columns)
    if table.fmt == "md":
        return to_md_table(table.columns, table.rows)
    raise ValueError(f"unknown table format {table.fmt}")


def describe_format(fmt: str) -> str:
    return {
        "csv": "a CSV file with a header row",
        "tsv": "a tab-separated file with a header row",
        "json": "a JSON array of objects",
        "jsonl": "JSON Lines (one object per line)",
        "md": "a Markdown table",
    }[fmt]
