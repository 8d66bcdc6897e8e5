"""The system and data operations (inspect_directory, organize_files, archive_files, update_config,
extract_records, join_enrich, clean_dedupe) pass the quality gate through the real env and sandbox:
the oracle scores 1, doing nothing scores 0, every check discriminates, and mutations cost points."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from _checks import gated_hard_tasks

from clawgym_env.synth import check_engine
from clawgym_env.synth.compose import synthesize
from clawgym_env.synth.gate import gate_task

# op -> (chain, index of the step under test, seeds); transforms follow a cheap starter. The seeds
# are picked so each op meets easy and hard difficulties and several of its input variants
# (e-mail/log/HTML sources; client/extension/date rules; INI/.env/YAML configs; tar.gz and zip).
CHAINS: dict[str, tuple[list[str], int, tuple[int, ...]]] = {
    "inspect_directory": (["inspect_directory"], 0, (1, 3, 4)),
    "organize_files": (["organize_files"], 0, (1, 2, 4)),
    "update_config": (["update_config"], 0, (1, 3, 5)),
    "extract_records": (["extract_records"], 0, (1, 2, 4)),
    "clean_dedupe": (["clean_dedupe"], 0, (1, 3, 4)),
    "join_enrich": (["read_extract", "join_enrich"], 1, (1, 3, 5)),
    "archive_files": (["read_extract", "archive_files"], 1, (1, 3, 5)),
}


def _gate(op: str, seed: int) -> dict:  # type: ignore[type-arg]
    chain, at, _ = CHAINS[op]
    s = synthesize(seed, force_ops=chain)
    assert [st.op for st in s.steps] == chain
    return gate_task(s.task, s.steps[at].outputs).to_dict()  # mutate only this op's outputs (keeps it fast)


@pytest.mark.parametrize("op", sorted(CHAINS))
def test_gate_passes(op: str) -> None:
    # The gate mostly waits on sandbox and verifier processes (each sandbox has its own uid), so the
    # seeds run side by side.
    seeds = CHAINS[op][2]
    with ThreadPoolExecutor(max_workers=len(seeds)) as pool:
        reports = list(pool.map(lambda seed: _gate(op, seed), seeds))
    failed = [r for r in reports if not r["passed"]]
    assert not failed, failed


@pytest.mark.parametrize("op", sorted(CHAINS))
def test_deterministic_and_well_formed(op: str) -> None:
    chain, at, _ = CHAINS[op]
    for seed in range(12):
        a, b = synthesize(seed, force_ops=chain), synthesize(seed, force_ops=chain)
        assert a.task.user_query == b.task.user_query and a.task.input_files == b.task.input_files
        assert a.task.oracle == b.task.oracle
        step = a.steps[at]
        assert step.checks and step.outputs
        for out in step.outputs:
            assert out.path.startswith(("output/", "sorted/", "archive/", "clients/"))
        for call in step.oracle:
            content = call["arguments"].get("content")
            assert content is None or content.strip()  # OpenClaw refuses empty writes
        for path in step.input_files:
            assert not path.startswith("output/")
        if op != "archive_files":
            assert step.artifact is not None and step.artifact.kind == "table" and step.artifact.numeric


def test_archive_checks_follow_the_agents_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Archive checks compare against the workspace's own files, so an agent's differently formatted
    upstream output still scores when it is archived and hashed correctly."""
    import hashlib
    import tarfile

    ws = tmp_path
    (ws / "output").mkdir()
    (ws / "output" / "a.csv").write_text("x,y\n1,2\n")
    with tarfile.open(ws / "output" / "b.tar.gz", "w:gz") as t:
        t.add(ws / "output" / "a.csv", arcname="./a.csv")
    digest = hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    (ws / "output" / "m.csv").write_text(f"member,size_bytes,sha256\na.csv,8,{digest}\n")
    spec = {"checks": [
        {"name": "c", "kind": "archive_contents", "path": "output/b.tar.gz", "members": {"a.csv": "output/a.csv"}},
        {"name": "m", "kind": "archive_manifest", "path": "output/m.csv", "fmt": "csv", "archive": "output/b.tar.gz",
         "members": ["a.csv"], "name_col": "member", "size_col": "size_bytes", "sha_col": "sha256"},
    ]}
    assert check_engine.run(spec, str(ws)) == {"c": True, "m": True}
    (ws / "output" / "a.csv").write_text("x,y\n1,3\n")
    (ws / "output" / "m.csv").write_text(f"member,size_bytes,sha256\na.csv,9,{digest}\n")
    assert check_engine.run(spec, str(ws)) == {"c": False, "m": False}


