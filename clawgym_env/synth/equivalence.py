"""The equivalence gate: harmless rewrites of the oracle's outputs must keep the oracle's reward.

The quality gate proves that wrong outputs lose points; this proves the converse, that a correct
answer written another plausible way does not. Each rewrite is a pure ``(path, text) -> str | None``
(None: the file's format does not allow it, or nothing would change) that keeps the file's
meaning for its format: JSON parses equal, CSV rows are equal as numbers, YAML/INI/.env parse
equal, Markdown renders the same text. :func:`equivalence_check` plays a task's oracle once, then
rescores its final workspace with each rewrite applied to each output through the real verifier.
Workspace rewrites add files a capable agent leaves behind (a helper script, scratch notes).
"""

from __future__ import annotations

import configparser
import csv
import io
import json
import re
import shutil
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from clawgym_env.tasks.model import Task

Rewrite = Callable[[str, str], "str | None"]

PASS_SHARE = 0.99
"""The issue's acceptance: harmless rewrites keep 1.0 on >= 99% of (task, rewrite) pairs."""

_EXT_FORMAT = {
    ".json": "json", ".geojson": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".csv": "csv", ".tsv": "tsv", ".md": "markdown", ".markdown": "markdown",
    ".txt": "text", ".text": "text", ".log": "text", ".eml": "text", ".rst": "text",
    ".yaml": "yaml", ".yml": "yaml", ".ini": "ini", ".cfg": "ini", ".conf": "ini", ".env": "env",
    ".py": "code", ".sh": "code", ".js": "code", ".ts": "code", ".sql": "code", ".html": "code",
    ".xml": "code", ".toml": "code",
}


def sniff(path: str, text: str) -> str:
    """The file's format: by extension (``.env`` files by name), else by content (JSON or text)."""
    p = PurePosixPath(path)
    if p.name == ".env" or p.name.startswith(".env."):
        return "env"
    fmt = _EXT_FORMAT.get(p.suffix.lower())
    if fmt:
        return fmt
    if text.lstrip()[:1] in ("{", "["):
        try:
            json.loads(text)
            return "json"
        except ValueError:
            pass
    return "text"


# --- any text ------------------------------------------------------------------------------------

def trailing_newline(path: str, text: str) -> str | None:
    """Toggle the final newline: drop every trailing newline, or add one."""
    if not text.strip():
        return None
    return text.rstrip("\r\n") if text.endswith("\n") else text + "\n"


def blank_lines(path: str, text: str) -> str | None:
    """Prose only: every blank line doubled, and a blank line after a Markdown heading that lacks
    one (both render the same)."""
    fmt = sniff(path, text)
    if fmt not in ("markdown", "text"):
        return None
    out: list[str] = []
    lines = text.split("\n")
    fence = False
    for i, line in enumerate(lines):
        out.append(line)
        if line.lstrip().startswith("```"):
            fence = not fence
        if fence:
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is None:
            continue
        if not line.strip() and out[-2:-1] != [""] and i > 0 or fmt == "markdown" and re.match(r"#{1,6} ", line) and nxt.strip():
            out.append("")
    new = "\n".join(out)
    return new if new != text else None


# --- JSON ------------------------------------------------------------------------------------------

def _json(path: str, text: str) -> Any:
    if sniff(path, text) != "json":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _dump(data: Any, text: str, indent: int | None = None) -> str:
    """Dump like the original: its indentation (2 when it had any) and its final newline."""
    if indent is None:
        indent = 2 if "\n" in text.strip() else None
    new = json.dumps(data, indent=indent, ensure_ascii=False)
    return new + "\n" if text.endswith("\n") else new


def json_compact(path: str, text: str) -> str | None:
    """JSON on one line, no spaces."""
    data = _json(path, text)
    if data is None:
        return None
    new = json.dumps(data, separators=(",", ":"), ensure_ascii=False) + ("\n" if text.endswith("\n") else "")
    return new if new != text else None


def json_indent4(path: str, text: str) -> str | None:
    """JSON indented by 4 spaces."""
    data = _json(path, text)
    if data is None or not isinstance(data, (dict, list)):
        return None
    new = _dump(data, text, indent=4)
    return new if new != text else None


def _reverse_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _reverse_keys(data[k]) for k in reversed(list(data))}
    if isinstance(data, list):
        return [_reverse_keys(v) for v in data]
    return data


