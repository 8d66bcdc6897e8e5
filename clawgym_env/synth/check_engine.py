"""Standalone checker for built-in tasks: copied verbatim into every generated ``reward/check.py``.

Standard library only, Python 3.8+, no imports from this package: the generated task folders must
run unchanged in the ClawGym authors' pipeline. ``run(spec, workspace)`` evaluates each declarative
check and returns ``{name: bool}``; reward.sh averages them. Every check looks at an output the
agent must create, so an untouched workspace scores 0 on every check.
"""

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile


def _read(ws, path):
    full = os.path.join(ws, path)
    if not os.path.isfile(full):
        return None
    with open(full, "rb") as fh:
        data = fh.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _num(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        s = v.strip().replace(",", "")
        if s.endswith("%"):
            s = s[:-1]
        if s.startswith("$"):
            s = s[1:]
        try:
            return float(s)
        except ValueError:
            return None
    return None


def _same(a, b, tol):
    """Values equal as a person would judge them: numbers within tol, strings trimmed."""
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return abs(na - nb) <= tol
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).strip().lower() == str(b).strip().lower()
    if a is None or b is None:
        return (a is None or str(a).strip() == "") and (b is None or str(b).strip() == "")
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return _deep_equal(a, b, tol)
    return str(a).strip() == str(b).strip()


