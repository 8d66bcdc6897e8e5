"""The communication and planning operations: draft_message, rewrite_message, action_items,
schedule_plan, organize_knowledge — each proven by the quality gate through the real env."""

from __future__ import annotations

import json

import pytest
from _checks import score_with_check_py

from clawgym_env.synth.compose import synthesize
from clawgym_env.synth.gate import gate_task

# (chain, task indices): the indices give difficulties 1..5 between them (difficulty comes from the index)
CHAINS = [
    (["rewrite_message", "draft_message"], [3, 15, 1]),
    (["action_items", "draft_message"], [0, 4, 1]),
    (["schedule_plan", "filter_rank"], [3, 15, 4]),
    (["organize_knowledge", "aggregate_stats"], [0, 15, 1]),
    (["read_extract", "draft_message"], [4, 11]),
    (["read_extract", "status_report", "draft_message"], [3]),  # forwards a text without described facts
]


@pytest.mark.parametrize("chain, index", [(c, i) for c, idx in CHAINS for i in idx],
                         ids=lambda v: "+".join(v) if isinstance(v, list) else str(v))
def test_gate_passes(chain: list[str], index: int) -> None:
    s = synthesize(index, force_ops=chain)
    report = gate_task(s.task, [o for st in s.steps for o in st.outputs])
    assert report.passed, report.to_dict()


@pytest.mark.parametrize("chain", [c for c, _ in CHAINS] + [["edit_document", "draft_message"],
                                                            ["action_items", "aggregate_stats"],
                                                            ["schedule_plan", "draft_message"]])
def test_builds_everywhere_and_deterministically(chain: list[str]) -> None:
    """Many indices (all difficulties) build without error, the same way twice, with paths in place."""
    for i in range(60):
        a, b = synthesize(i, force_ops=chain), synthesize(i, force_ops=chain)
        assert a.task.user_query == b.task.user_query and a.task.input_files == b.task.input_files
        assert a.task.oracle == b.task.oracle
        for st in a.steps:
            assert all(p.startswith("input/") for p in st.input_files)
            assert all(o.path.startswith(f"output/step{a.steps.index(st) + 1}_") for o in st.outputs)
            assert all(c["arguments"]["content"].strip() for c in st.oracle)


def test_rewrite_drops_banned_phrases_the_draft_uses() -> None:
    for i in range(40):
        step = synthesize(i, force_ops=["rewrite_message", "draft_message"]).steps[0]
        banned = [w for c in step.checks if c["kind"] == "absent_words" for w in c["words"]]
        draft = next(iter(step.input_files.values())).decode().lower()
        rewrite = step.oracle[0]["arguments"]["content"].lower()
        assert banned and all(w.lower() in draft and w.lower() not in rewrite for w in banned)


def test_schedule_respects_dependencies() -> None:
    for i in range(40):
        s = synthesize(i, force_ops=["schedule_plan", "filter_rank"])
        src = next(p for p in s.task.input_files if p.startswith("input/tasks."))
        step = s.steps[0]
        if not src.endswith(".json"):
            continue
        tasks = {t["id"]: t for t in json.loads(s.task.input_files[src])["tasks"]}
        rows = {r["task_id"]: r for r in step.artifact.rows}  # type: ignore[union-attr]
        for tid, t in tasks.items():
            r = rows[tid]
            assert r["finish_day"] == r["start_day"] + t["duration_days"]
            assert all(rows[d]["finish_day"] <= r["start_day"] for d in t["depends_on"])


@pytest.mark.parametrize("email, expected", [
    ("Hi,\n---\n# Report\n\n- Total:   5\n", True),  # whitespace may differ, text may not
    ("Hi,\n---\n# Report\n- Total: 6\n", False),
    ("Hi, nothing forwarded\n", False),
])
def test_includes_file_check(tmp_path, email: str, expected: bool) -> None:
    from clawgym_env.synth import check_engine

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.md").write_text("# Report\n\n- Total: 5\n")
    (tmp_path / "out" / "email.txt").write_text(email)
    spec = {"checks": [{"name": "c", "kind": "includes_file", "path": "out/email.txt", "source": "out/report.md"}]}
    assert check_engine.run(spec, str(tmp_path)) == {"c": expected}