def json_key_order(path: str, text: str) -> str | None:
    """Every JSON object's keys in reverse order (JSON objects are unordered)."""
    data = _json(path, text)
    if data is None:
        return None
    new = _dump(_reverse_keys(data), text)
    return new if json.dumps(_reverse_keys(data)) != json.dumps(data) else None


def _ints_as_floats(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _ints_as_floats(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_ints_as_floats(v) for v in data]
    if isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    return data


def json_int_as_float(path: str, text: str) -> str | None:
    """Every JSON integer written as a float (3 -> 3.0): the same JSON number."""
    data = _json(path, text)
    if data is None:
        return None
    converted = _ints_as_floats(data)
    if json.dumps(converted) == json.dumps(data):
        return None
    return _dump(converted, text)


# --- CSV / TSV -------------------------------------------------------------------------------------

def _csv(path: str, text: str) -> tuple[list[list[str]], str, str] | None:
    """Rows, delimiter and line terminator of a CSV/TSV file (None: not one, or not parseable)."""
    fmt = sniff(path, text)
    if fmt not in ("csv", "tsv") or not text.strip():
        return None
    delim = "\t" if fmt == "tsv" else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True))
    except csv.Error:
        return None
    return rows, delim, "\r\n" if "\r\n" in text else "\n"


def _write_csv(rows: list[list[str]], delim: str, eol: str, text: str,
               quoting: int = csv.QUOTE_MINIMAL) -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delim, lineterminator=eol, quoting=quoting).writerows(rows)
    new = buf.getvalue()
    return new if text.endswith(("\n", "\r")) else new[: -len(eol)]


def csv_quote_all(path: str, text: str) -> str | None:
    """Every CSV field in double quotes."""
    parsed = _csv(path, text)
    if parsed is None:
        return None
    new = _write_csv(*parsed, text, quoting=csv.QUOTE_ALL)
    return new if new != text else None


def csv_crlf(path: str, text: str) -> str | None:
    """CRLF line ends (RFC 4180's own)."""
    parsed = _csv(path, text)
    if parsed is None or parsed[2] == "\r\n":
        return None
    rows, delim, _ = parsed
    return _write_csv(rows, delim, "\r\n", text)


_INT = re.compile(r"-?(0|[1-9]\d*)")
_DEC = re.compile(r"-?\d+\.\d+")
_ID_COLUMN = re.compile(r"(^|[_\s])(id|code|zip|postcode|phone|year)$|^#$", re.IGNORECASE)


def _map_csv_cells(path: str, text: str, fn: Callable[[str], str], *, int_columns_only: bool = False) -> str | None:
    parsed = _csv(path, text)
    if parsed is None:
        return None
    rows, delim, eol = parsed
    if len(rows) < 2:
        return None
    header, body = rows[0], rows[1:]
    cols = range(max(len(r) for r in rows))
    allowed = set(cols)
    if int_columns_only:  # a whole column of integers, as pandas writes one that went through floats
        allowed = {c for c in cols if c < len(header) and not _ID_COLUMN.search(header[c].strip())
                   and all(c < len(r) and (_INT.fullmatch(r[c]) or r[c] == "") for r in body)
                   and any(c < len(r) and r[c] for r in body)}
    new_rows = [header] + [[fn(v) if c in allowed else v for c, v in enumerate(r)] for r in body]
    if new_rows == rows:
        return None
    return _write_csv(new_rows, delim, eol, text)


def _shortest(v: str) -> str:
    if not _DEC.fullmatch(v):
        return v
    trimmed = v.rstrip("0")
    return trimmed.removesuffix(".")


def _pad2(v: str) -> str:
    if not _DEC.fullmatch(v) or len(v.split(".")[1]) >= 2:
        return v
    return v + "0"


def csv_float_shortest(path: str, text: str) -> str | None:
    """CSV decimals without trailing zeros (2.50 -> 2.5, 3.00 -> 3): the same numbers."""
    return _map_csv_cells(path, text, _shortest)


def csv_float_pad(path: str, text: str) -> str | None:
    """CSV decimals with two decimal places (2.5 -> 2.50): the same numbers."""
    return _map_csv_cells(path, text, _pad2)


def csv_int_as_float(path: str, text: str) -> str | None:
    """Whole-integer CSV columns written as floats (1811 -> 1811.0), as pandas writes a column
    that held a NaN; columns that name an identifier (id, code, zip, phone, year) are left."""
    return _map_csv_cells(path, text, lambda v: f"{v}.0" if v else v, int_columns_only=True)


