"""builtin-v2's text inputs speak the persona's workplace language (issue 13, part 3)."""

from __future__ import annotations

import pytest

from clawgym_env.synth.compose import synthesize
from clawgym_env.synth.personas import DOMAINS, persona
from clawgym_env.synth.vocab import DOMAIN_FAMILY, FAMILIES, TOPICS, family_score


def _text(step) -> str:
    """The step's own text inputs (not tables, not binary stand-ins), joined."""
    parts = []
    for path, data in step.input_files.items():
        text = data.decode("utf-8", "replace")
        if path.endswith((".csv", ".jsonl")) or text.startswith("[text stand-in"):
            continue
        parts.append(text)
    return "\n".join(parts)


def test_every_workplace_has_a_family_with_its_words():
    assert set(DOMAIN_FAMILY) == set(DOMAINS)
    assert set(TOPICS) == set(FAMILIES) == set(DOMAIN_FAMILY.values())
    for name, vocab in FAMILIES.items():
        own = family_score(" ".join(vocab.notes))
        assert own.get(name, 0) == max(own.values()), (name, own)


@pytest.mark.parametrize("ops", [["action_items", "archive_files"], ["edit_document"], ["action_items"],
                                 ["organize_files"], ["update_config"]])
def test_v2_text_inputs_carry_the_workplace_family_words(ops):
    families = set()
    for index in range(12):
        s = synthesize(index, version="builtin-v2", force_ops=ops)
        family = DOMAIN_FAMILY[persona(s.task.metadata["persona_index"]).domain]
        text = _text(s.steps[-1])
        if not text.strip():
            continue  # e.g. an inbox of photos and PDFs only
        score = family_score(text)
        assert score.get(family, 0) > 0 and score[family] == max(score.values()), (index, ops, family, score)
        families.add(family)
    assert len(families) >= 4


def test_two_workplaces_get_different_words_for_the_same_operation():
    texts: dict[str, str] = {}
    for index in range(40):
        s = synthesize(index, version="builtin-v2", force_ops=["action_items"])
        texts.setdefault(DOMAIN_FAMILY[persona(s.task.metadata["persona_index"]).domain], _text(s.steps[-1]))
    a, b = list(texts)[:2]
    assert family_score(texts[a]).get(b, 0) < family_score(texts[a])[a]
    assert family_score(texts[b]).get(a, 0) < family_score(texts[b])[b]
