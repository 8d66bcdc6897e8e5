"""A seeded factory of coherent generated tasks, for scripting the synth-llm stages on loopback.

``make(seed)`` returns what a good model would answer at each stage for one task: the task JSON
(question naming its input and output paths, input files with content), a verifier that parses its
outputs properly (JSON parsed, numbers compared with a tolerance, CSV read with the csv module,
Markdown table cells stripped with case-insensitive headers, INI read with configparser) and gives 0
on missing outputs and on echo / copy / skeleton answers, a rubric, and a reference solution as
OpenClaw tool calls. Six families (group totals -> JSON, filter rows -> CSV, word and line counts ->
Markdown table, config edit -> INI, error events JSONL -> JSON list, unique sorted lines -> text)
with seeded domains, names, values and file names, so 100 seeds give 100 different tasks whose
questions each carry a unique file tag (``by_question`` finds a task from a request's text).

Broken variants, each in the family where its flaw is natural: ``verifier="echo"`` (only checks
that the output mentions the input paths), ``"string_json"`` (compares JSON text byte for byte),
``"scaffold"`` (also pays for the output file existing), ``"noop"`` (also pays for the input being
there); ``reference="wrong"`` (wrong totals) and ``"tool_error"`` (an edit whose text is absent).
``reference="exec"`` is a good variant: every output written by a shell heredoc instead of ``write``.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

FAMILIES = ("group_totals", "filter_rows", "word_counts", "config_edit", "error_events", "unique_lines")
VERIFIERS = ("good", "echo", "string_json", "scaffold", "noop")
REFERENCES = ("good", "wrong", "tool_error", "exec")
_FORCED_FAMILY = {"echo": "word_counts", "string_json": "group_totals", "wrong": "group_totals",
                  "tool_error": "config_edit"}
_CATEGORY = {  # each family fits a few scenarios; the seed picks one (novelty dedup runs per category)
    "group_totals": [("Analysis & Decision Support", "transaction and financial analysis"),
                     ("Office & Daily Tasks", "table and record handling"),
                     ("Reasoning & Professional Domains", "scientific and engineering analysis")],
    "filter_rows": [("Office & Daily Tasks", "table and record handling"),
                    ("Analysis & Decision Support", "classification, ranking and scoring"),
                    ("Communication & Collaboration", "team collaboration and synchronization")],
    "word_counts": [("Office & Daily Tasks", "document writing and editing"),
                    ("Planning & Knowledge Organization", "memory and knowledge organization"),
                    ("Information Retrieval & Research", "research and information synthesis")],
    "config_edit": [("Systems & Infrastructure", "environment configuration and deployment"),
                    ("Software Development", "prototype development and delivery"),
                    ("Automation & Workflows", "scheduled task execution")],
    "error_events": [("Systems & Infrastructure", "incident response and reliability"),
                     ("Software Development", "debugging and issue fixing"),
                     ("Automation & Workflows", "event-triggered automation")],
    "unique_lines": [("Communication & Collaboration", "email and message handling"),
                     ("Information Retrieval & Research", "knowledge retrieval and grounding"),
                     ("Planning & Knowledge Organization", "task planning and decomposition")],
}
_OPERATIONS = {
    "group_totals": ["read_extract", "aggregate_stats", "write_structured"],
    "filter_rows": ["read_extract", "filter_rank", "write_structured"],
    "word_counts": ["inspect_directory", "aggregate_stats", "write_structured"],
    "config_edit": ["inspect_code", "update_config", "run_script"],
    "error_events": ["extract_records", "analyze_logs", "write_structured"],
    "unique_lines": ["read_extract", "clean_dedupe", "write_structured"],
}
_PEOPLE = ["Ana", "Ben", "Chen", "Dara", "Eli", "Femi", "Gita", "Hugo", "Ines", "Jon", "Kai", "Lena", "Mika", "Noor",
           "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Vik", "Wen", "Yara", "Zed"]


@dataclass
class Made:
    """One factory task: the candidate record the proof stages take, and the answers behind it."""

    seed: int
    family: str
    candidate: dict[str, Any]
    actions: list[dict[str, Any]]
    final: str
    output: str
    """The task's output path (workspace-relative)."""
    rules: list[dict[str, Any]] = field(default_factory=list)
    """A valid rubric (two rules) for the main output (set on the candidate only when ``rubric=True``)."""

    @property
    def question(self) -> str:
        return str(self.candidate["task"]["question"])

    @property
    def tag(self) -> str:
        """The unique token every file name of this task carries (route letter and seed)."""
        return f"{self.candidate['id'][0]}{self.seed:04d}"

    def task_json(self) -> dict[str, Any]:
        """The task as the generator answers stage 2 (authors' field names)."""
        t = self.candidate["task"]
        return {"question": t["question"], "task_type": t["task_type"], "scenario": t["scenario"],
                "expected_behavior": t["expected_behavior"], "required_basic_operations": t["required_operations"],
                "has_input_files": True, "input_files": t["input_files"], "difficulty": t["difficulty"]}

    def reference_text(self) -> str:
        """The reference-solution answer, as a model writes it (prose around a fenced JSON object)."""
        body = json.dumps({"actions": self.actions, "final": self.final}, indent=2)
        return f"Here is my plan.\n```json\n{body}\n```\n"