# ---------------------------------------------------------------- builtin-v2
V2 = "builtin-v2"


_score = score_with_check_py


@pytest.mark.parametrize("chain, index", [(["rewrite_message", "draft_message"], 2),
                                          (["read_extract", "status_report", "draft_message"], 3),
                                          (["schedule_plan", "filter_rank"], 15),
                                          (["organize_knowledge", "aggregate_stats"], 4),
                                          (["action_items", "draft_message"], 4)])
def test_v2_gate_passes(chain: list[str], index: int) -> None:
    s = synthesize(index, version=V2, force_ops=chain)
    report = gate_task(s.task, [o for st in s.steps for o in st.outputs])
    assert report.passed, report.to_dict()


def test_v2_wording_varies_and_states_what_is_checked() -> None:
    """Two tasks rarely share a sentence, yet every instruction names the paths and labels its checks read."""
    from clawgym_env.synth.diversity import sentences

    seen: dict[str, set[str]] = {}
    for i in range(40):
        s = synthesize(i, version=V2, force_ops=["read_extract", "status_report", "draft_message"])
        report, email = s.steps[1], s.steps[2]
        for st in (report, email):
            seen.setdefault(st.op, set()).update(sentences(st.instruction))
            assert all(f"`{o.path}`" in st.instruction for o in st.outputs)
        assert "`Records reviewed:`" in report.instruction and "`Leading items`" in report.instruction
        assert "`Reply by: <YYYY-MM-DD>`" in email.instruction and "Forwarded document" in email.instruction
    assert all(len(v) > 120 for v in seen.values()), {k: len(v) for k, v in seen.items()}


def test_v2_rewrite_copy_of_the_draft_earns_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        s = synthesize(i, version=V2, force_ops=["rewrite_message"])
        step = s.steps[0]
        draft = next(iter(step.input_files.values())).decode()
        out = step.outputs[0].path
        copied = _score(s.task, {out: draft}, tmp_path / f"copy{i}")
        assert not any(copied.values()), copied
        oracle = _score(s.task, {out: step.oracle[0]["arguments"]["content"]}, tmp_path / f"oracle{i}")
        assert all(oracle.values()), oracle


def test_v2_rewrite_facts_are_in_no_other_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A fact the rewrite must keep is found only in the draft: a copy of the notes an archive step
    bundles (same workplace, same vocabulary) earns none of the step's checks. (task-11830's notes
    said "storefront", the system its downtime announcement named.)"""
    from clawgym_env.synth.personas import persona
    from clawgym_env.synth.vocab import vocab_for

    tried = 0
    for i in range(3000):
        s = synthesize(i, version=V2, force_ops=["rewrite_message", "archive_files"])
        step = s.steps[0]
        draft_path, draft = next(iter(step.input_files.items()))
        family = vocab_for(persona(s.task.metadata["persona_index"]).domain)
        # downtime announcements at workplaces whose memo lines name one of their systems
        if b"planned maintenance" not in draft or family.family not in ("retail", "education", "media"):
            continue
        tried += 1
        others = {p: d.decode() for p, d in s.task.input_files.items() if p != draft_path}
        out = step.outputs[0].path
        for n, (path, text) in enumerate(others.items()):
            copied = _score(s.task, {out: text}, tmp_path / f"t{i}_{n}")
            assert not any(copied[c["name"]] for c in step.checks), (s.task.task_id, path, copied)
        if tried == 6:
            return
    raise AssertionError(f"only {tried} downtime announcements at such workplaces")


def test_v2_described_facts_need_their_labels(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A value alone (as an echo of the instruction or a copied input holds it) is not a stated fact."""
    s = synthesize(2, version=V2, force_ops=["rewrite_message", "draft_message"])
    email = s.steps[1]
    content = email.oracle[0]["arguments"]["content"]
    values = [v for _, v in s.steps[0].artifact.facts["described"]]  # type: ignore[union-attr]
    bare = "\n".join(ln.split(": ", 1)[1] if ln.startswith("- ") else ln for ln in content.splitlines())
    assert all(v in bare for v in values)
    fact_checks = [c["name"] for c in email.checks if "_email_fact_" in c["name"]]
    good = _score(s.task, {email.outputs[0].path: content}, tmp_path / "good")
    stripped = _score(s.task, {email.outputs[0].path: bare}, tmp_path / "bare")
    assert all(good[n] for n in fact_checks) and not any(stripped[n] for n in fact_checks)


