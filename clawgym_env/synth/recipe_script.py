"""A fixed, generic 'recipe follower': the cheap script issue 13's family gate runs on every step.

It knows nothing about any task. It reads one step's instruction text and the workspace, and does
what the instruction's literal spans spell out: the backticked output paths, the backticked
columns that exist in a backticked input table, 'whose `col` is `x`' / 'at least N' filters, 'sorted
by `col`, highest first', 'top N', archives of the backticked files, manifests of an archive,
'exactly these lines', `To:` / `Subject:` / sign-off lines around a copy of the input message,
'change `a` to `b`' edits, and commands in backticks. A task family whose steps this script solves
is a recipe, not work (see :mod:`clawgym_env.synth.family_gate`).

Shipped into the sandbox as source and run as ``python3 recipe.py STEP.txt`` from the workspace:
stdlib only, and no step ever crashes it (each output is tried on its own).
"""

from __future__ import annotations

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

TABLE_EXT = (".csv", ".tsv", ".json", ".jsonl", ".md")
ARCHIVE_EXT = (".zip", ".tar.gz", ".tgz", ".tar")
TICK = re.compile(r"`([^`\n]+)`")
PATHLIKE = re.compile(r"^[\w./-]+\.[A-Za-z0-9]{1,6}$|^[\w./-]+/$")


def ext(path: str) -> str:
    low = path.lower()
    for double in (".tar.gz",):
        if low.endswith(double):
            return double
    return os.path.splitext(low)[1]


def read_table(path: str) -> tuple[list[str], list[dict]]:
    text = open(path, encoding="utf-8", errors="replace").read()
    kind = ext(path)
    if kind == ".json":
        data = json.loads(text)
        if isinstance(data, dict):
            data = next((v for v in data.values() if isinstance(v, list)), [data])
        rows = [r for r in data if isinstance(r, dict)]
    elif kind == ".jsonl":
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    elif kind == ".md":
        lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
        cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
        cells = [c for c in cells if not all(re.fullmatch(r":?-{2,}:?", x) for x in c)]
        rows = [dict(zip(cells[0], c)) for c in cells[1:]] if cells else []
    else:
        rows = list(csv.DictReader(io.StringIO(text), delimiter="\t" if kind == ".tsv" else ","))
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    return cols, rows


def write_table(path: str, cols: list[str], rows: list[dict]) -> None:
    kind = ext(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    rows = [{c: r.get(c, "") for c in cols} for r in rows]
    with open(path, "w", encoding="utf-8", newline="") as f:
        if kind == ".json":
            json.dump([{c: num(v) for c, v in r.items()} for r in rows], f, indent=2)
        elif kind == ".jsonl":
            f.writelines(json.dumps({c: num(v) for c, v in r.items()}) + "\n" for r in rows)
        elif kind == ".md":
            f.write("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n")
            f.writelines("| " + " | ".join(str(r[c]) for c in cols) + " |\n" for r in rows)
        else:
            w = csv.writer(f, delimiter="\t" if kind == ".tsv" else ",", lineterminator="\n")
            w.writerow(cols)
            w.writerows([[r[c] for c in cols] for r in rows])


def num(v):
    if isinstance(v, str) and re.fullmatch(r"-?\d+", v.strip()):
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"-?\d+\.\d+", v.strip()):
        return float(v)
    return v


def as_float(v) -> float | None:
    try:
        return float(str(v).replace(",", "").replace("$", ""))
    except ValueError:
        return None


def mentioned(text: str) -> list[str]:
    return list(dict.fromkeys(TICK.findall(text)))


def inputs_of(text: str, outputs: list[str]) -> list[str]:
    return [p for p in mentioned(text) if os.path.isfile(p) and p not in outputs]


def source_table(text: str, outputs: list[str]) -> tuple[list[str], list[dict]] | None:
    for p in inputs_of(text, outputs):
        if ext(p) in TABLE_EXT:
            try:
                cols, rows = read_table(p)
            except Exception:
                continue
            if rows:
                return cols, rows
    return None