def by_question(made: list[Made], text: str) -> Made:
    """The task whose question appears in ``text`` (a request to the scripted model)."""
    hits = [m for m in made if m.question in text]
    if not hits:
        raise KeyError("no factory task's question is in the request")
    return max(hits, key=lambda m: len(m.question))


# ------------------------------------------------------------------------------------------ check.py
_HEAD = '''"""Verifier for {family} task {tag} (factory-made)."""
import configparser
import csv
import io
import json
import os
import sys

EXPECTED = json.loads({expected!r})


def _text(ws, rel):
    path = os.path.join(ws, rel)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def _json(ws, rel):
    text = _text(ws, rel)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _num(value):
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    return float(str(value).replace(",", "").strip())


def _close(a, b, tol=0.01):
    try:
        return abs(_num(a) - _num(b)) <= tol
    except (TypeError, ValueError):
        return False


def _cell(value):
    value = str(value).strip().strip("*_`").strip()
    try:
        return repr(round(_num(value), 6))
    except ValueError:
        return value.casefold()


def _csv_rows(text):
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    return rows


def _md_table(text):
    """The first Markdown table: (headers lower-cased, rows of stripped cells)."""
    rows = []
    for line in text.splitlines():
        if "|" not in line:
            if rows:
                break
            continue
        line = line.strip()
        if line.startswith("|"):
            line = line[1:]
        if line.endswith("|"):
            line = line[:-1]
        cells = [c.strip().strip("*_`").strip() for c in line.split("|")]
        if all(c and set(c) <= set(":-") for c in cells):
            continue
        rows.append(cells)
    if not rows:
        return [], []
    return [h.casefold() for h in rows[0]], rows[1:]


def _ini(ws, rel):
    text = _text(ws, rel)
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return {{s: dict(parser[s]) for s in parser.sections()}}

'''

_TAIL_GRADE = '''

def grade(transcript, workspace_path):
    """One score in [0, 1] per check (the transcript is not used)."""
    scores = {}
    for name, check in CHECKS:
        try:
            scores[name] = 1.0 if check(workspace_path) else 0.0
        except Exception:
            scores[name] = 0.0
    return scores


if __name__ == "__main__":
    print(json.dumps(grade([], sys.argv[1] if len(sys.argv) > 1 else ".")))
'''

_TAIL_REWARD_FIRST = '''

def main(root):
    passed = {}
    for name, check in CHECKS:
        try:
            passed[name] = bool(check(root))
        except Exception:
            passed[name] = False
    result = {"reward": sum(passed.values()) / len(passed)}
    result.update(passed)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
'''

_EXTRA_CHECKS = {
    "scaffold": '''

def check_output_exists(ws):
    return os.path.isfile(os.path.join(ws, EXPECTED["out"]))


CHECKS = CHECKS + [("output_exists", check_output_exists)]
''',
    "noop": '''

def check_input_present(ws):
    return os.path.isfile(os.path.join(ws, EXPECTED["inputs"][0]))


CHECKS = CHECKS + [("input_present", check_input_present)]
''',
}


def _check_py(family: str, tag: str, expected: dict[str, Any], checks_src: str, style: str, verifier: str) -> str:
    src = _HEAD.format(family=family, tag=tag, expected=json.dumps(expected, sort_keys=True)) + checks_src
    src += _EXTRA_CHECKS.get(verifier, "")
    return src + (_TAIL_GRADE if style == "grade" else _TAIL_REWARD_FIRST)


def _write(path: str, content: str) -> dict[str, Any]:
    return {"name": "write", "arguments": {"path": path, "content": content}}


def _read(path: str) -> dict[str, Any]:
    return {"name": "read", "arguments": {"path": path}}


def _as_exec(action: dict[str, Any]) -> dict[str, Any]:
    """A write as the shell command an agent would run instead (a quoted heredoc: no expansion)."""
    if action["name"] != "write":
        return action
    path, content = action["arguments"]["path"], action["arguments"]["content"]
    folder = path.rsplit("/", 1)[0] if "/" in path else "."
    body = content if content.endswith("\n") else content + "\n"
    return {"name": "exec", "arguments": {"command": f"mkdir -p {folder} && cat > {path} <<'CLAWGYM_EOF'\n{body}CLAWGYM_EOF"}}


