"""The system and data operations (inspect_directory, organize_files, archive_files, update_config,
extract_records, join_enrich, clean_dedupe) pass the quality gate through the real env and sandbox:
the oracle scores 1, doing nothing scores 0, every check discriminates, and mutations cost points."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

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