def shape_table(text: str, cols: list[str], rows: list[dict]) -> tuple[list[str], list[dict]]:
    """Filters, sort, top N and column choice as the instruction's literal spans spell them."""
    for m in re.finditer(r"`(\w+)` (?:is|equal to|equals|==|of) `([^`]+)`", text):
        if m.group(1) in cols:
            rows = [r for r in rows if str(r.get(m.group(1), "")).strip().lower() == m.group(2).lower()]
    for m in re.finditer(r"`(\w+)`[^.;`]{0,30}?(at least|>=|greater than|above|more than|at most|<=|below|"
                         r"less than|under)\s+\$?(-?[\d,.]+\d)", text):
        col, op, bound = m.group(1), m.group(2), as_float(m.group(3))
        if col in cols and bound is not None:
            keep = {"at least": lambda x: x >= bound, ">=": lambda x: x >= bound, "at most": lambda x: x <= bound,
                    "<=": lambda x: x <= bound, "below": lambda x: x < bound, "less than": lambda x: x < bound,
                    "under": lambda x: x < bound}.get(op, lambda x: x > bound)
            rows = [r for r in rows if as_float(r.get(col)) is not None and keep(as_float(r.get(col)))]
    sort = re.search(r"(?:sort|sorted|rank|ranked|order|ordered)\w* (?:them |it |rows |the rows )?by `(\w+)`([^.;]{0,60})",
                     text)
    if sort and sort.group(1) in cols:
        col, tail = sort.group(1), sort.group(2).lower()
        desc = any(w in tail for w in ("highest", "largest", "descending", "most", "biggest", "newest", "latest"))
        ties = re.search(r"ties?[^`]{0,30}`(\w+)`", tail + text[sort.end():sort.end() + 80])
        tie = ties.group(1) if ties and ties.group(1) in cols else None
        if tie:
            rows = sorted(rows, key=lambda r: str(r.get(tie, "")))
        rows = sorted(rows, key=lambda r: (as_float(r.get(col)) if as_float(r.get(col)) is not None else 0.0,
                                           str(r.get(col, ""))), reverse=desc)
    top = re.search(r"\b(?:top|first|leading)\s+(\d+)\b", text)
    if top:
        rows = rows[: int(top.group(1))]
    named = [c for c in mentioned(text) if c in cols]
    listed = re.search(r"\bcolumns?\b((?:[^.`]|`[^`]*`)*)", text)
    if listed:
        named = [c for c in dict.fromkeys(TICK.findall(listed.group(1))) if c in cols] or named
    same = re.search(r"same columns|all (?:the )?columns|columns unchanged|every column", text)
    chosen = named if len(named) >= 2 and not same else cols
    return chosen, rows


def archive_names(text: str) -> list[str]:
    """Member names the instruction dictates: 'members are exactly `a` and `b`', 'into the archive as `x`'."""
    names = []
    for m in re.finditer(r"members?\b[^`.]{0,30}?exactly((?:[^.`(]|`[^`]*`)*)", text):
        names += TICK.findall(m.group(1))
    names += re.findall(r"(?:in|into) the (?:archive|bundle) as `([^`]+)`", text)
    return list(dict.fromkeys(names))


def do_archive(path: str, text: str, outputs: list[str]) -> None:
    names = archive_names(text)
    if names:
        files = [p for p in mentioned(text) if os.path.isfile(p) and p != path]
        def source(name: str) -> str | None:
            base = os.path.basename(name)
            return next((f for f in files if os.path.basename(f) == base), None) or \
                next((f for f in files if os.path.basename(f).endswith("_" + base)), None)

        pairs = [(source(n), n) for n in names]
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        if path.endswith(".zip"):
            with zipfile.ZipFile(path, "w") as z:
                for src, n in pairs:
                    if src:
                        z.write(src, n)
        else:
            with tarfile.open(path, "w:gz" if path.endswith(("gz", "tgz")) else "w") as t:
                for src, n in pairs:
                    if src:
                        t.add(src, n)
        return
    members = [p for p in mentioned(text) if p != path and (os.path.isfile(p) or os.path.isdir(p))
               and not p.startswith("output/step") or (p in outputs and os.path.isfile(p))]
    members = [p for p in members if os.path.exists(p) and ext(p) not in ARCHIVE_EXT]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if path.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as z:
            for p in members:
                z.write(p, os.path.basename(p.rstrip("/")))
    else:
        with tarfile.open(path, "w:gz" if path.endswith(("gz", "tgz")) else "w") as t:
            for p in members:
                t.add(p, os.path.basename(p.rstrip("/")))


