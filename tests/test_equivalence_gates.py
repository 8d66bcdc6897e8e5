"""The equivalence and adversarial gates: each rewrite keeps its file's meaning, each cheap strategy
builds what it says, and both gates score through the real verifier in a bwrap sandbox."""

from __future__ import annotations

import configparser
import csv
import io
import json
import re
from pathlib import Path

import pytest
import yaml

from clawgym_env.cli import main
from clawgym_env.synth import equivalence as eq
from clawgym_env.synth.adversarial import (
    Context,
    adversarial_check,
    copy_input,
    empty_valid,
    expected_outputs,
    instruction_echo,
    instruction_paths,
    perturb_text,
    perturbed_values,
)
from clawgym_env.tasks import open_source

AUTHORS_TASK = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "clawgym-train" / "task_0009"

JSON_DOC = '{\n  "name": "Ops",\n  "count": 3,\n  "items": [\n    {"id": 1, "ok": true, "w": 2.5}\n  ]\n}\n'
CSV_DOC = "title,count,fee,zip\nAlpha,1811,2.50,02134\n\"Beta, Inc\",7,3.00,10001\nGamma,12,4.5,60601\n"
MD_DOC = """# Weekly summary: shipments

- Records reviewed: 12
- Total `weight_kg`: 1083.67
Generated on 2026-01-16 for ticket SHP-1000; year 2025.

## Leading items

| id | weight |
|---|---|
| SHP-1000 | 101.53 |

```
code: 12345
- not a bullet
```
"""
YAML_DOC = "app:\n  name: booking-service\n  version: 5.0.0\n  port: 8001\n  debug: false\nlist:\n  - alpha\n  - 3\n"
INI_DOC = "; comment\n[app]\nname = booking-service\nport = 5000\n"
ENV_DOC = "# app\nAPP_NAME=booking-service\nAPP_PORT=9001\nAPP_DEBUG=false\n"


def _cells(text: str, delim: str = ",") -> list[list[object]]:
    """CSV rows with numeric cells as floats (leading-zero codes stay strings)."""
    out: list[list[object]] = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim):
        out.append([float(c) if re.fullmatch(r"-?(0|[1-9]\d*)(\.\d+)?", c) else c for c in row])
    return out


