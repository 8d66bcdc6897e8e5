"""Text diversity of instructions (sentence skeletons, openings, compressibility, literal spans) and
`clawgym coverage` comparing the built-in suite with a task folder."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from conftest import TRAIN

from clawgym_env.cli import main
from clawgym_env.synth.diversity import diversity, is_sentence, literal_spans, opening, sentences, skeleton


def test_skeleton_replaces_every_kind_of_literal() -> None:
    text = ("Read `input/a.csv`, then write 42 rows (3.5% of 1,200) to output/b.json and the 'draft' "
            'label "Q3 plan" for Jane Doe at jane.doe@example.org, see https://example.org/x?y=1 and '
            "the unit_price and netTotal columns.")
    assert skeleton(text) == ("read <code>, then write <n> rows (<n> of <n>) to <path> and the <q> label <q> for "
                              "<name> at <email>, see <url> and the <id> columns.")


def test_skeleton_keeps_words_that_only_look_like_literals() -> None:
    assert skeleton("Use and/or, e.g. the one I'm sure of; put it in reports/ or ./out, not ~/x.") == \
        "use and/or, e.g. the one i'm sure of; put it in <path>, not <path>."  # a list of two paths folds into one
    assert skeleton("Build the Index.") == "build the <name>."  # capitalized mid-sentence: a name
    assert skeleton("Victor Haddad asked.") == "victor <name> asked."  # the opening word stays a word


def test_instructions_differing_only_in_values_share_skeletons() -> None:
    a = ("I'm Ana Ruiz. Sort `sales.csv` by `amount` and keep the top 5 rows in output/top.csv.\n"
         "- Use the \"EU\" region only.")
    b = ("I'm Bo Li. Sort `orders.csv` by `total_eur`, `qty` and `sku` and keep the top 12 rows in "
         "reports/best_rows.csv.\n- Use the \"North America\" region only.")
    assert sentences(a) == sentences(b) == [
        "i'm <name>.", "sort <code> by <code> and keep the top <n> rows in <path>.", "use the <q> region only."]
    assert opening(a) == opening(b) == "i'm <name> sort <code> by <code>"
    assert opening("Please tally the invoices by month.") != opening(a)


def test_short_fragments_are_not_sentences_and_unique_shares_add_up() -> None:
    assert not is_sentence(skeleton("- input/a.csv")) and not is_sentence(skeleton("Requirements:"))
    texts = ["Sort the file by date. Count the rows by month.",
             "Sort the file by price. Count the rows by week.",
             "Sort the file by name. Summarise the findings in a memo.\n\n- output/x.md"]
    d = diversity(texts)
    assert d["sentences"] == 6 and d["distinct_skeletons"] == 6 and d["unique_skeleton_share"] == 1.0
    d = diversity(["Sort `a.csv` by 3 columns.", "Sort `b.csv` by 7 columns.", "Write a short memo to the team."])
    assert (d["sentences"], d["distinct_skeletons"], d["skeletons_reused"]) == (3, 2, 1)
    assert d["reused_skeleton_share"] == pytest.approx(2 / 3) and d["unique_skeleton_share"] == pytest.approx(1 / 3)
    assert d["distinct_openings"] == 2 and d["distinct_opening_share"] == pytest.approx(2 / 3)


def test_literal_spans_count_paths_quotes_backticks_and_identifiers() -> None:
    assert literal_spans("Write a friendly note to the team about the picnic.") == 0
    assert literal_spans('Copy `a`, `b` to out/c.csv with "x" and col_name, but not 42 or Jane.') == 5


def test_compressibility_falls_as_text_repeats() -> None:
    rng = random.Random(7)
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(3000)]
    varied = [" ".join(rng.choice(vocab) for _ in range(60)) + "." for _ in range(40)]
    templated = [f"Sort input/f{i}.csv by the amount_{i} column and write the top {i} rows to output/t{i}.csv."
                 " Keep the header row and the original order of ties." for i in range(40)]
    ratios = [diversity(varied[:k] * (40 // k))["zlib_ratio_corpus"] for k in (40, 10, 2)]
    assert ratios[0] > ratios[1] > ratios[2]  # the same 40 / 10 / 2 texts over and over
    v, t = diversity(varied), diversity(templated)
    assert t["zlib_ratio_corpus"] < v["zlib_ratio_corpus"] / 3
    assert v["distinct_openings"] == 40 and t["distinct_openings"] == 1


@pytest.mark.skipif(not TRAIN.is_dir(), reason="needs ../shared/datasets/clawgym-train")
def test_cli_puts_the_builtin_sample_beside_a_task_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "authors-sample"
    for name in ("task_0000", "task_0001", "task_0002", "task_0003"):
        shutil.copytree(TRAIN / name, folder / name)
    rc = main(["coverage", "--n", "50", str(folder), "--quiet"])
    out = capsys.readouterr().out
    assert rc == (0 if "(missing: none)" in out else 1)  # 50 tasks need not reach all 26 operations
    assert "built-in suite: 50 tasks" in out  # the built-in coverage figures come with the built-in column
    table = out[out.index("text diversity"):].splitlines()
    header = table[1]
    assert "builtin-v2 (first 50)" in header and "authors-sample" in header  # the default version
    tasks_row = table[2].split()
    assert tasks_row == ["tasks", "50", "4"]
    openings = next(r for r in table if r.startswith("distinct openings"))
    assert openings.split()[-2:] == ["4", "(100.0%)"]

    assert main(["coverage", str(folder), "--quiet", "--json"]) == 0  # a folder alone: no built-in column
    cols = json.loads(capsys.readouterr().out)
    assert list(cols) == ["authors-sample"] and cols["authors-sample"]["tasks"] == 4
    assert cols["authors-sample"]["diversity"]["sentences"] > 20


def test_cli_measures_either_builtin_version(capsys: pytest.CaptureFixture[str]) -> None:
    """builtin-v2 words each sentence from a grammar: over the same 300 tasks far more of its
    sentences are worded once than builtin-v1's, and its openings vary."""
    figures = {}
    for version in ("builtin-v1", "builtin-v2"):
        assert main(["coverage", "--n", "300", "--version", version, "--json", "--quiet"]) == 0
        figures[version] = json.loads(capsys.readouterr().out)["diversity"]
    v1, v2 = figures["builtin-v1"], figures["builtin-v2"]
    assert v2["unique_skeleton_share"] > 0.6 > 0.3 > v1["unique_skeleton_share"]
    assert v2["distinct_openings"] > 2 * v1["distinct_openings"]
    assert v2["chars_p10"] < v2["chars_median"] < v2["chars_p90"]