# --- Markdown --------------------------------------------------------------------------------------

def _md_lines(path: str, text: str) -> list[tuple[str, bool]] | None:
    """Markdown lines with 'inside a code fence or front matter' flags (None: not Markdown)."""
    if sniff(path, text) != "markdown":
        return None
    out = []
    fence = False
    front = text.startswith("---\n")
    for i, line in enumerate(text.split("\n")):
        if front and i > 0 and line.strip() == "---":
            out.append((line, True))
            front = False
            continue
        if line.lstrip().startswith("```"):
            fence = not fence
            out.append((line, True))
            continue
        out.append((line, fence or front))
    return out


def _map_md(path: str, text: str, fn: Callable[[str], str]) -> str | None:
    lines = _md_lines(path, text)
    if lines is None:
        return None
    new = "\n".join(line if code else fn(line) for line, code in lines)
    return new if new != text else None


_LABEL = re.compile(r"^(\s*(?:[-*+]\s+|\d+[.)]\s+)?)([A-Za-z][^:*()\[\]|\n]{0,40}?):[ \t]+(\S.*)$")


def md_bold_labels(path: str, text: str) -> str | None:
    """``Label: value`` lines (bullets too) as ``**Label:** value``."""
    def bold(line: str) -> str:
        m = _LABEL.match(line)
        if not m or len(m.group(2).split()) > 6 or line.lstrip().startswith(("#", "|", ">")):
            return line
        return f"{m.group(1)}**{m.group(2)}:** {m.group(3)}"
    return _map_md(path, text, bold)


_SMALL = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to", "vs", "via"}


def _title_word(word: str, first: bool) -> str:
    m = re.fullmatch(r"([(\"']?)([a-z][a-z']*)([:,.;!?)\"']*)", word)
    if not m or (m.group(2) in _SMALL and not first):
        return word
    return m.group(1) + m.group(2)[0].upper() + m.group(2)[1:] + m.group(3)


def md_heading_case(path: str, text: str) -> str | None:
    """Headings in Title Case (small words and words with digits, code or punctuation left)."""
    def title(line: str) -> str:
        m = re.match(r"(#{1,6} +)(.*)$", line)
        if not m:
            return line
        words = m.group(2).split(" ")
        return m.group(1) + " ".join(_title_word(w, i == 0) for i, w in enumerate(words))
    return _map_md(path, text, title)


def md_table_no_outer_pipes(path: str, text: str) -> str | None:
    """GFM tables without their outer pipes (``a | b`` rows), tables of two or more columns. A row
    whose first or last cell is empty keeps its pipes: without them GFM would read one cell fewer."""
    lines = _md_lines(path, text)
    if lines is None:
        return None
    out = [line for line, _ in lines]
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and not lines[j][1] and lines[j][0].strip().startswith("|") \
                and lines[j][0].strip().endswith("|") and len(lines[j][0].strip()) > 1:
            j += 1
        block = [lines[k][0].strip() for k in range(i, j)]
        if len(block) >= 2 and re.fullmatch(r"\|(\s*:?-+:?\s*\|){2,}", block[1]):
            for k in range(i, j):
                cells = lines[k][0].strip()[1:-1].split("|")
                if cells[0].strip() and cells[-1].strip():
                    out[k] = "|".join(cells).strip()
        i = max(j, i + 1)
    new = "\n".join(out)
    return new if new != text else None


def md_bullets(path: str, text: str) -> str | None:
    """``-`` bullets as ``*`` (and ``*`` as ``-``)."""
    def swap(line: str) -> str:
        m = re.match(r"(\s*)([-*])( +)(?=\S)", line)
        if not m or re.fullmatch(r"\s*([-*])(\s*\1){2,}\s*", line):  # a thematic break, not a bullet
            return line
        return m.group(1) + ("*" if m.group(2) == "-" else "-") + line[m.end(2):]
    return _map_md(path, text, swap)


_BIG = re.compile(r"(?<![\w.,/:#`+-])(\d{4,})(?=(?:\.\d+)?(?![\w/:`-])(?!\.\d)(?!,\d))")