def _deep_equal(a, b, tol):
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_deep_equal(a[k], b[k], tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_deep_equal(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return False
    return _same(a, b, tol)


def _parse_table(text, fmt):
    """Rows as lists of dicts; None when the file is not in the stated format."""
    try:
        if fmt in ("csv", "tsv"):
            reader = csv.DictReader(io.StringIO(text), delimiter="," if fmt == "csv" else "\t")
            rows = [dict(r) for r in reader]
            if reader.fieldnames is None:
                return None, None
            return [c.strip() for c in reader.fieldnames], [{k.strip(): v for k, v in r.items() if k} for r in rows]
        if fmt == "json":
            data = json.loads(text)
            if isinstance(data, dict):  # {"items": [...]} style wrappers
                lists = [v for v in data.values() if isinstance(v, list)]
                data = lists[0] if len(lists) == 1 else None
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                return None, None
            return (list(data[0].keys()) if data else []), data
        if fmt == "jsonl":
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            if not all(isinstance(r, dict) for r in rows):
                return None, None
            return (list(rows[0].keys()) if rows else []), rows
        if fmt == "md":
            lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
            if len(lines) < 2:
                return None, None
            split = lambda ln: [c.strip() for c in ln.strip().strip("|").split("|")]  # noqa: E731
            header = split(lines[0])
            rows = [dict(zip(header, split(ln))) for ln in lines[2:]]
            return header, rows
    except (ValueError, csv.Error):
        return None, None
    return None, None


def check_exists(ws, c):
    text = _read(ws, c["path"])
    return text is not None and bool(text.strip())


def check_json_equal(ws, c):
    text = _read(ws, c["path"])
    if text is None:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    for key in c.get("key_path", []):
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return False
    return _deep_equal(data, c["expected"], c.get("tol", 0.01))


def check_table_equal(ws, c):
    text = _read(ws, c["path"])
    if text is None:
        return False
    header, rows = _parse_table(text, c["fmt"])
    if rows is None:
        return False
    columns = c["columns"]
    if c.get("exact_columns", True) and [h for h in header] != columns:
        return False
    expected = c["rows"]
    if len(rows) != len(expected):
        return False
    tol = c.get("tol", 0.01)

    def same_row(r, e):
        return all(_same(r.get(k), e.get(k), tol) for k in columns)

    if c.get("ordered", True):
        return all(same_row(r, e) for r, e in zip(rows, expected))
    remaining = list(rows)
    for e in expected:
        for i, r in enumerate(remaining):
            if same_row(r, e):
                del remaining[i]
                break
        else:
            return False
    return True


def check_contains(ws, c):
    text = _read(ws, c["path"])
    if text is None:
        return False
    hay = text.lower() if c.get("ci", True) else text
    needles = [n.lower() if c.get("ci", True) else n for n in c["needles"]]
    return all(n in hay for n in needles)


def check_absent_words(ws, c):
    text = _read(ws, c["path"])
    if text is None:
        return False
    hay = text.lower()
    return not any(w.lower() in hay for w in c["words"])


def check_regex(ws, c):
    text = _read(ws, c["path"])
    if text is None:
        return False
    return re.search(c["pattern"], text, re.MULTILINE | (re.IGNORECASE if c.get("ci", False) else 0)) is not None


def check_ordered(ws, c):
    """The items are mentioned in this order (each after the previous one's first mention)."""
    text = _read(ws, c["path"])
    if text is None:
        return False
    hay = text.lower()
    pos = -1
    for item in c["items"]:
        nxt = hay.find(item.lower(), pos + 1)
        if nxt < 0:
            return False
        pos = nxt
    return True


def check_lines_equal(ws, c):
    text = _read(ws, c["path"])
    if text is None:
        return False
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    expected = c["lines"]
    return lines == expected if c.get("ordered", True) else sorted(lines) == sorted(expected)


def check_word_range(ws, c):
    text = _read(ws, c["path"])
    if text is None:
        return False
    n = len(re.findall(r"\b\w+\b", text))
    return c["min"] <= n <= c["max"]


def check_archive_members(ws, c):
    full = os.path.join(ws, c["path"])
    if not os.path.isfile(full):
        return False
    try:
        if zipfile.is_zipfile(full):
            with zipfile.ZipFile(full) as z:
                names = [n for n in z.namelist() if not n.endswith("/")]
        else:
            with tarfile.open(full) as t:
                names = [m.name for m in t.getmembers() if m.isfile()]
    except (tarfile.TarError, OSError, zipfile.BadZipFile):
        return False
    names = sorted(n[2:] if n.startswith("./") else n for n in names)
    return names == sorted(c["members"])


def _archive_bytes(full):
    """Member name -> bytes of every regular file in a .zip or tar(.gz) archive; None if unreadable."""
    out = {}
    if zipfile.is_zipfile(full):
        with zipfile.ZipFile(full) as z:
            for info in z.infolist():
                if not info.filename.endswith("/"):
                    out[info.filename] = z.read(info)
    else:
        with tarfile.open(full) as t:
            for m in t.getmembers():
                if m.isfile():
                    fh = t.extractfile(m)
                    out[m.name] = fh.read() if fh is not None else b""
    return {(n[2:] if n.startswith("./") else n): v for n, v in out.items()}


def check_archive_contents(ws, c):
    """Each archive member holds exactly the bytes of its source file in the workspace."""
    full = os.path.join(ws, c["path"])
    if not os.path.isfile(full):
        return False
    try:
        members = _archive_bytes(full)
    except (tarfile.TarError, OSError, zipfile.BadZipFile, EOFError):
        return False
    for member, source in c["members"].items():
        src = os.path.join(ws, source)
        if member not in members or not os.path.isfile(src):
            return False
        with open(src, "rb") as fh:
            if fh.read() != members[member]:
                return False
    return True


def check_archive_manifest(ws, c):
    """A manifest table lists exactly ``members`` (in order) with their real sizes and sha256 digests,
    computed from the archive itself (so it holds for the agent's own upstream files)."""
    full = os.path.join(ws, c["archive"])
    text = _read(ws, c["path"])
    if text is None or not os.path.isfile(full):
        return False
    try:
        members = _archive_bytes(full)
    except (tarfile.TarError, OSError, zipfile.BadZipFile, EOFError):
        return False
    _, rows = _parse_table(text, c["fmt"])
    if rows is None or len(rows) != len(c["members"]):
        return False
    for row, member in zip(rows, c["members"]):
        name = str(row.get(c["name_col"], "")).strip()
        if name != member or member not in members:
            return False
        data = members[member]
        if _num(row.get(c["size_col"])) != float(len(data)):
            return False
        if str(row.get(c["sha_col"], "")).strip().lower() != hashlib.sha256(data).hexdigest():
            return False
    return True


def check_includes_file(ws, c):
    """``path`` contains the whole text of the workspace file ``source`` (runs of whitespace collapsed):
    judged against the agent's own upstream output, so a chain step that quotes it stays fair."""
    text, src = _read(ws, c["path"]), _read(ws, c["source"])
    if text is None or src is None or not src.strip():
        return False
    return " ".join(src.split()) in " ".join(text.split())


def check_file_equal(ws, c):
    """``path`` exists with exactly ``content`` (trailing whitespace ignored)."""
    text = _read(ws, c["path"])
    return text is not None and text.rstrip() == c["content"].rstrip()


def check_moved(ws, c):
    """``to`` holds ``content`` and ``from`` is gone (a move, not a copy)."""
    return check_file_equal(ws, {"path": c["to"], "content": c["content"]}) and not os.path.exists(
        os.path.join(ws, c["from"]))


def check_command(ws, c):
    """Run a command in the workspace; it must exit 0 (and print ``expect`` if given)."""
    if c.get("requires") and not os.path.exists(os.path.join(ws, c["requires"])):
        return False
    try:
        res = subprocess.run(c["argv"], cwd=ws, capture_output=True, text=True, timeout=c.get("timeout", 60))
    except (OSError, subprocess.TimeoutExpired):
        return False
    if res.returncode != 0:
        return False
    return c.get("expect") is None or c["expect"] in (res.stdout + res.stderr)


CHECKS = {
    "exists": check_exists,
    "json_equal": check_json_equal,
    "table_equal": check_table_equal,
    "contains": check_contains,
    "absent_words": check_absent_words,
    "regex": check_regex,
    "ordered": check_ordered,
    "lines_equal": check_lines_equal,
    "word_range": check_word_range,
    "archive_members": check_archive_members,
    "file_equal": check_file_equal,
    "includes_file": check_includes_file,
    "moved": check_moved,
    "archive_contents": check_archive_contents,
    "archive_manifest": check_archive_manifest,
    "command": check_command,
}


def run(spec, workspace):
    results = {}
    for c in spec["checks"]:
        try:
            ok = bool(CHECKS[c["kind"]](workspace, c))
        except Exception:  # a malformed output is a failed check, never a crashed verifier
            ok = False
        results[c["name"]] = ok
    return results


def main(spec):
    workspace = sys.argv[1] if len(sys.argv) > 1 else "/root/.openclaw/workspace"
    print(json.dumps(run(spec, workspace)))