# ------------------------------------------------------------------------------------------ families
@dataclass
class _Spec:
    question: str
    scenario: str
    behavior: list[str]
    inputs: dict[str, str]
    out: str
    expected: dict[str, Any]
    checks_src: str
    actions: list[dict[str, Any]]
    task_type: str
    difficulty: int
    rubric_focus: str
    extra_checks: dict[str, str] = field(default_factory=dict)
    """Checks that replace ``checks_src`` for a broken verifier of this family."""


_GROUPS = [
    ("sales", "region", ["North", "South", "East", "West", "Central"], "amount", "sales ledger"),
    ("expenses", "department", ["Finance", "Legal", "Operations", "Marketing", "Support"], "cost", "expense report"),
    ("donations", "campaign", ["Spring Drive", "Gala", "Online", "Matching", "Alumni"], "amount", "donation log"),
    ("timesheet", "project", ["Atlas", "Beacon", "Comet", "Delta", "Ember"], "hours", "timesheet export"),
    ("fuel", "vehicle", ["Van A", "Van B", "Truck 1", "Truck 2", "Pickup"], "litres", "fuel card log"),
    ("grants", "lab", ["Genomics", "Optics", "Robotics", "Ecology", "Materials"], "award", "grant register"),
]


def _group_totals(rng: random.Random, tag: str, wrong: bool) -> _Spec:
    stem, group, names, value, label = rng.choice(_GROUPS)
    groups = rng.sample(names, rng.randint(3, 5))
    rows = []
    for i in range(rng.randint(8, 14)):
        g = groups[i % len(groups)] if i < len(groups) else rng.choice(groups)
        rows.append((f"{i + 1}", g, f"{rng.choice(['item', 'entry', 'line'])}-{rng.randint(10, 99)}",
                     f"{rng.randint(5, 480)}.{rng.randint(0, 99):02d}"))
    rng.shuffle(rows)
    text = f"id,{group},description,{value}\n" + "".join(",".join(r) + "\n" for r in rows)
    inp, out = f"input/{stem}_{tag}.csv", f"output/{group}_totals_{tag}.json"
    totals: dict[str, float] = {}
    for _, g, _, v in rows:
        totals[g] = round(totals.get(g, 0.0) + float(v), 2)
    written = {g: round(t + 1.0, 2) for g, t in totals.items()} if wrong else totals
    asks = [(f"Please add up the `{value}` column of the {label} in `{inp}` per {group} and save the totals to "
            f"`{out}` as a JSON object mapping each {group} name to its total, rounded to 2 decimals."),
            (f"I need the total {value} for every {group} in `{inp}`. Write them to `{out}`: one JSON object whose "
            f"keys are the {group} names and whose values are the totals (2 decimals)."),
            (f"Using the {label} `{inp}`, compute how much {value} each {group} accounts for and store the result "
            f"in `{out}` as a JSON object ({group} -> total, rounded to 2 decimal places).")]
    checks = '''
def check_groups_complete(ws):
    data = _json(ws, EXPECTED["out"])
    return isinstance(data, dict) and {str(k).strip().casefold() for k in data} == \\
        {k.casefold() for k in EXPECTED["totals"]}


def check_totals_correct(ws):
    data = _json(ws, EXPECTED["out"])
    if not isinstance(data, dict):
        return False
    got = {str(k).strip().casefold(): v for k, v in data.items()}
    return all(k.casefold() in got and _close(got[k.casefold()], v) for k, v in EXPECTED["totals"].items())


CHECKS = [("groups_complete", check_groups_complete), ("totals_correct", check_totals_correct)]
'''
    string_json = '''
def check_groups_complete(ws):
    data = _json(ws, EXPECTED["out"])
    return isinstance(data, dict) and {str(k).strip().casefold() for k in data} == \\
        {k.casefold() for k in EXPECTED["totals"]}


def check_exact_text(ws):
    text = _text(ws, EXPECTED["out"])
    return text is not None and text.strip() == EXPECTED["totals_text"]


CHECKS = [("groups_complete", check_groups_complete), ("exact_text", check_exact_text)]
'''
    return _Spec(rng.choice(asks), f"A {label} export has to be summarised for a monthly review.",
                 [f"reads every row of {inp}", f"sums the {value} column per {group}",
                  f"writes {out} as a JSON object of {len(groups)} totals"],
                 {inp: text}, out, {"out": out, "inputs": [inp], "totals": totals,
                                   "totals_text": json.dumps(totals, indent=2)}, checks,
                 [_read(inp), _write(out, json.dumps(written, indent=2) + "\n")], "data_aggregation", 2,
                 "whether the totals file is tidy and uses the exact group names", {"string_json": string_json})