_NAMES_A_NUMBER = re.compile(r"\b(?:extension|ext\.?|room|suite|unit|gate|booth|bay|pin|code|no\.?|number|flight|"
                             r"platform|build|port|box|line|ticket|order|case|invoice)\s*#?\s*$", re.IGNORECASE)
"""Words after which a number is a name, not a quantity (extension 4737 is never 'extension 4,737')."""


def thousands_separators(path: str, text: str) -> str | None:
    """Prose numbers of 4+ digits with thousands separators (1811 -> 1,811) in .md/.txt only:
    not in code, not years (1900-2099), not leading zeros, not parts of ids, dates, times, not a
    number that names something (extension 4737, room 1204)."""
    fmt = sniff(path, text)
    if fmt not in ("markdown", "text"):
        return None

    def group(m: re.Match[str]) -> str:
        digits = m.group(1)
        if digits.startswith("0") or (len(digits) == 4 and 1900 <= int(digits) <= 2099) \
                or _NAMES_A_NUMBER.search(m.string, 0, m.start()):
            return digits
        return f"{int(digits):,}"

    def line_fn(line: str) -> str:
        parts = line.split("`")  # odd parts are inline code
        return "`".join(p if k % 2 else _BIG.sub(group, p) for k, p in enumerate(parts))

    if fmt == "markdown":
        return _map_md(path, text, line_fn)
    new = "\n".join(line_fn(line) for line in text.split("\n"))
    return new if new != text else None


# --- YAML / INI / .env ---------------------------------------------------------------------------

def yaml_quote(path: str, text: str) -> str | None:
    """YAML string scalars in double quotes (``version: "1.1.5"``); numbers and booleans stay
    bare, so the document loads equal."""
    if sniff(path, text) != "yaml":
        return None
    import yaml

    try:
        before = yaml.safe_load(text)
    except yaml.YAMLError:
        return None

    def quote(line: str) -> str:
        m = re.match(r"^(\s*(?:-\s+)?[\w.-]+:[ \t]+|\s*-[ \t]+)([^\s\"'{}\[\]|>&*!#%@`][^#]*?)\s*$", line)
        if not m:
            return line
        try:
            value = yaml.safe_load(m.group(2))
        except yaml.YAMLError:
            return line
        if not isinstance(value, str) or value != m.group(2):
            return line
        return m.group(1) + json.dumps(value, ensure_ascii=False)

    new = "\n".join(quote(line) for line in text.split("\n"))
    try:
        if new == text or yaml.safe_load(new) != before:
            return None
    except yaml.YAMLError:
        return None
    return new


def _ini(text: str) -> dict[str, dict[str, str]] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return {s: dict(parser[s]) for s in parser.sections()}


def ini_spacing(path: str, text: str) -> str | None:
    """INI ``key = value`` as ``key=value`` (or the reverse): configparser reads the same."""
    if sniff(path, text) != "ini":
        return None
    before = _ini(text)
    if not before:
        return None
    spaced = re.search(r"^[\w.-]+ = ", text, re.MULTILINE) is not None

    def fix(line: str) -> str:
        if spaced:
            return re.sub(r"^([\w.-]+) = ", r"\1=", line)
        return re.sub(r"^([\w.-]+)=", r"\1 = ", line)

    new = "\n".join(fix(line) for line in text.split("\n"))
    return new if new != text and _ini(new) == before else None


_ENV_LINE = re.compile(r"^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=)([^\s\"'#$\\`]+)\s*$")


def env_values(text: str) -> dict[str, str]:
    """A .env file's values as dotenv readers see them (outer quotes removed)."""
    values = {}
    for line in text.split("\n"):
        m = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if m:
            v = m.group(2).strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
                v = v[1:-1]
            values[m.group(1)] = v
    return values


def env_quote(path: str, text: str) -> str | None:
    """.env values in double quotes (``KEY="value"``): dotenv readers and shells strip them."""
    if sniff(path, text) != "env":
        return None
    new = "\n".join(_ENV_LINE.sub(r'\1"\2"', line) for line in text.split("\n"))
    return new if new != text else None


