"""Web retrieval (offline) and file/content operations pass the quality gate through the real env.

Covers search_results, extract_webpage, download_resource (chain starters) and write_structured,
edit_document. Cases are found by scanning task indices for each variant (input format, layout,
output structure), so every branch is gated, not just whatever a fixed seed happens to pick.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _checks import score_with_check_py

from clawgym_env.synth.compose import Synthesized, synthesize
from clawgym_env.synth.gate import gate_task
from clawgym_env.synth.ops import operations
from clawgym_env.synth.ops.web_ops import FILLER, SEARCH_TOPICS, TERM_SENTENCES, TITLE_TEMPLATES


def _find(ops: list[str], wanted: Callable[[Synthesized], bool], start: int = 0) -> int:
    for i in range(start, start + 400):
        if wanted(synthesize(i, force_ops=ops)):
            return i
    raise AssertionError(f"no task index gives the wanted variant of {ops}")


def _inputs(s: Synthesized) -> list[str]:
    return list(s.task.input_files)


def _out(s: Synthesized, step: int = -1) -> str:
    return s.steps[step].outputs[-1].path


def _checks(s: Synthesized, step: int = -1) -> list[str]:
    return [c["name"] for c in s.steps[step].checks]


CASES: dict[str, tuple[list[str], Callable[[Synthesized], bool]]] = {
    "search_json": (["search_results", "filter_rank"], lambda s: "input/search_results.json" in _inputs(s)),
    "search_html_hard": (["search_results", "aggregate_stats"],
                         lambda s: "input/search_results.html" in _inputs(s) and s.task.metadata["difficulty"] >= 4),
    "webpage_cards": (["extract_webpage", "filter_rank"], lambda s: "article class" in s.steps[0].instruction),
    "webpage_decoy_dates": (["extract_webpage", "aggregate_stats"],
                            lambda s: "archived" in s.steps[0].instruction and "YYYY-MM-DD" in s.steps[0].instruction),
    "download_plain": (["download_resource", "filter_rank"],
                       lambda s: not any(p.endswith(".tar.gz") for p in _inputs(s))),
    "download_archive_newest": (["download_resource", "aggregate_stats"],
                                lambda s: any(p.endswith(".tar.gz") for p in _inputs(s)) and "newest" in s.steps[0].instruction),
    "structured_records": (["read_extract", "write_structured"], lambda s: _out(s).endswith("_bundle.json")),
    "structured_markdown": (["read_extract", "write_structured"], lambda s: _out(s).endswith(".md")),
    "structured_grouped": (["read_extract", "write_structured"], lambda s: any("_group_" in n for n in _checks(s))),
    "structured_keyed": (["read_extract", "write_structured"], lambda s: any("_keyed_" in n for n in _checks(s))),
    "edit_event_brief": (["edit_document"], lambda s: "input/event_brief.md" in _inputs(s)),
    "edit_onboarding_added": (["edit_document"], lambda s: "input/onboarding_guide.md" in _inputs(s)
                              and "step1_section_added" in _checks(s)),
    "edit_runbook_removed": (["edit_document"], lambda s: "input/runbook.md" in _inputs(s)
                             and "step1_section_removed" in _checks(s)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gate_passes(case: str) -> None:
    ops, wanted = CASES[case]
    index = _find(ops, wanted)
    s = synthesize(index, force_ops=ops)
    report = gate_task(s.task, [o for st in s.steps for o in st.outputs])
    assert report.passed, (case, index, report.to_dict())


@pytest.mark.parametrize("op", ["search_results", "extract_webpage", "download_resource", "write_structured",
                                "edit_document"])
def test_deterministic_and_registered(op: str) -> None:
    ops = ["read_extract", op] if op == "write_structured" else [op]
    a, b = synthesize(11, force_ops=ops), synthesize(11, force_ops=ops)
    assert a.task.input_files == b.task.input_files and a.task.oracle == b.task.oracle
    assert a.task.user_query == b.task.user_query
    impl = operations()[op]
    assert (impl.offline_note is not None) == (impl.category == "web_retrieval")


def test_search_terms_only_come_from_term_sentences() -> None:
    """A required term must never sneak into a result through its title or filler text."""
    for topic in SEARCH_TOPICS:
        fixed = " ".join(TITLE_TEMPLATES + FILLER + TERM_SENTENCES + (topic.subject,)).lower()
        for term in topic.terms:
            assert term.lower() not in fixed, (topic.query, term)
            assert not any(term.lower() in other.lower() for other in topic.terms if other != term), term


def test_search_selection_is_a_proper_subset() -> None:
    for i in range(60):
        s = synthesize(i, force_ops=["search_results"])
        chosen = s.steps[0].artifact
        assert chosen is not None and 2 <= len(chosen.rows)
        raw = next(iter(s.task.input_files.values())).decode()
        assert raw.count('class="result"') + raw.count('"position":') > len(chosen.rows)


def test_v2_edit_document_credits_content_not_echo_or_copy() -> None:
    """builtin-v2: the dictated values (echo) and the untouched input (copy) earn nothing; the
    oracle still scores 1 and the gate holds."""
    from clawgym_env.synth.adversarial import adversarial_check

    s = synthesize(5, version="builtin-v2", force_ops=["edit_document"])
    assert gate_task(s.task).passed
    rewards = adversarial_check(s.task).rewards
    assert max(rewards.values()) <= 0.1, rewards


@pytest.mark.parametrize("op", ["search_results", "extract_webpage", "download_resource"])
def test_v2_wording_varies_and_states_every_output(op: str) -> None:
    """builtin-v2 words each instruction from a grammar: wordings differ from task to task, yet the
    output path and its columns are still stated, and no grammar syntax leaks into the text."""
    import re

    texts = []
    for seed in range(12):
        step = synthesize(seed, version="builtin-v2", force_ops=[op]).steps[0]
        text = step.instruction
        texts.append(text)
        out = step.outputs[-1].path
        assert f"`{out}`" in text and f"`{','.join(step.artifact.columns)}`" in text, text  # type: ignore[union-attr]
        prose = re.sub(r"`[^`]*`", "X", text)
        assert not re.search(r"[\[\]{}]|  | [.,;:](?:\s|$)", prose), text
    assert len({t.split(".")[0] for t in texts}) >= 8


# --- builtin-v2: a described input beside a near-miss decoy (issue 13, part 4) --------------------------


def _decoy_task(op: str, start: int = 0):  # type: ignore[no-untyped-def]
    """A builtin-v2 task at difficulty >= 3 whose first step (``op``) describes its input beside a decoy."""
    for i in range(start, start + 200):
        s = synthesize(i, version="builtin-v2", force_ops=[op])
        files = list(s.steps[0].input_files)
        if s.task.metadata["difficulty"] >= 3 and len(files) == 2 and (op == "extract_webpage") == files[0].endswith(".html"):
            return s
    raise AssertionError(f"no builtin-v2 {op} task with a decoy")


def _page_records(text: str) -> list[list[object]]:
    """The records of a saved page as a reader sees them: the body rows of its first table, or its
    cards (heading first), with money separators dropped and '4 Mar 2026' read as 2026-03-04."""
    from datetime import datetime
    from html.parser import HTMLParser

    class Page(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.records: list[list[str]] = []
            self.tbodies = 0
            self.cell: list[str] | None = None

        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            if tag == "tbody":
                self.tbodies += 1
            if (tag == "tr" and self.tbodies == 1) or (tag == "article" and ("class", "record") in attrs):
                self.records.append([])
            if tag in ("td", "h3", "dd") and self.records and (self.tbodies == 1 or tag != "td"):
                self.cell = []

        def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
            if tag == "tbody" and self.tbodies == 1:
                self.tbodies = 2
            if tag in ("td", "h3", "dd") and self.cell is not None:
                self.records[-1].append("".join(self.cell).strip())
                self.cell = None

        def handle_data(self, data):  # type: ignore[no-untyped-def]
            if self.cell is not None:
                self.cell.append(data)

    def value(cell: str) -> object:
        plain = cell.replace(",", "")
        for kind in (int, float):
            try:
                return kind(plain)
            except ValueError:
                pass
        try:
            return datetime.strptime(cell, "%d %b %Y").date().isoformat()
        except ValueError:
            return cell

    page = Page()
    page.feed(text)
    return [[value(c) for c in r] for r in page.records if r]


def _from_file(path, out) -> str:  # type: ignore[no-untyped-def]
    """The step's answer worked out from the file at ``path``: the records the oracle kept (by key), with
    the output's columns, in the output's format -- what an agent that used that file would write."""
    from clawgym_env.synth.artifacts import Table, serialize
    from clawgym_env.synth.recipe_script import read_table

    if str(path).endswith(".html"):
        rows = [dict(zip(out.columns, cells)) for cells in _page_records(path.read_text())]
    else:
        _, rows = read_table(str(path))
    by_key = {str(r[out.key]): r for r in rows}
    picked = [{c: by_key[str(o[out.key])][c] for c in out.columns} for o in out.rows if str(o[out.key]) in by_key]
    return serialize(Table(list(out.columns), picked, out.path, out.fmt))


_score = score_with_check_py


@pytest.mark.parametrize("op, start", [("read_extract", 0), ("read_extract", 40), ("search_results", 0),
                                       ("search_results", 30), ("extract_webpage", 0), ("extract_webpage", 2),
                                       ("extract_webpage", 40)])
def test_v2_described_input_beside_a_decoy(op: str, start: int, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """builtin-v2 at difficulty >= 3: the instruction points at its input by a property (not its path),
    the workspace holds a near-miss file, and the answer worked out from that file earns none of the
    step's checks, while the same work on the right file earns them all; the oracle passes the gate."""
    s = _decoy_task(op, start)
    step = s.steps[0]
    right, decoy = list(step.input_files)
    assert right not in step.instruction and decoy not in step.instruction and "`input/`" in step.instruction
    for rel, data in s.task.input_files.items():
        (tmp_path / "src" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / rel).write_bytes(data)
    out, mine = step.artifact, [c["name"] for c in step.checks]
    good = _score(s.task, {out.path: _from_file(tmp_path / "src" / right, out)}, tmp_path / "good")
    bad = _score(s.task, {out.path: _from_file(tmp_path / "src" / decoy, out)}, tmp_path / "bad")
    assert all(good[n] for n in mine), good
    assert not any(bad[n] for n in mine), bad
    assert gate_task(s.task).passed