_ROSTERS = [("tickets", "status", ["open", "closed", "pending"], "priority_score", "support tickets"),
            ("applicants", "stage", ["interview", "rejected", "screening"], "test_score", "job applicants"),
            ("tasks", "state", ["blocked", "done", "active"], "effort", "backlog tasks"),
            ("students", "track", ["science", "arts", "sports"], "exam_mark", "student records"),
            ("suppliers", "tier", ["gold", "silver", "bronze"], "rating", "supplier list"),
            ("volunteers", "shift", ["morning", "evening", "weekend"], "hours_logged", "volunteer roster")]


def _filter_rows(rng: random.Random, tag: str) -> _Spec:
    stem, col, states, score, label = rng.choice(_ROSTERS)
    want, threshold = rng.choice(states), rng.choice([50, 55, 60, 65, 70])
    states = [want] + [x for x in states if x != want]
    rows = []
    people = rng.sample(_PEOPLE, 10)
    for i, name in enumerate(people):
        st = want if i < 4 else rng.choice(states)
        sc = rng.randint(threshold, 99) if i < 2 else rng.randint(20, 99)
        rows.append([f"R-{rng.randint(100, 999)}{i}", name, st, str(sc)])
    if not any(r[2] == want and int(r[3]) < threshold for r in rows):
        rows[3][2], rows[3][3] = want, str(threshold - 5)
    rng.shuffle(rows)
    header = ["ref", "name", col, score]
    inp, out = f"input/{stem}_{tag}.csv", f"output/{stem}_{want}_{tag}.csv"
    keep = [r for r in rows if r[2] == want and int(r[3]) >= threshold]
    body = ",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows)
    result = ",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in keep)
    q = rng.choice([
        (f"From the {label} in `{inp}`, keep only the rows whose `{col}` is `{want}` and whose `{score}` is at least "
        f"{threshold}. Save them to `{out}` with the same columns, in the same order as the input."),
        (f"Filter `{inp}`: I only want {label} with {col} `{want}` and a {score} of {threshold} or more. Write the "
        f"matching rows, header included and in their original order, to `{out}`."),
        (f"Which {label} in `{inp}` are `{want}` ({col}) with {score} >= {threshold}? Copy exactly those rows, keeping "
        f"the header and the input order, into a new CSV file `{out}`."),
        (f"Make a shortlist: `{out}` should hold the rows of `{inp}` where {col} equals `{want}` and {score} is "
        f"{threshold} or higher - same header, same column order, rows in the order they appear in the input.")])
    checks = '''
def _body(ws):
    text = _text(ws, EXPECTED["out"])
    if text is None:
        return None
    rows = _csv_rows(text)
    if not rows or [h.strip().casefold() for h in rows[0]] != [h.casefold() for h in EXPECTED["header"]]:
        return None
    return [[_cell(c) for c in r] for r in rows[1:]]


def _want():
    return [[_cell(c) for c in r] for r in EXPECTED["rows"]]


def check_rows_match(ws):
    body = _body(ws)
    return body is not None and sorted(body) == sorted(_want())


def check_order_kept(ws):
    body = _body(ws)
    return body is not None and body == _want()


CHECKS = [("rows_match", check_rows_match), ("order_kept", check_order_kept)]
'''
    return _Spec(q, f"A list of {label} has to be narrowed down before a meeting.",
                 [f"reads {inp}", f"keeps rows with {col} {want} and {score} >= {threshold}", f"writes {out}"],
                 {inp: body}, out, {"out": out, "inputs": [inp], "header": header, "rows": keep}, checks,
                 [_read(inp), _write(out, result)], "record_filtering", 2,
                 "whether the filtered table keeps the input's columns and order")


_WORDS = ["alpha", "budget", "client", "draft", "event", "follow", "invoice", "launch", "memo", "notes", "owner", "plan", "quarter", "review", "schedule", "status", "summary", "team", "update", "vendor", "window"]