def archive_rows(text: str) -> list[dict]:
    for p in mentioned(text):
        if ext(p) in ARCHIVE_EXT and os.path.isfile(p):
            rows = []
            if p.endswith(".zip"):
                with zipfile.ZipFile(p) as z:
                    for n in sorted(z.namelist()):
                        data = z.read(n)
                        rows.append({"member": n, "size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
            else:
                with tarfile.open(p) as t:
                    for m in sorted(t.getmembers(), key=lambda m: m.name):
                        if m.isfile():
                            data = t.extractfile(m).read()  # type: ignore[union-attr]
                            rows.append({"member": m.name, "size_bytes": len(data),
                                         "sha256": hashlib.sha256(data).hexdigest()})
            return rows
    return []


def dictated_lines(text: str, path: str) -> list[str] | None:
    """'`path` containing exactly these lines: `a` / `b`' -> the lines."""
    m = re.search(re.escape(path) + r"`[^`]{0,80}?(?:exactly|these|following)[^`]{0,20}lines?\b[^`]{0,20}"
                  r"((?:`[^`]+`(?:\s*(?:/|,|and)\s*)?)+)", text)
    return TICK.findall(m.group(1)) if m else None


def do_message(path: str, text: str, outputs: list[str]) -> None:
    ticked = mentioned(text)
    head = [t for t in ticked if re.match(r"(To|Subject|Cc|From):", t)]
    greet = [t for t in ticked if re.match(r"(Dear|Hi|Hello|Hey)\b.*,$", t)]
    tail = [t for t in ticked if re.match(r"(Best|Kind|Regards|Thanks|Cheers|Sincerely)", t)]
    names = re.findall(r"(?:[Ss]ign (?:off|it) with|followed by|end with your name|signed) `([^`]+)`", text)
    body = ""
    for p in inputs_of(text, outputs):
        try:
            body = open(p, encoding="utf-8").read()
            break
        except (OSError, UnicodeDecodeError):
            continue
    for phrase in re.findall(r"\"([^\"]{2,40})\"", text):
        body = re.sub(re.escape(phrase), "", body, flags=re.IGNORECASE)
    words = body.split()
    limit = re.search(r"between (\d+) and (\d+) words|within (\d+)\s*-\s*(\d+) words", text)
    if limit:
        hi = int(limit.group(2) or limit.group(4))
        words = words[: max(0, hi - 12)]
    reply = [t for t in ticked if t.startswith("Reply by:")]
    when = re.search(r"(\d{1,2}) (January|February|March|April|May|June|July|August|September|October|November|"
                     r"December) (\d{4})", text)
    if reply and when:
        month = "January February March April May June July August September October November December".split()
        reply = [f"Reply by: {when.group(3)}-{month.index(when.group(2)) + 1:02d}-{int(when.group(1)):02d}"]
    lines = head + ([""] if head else []) + greet + [" ".join(words)] + reply + tail + names
    write(path, "\n".join(lines) + "\n")


def do_report(path: str, text: str, outputs: list[str]) -> None:
    got = source_table(text, outputs)
    cols, rows = got if got else ([], [])
    out = []
    for t in mentioned(text):
        if t.startswith("#"):
            out.append(t.replace("…", "").strip())
    out.append(f"- Records reviewed: {len(rows)}")
    for m in re.finditer(r"Total (\w+)", text):
        if m.group(1) in cols:
            out.append(f"- Total {m.group(1)}: {sum(as_float(r.get(m.group(1))) or 0 for r in rows):g}")
    key = next((c for c in mentioned(text) if c in cols), cols[0] if cols else None)
    top = re.search(r"\b(?:top|first)\s+(\d+)\b", text)
    out.append("## Leading items")
    out += [f"{i + 1}. {r.get(key)}" for i, r in enumerate(rows[: int(top.group(1)) if top else 3])] if key else []
    write(path, "\n".join(out) + "\n")


def do_edit(path: str, text: str, outputs: list[str]) -> None:
    src = next((p for p in inputs_of(text, outputs) if ext(p) in (".md", ".txt", ".yaml", ".yml", ".env", ".ini")), None)
    if src is None:
        return
    doc = open(src, encoding="utf-8").read()
    for a, b in re.findall(r"from `([^`]+)` to `([^`]+)`", text):
        doc = doc.replace(a, b)
    for label, line in re.findall(r"set the `([^`]+)` line to `([^`]+)`", text):
        doc = re.sub(r"(?m)^" + re.escape(label) + r".*$", line, doc)
    for section in re.findall(r"delete the (?:whole )?`(#+ [^`]+)` section", text):
        doc = re.sub(r"(?ms)^" + re.escape(section) + r"\n.*?(?=^#{1,%d} |\Z)" % section.count("#"), "", doc)
    for key, value in re.findall(r"set `([\w.]+)` to `([^`]+)`", text):
        doc = re.sub(r"(?m)^(\s*" + re.escape(key) + r"\s*[:=]\s*).*$", lambda m: m.group(1) + value, doc)
    write(path, doc)


def run_commands(path: str, text: str) -> bool:
    for cmd in mentioned(text):
        if re.match(r"(python3?|bash|sh|\./)\S* ", cmd) and "<" not in cmd:
            cwd = "."
            m = re.match(r"cd (\S+) && (.*)", cmd)
            if m:
                cwd, cmd = m.group(1), m.group(2)
            try:
                out = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True, timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if out.stdout.strip():
                write(path, out.stdout)
                return True
    return False


def write(path: str, content: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(content)


def main(step_file: str) -> None:
    text = open(step_file, encoding="utf-8").read()
    inside = set(archive_names(text))
    outputs = [p for p in mentioned(text) if PATHLIKE.match(p) and not os.path.exists(p) and "<" not in p
               and p not in inside and not p.endswith("/")]
    outputs.sort(key=lambda p: ("manifest" in p, ext(p) in ARCHIVE_EXT))  # members, then archives, then manifests
    for path in outputs:
        try:
            kind = ext(path)
            lines = dictated_lines(text, path)
            if lines:
                write(path, "\n".join(lines) + "\n")
            elif kind in ARCHIVE_EXT:
                do_archive(path, text, outputs)
            elif "manifest" in path and archive_rows(text):
                rows = archive_rows(text)
                write_table(path, list(rows[0]), rows)
            elif re.search(r"\b(e-?mail|message|announcement|reply)\b", text, re.IGNORECASE) and kind in (".txt", ".md", ".eml"):
                do_message(path, text, outputs)
            elif "Records reviewed" in text and kind == ".md":
                do_report(path, text, outputs)
            elif re.search(r"from `[^`]+` to `|set the `|delete the (?:whole )?`#", text) and kind not in (".csv", ".json"):
                do_edit(path, text, outputs)
            elif run_commands(path, text):
                pass
            elif kind in TABLE_EXT:
                got = source_table(text, outputs)
                if got:
                    cols, rows = shape_table(text, *got)
                    heading = [t for t in mentioned(text) if t.startswith("#")]
                    write_table(path, cols, rows)
                    if heading and kind == ".md":
                        write(path, heading[0] + "\n\n" + open(path, encoding="utf-8").read())
        except Exception as exc:  # one output's failure must not stop the others
            print(f"{path}: {type(exc).__name__}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
