"""skill2task: the real skills corpus (../shared) loads whole, hand-written front matter repaired."""

from __future__ import annotations

from pathlib import Path

import pytest

from clawgym_env.synth.llm.skills import TEXT_LIMIT, load_skills, scan_skills

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "datasets" / "openclaw-skills"

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/datasets/openclaw-skills is not here")


# ---------------------------------------------------------------------------------------------- the corpus
@needs_corpus
def test_load_skills_reads_the_whole_corpus() -> None:
    scan = scan_skills(CORPUS)
    assert scan.files == 2451 and len(scan.skills) == 2451 and not scan.skipped
    # hand-written front matter: repaired, never dropped (counts measured on this corpus)
    assert scan.repaired == {"no_front_matter": 132, "invalid_yaml": 49, "unclosed_front_matter": 3,
                             "no_name": 137, "no_description": 133}
    by_id = {s.id: s for s in scan.skills}
    assert len(by_id) == 2451 and all(s.name and s.description for s in scan.skills)
    assert all(len(s.text) <= TEXT_LIMIT for s in scan.skills) and any(s.truncated for s in scan.skills)
    assert by_id["acastellana/genlayer"].name == "genlayer-claw-skill"  # 'Triggers: ...' breaks the YAML
    assert "Triggers: explain" in by_id["acastellana/genlayer"].description
    assert by_id["aatmaan1/communication-skill"].name == "communication"  # never closed
    molt = by_id["801c07/molt-trader-skill"]  # no front matter: folder name, first paragraph
    assert molt.name == "molt-trader-skill" and molt.description.startswith("Trade on the Molt Trader simulator")
    assert "arisylafeta/clawlist/brainstorming" in by_id  # nested skills keep their folder as id

    first = load_skills(CORPUS / "skills", limit=5, seed=7)
    assert [s.id for s in first] == [s.id for s in load_skills(CORPUS, seed=7)[:5]]
    assert [s.id for s in first] != [s.id for s in load_skills(CORPUS, limit=5, seed=8)]


def test_scan_skips_unusable_files_with_a_reason(tmp_path: Path) -> None:
    for owner, raw in (("a/ok", b"---\nname: ok\ndescription: fine\n---\nbody\n"), ("b/latin1", "caf\xe9".encode("latin-1")),
                       ("c/empty", b"  \n")):
        (tmp_path / owner).mkdir(parents=True)
        (tmp_path / owner / "SKILL.md").write_bytes(raw)
    scan = scan_skills(tmp_path)
    assert scan.files == 3 and [s.id for s in scan.skills] == ["a/ok"]
    assert scan.skipped == {"not_utf8": 1, "empty": 1}
    with pytest.raises(ValueError, match="not a directory"):
        scan_skills(tmp_path / "nowhere")