def _word_counts(rng: random.Random, tag: str) -> _Spec:
    folder = rng.choice(["notes", "drafts", "minutes", "letters", "poems", "recipes", "speeches", "chapters"])
    names = sorted(rng.sample(["intro", "budget", "agenda", "recap", "outline", "memo", "plan"], rng.randint(2, 4)))
    inputs, counts = {}, {}
    for n in names:
        lines = [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 9))) for _ in range(rng.randint(2, 7))]
        path = f"input/{folder}_{tag}/{n}.txt"
        inputs[path] = "\n".join(lines) + "\n"
        counts[path] = [len(lines), sum(len(ln.split()) for ln in lines)]
    out = f"output/{folder}_counts_{tag}.md"
    listed = ", ".join(f"`{p}`" for p in inputs)
    q = rng.choice([
        (f"Count the lines and the words (whitespace-separated) in each of {listed}. Write `{out}` with a title and "
        f"a Markdown table with the columns File, Lines and Words: one row per file, the file's path in the File "
        f"column, sorted by path."),
        (f"For the text files {listed}, I want a Markdown report at `{out}`: a heading, then a table (File | Lines "
        f"| Words) with one row per file (its path as written here) giving its number of lines and of "
        f"whitespace-separated words, rows in path order."),
        (f"How long are {listed}? Put a Markdown table into `{out}` (with a title above it): columns File, Lines, "
        f"Words; a row per file with its path as given, the number of lines and the number of words (split on "
        f"whitespace); order the rows by path."),
        (f"Before editing starts I want a size overview of {listed}. Save it as `{out}`: a title and a table whose "
        f"header is File | Lines | Words, listing each file by its path (sorted) with its line count and its count "
        f"of whitespace-separated words.")])
    table = "| File | Lines | Words |\n|---|---:|---:|\n" + "".join(
        f"| {p} | {c[0]} | {c[1]} |\n" for p, c in counts.items())
    content = f"# Line and word counts\n\n{table}"
    checks = '''
def _rows(ws):
    text = _text(ws, EXPECTED["out"])
    if text is None:
        return None
    head, rows = _md_table(text)
    try:
        f, l, w = head.index("file"), head.index("lines"), head.index("words")
    except ValueError:
        return None
    out = {}
    for r in rows:
        if len(r) > max(f, l, w):
            out[r[f].strip("./")] = (r[l], r[w])
    return out


def _lookup(rows, path):
    if path in rows:
        return rows[path]
    base = [v for k, v in rows.items() if k == path.rsplit("/", 1)[-1]]
    return base[0] if base else None


def check_files_listed(ws):
    rows = _rows(ws)
    return rows is not None and len(rows) == len(EXPECTED["counts"]) and all(
        _lookup(rows, p) is not None for p in EXPECTED["counts"])


def check_line_counts(ws):
    rows = _rows(ws)
    return bool(rows) and all(_lookup(rows, p) is not None and _close(_lookup(rows, p)[0], c[0], 0)
                              for p, c in EXPECTED["counts"].items())


def check_word_counts(ws):
    rows = _rows(ws)
    return bool(rows) and all(_lookup(rows, p) is not None and _close(_lookup(rows, p)[1], c[1], 0)
                              for p, c in EXPECTED["counts"].items())


CHECKS = [("files_listed", check_files_listed), ("line_counts", check_line_counts), ("word_counts", check_word_counts)]
'''
    echo = '''
def check_mentions_inputs(ws):
    text = _text(ws, EXPECTED["out"])
    return text is not None and all(p in text for p in EXPECTED["counts"])


CHECKS = [("mentions_inputs", check_mentions_inputs)]
'''
    return _Spec(q, "A folder of short texts needs a size overview before editing starts.",
                 [f"reads the {len(names)} text files", "counts lines and whitespace-separated words",
                  f"writes the table to {out}"],
                 inputs, out, {"out": out, "inputs": list(inputs), "counts": counts}, checks,
                 [*(_read(p) for p in inputs), _write(out, content)], "text_statistics", 1,
                 "whether the report is readable and its table is well formed", {"echo": echo})


_APPS = ["billing", "gateway", "scheduler", "indexer", "mailer", "reports"]