REWRITES: dict[str, Rewrite] = {
    "trailing_newline": trailing_newline,
    "blank_lines": blank_lines,
    "json_compact": json_compact,
    "json_indent4": json_indent4,
    "json_key_order": json_key_order,
    "json_int_as_float": json_int_as_float,
    "csv_quote_all": csv_quote_all,
    "csv_crlf": csv_crlf,
    "csv_float_shortest": csv_float_shortest,
    "csv_float_pad": csv_float_pad,
    "csv_int_as_float": csv_int_as_float,
    "md_bold_labels": md_bold_labels,
    "md_heading_case": md_heading_case,
    "md_table_no_outer_pipes": md_table_no_outer_pipes,
    "md_bullets": md_bullets,
    "thousands_separators": thousands_separators,
    "yaml_quote": yaml_quote,
    "ini_spacing": ini_spacing,
    "env_quote": env_quote,
}
"""Every per-file rewrite, by name."""

HELPER_SCRIPT = '''"""Scratch helper used while preparing the outputs."""
import csv
import json
import sys


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        print(f.read()[:200])


if __name__ == "__main__":
    main(sys.argv[1])
'''

WORKSPACE_REWRITES: dict[str, dict[str, str]] = {
    "helper_script": {"helper.py": HELPER_SCRIPT},
    "scratch_files": {"scratch/notes.txt": "working notes\n- read the inputs\n- wrote the outputs\n",
                      "scratch/intermediate.json": '{"status": "draft"}\n'},
}
"""Files a capable agent plausibly leaves in the workspace root, by rewrite name."""


def applicable(path: str, text: str) -> dict[str, str]:
    """Every rewrite that applies to this file: name -> rewritten text."""
    out = {}
    for name, fn in REWRITES.items():
        new = fn(path, text)
        if new is not None and new != text:
            out[name] = new
    return out


# --- the gate --------------------------------------------------------------------------------------

@dataclass
class EquivalenceReport:
    task_id: str
    oracle_reward: float | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    """One per rescore: ``{rewrite, output, also, reward, failed_checks}`` (output '*' for a
    workspace rewrite; also: the derived outputs rewritten with it); failed_checks are the
    sub-scores below the oracle's."""
    copies: list[str] = field(default_factory=list)
    """Outputs left alone: byte copies of an input file or of an input archive's member."""
    skipped: str | None = None
    errors: list[str] = field(default_factory=list)

    def pairs(self) -> dict[str, float]:
        """(task, rewrite) -> the lowest reward over the outputs it was applied to."""
        out: dict[str, float] = {}
        for r in self.results:
            out[r["rewrite"]] = min(out.get(r["rewrite"], r["reward"]), r["reward"])
        return out

    def pair_passed(self, reward: float) -> bool:
        return self.oracle_reward is not None and reward >= self.oracle_reward - 1e-9

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pairs": self.pairs()}


def _failed_checks(base: dict[str, Any] | None, subs: dict[str, Any] | None) -> list[str]:
    failed = []
    for name, value in (base or {}).items():
        try:
            if name != "reward" and float((subs or {}).get(name, 0)) < float(value):
                failed.append(name)
        except (TypeError, ValueError):
            continue
    return failed


def _rebuild_archive(path: str, data: bytes, old: bytes, new: bytes) -> bytes | None:
    """``data`` (a zip, tar or gzip archive) with every member equal to ``old`` replaced by ``new``;
    None when no member is ``old`` or the archive cannot be read."""
    import gzip
    import tarfile
    import zipfile

    name = path.lower()
    buf = io.BytesIO()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as src:
                members = [(i, src.read(i)) for i in src.infolist()]
                if not any(body == old for _, body in members):
                    return None
                with zipfile.ZipFile(buf, "w") as dst:
                    for info, body in members:
                        dst.writestr(info, new if body == old else body)
            return buf.getvalue()
        if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
            mode = "w:gz" if name.endswith(("gz", "tgz")) else "w:bz2" if name.endswith("bz2") else \
                "w:xz" if name.endswith("xz") else "w"
            found = False
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as src, \
                    tarfile.open(fileobj=buf, mode=mode) as dst:  # type: ignore[call-overload]
                for info in src.getmembers():
                    f = src.extractfile(info) if info.isfile() else None
                    body = f.read() if f is not None else None
                    if body == old:
                        found, body = True, new
                        info.size = len(new)
                    dst.addfile(info, io.BytesIO(body) if body is not None else None)
            return buf.getvalue() if found else None
        if name.endswith(".gz"):
            return gzip.compress(new) if gzip.decompress(data) == old else None
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError):
        return None
    return None


