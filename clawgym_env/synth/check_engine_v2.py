"""builtin-v2's revisions of the standalone checker: appended after ``check_engine.py`` in every
builtin-v2 ``reward/check.py``, so the definitions here replace the ones above them.

builtin-v1 keeps ``check_engine.py`` alone, byte for byte (its tasks are pinned). What changes, each
because a correct answer written another harmless way lost points (issue 13's audit):

- tables: a JSON object's keys have no order, and neither do a CSV's columns unless the check says
  so (``column_order``); Markdown tables may leave out the outer pipes (GFM allows it) and cells may
  carry emphasis or code marks;
- word counts: a text is in range when either way people count words is (``wc -w``, or ``\\w+`` runs
  such as '2026-04-10' as three);
- a check that judges form only (``needs_any``: a heading, a length, a sign-off) counts only when
  a content check on the same file passes, so structure alone earns nothing;
- new kinds that parse instead of matching raw text: ``labelled_number`` (a label, then a number in
  any common notation: ``**Total hours:** 1,811.0``), ``heading`` (a Markdown heading that is, or
  starts with, a text, any case, emphasis ignored), ``csv_header`` (the first CSV record, any
  quoting) and ``config_equal`` (a YAML/INI/.env file's settings, quoting, spacing and comments
  aside);
- ``includes_file`` compares the quote and its source as read (styling, case, thousands separators
  aside): a forwarded report restyled on either side is still the same report.

Standard library only, Python 3.8+, no imports: it runs inside the generated check.py (which already
imported csv, io, json, re above).
"""

import csv
import io
import re

_MD_DELIMITER = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_MD_MARKS = re.compile(r"(\*\*|__|`|\*)")


def _md_cell(cell):
    return _MD_MARKS.sub("", cell).strip()


def _md_table(text):
    """The first GFM table in ``text`` (outer pipes optional): (header, rows) or (None, None)."""
    lines = text.splitlines()
    for i in range(len(lines) - 1):
        if "|" in lines[i] and _MD_DELIMITER.match(lines[i + 1]) and "-" in lines[i + 1]:
            def split(line):
                line = line.strip()
                if line.startswith("|"):
                    line = line[1:]
                if line.endswith("|") and not line.endswith("\\|"):
                    line = line[:-1]
                return [_md_cell(c) for c in line.split("|")]

            header = split(lines[i])
            rows = []
            for line in lines[i + 2:]:
                if "|" not in line or not line.strip():
                    break
                rows.append(dict(zip(header, split(line))))
            return header, rows
    return None, None


_parse_table_v1 = _parse_table  # noqa: F821 - check_engine.py's, above


def _parse_table(text, fmt):
    """Rows as lists of dicts; None when the file is not in the stated format. Markdown: GFM."""
    if fmt == "md":
        return _md_table(text)
    return _parse_table_v1(text, fmt)


def _columns_match(header, c):
    """The header has exactly the expected columns; in order only where the check asks for it
    (never for JSON, whose object keys have no order)."""
    columns = c["columns"]
    if c.get("column_order", False) and c["fmt"] not in ("json", "jsonl"):
        return list(header) == list(columns)
    return len(header) == len(set(header)) and set(header) == set(columns)


_check_table_equal_v1 = check_table_equal  # noqa: F821


def check_table_equal(ws, c):
    """v1's row comparison, after v2's header rule (``_columns_match``; for JSON every record's keys)."""
    if c.get("exact_columns", True):
        text = _read(ws, c["path"])  # noqa: F821
        if text is None:
            return False
        header, rows = _parse_table(text, c["fmt"])
        if rows is None or not _columns_match(header, c):
            return False
        if c["fmt"] in ("json", "jsonl") and any(set(r) != set(header) for r in rows):
            return False
    return _check_table_equal_v1(ws, dict(c, exact_columns=False))


def check_word_range(ws, c):
    text = _read(ws, c["path"])  # noqa: F821
    if text is None:
        return False
    counts = (len(re.findall(r"\b\w+\b", text)), len(text.split()))
    return any(c["min"] <= n <= c["max"] for n in counts)


_NUMBER = r"[-+]?[$€£]?\s?\d[\d,\u202f ]*(?:\.\d+)?%?"


def _plain(text):
    """Markdown emphasis and code marks removed, so a label reads the same however it is styled."""
    return _MD_MARKS.sub("", text)


def check_labelled_number(ws, c):
    """Some line says ``label`` (any case, any styling), then ``:``, ``=`` or a dash, then a number
    equal to ``value`` within ``tol`` (thousands separators, currency signs, a trailing ``.0`` or a
    percent sign allowed)."""
    text = _read(ws, c["path"])  # noqa: F821
    if text is None:
        return False
    label = r"\s+".join(re.escape(w) for w in c["label"].split())
    pattern = r"(?<![\w])" + label + r"\s*(?:[:=]|\s[-\u2013\u2014]\s)\s*(" + _NUMBER + r")"
    for m in re.finditer(pattern, _plain(text), re.IGNORECASE):
        got = _num(m.group(1).replace("\u202f", "").replace(" ", ""))  # noqa: F821
        if got is not None and abs(got - float(c["value"])) <= c.get("tol", 0.01):
            return True
    return False


