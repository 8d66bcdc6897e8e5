"""builtin-v2 rejects chains whose results mean nothing (issue 13, part 3)."""

from __future__ import annotations

import pytest

from clawgym_env.synth.artifacts import Table
from clawgym_env.synth.coherence import meaningless, reason_counts
from clawgym_env.synth.compose import synthesize
from clawgym_env.synth.ops import OpStep
from clawgym_env.synth.ops.base import Meaningless

ROWS = [{"invoice_id": f"INV-{i}", "vendor": v, "status": s, "amount": a, "year": 2020 + i % 3, "ph": 6.5 + i / 10,
         "count": 2}
        for i, (v, s, a) in enumerate([("Acme", "paid", 120.0), ("Acme", "open", 80.5), ("Globex", "paid", 300.0),
                                        ("Initech", "paid", 42.0), ("Globex", "paid", 99.9)])]
SRC = Table(columns=["invoice_id", "vendor", "status", "amount", "year", "ph", "count"], rows=ROWS,
            path="input/invoices.csv", label="invoices", key="invoice_id",
            numeric=["amount", "year", "ph", "count"], category="status")


def _chain(op: str, params: dict, src: Table = SRC) -> list[OpStep]:
    first = OpStep(op="read_extract", instruction="", oracle=[], checks=[], outputs=[], artifact=src)
    return [first, OpStep(op=op, instruction="", oracle=[], checks=[], outputs=[], artifact=None, params=params)]


def _codes(steps: list[OpStep]) -> set[str]:
    return set(reason_counts(meaningless(steps)))


@pytest.mark.parametrize("op,params,reason", [
    ("aggregate_stats", {"group": "status", "summed": ["amount"]}, None),
    ("aggregate_stats", {"group": "invoice_id", "summed": ["amount"]}, "group_per_row"),
    ("aggregate_stats", {"group": "vendor", "summed": ["year"]}, "total_of_identifier"),
    ("aggregate_stats", {"group": "vendor", "summed": ["ph"]}, "total_not_additive"),
    ("status_report", {"summed": ["count"]}, "total_not_additive"),
    ("filter_rank", {"ranked": ["amount", "amount"], "kept": 2, "shown": 2}, None),
    ("filter_rank", {"ranked": ["year", "amount"], "kept": 2, "shown": 2}, "rank_by_label"),
    ("filter_rank", {"ranked": ["count", "amount"], "kept": 2, "shown": 2}, "rank_by_label"),
    ("filter_rank", {"ranked": ["amount", "amount"], "kept": 0, "shown": 0}, "filter_keeps_none"),
    ("filter_rank", {"ranked": ["amount", "amount"], "kept": 5, "shown": 3}, "filter_keeps_all"),
    ("filter_rank", {"ranked": ["amount", "amount"], "kept": 1, "shown": 1}, "rank_of_one"),
    ("join_enrich", {"on": "vendor", "lookup_keys": ["Acme", "Globex", "Initech"]}, None),
    ("join_enrich", {"on": "invoice_id", "lookup_keys": [r["invoice_id"] for r in ROWS]}, None),
    ("join_enrich", {"on": "status", "lookup_keys": ["paid", "open"]}, "join_not_identifying"),
    ("join_enrich", {"on": "vendor", "lookup_keys": ["Acme", " acme", "Globex"]}, "join_key_not_unique"),
])
def test_the_predicate_flags_each_meaningless_choice(op: str, params: dict, reason: str | None) -> None:
    assert _codes(_chain(op, params)) == ({reason} if reason else set())


def test_a_grouping_with_one_value_is_flagged() -> None:
    one = Table(columns=SRC.columns, rows=[dict(r, status="paid") for r in ROWS], path=SRC.path, key="invoice_id",
                numeric=SRC.numeric, category="status")
    assert _codes(_chain("aggregate_stats", {"group": "status", "summed": ["amount"]}, one)) == {"single_group"}
    assert _codes(_chain("join_enrich", {"on": "status", "lookup_keys": ["paid"]}, one)) == {"join_not_identifying"}


def test_builtin_v2_chains_are_meaningful() -> None:
    flagged = {i: meaningless(synthesize(i, version="builtin-v2").steps) for i in range(300)}
    assert {i: r for i, r in flagged.items() if r} == {}


def test_an_op_refuses_a_table_it_cannot_use_meaningfully_and_compose_moves_on() -> None:
    # a summary table has one row per group: summarising it by the same column again means nothing
    for i in range(300):
        s = synthesize(i, version="builtin-v2")
        ops = [st.op for st in s.steps]
        if "aggregate_stats" in ops and ops.index("aggregate_stats") < len(ops) - 1:
            break
    else:
        pytest.fail("no builtin-v2 task chains after aggregate_stats in the first 300")
    at = ops.index("aggregate_stats")
    with pytest.raises(Meaningless):
        synthesize(i, version="builtin-v2", force_ops=ops[: at + 1] + ["aggregate_stats"])
    assert synthesize(i, version="builtin-v2").task.user_query == s.task.user_query  # same id -> same task