def archive_members(path: str, data: bytes) -> list[bytes]:
    """The file members of a zip, tar or gzip archive ([] for anything else or unreadable)."""
    import gzip
    import tarfile
    import zipfile

    name = path.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return [z.read(i) for i in z.infolist() if not i.is_dir()]
        if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as t:
                return [f.read() for m in t.getmembers() if m.isfile() and (f := t.extractfile(m)) is not None]
        if name.endswith(".gz"):
            return [gzip.decompress(data)]
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError):
        return []
    return []


def _fix_manifest_json(data: Any, digests: list[tuple[str, str]], sizes: tuple[int, int]) -> bool:
    """In place: each JSON object holding an old digest gets the new one and the new size."""
    changed = False
    if isinstance(data, list):
        for item in data:
            changed = _fix_manifest_json(item, digests, sizes) or changed
    elif isinstance(data, dict):
        for before, after in digests:
            keys = [k for k, v in data.items() if v == before]
            for k in keys:
                data[k] = after
                changed = True
            if keys:
                for k, v in data.items():
                    if v == sizes[0] and not isinstance(v, bool):
                        data[k] = sizes[1]
        for v in data.values():
            if isinstance(v, (dict, list)):
                changed = _fix_manifest_json(v, digests, sizes) or changed
    return changed


def _derive(other: str, data: bytes, old: bytes, new: bytes) -> bytes | None:
    """``other``'s content once the file it derives from went from ``old`` to ``new``: a byte copy,
    an archive holding it, a text quoting it whole, a manifest listing its hash and size."""
    import hashlib

    if data == old:
        return new
    rebuilt = _rebuild_archive(other, data, old, new)
    if rebuilt is not None:
        return rebuilt
    try:
        text = data.decode()
        old_text, new_text = old.decode().strip(), new.decode().strip()
    except UnicodeDecodeError:
        try:
            text, old_text, new_text = data.decode(), "", ""
        except UnicodeDecodeError:
            return None
    digests = [(hashlib.sha256(old).hexdigest(), hashlib.sha256(new).hexdigest()),
               (hashlib.md5(old).hexdigest(), hashlib.md5(new).hexdigest())]
    changed = text
    if len(old_text) >= 20 and old_text in changed:
        changed = changed.replace(old_text, new_text)
    if any(before in changed for before, _ in digests):
        try:
            parsed = json.loads(changed)
        except ValueError:
            parsed = None
        if parsed is not None and _fix_manifest_json(parsed, digests, (len(old), len(new))):
            changed = _dump(parsed, changed)
        for before, after in digests:  # a line per member (CSV, text)
            changed = "\n".join(re.sub(rf"(?<![\w.]){len(old)}(?![\w.])", str(len(new)), line.replace(before, after))
                                if before in line else line for line in changed.split("\n"))
    return changed.encode() if changed != text else None


def consistent_edits(files: dict[str, bytes], path: str, new: bytes) -> dict[str, bytes]:
    """Rewrite ``path`` to ``new`` the way an agent that wrote it so would have: the other outputs
    derived from it follow, and those derived from them (byte copies, archive members, a text
    that quotes it whole, a manifest with its SHA-256 or MD5 and size)."""
    current = dict(files)
    current[path] = new
    edits = {path: new}
    queue = [(path, files[path], new)]
    budget = 4 * len(files) + 4  # a cycle of texts quoting each other ends here
    while queue and budget:
        budget -= 1
        src, old, data = queue.pop(0)
        for other, content in list(current.items()):
            if other in (src, path):
                continue
            derived = _derive(other, content, old, data)
            if derived is not None and derived != content:
                queue.append((other, content, derived))
                current[other] = edits[other] = derived
    return edits