def _config_edit(rng: random.Random, tag: str, tool_error: bool) -> _Spec:
    app = rng.choice(_APPS)
    port, new_port = rng.choice([8000, 8080, 9000]), rng.choice([8181, 8443, 9090])
    level, new_level = rng.choice(["info", "warning"]), rng.choice(["debug", "error"])
    ttl = rng.choice([120, 300, 600])
    conf = {"server": {"host": f"{app}.internal", "port": str(port), "workers": str(rng.randint(2, 16))},
            "logging": {"level": level, "file": f"/var/log/{app}.log"},
            "database": {"name": f"{app}_db", "pool_size": str(rng.randint(5, 40)), "timeout": str(rng.randint(10, 60))}}
    text = "".join(f"[{s}]\n" + "".join(f"{k} = {v}\n" for k, v in kv.items()) + "\n" for s, kv in conf.items())
    inp, out = f"input/{app}_{tag}.ini", f"output/{app}_{tag}.ini"
    q = rng.choice([
        (f"Prepare the new settings for the {app} service: copy `{inp}` to `{out}` and, in the copy only, change the "
        f"server port to {new_port}, set the logging level to {new_level}, and add a `[cache]` section with "
        f"`enabled = true` and `ttl = {ttl}`. Every other setting must stay as it is."),
        (f"Write `{out}`: the configuration from `{inp}` with three changes - `port` under `[server]` becomes "
        f"{new_port}, `level` under `[logging]` becomes {new_level}, and a new `[cache]` section sets `enabled = true` "
        f"and `ttl = {ttl}`. Leave `{inp}` untouched and keep all other keys."),
        (f"We deploy {app} with a tweaked config. Starting from `{inp}`, produce `{out}` where the `[server]` port is "
        f"{new_port} and the `[logging]` level is {new_level}, plus a `[cache]` section (`enabled = true`, "
        f"`ttl = {ttl}`). Do not edit the original; all remaining settings stay identical.")])
    old_port = "port = 99999" if tool_error else f"port = {port}"
    actions = [_read(inp), {"name": "exec", "arguments": {"command": f"mkdir -p output && cp {inp} {out}"}},
               {"name": "edit", "arguments": {"path": out, "oldText": old_port, "newText": f"port = {new_port}"}},
               {"name": "edit", "arguments": {"path": out, "oldText": f"level = {level}", "newText": f"level = {new_level}"}},
               {"name": "exec", "arguments": {"command": f"printf '[cache]\\nenabled = true\\nttl = {ttl}\\n' >> {out}"}}]
    checks = '''
def check_port_updated(ws):
    conf = _ini(ws, EXPECTED["out"])
    return conf is not None and _close(conf.get("server", {}).get("port"), EXPECTED["port"], 0)


def check_level_updated(ws):
    conf = _ini(ws, EXPECTED["out"])
    return conf is not None and str(conf.get("logging", {}).get("level", "")).strip().casefold() == EXPECTED["level"]


def check_cache_added(ws):
    conf = _ini(ws, EXPECTED["out"])
    cache = (conf or {}).get("cache", {})
    return str(cache.get("enabled", "")).strip().casefold() in ("true", "yes", "on", "1") and \\
        _close(cache.get("ttl"), EXPECTED["ttl"], 0)


def check_others_kept(ws):
    conf = _ini(ws, EXPECTED["out"])
    if conf is None or not (check_port_updated(ws) or check_level_updated(ws) or check_cache_added(ws)):
        return False  # an untouched copy keeps everything and did nothing
    return all(str(conf.get(s, {}).get(k, "")).strip() == v for s, kv in EXPECTED["kept"].items() for k, v in kv.items())


CHECKS = [("port_updated", check_port_updated), ("level_updated", check_level_updated),
          ("cache_added", check_cache_added), ("others_kept", check_others_kept)]
'''
    kept = {s: {k: v for k, v in kv.items() if (s, k) not in (("server", "port"), ("logging", "level"))}
            for s, kv in conf.items()}
    return _Spec(q, f"The {app} service is being moved to a new host and needs adjusted settings.",
                 [f"copies {inp} to {out}", "changes port and log level", "adds the cache section"],
                 {inp: text}, out, {"out": out, "inputs": [inp], "port": new_port, "level": new_level, "ttl": ttl,
                                    "kept": kept}, checks, actions, "config_update", 2,
                 "whether the new configuration file stays clean and commented sensibly")


_MESSAGES = ["disk quota exceeded", "connection reset by peer", "token expired", "payload too large",
             "timeout waiting for lock", "schema mismatch", "upstream unavailable", "checksum failed"]


def _error_events(rng: random.Random, tag: str) -> _Spec:
    svc = rng.choice(["auth", "search", "upload", "checkout", "export", "billing", "sync", "notify"])
    ids = rng.sample(range(100, 999), rng.randint(8, 12))
    levels = ["error", "error", "error"] + [rng.choice(["info", "warn", "error"]) for _ in ids[3:]]
    rng.shuffle(levels)
    events = [{"id": i, "level": lv, "service": svc, "message": rng.choice(_MESSAGES)} for i, lv in zip(ids, levels)]
    inp, out = f"input/{svc}_events_{tag}.jsonl", f"output/{svc}_errors_{tag}.json"
    errors = sorted(({"id": e["id"], "message": e["message"]} for e in events if e["level"] == "error"),
                    key=lambda e: e["id"])
    q = rng.choice([
        (f"Go through the event log `{inp}` (one JSON object per line) and list every event whose `level` is `error`. "
        f"Save them to `{out}` as a JSON array of objects with the keys `id` and `message`, sorted by `id` ascending."),
        (f"I need the errors from `{inp}`: write `{out}`, a JSON array with one object per `error`-level event "
        f"(keys `id` and `message`), ordered by increasing `id`."),
        (f"Which events in the JSON-lines file `{inp}` failed? Collect those with level `error` into `{out}` - a JSON "
        f"list of {{\"id\", \"message\"}} objects in ascending id order."),
        (f"For the incident review, extract every `error` entry of `{inp}` and save just their `id` and `message` "
        f"fields as a JSON array in `{out}`, lowest id first.")])
    checks = '''
def _items(ws):
    data = _json(ws, EXPECTED["out"])
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        return None
    return data


def _ids(items):
    return [int(_num(x.get("id"))) for x in items]


def check_error_ids(ws):
    items = _items(ws)
    return items is not None and sorted(_ids(items)) == sorted(e["id"] for e in EXPECTED["errors"])


def check_messages_match(ws):
    items = _items(ws)
    if not items:
        return False
    got = {int(_num(x.get("id"))): str(x.get("message", "")).strip() for x in items}
    return all(got.get(e["id"]) == e["message"] for e in EXPECTED["errors"])


def check_sorted_by_id(ws):
    items = _items(ws)
    return bool(items) and _ids(items) == [e["id"] for e in EXPECTED["errors"]]


CHECKS = [("error_ids", check_error_ids), ("messages_match", check_messages_match), ("sorted_by_id", check_sorted_by_id)]
'''
    return _Spec(q, f"The {svc} service had a rough night and the on-call engineer wants the failures listed.",
                 [f"reads {inp} line by line", "keeps error events", f"writes {out} sorted by id"],
                 {inp: "".join(json.dumps(e) + "\n" for e in events)}, out,
                 {"out": out, "inputs": [inp], "errors": errors}, checks,
                 [_read(inp), _write(out, json.dumps(errors, indent=2) + "\n")], "log_analysis", 3,
                 "whether the error list is easy to scan")