def check_heading(ws, c):
    """A Markdown heading (of ``level`` when given) whose text starts with ``text``, any case."""
    text = _read(ws, c["path"])  # noqa: F821
    if text is None:
        return False
    want = " ".join(c["text"].split()).lower()
    for line in text.splitlines():
        m = re.match(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if not m or (c.get("level") and len(m.group(1)) != c["level"]):
            continue
        got = " ".join(_plain(m.group(2)).split()).lower()
        if got == want or (not c.get("exact") and got.startswith(want)):
            return True
    return False


def check_plain_regex(ws, c):
    """``regex`` over the text with Markdown emphasis and code marks removed (``**Reply by:** x``
    reads as ``Reply by: x``)."""
    text = _read(ws, c["path"])  # noqa: F821
    if text is None:
        return False
    flags = re.MULTILINE | (re.IGNORECASE if c.get("ci", False) else 0)
    return re.search(c["pattern"], _plain(text), flags) is not None


def check_csv_header(ws, c):
    """The first record of a CSV/TSV names exactly ``columns``, in order (any quoting, CRLF, a BOM)."""
    text = _read(ws, c["path"])  # noqa: F821
    if text is None:
        return False
    try:
        first = next(csv.reader(io.StringIO(text), delimiter="\t" if c.get("fmt") == "tsv" else ","), None)
    except csv.Error:
        return False
    return first is not None and [f.strip() for f in first] == list(c["columns"])


def _setting(value, comments):
    """A setting's value as a reader gets it: a quoted value unquoted, else the text before an
    inline comment (``comments``: the characters that start one), trimmed."""
    value = value.strip()
    if value[:1] in ("'", '"'):
        end = value.find(value[0], 1)
        if end > 0:
            return value[1:end]
    return re.split(r"\s+[" + re.escape(comments) + "]", value, maxsplit=1)[0].strip()


def _config_pairs(text, fmt):
    """``{(section, key): value}`` of a two-level YAML, INI or .env file, values unquoted, comments
    dropped: what a program reading the file would get, not how the lines are spelled."""
    pairs = {}
    section = ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        if fmt == "yaml":
            m = re.match(r"^(\s*)([\w.-]+)\s*:\s*(.*)$", line)
            if not m:
                return None
            if not m.group(1):
                section = m.group(2)
            if m.group(1) or m.group(3).strip():
                pairs[(section if m.group(1) else "", m.group(2))] = _setting(m.group(3), "#")
        elif fmt == "ini":
            m = re.match(r"^\s*\[([^\]]+)\]\s*$", line)
            if m:
                section = m.group(1).strip()
                continue
            m = re.match(r"^\s*([^=:\s][^=:]*?)\s*[=:]\s*(.*)$", line)
            if not m:
                return None
            pairs[(section, m.group(1))] = _setting(m.group(2), ";#")
        else:
            m = re.match(r"^\s*(?:export\s+)?([A-Za-z_][\w.]*)\s*=\s*(.*)$", line)
            if not m:
                return None
            pairs[("", m.group(1))] = _setting(m.group(2), "#")
    return pairs


def check_config_equal(ws, c):
    """The file holds the same settings as ``expected`` (same format), however they are spelled."""
    text = _read(ws, c["path"])  # noqa: F821
    if text is None:
        return False
    got, want = _config_pairs(text, c["fmt"]), _config_pairs(c["expected"], c["fmt"])
    return got is not None and got == want


_THOUSANDS = re.compile(r"(?<=\d)[,\u202f](?=\d{3}(?!\d))")


def _loose(text):
    """Text as read, not as styled: emphasis and code marks, thousands separators, case and runs of
    whitespace dropped, so a quoted copy and its source match however either was restyled."""
    return " ".join(_THOUSANDS.sub("", _plain(text)).lower().split())


def check_includes_file(ws, c):
    """``path`` quotes the whole text of ``source`` (the agent's own upstream file), compared as read:
    restyling either (bold labels, heading case, thousands separators) keeps the match."""
    text, src = _read(ws, c["path"]), _read(ws, c["source"])  # noqa: F821
    if text is None or src is None or not src.strip():
        return False
    return _loose(src) in _loose(text)


_run_v1 = run  # noqa: F821


def run(spec, workspace):
    """The engine's results, then each check with ``needs_any`` (form only: a title, a sign-off, a
    length) kept only if one of the named content checks on its file passed."""
    results = _run_v1(spec, workspace)
    for c in spec["checks"]:
        needs = c.get("needs_any")
        if needs and results.get(c["name"]) and not any(results.get(n) for n in needs):
            results[c["name"]] = False
    return results


CHECKS.update({  # noqa: F821
    "table_equal": check_table_equal,
    "word_range": check_word_range,
    "labelled_number": check_labelled_number,
    "heading": check_heading,
    "csv_header": check_csv_header,
    "plain_regex": check_plain_regex,
    "config_equal": check_config_equal,
    "includes_file": check_includes_file,
})