def test_v2_forwarded_report_may_be_restyled(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The forwarded copy is compared as read: bold labels, heading case and thousands separators aside;
    a copy with a wrong number still fails, and the copy alone (no reply-by date) earns nothing."""
    s = synthesize(3, version=V2, force_ops=["read_extract", "status_report", "draft_message"])
    report, email = s.steps[1], s.steps[2]
    rep_text = report.oracle[0]["arguments"]["content"]
    mail = email.oracle[0]["arguments"]["content"]
    styled = rep_text.replace("- Records reviewed:", "- **Records reviewed:**").replace("# ", "# **", 1)
    got = _score(s.task, {report.artifact.path: styled, email.outputs[0].path: mail}, tmp_path / "styled")  # type: ignore[union-attr]
    name = next(c["name"] for c in email.checks if c["kind"] == "includes_file")
    assert got[name]
    n = report.artifact.content.split("Records reviewed: ")[1].split()[0]  # type: ignore[union-attr]
    wrong = mail.replace(f"Records reviewed: {n}", f"Records reviewed: {int(n) + 1}")
    assert not _score(s.task, {report.artifact.path: rep_text, email.outputs[0].path: wrong}, tmp_path / "wrong")[name]  # type: ignore[union-attr]
    no_date = "\n".join(ln for ln in mail.splitlines() if not ln.startswith("Reply by:"))
    alone = _score(s.task, {report.artifact.path: rep_text, email.outputs[0].path: no_date}, tmp_path / "alone")  # type: ignore[union-attr]
    assert not any(v for k, v in alone.items() if k.startswith(f"step{s.steps.index(email) + 1}_"))


# ---------------------------------------------------------------- builtin-v2 schedule_plan under constraints (d >= 4)
HARD_PLAN = [2, 6, 8, 9, 10, 12, 16, 22, 25, 26]  # indices whose difficulty is 4 or 5
_DATE_FORMATS = ("%Y-%m-%d", "%a %d %b %Y", "%d %B %Y", "%B %d, %Y", "%Y/%m/%d", "%d-%b-%Y", "%A %d %B %Y")


def _day(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    for f in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), f).date()
        except ValueError:
            pass
    raise AssertionError(f"unreadable date {text!r}")


def _calendar(files: dict[str, str]) -> tuple[set, dict]:  # type: ignore[type-arg]
    """Office closures and each person's days off, read from the team calendar (CSV or Markdown)."""
    import csv
    import io
    import re
    from datetime import timedelta

    cal = next(p for p in files if "team_calendar" in p)
    if cal.endswith(".csv"):
        entries = [(r["person"], r["dates"]) for r in csv.DictReader(io.StringIO(files[cal]))]
    else:
        entries = [tuple(c.strip() for c in ln.strip("|").split("|")[:2]) for ln in files[cal].splitlines()
                   if ln.startswith("| ") and not ln.startswith("| Who")]
    closed, off = set(), {}  # type: ignore[var-annotated]
    for who, dates in entries:
        ends = [_day(x) for x in re.split(r"\s+(?:to|until|through)\s+", dates)]
        days = {ends[0] + timedelta(days=i) for i in range((ends[-1] - ends[0]).days + 1)}
        if who in ("Everyone", "All staff", "ALL"):
            closed |= days
        else:
            off.setdefault(who, set()).update(days)
    return closed, off


def _milestones(note: str):  # type: ignore[no-untyped-def]
    """(old, new) milestone dates of the sponsor's note."""
    import re

    moved = re.search(r"from (\w+ \d+ \w+ \d{4}) to (\w+ \d+ \w+ \d{4})", note)
    assert moved
    return _day(moved[1]), _day(moved[2])


def _solve(files: dict[str, str], instruction: str, *, leave: bool = True, skills: bool = True,
           old_milestone: bool = False) -> tuple[list[dict[str, object]], dict[str, object]]:
    """An independent solution from the files and the stated rules alone (flags: the cheap mistakes)."""
    import csv
    import io
    import re
    from datetime import timedelta

    import yaml

    src = next(p for p in files if p.startswith("input/tasks."))
    doc = json.loads(files[src]) if src.endswith(".json") else yaml.safe_load(files[src])
    start = _day(str(doc["project_start"]))
    tasks = {t["id"]: {**t, "depends_on": [str(x) for x in t["depends_on"] or []]} for t in doc["tasks"]}
    closed, off = _calendar(files)
    if not leave:
        off = {}
    ros = next(p for p in files if "roster" in p)
    if ros.endswith(".csv"):
        roster = {r["name"]: {s.strip().lower() for s in r["skills"].split(";")}
                  for r in csv.DictReader(io.StringIO(files[ros]))}
    else:
        roster = {m[1]: {s.strip().lower() for s in m[2].split(",")}
                  for m in re.finditer(r"^- \*\*(.+?)\*\* \(.+?\): (.+)$", files[ros], re.MULTILINE)}
    note = files["input/request.md"]
    milestone = _milestones(note)[0 if old_milestone else 1]
    options = re.findall(r"^- (T\d\d) \(.+?\) (?:to|->|over to) (.+)$", note, re.MULTILINE)

    def place(owner: dict[str, str]) -> dict[str, tuple]:  # type: ignore[type-arg]
        placed: dict[str, tuple] = {}  # type: ignore[type-arg]
        last: dict[str, object] = {}
        while len(placed) < len(tasks):
            tid = min(t for t in tasks if t not in placed and all(x in placed for x in tasks[t]["depends_on"]))
            cur = max([placed[x][1] + timedelta(days=1) for x in tasks[tid]["depends_on"]] + [start]
                      + ([last[owner[tid]] + timedelta(days=1)] if owner[tid] in last else []))  # type: ignore[operator]
            days = []
            while len(days) < tasks[tid]["duration_days"]:
                if cur.weekday() < 5 and cur not in closed and cur not in off.get(owner[tid], ()):
                    days.append(cur)
                cur += timedelta(days=1)
            placed[tid] = (days[0], days[-1])
            last[owner[tid]] = days[-1]
        return placed

    owners = {t: tasks[t]["owner"] for t in tasks}
    plan = place(owners)
    rows = [{"task_id": t, "name": tasks[t]["name"], "owner": owners[t], "duration_days": tasks[t]["duration_days"],
             "start_date": plan[t][0].isoformat(), "end_date": plan[t][1].isoformat()}
            for t in sorted(plan, key=lambda t: (plan[t][0], t))]
    fin = {o: max(e for _, e in place({**owners, o[0]: o[1]}).values()) for o in options
           if not skills or tasks[o[0]]["skill"].lower() in roster[o[1]]}
    rank = (lambda o: options.index(o)) if "new owner's name" not in instruction else (lambda o: o)
    best = min(fin, key=lambda o: (fin[o], rank(o)))
    return rows, {"late_tasks": sorted(t for t in plan if plan[t][1] > milestone),
                  "finish_date": max(e for _, e in plan.values()).isoformat(),
                  "best_swap": {"task": best[0], "from": owners[best[0]], "to": best[1]},
                  "finish_date_after_swap": fin[best].isoformat()}


def _hard_plan(index: int):  # type: ignore[no-untyped-def]
    s = synthesize(index, version=V2, force_ops=["schedule_plan", "filter_rank"])
    assert s.task.metadata["difficulty"] >= 4
    return s, s.steps[0], {p: d.decode() for p, d in s.steps[0].input_files.items()}


def test_v2_hard_plan_is_solved_from_the_files_and_the_stated_rules() -> None:
    """An independent reading of the four inputs reaches the oracle's schedule and decision, and every
    trap is live: days off move the plan, a closure falls on a weekend, some tasks end on or before the
    milestone and some after, and an option the roster forbids would finish earlier than the answer."""
    for i in HARD_PLAN:
        _, step, files = _hard_plan(i)
        rows, decision = _solve(files, step.instruction)
        written = json.loads(step.oracle[1]["arguments"]["content"])
        assert [{k: str(v) for k, v in r.items()} for r in rows] == [{k: str(v) for k, v in r.items()}
                                                                     for r in step.artifact.rows]  # type: ignore[union-attr]
        assert written == decision, (i, written, decision)
        assert 0 < len(decision["late_tasks"]) < len(rows)  # type: ignore[arg-type]
        old, milestone = _milestones(files["input/request.md"])
        assert old < milestone and any(r["end_date"] == milestone.isoformat() for r in rows)  # on the day: on time
        assert _solve(files, step.instruction, leave=False)[0] != rows
        assert (_solve(files, step.instruction, skills=False)[1]["finish_date_after_swap"]  # type: ignore[operator]
                < decision["finish_date_after_swap"] < decision["finish_date"])
        closed, off = _calendar(files)
        assert any(d.weekday() >= 5 for d in closed) and any(d.weekday() < 5 for d in closed)
        assert set(off) - {r["owner"] for r in rows}  # days off of people outside the plan
        assert f"`{step.outputs[1].path}`" in step.instruction and f"`{step.outputs[0].path}`" in step.instruction


def test_v2_easier_plans_keep_their_shape() -> None:
    """Below difficulty 4 builtin-v2 keeps the day-numbered schedule, one output, no calendar."""
    for i in range(12):
        s = synthesize(i, version=V2, force_ops=["schedule_plan", "filter_rank"])
        step = s.steps[0]
        hard = s.task.metadata["difficulty"] >= 4
        assert (i in HARD_PLAN) == hard
        assert len(step.outputs) == (2 if hard else 1)
        assert ("start_day" in step.artifact.columns) != hard  # type: ignore[union-attr]
        assert any("team_calendar" in p for p in step.input_files) == hard


@pytest.mark.parametrize("index", HARD_PLAN[:3])
def test_v2_hard_plan_passes_the_gate(index: int) -> None:
    s = synthesize(index, version=V2, force_ops=["schedule_plan", "filter_rank"])
    report = gate_task(s.task, [o for st in s.steps for o in st.outputs])
    assert report.passed, report.to_dict()


def test_v2_hard_plan_cheap_answers_score_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Ignoring days off, taking the forbidden swap, the old milestone, a copied input or the echoed
    instruction each lose the checks they touch; the oracle's answer keeps them all."""
    from clawgym_env.synth.artifacts import Table, serialize

    seen_old = False
    for i in HARD_PLAN[:6]:
        s, step, files = _hard_plan(i)
        table, path = step.outputs[0].path, step.outputs[1].path
        fmt = table.rsplit(".", 1)[1]
        mine = [c["name"] for c in step.checks]

        def answer(rows, decision, tag, task=s.task, table=table, path=path, fmt=fmt, mine=mine, i=i):  # type: ignore[no-untyped-def]
            out = Table(list(rows[0]), rows, table, fmt)
            got = _score(task, {table: serialize(out), path: json.dumps(decision)}, tmp_path / f"{i}-{tag}")
            return {n: got[n] for n in mine}

        assert all(answer(*_solve(files, step.instruction), "right").values())
        no_leave = answer(*_solve(files, step.instruction, leave=False), "leave")
        assert not no_leave["step1_schedule"] and not no_leave["step1_schedule_dates"]
        trap = answer(*_solve(files, step.instruction, skills=False), "skills")
        assert not trap["step1_best_swap"] and not trap["step1_finish_after_swap"] and trap["step1_schedule"]
        old_rows, old = _solve(files, step.instruction, old_milestone=True)
        if old["late_tasks"] != _solve(files, step.instruction)[1]["late_tasks"]:
            seen_old = True
            assert not answer(old_rows, old, "old")["step1_late_tasks"]
        src = next(p for p in files if p.startswith("input/tasks."))
        for tag, text in (("copy", files[src]), ("echo", s.task.user_query)):
            got = _score(s.task, {table: text, path: text}, tmp_path / f"{i}-{tag}")
            assert not any(got[n] for n in mine), (tag, got)
    assert seen_old


# --- builtin-v2: the live notes folder beside a dated backup (issue 13, part 4) --------------------------


def _vault_answer(files: dict[str, bytes], folder: str, table_path: str, order: list[str]) -> dict[str, str]:
    """The index and tag index worked out from the notes in ``folder`` alone, as an agent that chose that
    folder would write them (rows in the order of ``order``'s titles, unknown titles last)."""
    import re

    from clawgym_env.synth.artifacts import Table, serialize

    notes = {}
    for path, data in files.items():
        if path.startswith(folder + "/"):
            text = data.decode()
            head = text.split("---")[1]
            meta = dict(re.findall(r"^(title|area|created): (.+)$", head, re.MULTILINE))
            inline = re.search(r"^tags: \[(.*)\]$", head, re.MULTILINE)
            tags = inline.group(1).split(", ") if inline else re.findall(r"^  - (.+)$", head, re.MULTILINE)
            links = {m.strip() for m in re.findall(r"\[\[([^\]|]+)(?:\|[^\]]*)?\]\]", text)}
            notes[meta["title"]] = (meta, tags, links)
    titles = set(notes)
    rows = [{"title": t, "area": m["area"], "created": m["created"], "links_out": len((ln & titles) - {t}),
             "backlinks": sum(1 for u, (_, _, lu) in notes.items() if u != t and t in lu)}
            for t, (m, _, ln) in notes.items()]
    rank = {t: i for i, t in enumerate(order)}
    rows.sort(key=lambda r: rank.get(r["title"], len(rank)))
    fmt = table_path.rsplit(".", 1)[1]
    tags_index = {tag: sorted(t for t, (_, tg, _) in notes.items() if tag in tg)
                  for tag in sorted({x for _, tg, _ in notes.values() for x in tg})}
    broken = sorted({x for _, _, ln in notes.values() for x in ln} - titles)
    index_path = table_path.replace("_notes_index." + fmt, "_tag_index.json")
    return {table_path: serialize(Table(list(rows[0]), rows, table_path, fmt)),  # type: ignore[arg-type]
            index_path: json.dumps({"tags": tags_index, "broken_links": broken})}


@pytest.mark.parametrize("start", [0, 5, 30])
def test_v2_knowledge_backup_folder_earns_nothing(start: int, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """builtin-v2 at difficulty >= 3: the instruction does not name the notes folder, a dated backup of
    it sits beside it, and the index worked out from the backup earns none of the step's checks while
    the same work on the live folder earns them all; the oracle passes the gate."""
    for i in range(start, start + 200):
        s = synthesize(i, version=V2, force_ops=["organize_knowledge"])
        if s.task.metadata["difficulty"] >= 3:
            break
    step = s.steps[0]
    backups = {p.split("/")[1] for p in step.input_files if p.startswith("input/notes_backup_")}
    assert len(backups) == 1 and "input/notes/" not in step.instruction and "`input/`" in step.instruction
    table = step.artifact
    order = [str(r["title"]) for r in table.rows]  # type: ignore[union-attr]
    mine = [c["name"] for c in step.checks]
    good = _score(s.task, _vault_answer(step.input_files, "input/notes", table.path, order), tmp_path / "good")
    bad = _score(s.task, _vault_answer(step.input_files, f"input/{backups.pop()}", table.path, order),
                 tmp_path / "bad")
    assert all(good[n] for n in mine), good
    assert not any(bad[n] for n in mine), bad
    assert gate_task(s.task).passed