def equivalence_check(task: Task, *, backend: str = "bwrap", rewrites: list[str] | None = None) -> EquivalenceReport:
    """Play the oracle once, then rescore its workspace with each applicable rewrite of each
    oracle output (and each workspace rewrite). ``rewrites`` limits the names tried.

    An output that is a byte copy of an input file or of a member of an input archive (a
    download, a moved or unpacked file) is not rewritten: copying exactly is its point. A rewrite reaches the outputs derived from the rewritten one
    (copies, archive members, texts quoting it whole), as an agent writing that way would produce."""
    from clawgym_env.synth.gate import gate_env, read_text, rescore, run_oracle
    from clawgym_env.tasks.files import input_bytes, input_size

    report = EquivalenceReport(task.task_id)
    if task.oracle is None:
        report.skipped = "no oracle: the equivalence gate needs oracle.json"
        return report
    paths = [o["path"] for o in task.oracle_outputs or []]
    if not paths:
        report.skipped = "no oracle outputs listed in oracle.json"
        return report
    wanted = set(rewrites) if rewrites is not None else None
    inputs: set[bytes] = set()
    for rel, data in task.workspace_files().items():
        if input_size(data) <= 8 << 20:
            raw = input_bytes(data)
            inputs.add(raw)
            inputs.update(archive_members(rel, raw))
    env = gate_env(task, backend)
    tmp = Path(tempfile.mkdtemp(prefix="clawgym-equiv-"))
    try:
        oracle, problems, complete = run_oracle(env, task, tmp / "ws")
        report.errors.extend(problems)
        if not complete:
            return report
        report.oracle_reward = oracle.reward
        env.close()  # the sandbox is not needed while rescoring
        base_subs = oracle.subscores
        files = {p: (tmp / "ws" / p).read_bytes() for p in paths
                 if (tmp / "ws" / p).is_file() and not (tmp / "ws" / p).is_symlink()}
        for path in paths:
            text = read_text(tmp / "ws" / path)
            if text is None:
                continue
            if files[path] in inputs:
                report.copies.append(path)
                continue
            for name, new in applicable(path, text).items():
                if wanted is not None and name not in wanted:
                    continue
                edits = consistent_edits(files, path, new.encode())
                res = rescore(task, tmp / "ws", tmp / "rw", dict(edits), backend=backend)
                report.results.append({"rewrite": name, "output": path, "reward": res.reward,
                                       "also": sorted(set(edits) - {path}),
                                       "failed_checks": _failed_checks(base_subs, res.subscores)})
        for name, extra in WORKSPACE_REWRITES.items():
            if wanted is not None and name not in wanted:
                continue
            if any((tmp / "ws" / p).exists() for p in extra):
                continue
            res = rescore(task, tmp / "ws", tmp / "rw", {p: c.encode() for p, c in extra.items()}, backend=backend)
            report.results.append({"rewrite": name, "output": "*", "reward": res.reward, "also": [],
                                   "failed_checks": _failed_checks(base_subs, res.subscores)})
    except Exception as exc:  # the gate reports, it never crashes a batch
        report.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        env.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return report


def summarize(reports: list[EquivalenceReport]) -> dict[str, Any]:
    """Pass rate over (task, rewrite) pairs, overall and per rewrite name."""
    per: dict[str, list[bool]] = {}
    lows: dict[str, list[float]] = {}
    for r in reports:
        for name, reward in r.pairs().items():
            per.setdefault(name, []).append(r.pair_passed(reward))
            lows.setdefault(name, []).append(reward)
    flat = [ok for oks in per.values() for ok in oks]
    return {
        "tasks": len(reports),
        "tasks_checked": sum(bool(r.results) for r in reports),
        "skipped": sum(r.skipped is not None for r in reports),
        "crashes": sum(bool(r.errors) for r in reports),
        "copies_left_alone": sum(len(r.copies) for r in reports),
        "pairs": len(flat),
        "pairs_passed": sum(flat),
        "pass_rate": (sum(flat) / len(flat)) if flat else None,
        "per_rewrite": {name: {"pairs": len(oks), "passed": sum(oks), "pass_rate": sum(oks) / len(oks),
                               "mean_reward": statistics.fmean(lows[name])}
                        for name, oks in sorted(per.items())},
        "gate_passed": (sum(flat) / len(flat) >= PASS_SHARE) if flat else None,  # None: nothing to rescore
    }


def equivalence_many(load: Callable[[str], Task], ids: list[str], *, jobs: int = 2, backend: str = "bwrap",
                     progress: bool = True) -> dict[str, Any]:
    """The equivalence gate over ``ids``: a summary and per-task reports."""
    from clawgym_env.synth.gate import run_batch

    return run_batch(lambda task: equivalence_check(task, backend=backend), summarize, lambda i, msg: EquivalenceReport(i, errors=[msg]),
                     load, ids, jobs=jobs, description="equivalence gate", progress=progress)


__all__ = ["PASS_SHARE", "REWRITES", "WORKSPACE_REWRITES", "EquivalenceReport", "applicable", "consistent_edits", "env_values",
           "equivalence_check", "equivalence_many", "sniff", "summarize"]