def test_v2_join_enrich_labels_need_their_numbers() -> None:
    """builtin-v2: right owners and yes/no labels beside spoiled numbers earn nothing."""
    from clawgym_env.synth.adversarial import adversarial_check

    s = synthesize(3, version="builtin-v2", force_ops=["read_extract", "join_enrich"])
    rewards = adversarial_check(s.task).rewards
    assert rewards["perturbed_values"] <= 0.15 and rewards["copy_input"] <= 0.1, rewards


# --- builtin-v2: the bundle's attachments are chosen by what the documents say -----------------------


def _v2_archive(seed: int):  # type: ignore[no-untyped-def]
    s = synthesize(seed, version="builtin-v2", force_ops=["read_extract", "archive_files"])
    assert [st.op for st in s.steps] == ["read_extract", "archive_files"]
    return s


def _run_calls(ws, calls) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    for call in calls:
        args = call["arguments"]
        if call["name"] == "write":
            (ws / args["path"]).parent.mkdir(parents=True, exist_ok=True)
            (ws / args["path"]).write_text(args["content"])
        else:
            subprocess.run(args["command"], shell=True, cwd=ws, check=True)


def _dictated(call, n: int):  # type: ignore[no-untyped-def]
    args = call["arguments"]
    if call["name"] != "write":
        return call
    if args["path"].endswith("_README.txt"):  # the three lines given, no count or date worked out
        return dict(call, arguments=dict(args, content="\n".join(args["content"].splitlines()[:3]) + "\n"))
    if args["path"].endswith("_make_bundle.py"):
        content = args["content"].replace("MEMBERS = [", "MEMBERS = [m for m in [", 1).replace(
            "]\n\n", "] if '/attachments/' not in '/' + m[0]]\n\n", 1)
        return dict(call, arguments=dict(args, content=content))
    return call