def _unique_lines(rng: random.Random, tag: str) -> _Spec:
    kind = rng.choice(["emails", "usernames", "hostnames"])
    people = rng.sample(_PEOPLE, rng.randint(5, 8))
    base = {"emails": [f"{p.lower()}.{rng.choice(['k', 'm', 'r'])}@example.org" for p in people],
            "usernames": [f"{p.lower()}_{rng.choice(['ops', 'dev', 'qa'])}" for p in people],
            "hostnames": [f"{p.lower()}-{rng.choice(['db', 'web', 'cache'])}.lan" for p in people]}[kind]
    lines = list(base) + [v.upper() if i % 2 else v.capitalize() for i, v in enumerate(rng.sample(base, 3))]
    rng.shuffle(lines)
    inp, out = f"input/{kind}_{tag}.txt", f"output/{kind}_clean_{tag}.txt"
    clean = sorted({v.lower() for v in lines})
    q = rng.choice([
        (f"The list `{inp}` has duplicates that differ only in letter case. Write `{out}` with every entry in lower "
        f"case, each exactly once, sorted alphabetically, one per line."),
        (f"Clean up `{inp}`: lower-case every line, drop the duplicates and sort what is left alphabetically. "
        f"Save the result as `{out}`, one entry per line."),
        (f"Deduplicate the {kind} in `{inp}` without caring about upper or lower case: `{out}` gets each distinct "
        f"entry once, written in lower case, in alphabetical order, a line each."),
        (f"`{inp}` repeats some {kind} with different capitalisation. Produce `{out}`: lower-cased, unique, "
        f"alphabetically sorted, one per line, nothing else in the file.")])
    checks = '''
def _lines(ws):
    text = _text(ws, EXPECTED["out"])
    return None if text is None else [ln.strip() for ln in text.splitlines() if ln.strip()]


def check_entries_complete(ws):
    lines = _lines(ws)
    return lines is not None and set(lines) == set(EXPECTED["clean"])


def check_sorted_unique(ws):
    return _lines(ws) == EXPECTED["clean"]


CHECKS = [("entries_complete", check_entries_complete), ("sorted_unique", check_sorted_unique)]
'''
    return _Spec(q, f"A contact export lists the same {kind} several times.",
                 [f"reads {inp}", "lower-cases and de-duplicates", f"writes {out} sorted"],
                 {inp: "\n".join(lines) + "\n"}, out, {"out": out, "inputs": [inp], "clean": clean}, checks,
                 [_read(inp), _write(out, "\n".join(clean) + "\n")], "data_cleaning", 1,
                 "whether the cleaned list is plain text with no extra commentary")


_TEAMS = ["finance", "operations", "support", "platform", "research", "sales", "facilities", "legal", "data",
          "marketing", "security", "people"]
_WHY = ["Our quarterly review is on Friday.", "The board asked for this before the next meeting.",
        "A customer escalation depends on it.", "I am covering for a colleague who is on leave.",
        "We are migrating to a new system next week.", "The auditors want it by the end of the day.",
        "My manager needs it for a planning session.", "This is part of our monthly clean-up.",
        "We promised the partner team an answer tomorrow.", "It blocks the release checklist."]


_WORKPLACES = ["a veterinary clinic", "a secondary school", "a family bakery", "a small law firm", "a wildlife charity",
               "an indie game studio", "a regional airport", "a dental practice", "a bicycle repair shop",
               "a public library", "a solar panel installer", "a university chemistry lab", "a hotel in the Alps",
               "a football club", "a city transit agency", "a wine importer", "an architecture office",
               "a coworking space", "a hospital pharmacy", "a seed bank", "a theatre company", "a logistics depot"]


