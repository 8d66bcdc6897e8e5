"""The phrasing grammar builtin-v2 words its instructions with."""

from __future__ import annotations

import random

import pytest

from clawgym_env.synth.phrasing import GrammarError, expand, say


def test_every_group_is_one_choice_and_all_options_occur() -> None:
    rng = random.Random(0)
    seen = {expand(rng, "[a|b] [c|[d|e]f]") for _ in range(400)}
    assert seen == {"a c", "a df", "a ef", "b c", "b df", "b ef"}


def test_optional_groups_and_collapsed_spaces() -> None:
    rng = random.Random(3)
    seen = {say(rng, "[please |]write [it |]now") for _ in range(200)}
    assert seen == {"Please write it now", "Please write now", "Write it now", "Write now"}


def test_backticked_spans_and_bracket_groups_without_choices_stay_literal() -> None:
    rng = random.Random(1)
    text = say(rng, "save `[{{\"a\": [1|2]}}]` to {path} [x]", path="out/[a|b].json")
    assert text == 'Save `[{"a": [1|2]}]` to out/[a|b].json [x]'


def test_same_rng_state_same_wording_and_unbalanced_templates_fail() -> None:
    assert say(random.Random(7), "[a|b|c] [d|e|f] [g|h]") == say(random.Random(7), "[a|b|c] [d|e|f] [g|h]")
    with pytest.raises(GrammarError, match="unbalanced"):
        expand(random.Random(0), "write [a|b")