def test_archive_files_v2_needs_the_documents_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Under builtin-v2 the instruction names no attachment and no count: a solution that does only
    what the instruction spells out (the result, the dictated README lines, a correct manifest of
    that archive) scores nothing on the step, while the oracle, which read the documents, scores all."""
    from clawgym_env.synth.checks import engine_source, gate_form_checks

    ns: dict = {"__name__": "check"}  # type: ignore[type-arg]
    exec(compile(engine_source("builtin-v2"), "check.py", "exec"), ns)  # noqa: S102 - the shipped checker
    for seed in (0, 3, 4):
        s = _v2_archive(seed)
        step = s.steps[1]
        docs = {p for p in step.input_files if p.startswith("input/")}
        members = next(c for c in step.checks if c["kind"] == "archive_contents")["members"]
        attached = {src for src in members.values() if src in docs}
        assert 2 <= len(attached) < len(docs)  # a real choice: some documents in, some out
        assert not any(p.rsplit("/", 1)[-1] in step.instruction for p in docs)  # none is named
        spec = {"checks": gate_form_checks(step.checks)}
        for name, ws in (("oracle", tmp_path / f"o{seed}"), ("dictated", tmp_path / f"d{seed}")):
            for rel, data in s.task.input_files.items():
                (ws / rel).parent.mkdir(parents=True, exist_ok=True)
                (ws / rel).write_bytes(data if isinstance(data, bytes) else data.encode())
            calls = s.steps[0].oracle + step.oracle
            if name == "dictated":  # the same script packing only what the instruction names; README unread
                calls = [_dictated(c, len(attached)) for c in calls]
            _run_calls(ws, calls)
            results = ns["run"](spec, str(ws))
            if name == "oracle":
                assert all(results.values()), results
            else:
                assert not any(results.values()), results


@pytest.mark.parametrize("seed", [0, 4])
def test_archive_files_v2_gate(seed: int) -> None:
    s = _v2_archive(seed)
    report = gate_task(s.task, s.steps[1].outputs).to_dict()
    assert report["passed"], report


@pytest.mark.parametrize("op", ["inspect_directory", "organize_files", "archive_files", "update_config"])
def test_v2_wording_varies_and_states_every_output(op: str) -> None:
    """builtin-v2 words each instruction from a grammar: wordings differ from task to task, yet every
    output the checks read is still named, and no grammar or placeholder syntax leaks into the text."""
    chain, at, _ = CHAINS[op]
    texts = []
    for seed in range(12):
        step = synthesize(seed, version="builtin-v2", force_ops=chain).steps[at]
        text = step.instruction
        texts.append(text)
        named = [o.path for o in step.outputs if not (op == "organize_files" and not o.path.startswith("output/"))]
        assert all(f"`{p}`" in text for p in named), (named, text)
        prose = re.sub(r"`[^`]*`", "X", text)  # code spans may hold brackets (`[cache]`, a JSON shape)
        assert not re.search(r"[\[\]{}]|  | [.,;:](?:\s|$)", prose), text
        assert text[:1].isupper() or text[:1] == "`"
    assert len({t.split(".")[0] for t in texts}) >= 8  # openings vary


# --- builtin-v2 at difficulty >= 4: clean_dedupe reconciles several systems' exports ------------------


def _reconcile_step(seed: int, difficulty: int):  # type: ignore[no-untyped-def]
    import random

    from clawgym_env.synth.ops.base import OpContext, Scenario
    from clawgym_env.synth.ops.data_ops import CleanDedupe
    from clawgym_env.synth.personas import persona

    domain = ("a law office", "a food bank", "a city transit agency", "a coffee roastery")[seed % 4]
    return CleanDedupe().build(OpContext(
        rng=random.Random(f"reconcile/{seed}"), persona=persona(seed), step=1, upstream=None,
        scenario=Scenario("Data Analysis", "table and record handling", domain), difficulty=difficulty,
        version="builtin-v2", phrase_rng=random.Random(f"reconcile-wording/{seed}")))


def _solve_reconciliation(step, month_first: bool = False) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """An independent reconciliation from the exports and the policy memo alone: the table's rows by id,
    the conflicts and cancellations, and what the cheap answers would give (first row per id).
    ``month_first``: read day-first update times month first where that is a valid date (the memo unread)."""
    import csv
    import io
    import json
    from datetime import UTC, datetime

    files = {p: d.decode() for p, d in step.input_files.items()}
    memo = next(t for p, t in files.items() if p.endswith(".md"))
    styles = dict(re.findall(r"^- `(\S+)`: (.+)$", memo, re.MULTILINE))
    key = re.search(r"when their `(\w+)` values match", memo).group(1)
    cat = re.search(r"; `(\w+)` in lower case", memo).group(1)
    date_col = (re.search(r"; `(\w+)` as YYYY-MM-DD", memo) or [None, None])[1]

    def when(text: object, style: str) -> datetime:
        text = str(text)
        if "epoch" in style:
            return datetime.fromtimestamp(int(text), UTC).replace(tzinfo=None)
        if "day first" in style:
            if month_first:
                try:
                    return datetime.strptime(text, "%m/%d/%Y %H:%M")
                except ValueError:
                    pass
            return datetime.strptime(text, "%d/%m/%Y %H:%M")
        if "ISO" in style:
            return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
        return datetime.strptime(text, "%d %b %Y %H:%M UTC")

    def clean(col: str, value: object) -> object:
        text = " ".join(str(value).split())
        if col == key:
            m = re.match(r"([A-Za-z]+)[^A-Za-z0-9]*(\d+)$", text)
            return f"{m.group(1).upper()}-{m.group(2)}"
        if col == cat:
            return text.lower()
        if col == date_col:
            for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d %b %Y"):
                try:
                    return datetime.strptime(text, pattern).date().isoformat()
                except ValueError:
                    pass
        try:
            return float(text.replace("$", "").replace(",", ""))
        except ValueError:
            return text

    versions: dict[str, list[tuple[datetime, dict, str]]] = {}  # type: ignore[type-arg]
    first: dict[str, dict] = {}  # type: ignore[type-arg]
    for path, text in files.items():
        if path.endswith(".md"):
            continue
        rows = json.loads(text) if path.endswith(".json") else list(csv.DictReader(io.StringIO(text)))
        for r in rows:
            values = {c: clean(c, v) for c, v in r.items() if c not in ("updated", "state")}
            versions.setdefault(values[key], []).append((when(r["updated"], styles[path]), values, r["state"].lower()))
            first.setdefault(values[key], values)
    cancelled = sorted(i for i, vs in versions.items() if any(s != "active" for _, _, s in vs))
    table = {i: max(vs, key=lambda v: v[0])[1] for i, vs in versions.items() if i not in cancelled}
    conflicts = sorted(i for i in table if len({json.dumps(v, sort_keys=True) for _, v, _ in versions[i]}) > 1)
    return {"key": key, "table": table, "conflicts": conflicts, "cancelled": cancelled, "first": first}


def test_v2_reconciliation_matches_independent_solution() -> None:
    """builtin-v2 at difficulty >= 4: the oracle's table and report agree with a reconciliation made from the
    exports and the memo alone, and every trap is there (a stale first-listed version, a day-first update time
    that read month first picks the stale version, a cancellation that a later edit elsewhere does not revive,
    a near-twin under another id, rows repeated inside an export)."""
    import json

    for seed in range(30):
        step = _reconcile_step(seed, 4 + seed % 2)
        got = _solve_reconciliation(step)
        report_path = step.outputs[1].path
        writes = {c["arguments"]["path"]: c["arguments"]["content"] for c in step.oracle if c["name"] == "write"}
        report = json.loads(writes[report_path])
        assert report == {"conflicts": got["conflicts"], "cancelled": got["cancelled"]}, (seed, report, got)
        rows = step.artifact.rows
        assert [r[got["key"]] for r in rows] == sorted(got["table"]), seed
        for r in rows:
            mine = got["table"][r[got["key"]]]
            assert all(mine[c] == r[c] or mine[c] == float(r[c]) for c in r), (seed, r, mine)
        assert any(got["first"][i] != got["table"][i] for i in got["conflicts"])  # keeping the first row is wrong
        assert _solve_reconciliation(step, month_first=True)["table"] != got["table"]  # so is reading dates US-style
        assert len(got["cancelled"]) == 1 + seed % 2 and len(got["conflicts"]) >= 2
        names = [r[step.artifact.columns[1]] for r in rows]
        assert len(names) > len(set(names))  # at least the near-twin shares a name with a kept record
        assert sum(len(d.splitlines()) for p, d in step.input_files.items() if p.endswith(".csv")) > len(rows)


def test_v2_reconciliation_cheap_answers_score_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Concatenating the exports, keeping the first row of each id, copying one export, echoing the
    instruction or empty outputs earn nothing on the step's checks; the oracle earns all of them."""
    import csv
    import io
    import json

    from clawgym_env.synth.checks import engine_source, gate_form_checks

    ns: dict = {"__name__": "check"}  # type: ignore[type-arg]
    exec(compile(engine_source("builtin-v2"), "check.py", "exec"), ns)  # noqa: S102 - the shipped checker
    run = ns["run"]
    for seed in range(6):
        step = _reconcile_step(seed, 4 + seed % 2)
        spec = {"checks": gate_form_checks(step.checks)}
        table_path, report_path = (o.path for o in step.outputs)
        got = _solve_reconciliation(step)
        cols = step.artifact.columns
        exports = [d for p, d in step.input_files.items() if p.endswith(".csv")]

        def as_table(rows: list[dict], table_path: str = table_path, cols: list[str] = cols) -> bytes:  # type: ignore[type-arg]
            if table_path.endswith(".json"):
                return json.dumps(rows).encode()
            buf = io.StringIO()
            w = csv.DictWriter(buf, cols, extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
            return buf.getvalue().encode()

        everything = [r for d in exports for r in csv.DictReader(io.StringIO(d.decode()))]
        first = [got["first"][i] for i in sorted(got["first"])]
        ids = sorted(got["first"])
        cheap = {"concatenate": (as_table(everything), json.dumps({"conflicts": [], "cancelled": []})),
                 "first_row": (as_table(first), json.dumps({"conflicts": ids, "cancelled": []})),
                 "copy": (exports[0], exports[0].decode()),
                 "echo": (step.instruction.encode(), step.instruction),
                 "empty": (as_table([]), json.dumps({"conflicts": [], "cancelled": []}))}
        for name, (table, report) in cheap.items():
            ws = tmp_path / f"{name}{seed}"
            _materialize({**step.input_files, table_path: table, report_path: report.encode()}, ws)
            assert not any(run(spec, ws).values()), (name, seed, run(spec, ws))
        ws = tmp_path / f"oracle{seed}"
        _materialize(step.input_files, ws)
        _run_calls(ws, step.oracle)
        assert all(run(spec, ws).values()), run(spec, ws)


def test_v2_reconciliation_passes_the_gate() -> None:
    """The real gate on builtin-v2 tasks whose first step is the reconciliation, chained to what reads it."""
    for s in gated_hard_tasks(["clean_dedupe", "aggregate_stats"]):
        assert "_reconciled." in s.steps[0].outputs[0].path


def test_builtin_v1_and_easier_v2_clean_dedupe_unchanged() -> None:
    """The variant is builtin-v2's at difficulty >= 4 only: builtin-v1 at every difficulty, and builtin-v2
    below 4, still clean one raw export (builtin-v1's bytes are pinned by test_synth_suite's digest)."""
    import random

    from clawgym_env.synth.ops.base import OpContext, Scenario
    from clawgym_env.synth.ops.data_ops import CleanDedupe
    from clawgym_env.synth.personas import persona

    for seed in range(8):
        for difficulty in range(1, 6):
            def build(version: str, seed: int = seed, difficulty: int = difficulty):  # type: ignore[no-untyped-def]
                return CleanDedupe().build(OpContext(
                    rng=random.Random(seed), persona=persona(seed), step=1, upstream=None,
                    scenario=Scenario("Data Analysis", "table and record handling", "a law office"),
                    difficulty=difficulty, version=version, phrase_rng=random.Random(seed)))
            v1, v2 = build(""), build("builtin-v2")
            assert any(p.endswith("_raw.csv") for p in v1.input_files)
            assert any(p.endswith("_raw.csv") for p in v2.input_files) == (difficulty < 4)
            assert any(c["name"] == "step1_report_rows_read" for c in v2.checks) == (difficulty < 4)
            assert ("_reconciled." in v2.outputs[0].path) == (difficulty >= 4)


def _materialize(files: dict, ws) -> None:  # type: ignore[no-untyped-def,type-arg]
    for rel, data in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_bytes(data)


# --- builtin-v2: the live folder beside a dated snapshot of it (issue 13, part 4) --------------------------


def _inventory_of(files: dict[str, bytes], root: str, columns: list[str], order: str) -> tuple[list[dict], dict]:
    """The inventory and summary worked out from the files under ``root`` alone (hidden ones skipped)."""
    rows = []
    for path in sorted(p for p in files if p.startswith(root + "/")):
        if any(part.startswith(".") for part in path.split("/")):
            continue
        name = path.rsplit("/", 1)[1]
        dated = re.search(r"\d{4}-\d{2}-\d{2}", name)
        row = {"path": path, "folder": path.rsplit("/", 1)[0], "extension": name.rsplit(".", 1)[1].lower()
               if "." in name else "", "size_bytes": len(files[path]), "date": dated.group(0) if dated else ""}
        rows.append({c: row[c] for c in columns})
    sorts = {"path": lambda r: r["path"], "size": lambda r: (-r["size_bytes"], r["path"]),
             "ext": lambda r: (r["extension"], -r["size_bytes"], r["path"])}
    rows.sort(key=sorts[order])
    by_ext: dict[str, dict[str, int]] = {}
    for r in rows:
        slot = by_ext.setdefault(r["extension"] or "(none)", {"files": 0, "bytes": 0})
        slot["files"] += 1
        slot["bytes"] += r["size_bytes"]
    largest = min(rows, key=sorts["size"])["path"]
    return rows, {"root": root, "total_files": len(rows), "total_bytes": sum(r["size_bytes"] for r in rows),
                  "by_extension": dict(sorted(by_ext.items())), "largest_file": largest}


@pytest.mark.parametrize("start", [0, 7])
def test_v2_inventory_of_the_snapshot_earns_nothing(start: int, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """builtin-v2 at difficulty >= 3: the instruction describes the live folder without naming it, a
    dated snapshot copy sits beside it, and the inventory of the snapshot earns none of the step's checks
    while the same work on the live folder earns them all; the oracle passes the gate."""
    import json

    from clawgym_env.synth.artifacts import Table, serialize

    s = next(x for i in range(start, start + 200)
             if (x := synthesize(i, version="builtin-v2", force_ops=["inspect_directory"])).task.metadata[
                 "difficulty"] >= 3)
    step = s.steps[0]
    tops = sorted({p.split("/")[0] for p in step.input_files})
    assert len(tops) == 2 and tops[1].startswith(tops[0] + "_snapshot_")
    assert not any(f"`{t}" in step.instruction or f"{t}/" in step.instruction for t in tops)
    inv = step.artifact
    order = next(o for o in ("path", "size", "ext")
                 if _inventory_of(step.input_files, tops[0], inv.columns, o)[0] == inv.rows)  # type: ignore[union-attr]
    summary_path = inv.path.rsplit(".", 1)[0] + "_summary.json"  # type: ignore[union-attr]
    ns: dict[str, object] = {"__name__": "check"}
    exec(compile(s.task.reward_files["check.py"].decode(), "check.py", "exec"), ns)  # noqa: S102 - the shipped checker
    mine = [c["name"] for c in step.checks]
    for tag, root, want in (("good", tops[0], True), ("bad", tops[1], False)):
        rows, summary = _inventory_of(step.input_files, root, inv.columns, order)  # type: ignore[union-attr]
        ws = tmp_path / tag
        (ws / "output").mkdir(parents=True)
        (ws / inv.path).write_text(serialize(Table(inv.columns, rows, inv.path, inv.fmt)))  # type: ignore[union-attr]
        (ws / summary_path).write_text(json.dumps(summary))
        got = ns["run"](ns["SPEC"], str(ws))  # type: ignore[operator]
        assert [got[n] for n in mine] == [want] * len(mine), (tag, got)
    assert gate_task(s.task).passed


def _log_requests(text: str, levels: tuple[str, ...]) -> list[dict]:
    """The request lines of a service log at ``levels``, as the instruction describes the columns."""
    pat = re.compile(r"^(\S+ \S+),\d{3} (\w+)\s+\[(\w+)\] request_id=(\S+) \S+ \S+ status=(\d+) duration_ms=(\d+)")
    rows = []
    for line in text.splitlines():
        m = pat.match(line)
        if m and m.group(2) in levels:
            rows.append({"timestamp": m.group(1), "level": m.group(2), "service": m.group(3),
                         "request_id": m.group(4), "status": int(m.group(5)), "duration_ms": int(m.group(6))})
    return rows


@pytest.mark.parametrize("start", [0, 20, 60])
def test_v2_extract_records_from_the_decoy_log_earns_nothing(start: int, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """builtin-v2 at difficulty >= 3: a service log is described (not named) beside another log of its
    kind; the records extracted from that other log earn none of the step's checks, the same extraction
    from the described log earns them all, and the oracle passes the gate."""
    from clawgym_env.synth.artifacts import Table, serialize

    s = next(x for i in range(start, start + 300)
             if (x := synthesize(i, version="builtin-v2", force_ops=["extract_records"])).task.metadata[
                 "difficulty"] >= 3 and list(x.steps[0].input_files)[0].endswith(".log"))
    step = s.steps[0]
    right, decoy = list(step.input_files)
    assert right not in step.instruction and decoy not in step.instruction and "`input/`" in step.instruction
    levels = ("WARN", "ERROR") if "`WARN`" in step.instruction else ("ERROR",)
    out = step.artifact
    ns: dict[str, object] = {"__name__": "check"}
    exec(compile(s.task.reward_files["check.py"].decode(), "check.py", "exec"), ns)  # noqa: S102 - the shipped checker
    mine = [c["name"] for c in step.checks if c.get("path") == out.path]  # type: ignore[union-attr]
    for tag, path, want in (("good", right, True), ("bad", decoy, False)):
        rows = _log_requests(step.input_files[path].decode(), levels)
        (tmp_path / tag / "output").mkdir(parents=True)
        (tmp_path / tag / out.path).write_text(serialize(Table(list(out.columns), rows, out.path, out.fmt)))  # type: ignore[union-attr]
        got = ns["run"](ns["SPEC"], str(tmp_path / tag))  # type: ignore[operator]
        assert [got[n] for n in mine] == [want] * len(mine), (tag, got)
    assert gate_task(s.task).passed