def _opener(rng: random.Random) -> str:
    """Who asks, where and why: seeded first sentences, so two tasks of one family do not read alike."""
    return (f"{rng.choice(_PEOPLE)} here, from the {rng.choice(_TEAMS)} team at {rng.choice(_WORKPLACES)}. "
            f"{rng.choice(_WHY)}")


# ------------------------------------------------------------------------------------------ make
def make(seed: int, *, route: str = "persona2task", style: str | None = None, verifier: str = "good",
         reference: str = "good", rubric: bool = False, family: str | None = None) -> Made:
    """One coherent task for ``seed``. ``style``: ``grade`` (style P, the persona route's default) or
    ``reward_first`` (style S, the skill route's). A broken ``verifier`` or ``reference`` picks the
    family where that flaw is natural."""
    if verifier not in VERIFIERS or reference not in REFERENCES:
        raise ValueError(f"verifier in {VERIFIERS}, reference in {REFERENCES}")
    family = _FORCED_FAMILY.get(verifier) or _FORCED_FAMILY.get(reference) or family or FAMILIES[seed % len(FAMILIES)]
    style = style or ("grade" if route == "persona2task" else "reward_first")
    prefix = "p" if route == "persona2task" else "s"
    rng = random.Random(f"synth-factory/{route}/{seed}/{family}")
    tag = f"{prefix}{seed:04d}"
    if family == "group_totals":
        spec = _group_totals(rng, tag, reference == "wrong")
    elif family == "config_edit":
        spec = _config_edit(rng, tag, reference == "tool_error")
    else:
        spec = {"filter_rows": _filter_rows, "word_counts": _word_counts, "error_events": _error_events,
                "unique_lines": _unique_lines}[family](rng, tag)
    if reference == "exec":
        spec.actions = [_as_exec(a) for a in spec.actions]
    checks_src = spec.extra_checks.get(verifier, spec.checks_src)
    check_py = _check_py(family, tag, spec.expected, checks_src, style, verifier)
    category, subcategory = _CATEGORY[family][seed // len(FAMILIES) % len(_CATEGORY[family])]
    rules = [{"name": "presentation", "file_path": spec.out,
              "scores": {"0": "The file is missing or unreadable.", "0.25": f"Barely acceptable: {spec.rubric_focus}.",
                         "0.5": "Acceptable with clear problems.", "0.75": "Good with minor issues.",
                         "1": f"Excellent: {spec.rubric_focus}, nothing to fix."}},
             {"name": "fit_for_the_reader", "file_path": spec.out,
              "scores": {"0": "Missing, or unusable by the person who asked.",
                         "0.25": "The reader would have to redo most of it.",
                         "0.5": "Usable after some rework.", "0.75": "Usable as is with small edits.",
                         "1": "Ready to hand on without edits."}}]
    task = {"question": f"{_opener(rng)} {spec.question}", "task_type": spec.task_type, "scenario": spec.scenario,
            "expected_behavior": spec.behavior, "required_operations": _OPERATIONS[family],
            "has_input_files": True,
            "input_files": [{"file_path": p, "file_format": p.rsplit(".", 1)[-1], "content": c}
                            for p, c in spec.inputs.items()],
            "difficulty": {"score": spec.difficulty, "reason": "a few reads and one computed output"}}
    metadata: dict[str, Any] = {"family": family, "factory_seed": seed, "verifier_variant": verifier,
                                "reference_variant": reference}
    if route == "persona2task":
        metadata.update(persona=f"{rng.choice(_PEOPLE)}, an office coordinator", operations=_OPERATIONS[family])
    else:
        metadata.update(primary_skill_id=f"skill-{family}", supporting_skill_ids=[], reward_type="output_files")
    candidate = {"id": f"{prefix}{seed:06d}", "route": route, "category": category, "subcategory": subcategory,
                 "task": task, "check_py": check_py, "check_style": style, "rules": rules if rubric else None,
                 "metadata": metadata}
    return Made(seed, family, candidate, spec.actions, f"Done: wrote {spec.out}.", spec.out, rules)


def batch(n: int, *, start: int = 0, route: str = "persona2task", **kw: Any) -> list[Made]:
    """``n`` good tasks from consecutive seeds (every family in turn)."""
    return [make(start + i, route=route, **kw) for i in range(n)]


def family_counts(made: list[Made]) -> Counter[str]:
    return Counter(m.family for m in made)


__all__ = ["FAMILIES", "REFERENCES", "VERIFIERS", "Made", "batch", "by_question", "family_counts", "make"]