def _md_text(text: str, *, case: bool = True) -> str:
    """What a Markdown document shows: rendered with tables, tags stripped, whitespace folded."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(text)
    shown = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    return shown if case else shown.lower()


def _md_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render(text)


# --- rewrites, one by one ----------------------------------------------------------------------------

def test_sniff_by_extension_name_and_content() -> None:
    assert eq.sniff("out/a.json", "x") == "json"
    assert eq.sniff("out/a.TSV", "") == "tsv"
    assert eq.sniff("config/.env", "") == "env"
    assert eq.sniff("out/result", '{"a": 1}') == "json"
    assert eq.sniff("out/result", "plain words") == "text"


@pytest.mark.parametrize("name", ["json_compact", "json_indent4", "json_key_order", "json_int_as_float",
                                  "trailing_newline"])
def test_json_rewrites_parse_equal(name: str) -> None:
    new = eq.REWRITES[name]("out/a.json", JSON_DOC)
    assert new is not None and new != JSON_DOC
    assert json.loads(new) == json.loads(JSON_DOC)


def test_json_rewrites_do_what_they_say() -> None:
    assert "\n" not in eq.json_compact("out/a.json", JSON_DOC).strip()  # type: ignore[union-attr]
    assert '\n    "name"' in eq.json_indent4("out/a.json", JSON_DOC)  # type: ignore[operator]
    reordered = json.loads(eq.json_key_order("out/a.json", JSON_DOC))  # type: ignore[arg-type]
    assert list(reordered) == ["items", "count", "name"] and list(reordered["items"][0]) == ["w", "ok", "id"]
    floats = json.loads(eq.json_int_as_float("out/a.json", JSON_DOC))  # type: ignore[arg-type]
    assert floats["count"] == 3 and isinstance(floats["count"], float)
    assert floats["items"][0]["ok"] is True  # booleans are not numbers
    assert eq.json_int_as_float("out/a.json", '{"a": 1.5, "b": "x"}') is None  # no integer to change
    assert eq.json_key_order("out/a.json", "[1, 2]") is None  # no object
    assert eq.json_compact("out/a.csv", JSON_DOC) is None  # not JSON by its name


@pytest.mark.parametrize("name", ["csv_quote_all", "csv_crlf", "csv_float_shortest", "csv_float_pad",
                                  "csv_int_as_float", "trailing_newline"])
def test_csv_rewrites_keep_rows_equal_as_numbers(name: str) -> None:
    new = eq.REWRITES[name]("out/t.csv", CSV_DOC)
    assert new is not None and new != CSV_DOC
    assert _cells(new) == _cells(CSV_DOC)


def test_csv_rewrites_do_what_they_say() -> None:
    quoted = eq.csv_quote_all("out/t.csv", CSV_DOC)
    assert quoted is not None and quoted.splitlines()[1] == '"Alpha","1811","2.50","02134"'
    crlf = eq.csv_crlf("out/t.csv", CSV_DOC)
    assert crlf is not None and crlf.count("\r\n") == 4 and "\n" not in crlf.replace("\r\n", "")
    assert "2.5," in eq.csv_float_shortest("out/t.csv", CSV_DOC)  # type: ignore[operator]
    assert ",3," in eq.csv_float_shortest("out/t.csv", CSV_DOC)  # type: ignore[operator]
    assert ",4.50," in eq.csv_float_pad("out/t.csv", CSV_DOC)  # type: ignore[operator]
    as_float = eq.csv_int_as_float("out/t.csv", CSV_DOC)
    assert as_float is not None and "1811.0" in as_float and ",7.0," in as_float
    assert "02134" in as_float and "10001" in as_float  # a zip column is an identifier: left alone
    tsv = "a\tb\n1\t2.50\n"
    assert eq.csv_quote_all("out/t.tsv", tsv) == '"a"\t"b"\n"1"\t"2.50"\n'
    assert eq.csv_quote_all("out/t.md", CSV_DOC) is None


def test_text_rewrites() -> None:
    assert eq.trailing_newline("a.txt", "x\n\n") == "x"
    assert eq.trailing_newline("a.txt", "x") == "x\n"
    assert eq.trailing_newline("a.txt", "\n") is None
    doubled = eq.blank_lines("a.txt", "Hello,\n\nBody line.\nNext line.\n\nBest,\nZoe\n")
    assert doubled == "Hello,\n\n\nBody line.\nNext line.\n\n\nBest,\nZoe\n"
    assert eq.blank_lines("a.json", JSON_DOC) is None


def test_blank_lines_render_the_same_markdown() -> None:
    new = eq.blank_lines("r.md", MD_DOC)
    assert new is not None and new != MD_DOC
    assert _md_html(new) == _md_html(MD_DOC)
    assert "code: 12345\n- not a bullet" in new  # fenced code untouched


def test_markdown_rewrites_keep_what_the_document_shows() -> None:
    bold = eq.md_bold_labels("r.md", MD_DOC)
    assert bold is not None and "- **Records reviewed:** 12" in bold and "- **Total `weight_kg`:** 1083.67" in bold
    assert _md_text(bold) == _md_text(MD_DOC)
    titled = eq.md_heading_case("r.md", MD_DOC)
    assert titled is not None and "# Weekly Summary: Shipments" in titled and "## Leading Items" in titled
    assert _md_text(titled, case=False) == _md_text(MD_DOC, case=False)
    table = eq.md_table_no_outer_pipes("r.md", MD_DOC)
    assert table is not None and "id | weight\n---|---\nSHP-1000 | 101.53" in table
    assert _md_html(table) == _md_html(MD_DOC)
    blank = "| ext | bytes |\n|---|---|\n| md | 1138 |\n|  | 350 |\n"  # a file without an extension
    unpiped = eq.md_table_no_outer_pipes("r.md", blank)
    assert unpiped == "ext | bytes\n---|---\nmd | 1138\n|  | 350 |\n"  # the empty cell keeps its pipes
    assert _md_html(unpiped) == _md_html(blank)
    bullets = eq.md_bullets("r.md", MD_DOC)
    assert bullets is not None and "* Records reviewed: 12" in bullets and "- not a bullet" in bullets
    assert _md_html(bullets) == _md_html(MD_DOC)
    assert eq.md_bullets("r.md", "Intro\n\n---\n\n- a\n") == "Intro\n\n---\n\n* a\n"  # a rule stays a rule
    for fn in (eq.md_bold_labels, eq.md_heading_case, eq.md_table_no_outer_pipes, eq.md_bullets):
        assert fn("r.txt", MD_DOC) is None  # Markdown only


def test_thousands_separators_only_in_prose_numbers() -> None:
    new = eq.thousands_separators("r.md", MD_DOC)
    assert new is not None and "1,083.67" in new
    assert "2026-01-16" in new and "SHP-1000" in new and "year 2025" in new  # dates, ids, years stay
    assert "code: 12345" in new  # code stays
    assert new.replace("1,083.67", "1083.67") == MD_DOC
    assert eq.thousands_separators("r.txt", "Total: 1811 hours, 12345.5 km, zip 02134.\n") == \
        "Total: 1,811 hours, 12,345.5 km, zip 02134.\n"
    assert eq.thousands_separators("t.csv", CSV_DOC) is None and eq.thousands_separators("a.json", JSON_DOC) is None
    # a number that names something is not a quantity: nobody writes 'extension 4,737'
    assert eq.thousands_separators("m.txt", "Help desk: extension 4737, room 1204; budget 25000.\n") == \
        "Help desk: extension 4737, room 1204; budget 25,000.\n"


def test_config_rewrites_parse_equal() -> None:
    quoted = eq.yaml_quote("c.yaml", YAML_DOC)
    assert quoted is not None and 'name: "booking-service"' in quoted and 'version: "5.0.0"' in quoted
    assert "port: 8001" in quoted and "debug: false" in quoted and '- "alpha"' in quoted and "- 3" in quoted
    assert yaml.safe_load(quoted) == yaml.safe_load(YAML_DOC)

    spaced = eq.ini_spacing("c.ini", INI_DOC)
    assert spaced is not None and "name=booking-service" in spaced
    assert eq.ini_spacing("c.ini", spaced) == INI_DOC  # and back

    def ini(text: str) -> dict[str, dict[str, str]]:
        p = configparser.ConfigParser(interpolation=None)
        p.read_string(text)
        return {s: dict(p[s]) for s in p.sections()}
    assert ini(spaced) == ini(INI_DOC)

    env = eq.env_quote("app.env", ENV_DOC)
    assert env is not None and 'APP_NAME="booking-service"' in env and "# app" in env
    assert eq.env_values(env) == eq.env_values(ENV_DOC) == {"APP_NAME": "booking-service", "APP_PORT": "9001",
                                                              "APP_DEBUG": "false"}
    import dotenv  # the [dev] extra
    assert dotenv.dotenv_values(stream=io.StringIO(env)) == dotenv.dotenv_values(stream=io.StringIO(ENV_DOC))
    assert eq.yaml_quote("c.ini", YAML_DOC) is None and eq.env_quote("c.yaml", ENV_DOC) is None


def test_applicable_lists_the_rewrites_of_a_format() -> None:
    assert set(eq.applicable("out/a.json", JSON_DOC)) == {"json_compact", "json_indent4", "json_key_order",
                                                          "json_int_as_float", "trailing_newline"}
    assert "md_bold_labels" in eq.applicable("out/r.md", MD_DOC)
    assert not any(n.startswith(("json", "md", "csv")) for n in eq.applicable("out/n.txt", "Hello 1811\n"))


def test_a_rewrite_reaches_the_outputs_derived_from_it() -> None:
    import hashlib
    import zipfile

    old, new = b'[\n  {"a": 1}\n]\n', b'[{"a": 1}]'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bundle/data.json", old)
        z.writestr("bundle/README.txt", b"hello\n")
    manifest = (f"member,size_bytes,sha256\nbundle/README.txt,6,{hashlib.sha256(b'hello').hexdigest()}\n"
                f"bundle/data.json,{len(old)},{hashlib.sha256(old).hexdigest()}\n")
    files = {"out/data.json": old, "out/copy.json": old, "out/b.zip": buf.getvalue(),
             "out/manifest.csv": manifest.encode(), "out/other.txt": b"unrelated 1811\n"}
    edits = eq.consistent_edits(files, "out/data.json", new)
    assert set(edits) == {"out/data.json", "out/copy.json", "out/b.zip", "out/manifest.csv"}
    assert edits["out/copy.json"] == new
    with zipfile.ZipFile(io.BytesIO(edits["out/b.zip"])) as z:  # type: ignore[arg-type]
        assert z.namelist() == ["bundle/data.json", "bundle/README.txt"] and z.read("bundle/data.json") == new
    rows = edits["out/manifest.csv"].decode().splitlines()  # type: ignore[union-attr]
    assert rows[1] == manifest.splitlines()[1]  # another member's line stays
    assert rows[2] == f"bundle/data.json,{len(new)},{hashlib.sha256(new).hexdigest()}"
    assert eq.archive_members("b.zip", buf.getvalue()) == [old, b"hello\n"]


def test_derived_outputs_follow_through_a_chain_and_a_json_manifest() -> None:
    """report.md is quoted whole by email.txt, which is archived in b.tar.gz and listed (size and
    SHA-256 on their own lines) in manifest.json: each follows the one before it."""
    import hashlib
    import tarfile

    report = b"# Weekly summary\n\n- Records reviewed: 12\n"
    email = b"Hi,\n\n" + report.strip() + b"\n\nBest,\nZoe\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("email.txt")
        info.size = len(email)
        tar.addfile(info, io.BytesIO(email))
    manifest = json.dumps([{"member": "email.txt", "size_bytes": len(email),
                            "sha256": hashlib.sha256(email).hexdigest()}], indent=2) + "\n"
    files = {"r.md": report, "email.txt": email, "b.tar.gz": buf.getvalue(), "manifest.json": manifest.encode()}
    new_report = eq.md_bold_labels("r.md", report.decode()).encode()  # type: ignore[union-attr]
    edits = eq.consistent_edits(files, "r.md", new_report)
    new_email = edits["email.txt"]
    assert new_email == email.replace(b"- Records reviewed: 12", b"- **Records reviewed:** 12")
    with tarfile.open(fileobj=io.BytesIO(edits["b.tar.gz"]), mode="r:gz") as tar:  # type: ignore[arg-type]
        assert tar.extractfile("email.txt").read() == new_email  # type: ignore[union-attr]
    assert json.loads(edits["manifest.json"]) == [{"member": "email.txt", "size_bytes": len(new_email),
                                                  "sha256": hashlib.sha256(new_email).hexdigest()}]


# --- adversarial strategies, without a sandbox -------------------------------------------------------

def test_perturb_text_changes_every_number_and_checked_value() -> None:
    text = '{"owner": "Sven Olsen", "total": 1811, "avg": 2.50, "when": "2026-01-09"}'
    new = perturb_text(text, ("Sven Olsen",))
    assert "Sven Olsen" not in new and json.loads(new)["total"] == 1818
    assert not set(re.findall(r"\d+", new)) & set(re.findall(r"\d+", text))
    assert list(json.loads(new)) == list(json.loads(text))  # the structure stays


def test_strategies_build_what_they_say() -> None:
    task = open_source("builtin-v1").load("task-0270")
    outputs, source = expected_outputs(task)
    assert source == "oracle" and outputs == [o["path"] for o in task.oracle_outputs or []]
    assert set(outputs) <= set(instruction_paths(task))
    inputs = {p: bytes(d) for p, d in task.workspace_files().items()}  # type: ignore[arg-type]
    oracle = {"output/step1_shipments_clean.json": b"[{\"a\": 1}]\n", "output/step1_cleaning_report.json": b"{}",
              "output/step2_report.md": b"# Weekly summary\n\n- Records: 12\n\n## Leading items\n"}
    ctx = Context(task, outputs, inputs, oracle=oracle)
    [echo] = instruction_echo(ctx)
    assert set(echo) == set(outputs) and all(v == task.user_query.encode() for v in echo.values())
    [empty] = empty_valid(ctx)
    assert empty["output/step1_shipments_clean.json"] == b"[]\n"  # the oracle output's top-level type
    assert empty["output/step1_cleaning_report.json"] == b"{}\n"
    assert empty["output/step2_report.md"] == b"# Weekly summary\n\n## Leading items\n"
    assert len(empty_valid(Context(task, outputs, inputs))) == 2  # no oracle: both {} and []
    copies = copy_input(ctx)
    assert 1 <= len(copies) <= 3 and all(len(set(c.values())) == 1 for c in copies)
    [spoiled] = perturbed_values(ctx)
    assert spoiled["output/step2_report.md"] == b"# Weekly summary\n\n- Records: 19\n\n## Leading items\n"
    assert perturbed_values(Context(task, outputs, inputs)) == []


def test_empty_csv_header_from_the_instruction_without_an_oracle() -> None:
    task = open_source(str(AUTHORS_TASK)).load("task_0009")
    assert instruction_paths(task) == ["output/quotes_ranked.csv", "output/top5_excerpts.md"]
    [first] = empty_valid(Context(task, instruction_paths(task), {}))  # no JSON output: one variant
    assert first["output/quotes_ranked.csv"] == (b"id,team,sponsor,original_language,original_quote,"
                                                 b"translated_quote,relevance_score,keywords_found\n")
    assert first["output/top5_excerpts.md"] == b"# Top5 Excerpts\n"


# --- end to end, through the real env and a bwrap sandbox --------------------------------------------

def test_equivalence_gate_on_a_builtin_task() -> None:
    report = eq.equivalence_check(open_source("builtin-v1").load("task-0270"))
    assert report.errors == [] and report.skipped is None and report.oracle_reward == 1.0
    assert report.copies == []
    pairs = report.pairs()
    assert {"trailing_newline", "json_compact", "json_indent4", "helper_script", "scratch_files"} <= set(pairs)
    for harmless in ("trailing_newline", "json_compact", "json_indent4", "helper_script", "scratch_files"):
        assert pairs[harmless] == 1.0, harmless
    for r in report.results:
        assert set(r) == {"rewrite", "output", "also", "reward", "failed_checks"}
        assert (r["reward"] < 1.0) == bool(r["failed_checks"])
    summary = eq.summarize([report])
    assert summary["pairs"] == len(pairs) and summary["per_rewrite"]["trailing_newline"]["pass_rate"] == 1.0


def test_equivalence_rewrites_an_archived_output_with_its_archive_and_manifest() -> None:
    """task-0675 zips output/step1_inventory.json and lists its size and SHA-256 in a manifest: the
    rewritten file travels into both, so a harmless rewrite keeps 1.0."""
    report = eq.equivalence_check(open_source("builtin-v1").load("task-0675"), rewrites=["trailing_newline"])
    assert report.errors == [] and report.oracle_reward == 1.0
    inventory = [r for r in report.results if r["output"] == "output/step1_inventory.json"]
    assert inventory and inventory[0]["also"] == ["output/step2_bundle.zip", "output/step2_bundle_manifest.csv"]
    assert all(r["reward"] == 1.0 for r in report.results), report.results


def test_equivalence_leaves_a_downloaded_copy_alone() -> None:
    """task-10125 downloads a CSV from a local mirror: an exact copy is the point, so it is not
    rewritten; the report that quotes it is."""
    report = eq.equivalence_check(open_source("builtin-v1").load("task-10125"), rewrites=["trailing_newline"])
    assert report.errors == [] and report.copies == ["downloads/invoices_2026-Q3.csv"]
    assert "downloads/invoices_2026-Q3.csv" not in {r["output"] for r in report.results}
    assert report.results and report.pairs() == {"trailing_newline": 1.0}


def test_adversarial_gate_on_a_builtin_task() -> None:
    report = adversarial_check(open_source("builtin-v1").load("task-0270"))
    assert report.errors == [] and report.outputs_from == "oracle"
    assert set(report.rewards) == {"instruction_echo", "empty_valid", "copy_input", "perturbed_values"}
    assert report.rewards["instruction_echo"] < 0.5 and report.rewards["empty_valid"] < 0.5
    assert all(0.0 <= v < 1.0 for v in report.rewards.values())


def test_validate_cli_on_an_authors_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    main(["validate", str(AUTHORS_TASK), "--equivalence", "--adversarial", "--quiet", "--out", str(out)])
    report = json.loads(out.read_text())
    [equiv] = report["equivalence"]["reports"]
    assert equiv["skipped"].startswith("no oracle") and equiv["results"] == []
    assert report["equivalence"]["summary"]["pairs"] == 0
    [adv] = report["adversarial"]["reports"]
    assert adv["outputs_from"] == "instruction"
    assert adv["outputs"] == ["output/quotes_ranked.csv", "output/top5_excerpts.md"]
    assert set(adv["rewards"]) == {"instruction_echo", "empty_valid", "copy_input"}
    assert adv["skipped"] == {"perturbed_values": "needs an oracle"}
    strategies = report["adversarial"]["summary"]["strategies"]
    assert strategies["instruction_echo"]["tasks"] == 1 and strategies["perturbed_values"]["gate_passed"] is None
    [gate] = report["reports"]
    assert gate["oracle_reward"] is None and gate["passed"]  # without an oracle, the no-op part decides
    assert report["summary"]["without_oracle"] == 1
    printed = capsys.readouterr().out
    assert "tasks: 1 (1 without an oracle: no-op part only)  passed: 1" in printed
    assert "equivalence gate: 0/0" in printed and "skipped: no oracle" in printed
    assert "instruction_echo" in printed and "perturbed_values   not run" in printed
